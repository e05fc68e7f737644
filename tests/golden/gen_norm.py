"""gen_norm.py - golden values for src/ops/norm.c (batch, group, layer and
RMS norm) from PyTorch: inputs, upstream gradient r, output, gradients of
sum(y * r) and, for batch norm in training, the updated running stats."""
import torch
import torch.nn.functional as F

from ltgolden import Golden, grads

torch.manual_seed(1234)
g = Golden()


def affine(C, on=True):
    if not on:
        return None, None
    gamma = (torch.rand(C) + 0.5).requires_grad_()
    beta = torch.randn(C).requires_grad_()
    return gamma, beta


def save_case(p, inputs, names, y):
    r = torch.randn_like(y)
    gs = grads(y, inputs, r)
    for n, t in zip(names, inputs):
        g.add(f"{p}.{n}", t)
    g.add(f"{p}.y", y)
    g.add(f"{p}.r", r)
    for n, t in zip(names, gs):
        g.add(f"{p}.g{n}", t)


def bn_case(p, shape, training, aff=True):
    C = shape[1]
    x = (torch.randn(shape) * 1.5 + 0.3).requires_grad_()
    gamma, beta = affine(C, aff)
    rm = torch.randn(C) * 0.2
    rv = torch.rand(C) + 0.5
    g.add(f"{p}.rm", rm)
    g.add(f"{p}.rv", rv)
    rm2, rv2 = rm.clone(), rv.clone()
    y = F.batch_norm(x, rm2, rv2, gamma, beta, training=training,
                     momentum=0.1, eps=1e-5)
    g.add(f"{p}.rm_new", rm2)
    g.add(f"{p}.rv_new", rv2)
    if aff:
        save_case(p, [x, gamma, beta], ["x", "gamma", "beta"], y)
    else:
        save_case(p, [x], ["x"], y)


def llama_rms(x, w, eps):
    # Hugging Face LlamaRMSNorm.forward (float32 input)
    var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
    h = x * torch.rsqrt(var + eps)
    return w * h if w is not None else h


bn_case("bn4", [8, 5, 6, 7], True)
bn_case("bn2", [16, 12], True)
bn_case("bn4e", [4, 5, 3, 3], False)
bn_case("bn2e", [6, 7], False)
bn_case("bn3n", [4, 3, 5], True, aff=False)

x = (torch.randn(3, 6, 4, 5) * 2 - 0.5).requires_grad_()
gamma, beta = affine(6)
save_case("gn", [x, gamma, beta], ["x", "gamma", "beta"],
          F.group_norm(x, 3, gamma, beta, 1e-5))
x = (torch.randn(2, 8, 3) + 1).requires_grad_()
save_case("gnn", [x], ["x"], F.group_norm(x, 4, None, None, 1e-5))

x = (torch.randn(4, 6, 10) * 1.3 + 0.2).requires_grad_()
gamma, beta = affine(10)
save_case("ln", [x, gamma, beta], ["x", "gamma", "beta"],
          F.layer_norm(x, (10,), gamma, beta, 1e-5))
x = torch.randn(5, 9).requires_grad_()
save_case("lnn", [x], ["x"], F.layer_norm(x, (9,), None, None, 1e-5))

x = (torch.randn(5, 3, 16) * 0.8).requires_grad_()
w = (torch.rand(16) + 0.5).requires_grad_()
save_case("rms", [x, w], ["x", "gamma"], llama_rms(x, w, 1e-6))
x = torch.randn(6, 12).requires_grad_()
save_case("rmsn", [x], ["x"], llama_rms(x, None, 1e-6))

g.save("norm.bin")
