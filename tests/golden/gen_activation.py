"""gen_activation.py - golden values of the activations and unary math ops
(src/ops/activation.c) from PyTorch: for each op, input x, upstream
gradient r, output y and gx = d sum(y * r) / dx."""
import torch
import torch.nn.functional as F

from ltgolden import Golden, grads

torch.manual_seed(1)
g = Golden()

general = torch.randn(5, 8, dtype=torch.float64) * 2
positive = torch.rand(5, 8, dtype=torch.float64) * 3 + 0.1
# softplus: both sides of the threshold 20, and negative values
wide = torch.linspace(-30, 30, 40, dtype=torch.float64).reshape(5, 8) + 0.37

ops = {
    "relu": (torch.relu, general),
    "gelu": (F.gelu, general),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), general),
    "silu": (F.silu, general),
    "selu": (F.selu, general),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), general),
    "sigmoid": (torch.sigmoid, general),
    "tanh": (torch.tanh, general),
    "softplus": (F.softplus, wide),
    "exp": (torch.exp, general),
    "log": (torch.log, positive),
    "abs": (torch.abs, general),
    "neg": (torch.neg, general),
    "sqrt": (torch.sqrt, positive),
    "affine": (lambda x: 1.5 * x - 0.25, general),
}

for name, (fn, src) in ops.items():
    # Computed in float32 like the C code; inputs rounded to float32 first.
    x = src.to(torch.float32).clone().requires_grad_(True)
    y = fn(x)
    r = torch.rand(y.shape) * 2 - 1
    (gx,) = grads(y, [x], r)
    g.add(f"{name}.x", x)
    g.add(f"{name}.r", r)
    g.add(f"{name}.y", y)
    g.add(f"{name}.gx", gx)

g.save("activation.bin")
