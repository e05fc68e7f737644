"""gen_elementwise.py - golden values of add, sub, mul and div with NumPy
broadcasting (src/ops/elementwise.c) from PyTorch: for each op and shape
case, inputs a and b, upstream gradient r, output y and the gradients ga,
gb of sum(y * r)."""
import torch

from ltgolden import Golden, grads

torch.manual_seed(2)
g = Golden()

cases = {
    "same": ([3, 4, 5], [3, 4, 5]),
    "bcast3": ([4, 1, 6], [3, 1]),
    "bias": ([2, 3, 4, 5], [5]),
    "scalar": ([1], [3, 4]),
    "column": ([4, 1], [4, 6]),
    "outer": ([3, 1, 2], [1, 5, 1]),
}

ops = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
}


def denominator(shape):
    """Values in +-[0.5, 2]: away from 0."""
    mag = torch.rand(shape) * 1.5 + 0.5
    sign = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)
    return mag * sign


for op, fn in ops.items():
    for case, (sa, sb) in cases.items():
        a = (torch.randn(sa) * 2).requires_grad_(True)
        b = denominator(sb) if op == "div" else torch.randn(sb) * 2
        b.requires_grad_(True)
        y = fn(a, b)
        r = torch.rand(y.shape) * 2 - 1
        ga, gb = grads(y, [a, b], r)
        p = f"{op}.{case}"
        g.add(p + ".a", a)
        g.add(p + ".b", b)
        g.add(p + ".r", r)
        g.add(p + ".y", y)
        g.add(p + ".ga", ga)
        g.add(p + ".gb", gb)

g.save("elementwise.bin")
