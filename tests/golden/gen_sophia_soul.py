"""gen_sophia_soul.py - golden for SOUL's own SophiaG (sophia-soul), read by
tests/test_optim.c.

A transcription of the code path of OPTML-Group/SOUL src/optim/sophia.py
(SophiaG.step with its default bs=5120, non-capturable) under SOUL's
optimizer set-up (src/optim/__init__.py: two parameter groups, weight
decay on the non-bias, non-LayerNorm parameters only; TOFU configs betas
(0.9, 0.95), rho 0.04, weight decay 0.1), in float32 as the official runs:
per step, update_hessian (h = b2 h + (1 - b2) g g), update_exp_avg
(m = b1 m + (1 - b1) g), then per parameter: p *= 1 - lr wd, m = b1 m +
(1 - b1) g once more, p -= lr sign(m) clamp(|m| / (rho bs h + 1e-15),
max 1).

Entries: theta0 [N], decay [N] (1: in the decay group), grads [STEPS, N],
theta.S [N] after step S (0-based), meta [lr, b1, b2, rho, wd, bs].
"""
import torch

from ltgolden import Golden

torch.manual_seed(19)
N, STEPS = 41, 8
lr, b1, b2, rho, wd, bs = 0.01, 0.9, 0.95, 0.04, 0.1, 5120
theta0 = torch.randn(N)
# gradients of a few scales so both the clipped (ratio 1) and the unclipped
# branch occur: rho * bs * h is ~200 h
grads = torch.randn(STEPS, N) * torch.logspace(-4, 0, N)
decay = (torch.arange(N) % 4 != 0).float()   # every 4th: bias / norm

g = Golden()
g.add("theta0", theta0)
g.add("decay", decay)
g.add("grads", grads)
g.add("meta", torch.tensor([lr, b1, b2, rho, wd, bs]))

groups = [{"idx": decay.nonzero().view(-1), "wd": wd},
          {"idx": (decay == 0).nonzero().view(-1), "wd": 0.0}]
params = [theta0[gr["idx"]].clone() for gr in groups]
exp_avg = [torch.zeros_like(p) for p in params]
hess = [torch.zeros_like(p) for p in params]
for s in range(STEPS):
    gs = [grads[s][gr["idx"]] for gr in groups]
    for k in range(2):                       # update_hessian
        hess[k].mul_(b2).addcmul_(gs[k], gs[k], value=1 - b2)
    for k in range(2):                       # update_exp_avg
        exp_avg[k].mul_(b1).add_(gs[k], alpha=1 - b1)
    for k, gr in enumerate(groups):          # _single_tensor_sophiag
        params[k].mul_(1 - lr * gr["wd"])
        exp_avg[k].mul_(b1).add_(gs[k], alpha=1 - b1)
        ratio = (exp_avg[k].abs() / (rho * bs * hess[k] + 1e-15)).clamp(None, 1)
        params[k].addcmul_(exp_avg[k].sign(), ratio, value=-lr)
    th = torch.empty(N)
    for k, gr in enumerate(groups):
        th[gr["idx"]] = params[k]
    g.add("theta.%d" % s, th)
g.save("sophia_soul.bin")
