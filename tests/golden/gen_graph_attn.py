"""gen_graph_attn.py - PyTorch goldens for lt_graph_attn and lt_chamfer
(src/ops/graph_attn.c, src/ops/chamfer.c): the attention aggregation
written as torch_geometric's message passing does it (gather, SELU of the
scaled score sum, softmax over each destination's edges, weighted sum by
index_add), and pytorch3d's default Chamfer distance written out with
torch.cdist-free squared distances. Writes graph_attn.bin.

Run: /usr/bin/python3 tests/golden/gen_graph_attn.py
"""
import torch
import torch.nn.functional as F

from ltgolden import Golden, grads


def attn(x, al, ar, src, dst, n, scale):
    z = F.selu(scale * al[src] + scale * ar[dst])
    m = torch.full((n, z.shape[1]), -float("inf"))
    m = m.scatter_reduce(0, dst.view(-1, 1).expand_as(z), z.detach(), "amax")
    e = (z - m[dst]).exp()
    s = torch.zeros(n, z.shape[1]).index_add(0, dst, e)
    p = e / s[dst]
    msg = x[src] * p.unsqueeze(-1)
    return torch.zeros((n,) + msg.shape[1:]).index_add(0, dst, msg)


def chamfer(x, y):
    d = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    return d.min(1).values.mean() + d.min(0).values.mean()


def main():
    torch.manual_seed(18)
    g = Golden()
    n, h = 9, 4
    src = torch.tensor([1, 2, 3, 0, 2, 4, 5, 0, 6, 7, 8, 1, 3, 5, 7, 2])
    dst = torch.tensor([0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7, 8])
    g.add("src", src)
    g.add("dst", dst)
    for tag, hx, c, scale in (("c", 1, 2, 0.2), ("f", h, 5, 1.0)):
        x = torch.randn(n, hx, c, requires_grad=True)
        al = (1.5 * torch.randn(n, h)).requires_grad_()
        ar = (1.5 * torch.randn(n, h)).requires_grad_()
        y = attn(x, al, ar, src, dst, n, scale)
        r = torch.randn_like(y)
        gx, gal, gar = grads(y, [x, al, ar], r)
        for k, v in (("x", x), ("al", al), ("ar", ar), ("y", y), ("r", r),
                     ("gx", gx), ("gal", gal), ("gar", gar)):
            g.add(f"{tag}.{k}", v)
    px = torch.rand(11, 2, requires_grad=True)
    py = torch.rand(8, 2, requires_grad=True)
    d = 0.5 * (chamfer(px[:6], py[:3]) + chamfer(px[6:], py[3:]))
    gpx, gpy = grads(d, [px, py], torch.ones(()))
    for k, v in (("x", px), ("y", py), ("d", d), ("gx", gpx), ("gy", gpy)):
        g.add(f"ch.{k}", v)
    g.save("graph_attn.bin")


if __name__ == "__main__":
    main()
