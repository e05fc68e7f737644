"""gen_shape.py - PyTorch goldens for src/ops/shape.c: reshape, permute,
transpose, slice and concat, outputs and input gradients of sum(y * r)."""
import torch

from ltgolden import Golden, grads

torch.manual_seed(11)
g = Golden()


def case(name, inputs, fn):
    y = fn(*inputs)
    r = torch.randn_like(y)
    gs = grads(y, inputs, r)
    for i, x in enumerate(inputs):
        g.add(f"{name}.x{i}", x)
        g.add(f"{name}.g{i}", gs[i])
    g.add(f"{name}.y", y)
    g.add(f"{name}.r", r)


def rnd(*shape):
    return torch.randn(*shape, requires_grad=True)


case("reshape", [rnd(2, 3, 4)], lambda x: x.reshape(4, -1) * 1.0)
case("perm0213", [rnd(2, 3, 4, 5)], lambda x: x.permute(0, 2, 1, 3))
case("perm3102", [rnd(2, 3, 4, 5)], lambda x: x.permute(3, 1, 0, 2))
case("perm0132", [rnd(1, 2, 33, 35)], lambda x: x.permute(0, 1, 3, 2))
case("perm5d", [rnd(2, 1, 3, 4, 2)], lambda x: x.permute(4, 2, 1, 0, 3))
case("transpose", [rnd(5, 7)], lambda x: x.transpose(0, 1))
case("slice", [rnd(3, 7, 4)], lambda x: x[:, -3:100, :])
case("slice0", [rnd(6, 5)], lambda x: x[1:4])
case("cat3", [rnd(2, 3, 4), rnd(2, 1, 4), rnd(2, 5, 4)],
     lambda a, b, c: torch.cat([a, b, c], 1))
case("cat6", [rnd(1, 3), rnd(2, 3), rnd(3, 3), rnd(1, 3), rnd(2, 3),
              rnd(1, 3)], lambda *xs: torch.cat(xs, 0))

g.save("shape.bin")
