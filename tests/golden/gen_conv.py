"""gen_conv.py - PyTorch goldens for conv2d and conv_transpose2d
(tests/test_conv.c): non-trivial shapes with stride, padding, dilation,
groups, output padding, 1x1 kernels, and batches that exercise both the
single-image and the multi-image chunk paths of src/ops/conv.c."""
import torch
import torch.nn.functional as F

from ltgolden import Golden, grads

torch.manual_seed(1234)
g = Golden()


def case(name, fn, xs, ws, bias, **kw):
    x = torch.randn(*xs, requires_grad=True)
    w = (torch.randn(*ws) * 0.3).requires_grad_()
    b = torch.randn(bias, requires_grad=True) if bias else None
    y = fn(x, w, b, **kw)
    r = torch.randn_like(y)
    ins = [x, w] + ([b] if b is not None else [])
    gs = grads(y, ins, r)
    g.add(name + ".x", x)
    g.add(name + ".w", w)
    if b is not None:
        g.add(name + ".b", b)
    g.add(name + ".y", y)
    g.add(name + ".r", r)
    g.add(name + ".gx", gs[0])
    g.add(name + ".gw", gs[1])
    if b is not None:
        g.add(name + ".gb", gs[2])


# conv2d (names match the C table in test_conv.c)
case("grp", F.conv2d, (2, 6, 9, 8), (4, 3, 3, 3), 4, stride=2, padding=1,
     groups=2)
case("dil", F.conv2d, (2, 3, 10, 9), (5, 3, 3, 2), 0, stride=(1, 2),
     padding=(2, 1), dilation=(2, 3))
case("pw", F.conv2d, (3, 8, 5, 6), (6, 8, 1, 1), 6)
case("pws2", F.conv2d, (3, 8, 7, 6), (6, 8, 1, 1), 0, stride=2)
case("big", F.conv2d, (2, 1, 20, 20), (2, 1, 3, 3), 2, padding=1)
case("pwbig", F.conv2d, (2, 1, 20, 20), (2, 1, 1, 1), 2)
case("odd", F.conv2d, (5, 1, 10, 10), (2, 1, 3, 3), 2, padding=1)
case("dw", F.conv2d, (2, 4, 7, 7), (4, 1, 3, 3), 0, stride=2, padding=1,
     groups=4)
# conv_transpose2d: weight [C_in, C_out/groups, kh, kw]
case("tgrp", F.conv_transpose2d, (2, 4, 5, 4), (4, 3, 3, 3), 6, stride=2,
     padding=1, output_padding=1, groups=2)
case("tdil", F.conv_transpose2d, (2, 3, 4, 5), (3, 2, 2, 3), 0,
     stride=(2, 3), padding=(0, 1), output_padding=(1, 2), dilation=(2, 1))
case("tbig", F.conv_transpose2d, (2, 1, 20, 20), (1, 1, 3, 3), 1, padding=1)
g.save("conv.bin")
