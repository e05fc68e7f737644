"""gen_optim.py - golden values for the optimizers (tests/test_optim.c).

Runs 6 steps of torch.optim SGD (momentum, nesterov, weight decay), Adam
(with L2 weight decay) and AdamW on a parameter vector with a fixed
sequence of gradients, and 6 steps of Sophia written out from the official
SophiaG update (PyTorch has no Sophia). SOUL's SophiaG has its own
generator, gen_sophia_soul.py.
"""
import torch

from ltgolden import Golden

torch.manual_seed(0)
N, STEPS = 37, 6
theta0 = torch.randn(N)
grads = torch.randn(STEPS, N) * 0.5
ghat = torch.randn(STEPS, N) * 0.3   # Sophia GNB: sampled-label gradients
g = Golden()
g.add("theta0", theta0)
g.add("grads", grads)
g.add("ghat", ghat)

def run(make):
    p = torch.nn.Parameter(theta0.clone())
    opt = make([p])
    for s in range(STEPS):
        p.grad = grads[s].clone()
        opt.step()
    return p.detach()

g.add("sgd", run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=5e-4)))
g.add("sgd_nesterov", run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2)))
g.add("sgd_plain", run(lambda ps: torch.optim.SGD(ps, lr=0.1)))
g.add("adam", run(lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=1e-2)))
g.add("adamw", run(lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1)))

def sophia(soul, lr=0.01, b1=0.965, b2=0.99, rho=0.04, wd=0.1, k=2):
    assert not soul
    th = theta0.clone().double()
    m = torch.zeros(N, dtype=torch.float64)
    h = torch.zeros(N, dtype=torch.float64)
    for s in range(STEPS):
        gr = grads[s].double()
        th = th * (1 - lr * wd)
        m = b1 * m + (1 - b1) * gr
        if soul:
            h = b2 * h + (1 - b2) * gr * gr
        ratio = (m.abs() / (rho * h + 1e-15)).clamp(max=1)
        th = th - lr * m.sign() * ratio
        if not soul and (s + 1) % k == 0:   # refresh after every k-th step
            gh = ghat[s].double()
            h = b2 * h + (1 - b2) * gh * gh
    return th

g.add("sophia_gnb", sophia(False))
g.save("optim.bin")
