"""gen_reduce.py - golden values of the reductions (src/ops/reduce.c) from
PyTorch: sum, mean and max over every axis (negative ones too) with and
without keepdim, and sum / mean over everything."""
import torch

from ltgolden import Golden, grads

torch.manual_seed(3)
g = Golden()


def add_case(prefix, fn, x):
    x = x.clone().requires_grad_(True)
    y = fn(x)
    if y.dim() == 0:
        y = y.reshape(1)
    r = torch.rand(y.shape) * 2 - 1
    (gx,) = grads(y, [x], r)
    g.add(prefix + ".x", x)
    g.add(prefix + ".r", r)
    g.add(prefix + ".y", y)
    g.add(prefix + ".gx", gx)


reducers = {
    "sum": lambda x, a, k: torch.sum(x, a, keepdim=k),
    "mean": lambda x, a, k: torch.mean(x, a, keepdim=k),
    "max": lambda x, a, k: torch.max(x, a, keepdim=k).values,
}

x = torch.randn(3, 4, 5)
for name, fn in reducers.items():
    for axis in (0, 1, 2, -1, -3):
        for keep in (0, 1):
            add_case(f"{name}.ax{axis}.k{keep}",
                     lambda t: fn(t, axis, bool(keep)), x)
    # inner size above one column block (256), and a 1-D input
    add_case(f"{name}.wide", lambda t: fn(t, 1, False), torch.randn(2, 2, 260))
    add_case(f"{name}.vec", lambda t: fn(t, 0, False), torch.randn(7))

add_case("sum_all", torch.sum, torch.randn(3, 4, 5))
add_case("mean_all", torch.mean, torch.randn(3, 4, 5))

g.save("reduce.bin")
