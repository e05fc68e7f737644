"""gen_m2n.py - golden values for Lethe's M2N baseline (src/models/um2n.c,
arch m2n) from a plain-PyTorch twin written after the official modules
(mesh-adaptation/UM2N: UM2N/model/M2N.py, extractor.GlobalFeatExtractor
with use_drop=False, extractor.LocalFeatExtractor, gatdeformer.DeformGAT,
processor.get_conv_feat for the 20 x 20 grid, loader.normalise,
train_util.train's deform loss 1000 x L1). The local extractor, the
deformer, the weight formula and the mesh come from gen_um2n.py.

The case: the 36-node mesh of gen_um2n.py, a batch of two graphs with
different monitors, the coordinate loss against a smooth target; the file
holds the inputs, the resampled grid, the side masks, every layer's
coordinates, the loss and every parameter's gradient (full up to 2048
values, else 256 evenly spaced values and the L2 norm).

Run: /usr/bin/python3 tests/golden/gen_m2n.py
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gen_um2n import (FULL_MAX, SAMPLES, LocalFeatExtractor, NetGATDeform,
                      find_edges, formula, square_mesh)
from ltgolden import Golden

GRID = 20


class GlobalFeatExtractor(nn.Module):
    def __init__(self, in_c=1, out_c=16):
        super().__init__()
        self.out_c = out_c
        self.conv1 = nn.Conv2d(in_c, 32, 3, padding=1, stride=1)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2, stride=1)
        self.conv3 = nn.Conv2d(64, 32, 3, padding=2, stride=1)
        self.conv4 = nn.Conv2d(32, out_c, 3, padding=2, stride=1)
        self.final_pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = F.selu(conv(x))
        return self.final_pool(x).reshape(-1, self.out_c)


class M2N(nn.Module):
    def __init__(self):
        super().__init__()
        self.gfe = GlobalFeatExtractor()
        self.lfe = LocalFeatExtractor()
        self.deformer = NetGATDeform(7 + 16 + 16)

    def forward(self, x, conv, mesh_feat, src, dst, node_num):
        g = self.gfe(conv).repeat_interleave(node_num, dim=0)
        loc = self.lfe(mesh_feat, src, dst)
        return self.deformer(torch.cat([x, loc, g], 1), src, dst, x[:, 2])


def p1_at(pts, vals, faces, px, py):
    """Firedrake's Function.at for P1: the interpolant at (px, py)."""
    for f in faces:
        a, b, c = pts[f[0]], pts[f[1]], pts[f[2]]
        m = np.array([[b[0] - a[0], c[0] - a[0]], [b[1] - a[1], c[1] - a[1]]])
        l1, l2 = np.linalg.solve(m, np.array([px - a[0], py - a[1]]))
        l0 = 1 - l1 - l2
        if min(l0, l1, l2) >= -1e-9:
            return l0 * vals[f[0]] + l1 * vals[f[1]] + l2 * vals[f[2]]
    raise ValueError("point outside the mesh")


def conv_feat(pts, vals, faces):
    """processor.get_conv_feat (fix_reso 20) then loader.normalise."""
    lo, hi = pts.min(0), pts.max(0)
    xs = np.linspace(lo[0], hi[0], GRID)
    ys = np.linspace(lo[1], hi[1], GRID)
    grid = np.zeros((1, GRID, GRID))
    for i in range(GRID):
        for j in range(GRID):
            grid[0, i, j] = p1_at(pts.astype(np.float64), vals, faces, xs[i],
                                  ys[j])
    return grid / np.abs(grid).max()


def main():
    pts, faces = square_mesh()
    n1 = pts.shape[0]
    edges1 = find_edges(faces, n1)
    bs = 2
    xy = torch.from_numpy(np.concatenate([pts] * bs))
    lo, hi = pts.min(0), pts.max(0)
    side1 = np.stack([pts[:, 0] == lo[0], pts[:, 0] == hi[0],
                      pts[:, 1] == lo[1], pts[:, 1] == hi[1]], 1)
    bd1 = side1.any(1).astype(np.float32)
    side = torch.from_numpy(np.concatenate([side1.astype(np.float32)] * bs))
    bd = torch.from_numpy(np.concatenate([bd1] * bs))
    mons, tars, grids = [], [], []
    for cx, cy in [(0.3, 0.7), (0.65, 0.35)]:
        p = torch.from_numpy(pts)
        m = 1 + 5 * torch.exp(-((p[:, 0] - cx) ** 2 + (p[:, 1] - cy) ** 2)
                              / 0.05)
        m = m / m.max()
        mons.append(m)
        grids.append(conv_feat(pts, m.double().numpy(), faces))
        s = 0.3 * torch.sin(math.pi * p[:, 0]) * torch.sin(math.pi * p[:, 1])
        tars.append(p + s[:, None] * (torch.tensor([cx, cy]) - p))
    target = torch.cat(tars).float()
    x3 = torch.cat([xy, bd[:, None]], 1)
    x7 = torch.cat([x3, side], 1)
    conv = torch.from_numpy(np.stack(grids)).float()
    mesh_feat = torch.cat([xy, torch.cat(mons)[:, None]], 1)
    src = torch.cat([edges1[0] + k * n1 for k in range(bs)])
    dst = torch.cat([edges1[1] + k * n1 for k in range(bs)])
    face = torch.cat([torch.from_numpy(faces).T + k * n1 for k in range(bs)],
                     1)

    model = M2N()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(formula(name, tuple(p.shape), 0.01))
    model.eval()
    cs = model(x7, conv, mesh_feat, src, dst, torch.tensor([n1] * bs))
    loss = 1000 * nn.L1Loss()(cs[-1], target)
    loss.backward()

    g = Golden()
    g.add("x", x3)
    g.add("side", side)
    g.add("conv", conv)
    g.add("mesh_feat", mesh_feat)
    g.add("target", target)
    g.add("faces", face.T.contiguous())
    g.add("src", src)
    g.add("dst", dst)
    for k, c in enumerate(cs):
        g.add(f"coords{k + 1}", c)
    g.add("loss", loss)
    names = [nm for nm in model.state_dict().keys() if ".lin_." not in nm]
    params = dict(model.named_parameters())
    assert sorted(names) == sorted(params.keys())
    for name in names:
        gr = params[name].grad.reshape(-1)
        if gr.numel() <= FULL_MAX:
            g.add("g." + name, gr)
        else:
            stride = gr.numel() // SAMPLES
            g.add("s." + name, gr[::stride][:SAMPLES])
            g.add("n." + name, gr.double().norm().float())
    print("m2n loss", loss.item())
    g.save("m2n.bin")


if __name__ == "__main__":
    main()
