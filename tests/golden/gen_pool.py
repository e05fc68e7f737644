"""gen_pool.py - PyTorch goldens for max/avg pooling, global average pooling
and nearest upsampling (tests/test_pool.c), at odd sizes with padding."""
import torch
import torch.nn.functional as F

from ltgolden import Golden, grads

torch.manual_seed(4321)
g = Golden()


def case(name, fn, xs, **kw):
    x = torch.randn(*xs, requires_grad=True)
    y = fn(x, **kw)
    r = torch.randn_like(y)
    (gx,) = grads(y, [x], r)
    g.add(name + ".x", x)
    g.add(name + ".y", y)
    g.add(name + ".r", r)
    g.add(name + ".gx", gx)


# names and arguments match the C table in test_pool.c
case("max1", F.max_pool2d, (2, 3, 9, 7), kernel_size=3, stride=2, padding=1)
case("max2", F.max_pool2d, (2, 3, 7, 9), kernel_size=2)
case("max3", F.max_pool2d, (1, 2, 6, 5), kernel_size=3, stride=1, padding=1)
case("avg1", F.avg_pool2d, (2, 3, 9, 7), kernel_size=3, stride=2, padding=1)
case("avg2", F.avg_pool2d, (2, 3, 7, 9), kernel_size=2)
case("avg3", F.avg_pool2d, (1, 2, 6, 5), kernel_size=3, stride=1, padding=1)
case("gap", lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1), (2, 3, 5, 7))
case("up2", F.interpolate, (2, 3, 3, 4), scale_factor=2, mode="nearest")
case("up3", F.interpolate, (1, 2, 2, 3), scale_factor=3, mode="nearest")
g.save("pool.bin")
