"""gen_index.py - PyTorch goldens for src/ops/index.c: embedding,
scatter_add (index_add_ along dim 0) and segment_softmax (written with
scatter_reduce 'amax' and index_add_), outputs and input gradients of
sum(y * r)."""
import warnings

import torch

from ltgolden import Golden, grads

warnings.filterwarnings("ignore", message="scatter_reduce")
torch.manual_seed(7)
g = Golden()

# embedding: V=10, D=6, 12 ids with repeats, some rows unused
w = torch.randn(10, 6, requires_grad=True)
ids = torch.tensor([3, 0, 9, 3, 5, 5, 5, 1, 9, 2, 3, 7])
y = torch.nn.functional.embedding(ids, w)
r = torch.randn_like(y)
(gw,) = grads(y, [w], r)
g.add("emb.w", w); g.add("emb.ids", ids); g.add("emb.y", y)
g.add("emb.r", r); g.add("emb.gw", gw)

# scatter_add: src [9, 3, 2] into 6 rows (rows 2 and 5 get nothing)
src = torch.randn(9, 3, 2, requires_grad=True)
idx = torch.tensor([0, 4, 1, 0, 3, 4, 4, 1, 0])
y = torch.zeros(6, 3, 2).index_add(0, idx, src)
r = torch.randn_like(y)
(gs,) = grads(y, [src], r)
g.add("sa.src", src); g.add("sa.idx", idx); g.add("sa.y", y)
g.add("sa.r", r); g.add("sa.gs", gs)

# scatter_add on 1-D src
src1 = torch.randn(7, requires_grad=True)
idx1 = torch.tensor([2, 2, 0, 1, 2, 0, 1])
y = torch.zeros(4).scatter_add(0, idx1, src1)
r = torch.randn_like(y)
(gs1,) = grads(y, [src1], r)
g.add("sa1.src", src1); g.add("sa1.idx", idx1); g.add("sa1.y", y)
g.add("sa1.r", r); g.add("sa1.gs", gs1)


def segment_softmax(x, seg, n_seg):
    """Softmax over entries with equal seg, per column (x [E] or [E, H])."""
    x2 = x if x.dim() == 2 else x.unsqueeze(1)
    h = x2.shape[1]
    ix = seg.unsqueeze(1).expand(-1, h)
    mx = torch.full((n_seg, h), float("-inf")).scatter_reduce(
        0, ix, x2, "amax", include_self=True)
    e = torch.exp(x2 - mx[seg])
    s = torch.zeros(n_seg, h).index_add(0, seg, e)
    y = e / s[seg]
    return y if x.dim() == 2 else y.squeeze(1)


# segment_softmax: 6 segments, segment 2 empty, segment 4 a single entry,
# large offsets to exercise the per-segment max
seg = torch.tensor([0, 1, 0, 3, 1, 5, 3, 0, 4, 5, 1])
x = (torch.randn(11, 3) * 3 + 20).requires_grad_()
y = segment_softmax(x, seg, 6)
# loop reference
for s_id in range(6):
    m = seg == s_id
    if m.any():
        assert torch.allclose(y[m], torch.softmax(x[m], 0), atol=1e-6)
r = torch.randn_like(y)
(gx,) = grads(y, [x], r)
g.add("ss.x", x); g.add("ss.seg", seg); g.add("ss.y", y)
g.add("ss.r", r); g.add("ss.gx", gx)

x1 = torch.randn(11, requires_grad=True)
y = segment_softmax(x1, seg, 6)
r = torch.randn_like(y)
(gx1,) = grads(y, [x1], r)
g.add("ss1.x", x1); g.add("ss1.y", y); g.add("ss1.r", r); g.add("ss1.gx", gx1)

g.save("index.bin")
