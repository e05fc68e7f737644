"""gen_softmax.py - golden values for lt_softmax and lt_log_softmax over
every axis of a 3-D tensor, the middle axis of a 3-D tensor whose inner
size spans two column tiles, and both axes of a 2-D one. Per tensor: input
<fn>.<tag>.x; per case <fn>.<tag>.a<axis>.{r, y, gx}: upstream gradient r,
output y and gx = d sum(y * r) / d x."""
import torch
import torch.nn.functional as F

from ltgolden import Golden, grads

torch.manual_seed(7)
g = Golden()
cases = [("3d", (3, 4, 5), [0, 1, 2, -1]), ("wide", (2, 3, 66), [1]),
         ("2d", (6, 37), [1, 0])]
for tag, shape, axes in cases:
    x = (torch.randn(*shape) * 3).requires_grad_()
    g.add(f"{tag}.x", x)
    for fname, fn in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        for a in axes:
            key = f"{fname}.{tag}.a{a}"
            y = fn(x, dim=a)
            r = torch.randn(*shape)
            (gx,) = grads(y, [x], r)
            g.add(key + ".r", r)
            g.add(key + ".y", y)
            g.add(key + ".gx", gx)
g.save("softmax.bin")
