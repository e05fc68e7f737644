"""gen_um2n.py - golden values for Lethe's M2N_T (src/models/um2n.c) from
a plain-PyTorch twin written after the official UM2N modules
(mesh-adaptation/UM2N: UM2N/model/M2N_T.py, extractor.py,
transformer_model.py, gatdeformer.py, train_util.py). torch_geometric and
pytorch3d are not used: message passing, PyG's softmax and the Chamfer
distance are written out by hand.

The case: a 6 x 6 vertex square mesh (36 nodes, interior vertices moved
off the grid, alternating diagonals), a batch of two graphs with different
monitors, a smooth target that keeps boundary vertices on their sides.
Weights come from a formula (tests/test_um2n.c computes the same), so the
file holds only inputs, outputs, the loss and the gradients (in full for
tensors of up to 2048 values, else 256 evenly spaced values and the L2
norm). Two cases: the attention vectors at their initialisation scale
(um2n.bin), where the feature attention is nearly one-hot, and scaled by
0.01 (um2n_soft.bin).

Run: /usr/bin/python3 tests/golden/gen_um2n.py
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ltgolden import Golden

torch.set_default_dtype(torch.float32)

FULL_MAX = 2048
SAMPLES = 256


# ---- the twin (module names as the official code) ---------------------------

class MLP_model(nn.Module):
    def __init__(self, cin, cout, hidden):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(cin, hidden), nn.GELU(),
                                     nn.Linear(hidden, cout), nn.GELU()])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class TransformerBlock(nn.Module):
    def __init__(self, embed_dim=64, num_heads=4):
        super().__init__()
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.pre_attn_norm = nn.LayerNorm(embed_dim)
        self.attn_layer = nn.MultiheadAttention(embed_dim, num_heads,
                                                dropout=0.1, batch_first=True)
        self.post_attn_norm = nn.LayerNorm(embed_dim)
        self.post_attn_dropout = nn.Dropout(0.1)
        self.pre_dense_norm = nn.LayerNorm(embed_dim)
        self.dense_1 = nn.Linear(embed_dim, 4 * embed_dim)
        self.activation = nn.GELU()
        self.act_dropout = nn.Dropout(0.1)
        self.post_dense_norm = nn.LayerNorm(4 * embed_dim)
        self.dense_2 = nn.Linear(4 * embed_dim, embed_dim)
        self.c_attn = nn.Parameter(torch.ones(num_heads))
        self.residual_weight = nn.Parameter(torch.ones(embed_dim))

    def forward(self, x):
        residual = x
        x = self.pre_attn_norm(x)
        x, _ = self.attn_layer(x, x, x)
        n = x.shape[1]
        x = x.view(-1, n, self.num_heads, self.head_dim)
        x = torch.einsum("b n h d, h -> b n d h", x, self.c_attn)
        x = x.reshape(-1, n, self.embed_dim)
        x = self.post_attn_norm(x)
        x = self.post_attn_dropout(x)
        x = x + residual
        residual = x
        x = self.pre_dense_norm(x)
        x = self.activation(self.dense_1(x))
        x = self.act_dropout(x)
        x = self.post_dense_norm(x)
        x = self.dense_2(x)
        x = self.post_attn_dropout(x)
        return x + torch.mul(self.residual_weight, residual)


class TransformerModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_layers = nn.ModuleList([TransformerBlock()])
        self.mlp_in = MLP_model(3, 64, 64)
        self.mlp_out = MLP_model(64, 16, 64)

    def forward(self, x):
        x = self.mlp_in(x)
        for layer in self.attn_layers:
            x = layer(x)
        return self.mlp_out(x)


class TransformerEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer_encoder = TransformerModel()

    def forward(self, data):
        h = F.selu(self.transformer_encoder(data))
        return h.view(-1, h.shape[-1])


def propagate_add(msg, dst, n):
    out = torch.zeros((n,) + msg.shape[1:], dtype=msg.dtype)
    return out.index_add(0, dst, msg)


def pyg_softmax(a, dst, n):
    """torch_geometric.utils.softmax over the edges entering each node."""
    amax = torch.full((n,) + a.shape[1:], -math.inf)
    amax = amax.scatter_reduce(0, dst.view(-1, 1).expand_as(a), a.detach(), "amax",
                               include_self=True)
    e = (a - amax[dst]).exp()
    s = propagate_add(e, dst, n)
    return e / (s[dst] + 1e-16)


class LocalFeatExtractor(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin_1 = nn.Linear(5, 64)
        self.lin_2 = nn.Linear(64, 64)
        self.lin_3 = nn.Linear(64, 15)
        self.activate = nn.SELU()

    def forward(self, x, src, dst):
        x_i, x_j = x[dst], x[src]
        diff = x_j[:, :2] - x_i[:, :2]
        dist = torch.norm(diff, dim=1, keepdim=True)
        h = torch.cat([diff, dist, x_i[:, 2:], x_j[:, 2:]], dim=1)
        h = self.activate(self.lin_1(h))
        h = self.activate(self.lin_2(h))
        h = self.activate(self.lin_3(h))
        return propagate_add(torch.cat([h, dist], dim=1), dst, x.shape[0])


class DeformGAT(nn.Module):
    def __init__(self, cin, cout, heads=6):
        super().__init__()
        self.heads, self.out_channels = heads, cout
        self.lin_l = nn.Linear(cin, heads * cout, bias=True)
        self.lin_ = self.lin_l
        self.att_l = nn.Parameter(torch.zeros(1, heads, cout))
        self.att_r = nn.Parameter(torch.zeros(1, heads, cout))

    def propagate(self, xs, al, ar, src, dst, n):
        alpha = pyg_softmax(F.selu(al[src] + ar[dst]), dst, n)
        return propagate_add(xs[src] * alpha.unsqueeze(-1), dst, n)

    def forward(self, coords, features, src, dst, bd_mask):
        n = coords.shape[0]
        bd = bd_mask.bool()
        upper, down = coords[:, 0] == 1, coords[:, 0] == 0
        left, right = coords[:, 1] == 0, coords[:, 1] == 1
        bd_x, bd_y = coords[bd, 0].clone(), coords[bd, 1].clone()
        x_l = self.lin_l(features).view(-1, self.heads, self.out_channels)
        al = (x_l * self.att_l).sum(dim=-1)
        ar = (x_l * self.att_r).sum(dim=-1)
        out_c = self.propagate(coords.unsqueeze(1), 0.2 * al, 0.2 * ar,
                               src, dst, n).mean(dim=1)
        out_f = F.selu(self.propagate(x_l, al, ar, src, dst, n).mean(dim=1))
        out_c[upper, 0] = 1
        out_c[down, 0] = 0
        out_c[left, 1] = 0
        out_c[right, 1] = 1
        out_c[bd, 0] = bd_x
        out_c[bd, 1] = bd_y
        return out_c, out_f


class NetGATDeform(nn.Module):
    def __init__(self, in_dim):
        super().__init__()
        self.lin = nn.Linear(in_dim, 254)
        self.gat_1 = DeformGAT(256, 508)
        self.gat_2 = DeformGAT(512, 250)
        self.gat_3 = DeformGAT(256, 120)
        self.gat_4 = DeformGAT(128, 20)

    def forward(self, data, src, dst, bd):
        c0 = data[:, 0:2]
        t = torch.cat([c0, F.selu(self.lin(data))], dim=1)
        c1, f1 = self.gat_1(c0, t, src, dst, bd)
        c2, f2 = self.gat_2(c1, torch.cat([c1, c0, f1], 1), src, dst, bd)
        c3, f3 = self.gat_3(c2, torch.cat([c2, c1, c0, f2], 1), src, dst, bd)
        c4, _ = self.gat_4(c3, torch.cat([c3, c2, c1, c0, f3], 1), src, dst,
                           bd)
        return [c1, c2, c3, c4]


class M2N_T(nn.Module):
    def __init__(self):
        super().__init__()
        self.gfe = TransformerEncoder()
        self.lfe = LocalFeatExtractor()
        self.deformer = NetGATDeform(3 + 16 + 16)

    def forward(self, x, mesh_feat, src, dst, batch):
        g = self.gfe(mesh_feat.view(batch, -1, mesh_feat.shape[-1]))
        l = self.lfe(mesh_feat, src, dst)
        return self.deformer(torch.cat([x, l, g], 1), src, dst, x[:, 2])


def face_area(coord, face):
    x, y = coord[:, 0][face], coord[:, 1][face]
    return 0.5 * (x[0] * (y[1] - y[2]) + x[1] * (y[2] - y[0])
                  + x[2] * (y[0] - y[1]))


def area_loss(out, tar, face, bs, scaler=300):
    a_o, a_t = face_area(out, face), face_area(tar, face)
    a_o = scaler * torch.sign(a_t) * a_o
    a_t = scaler * torch.sign(a_t) * a_t
    return torch.abs(a_t - a_o).sum() / bs


def chamfer(x, y):
    d = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    return d.min(dim=1).values.mean() + d.min(dim=0).values.mean()


# ---- deterministic weights (the C test computes the same) -------------------

def fnv1a(name):
    h = 2166136261
    for ch in name.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def formula(name, shape, att=1.0):
    n = int(np.prod(shape))
    k = np.arange(n, dtype=np.uint64)
    u = ((k * np.uint64(2654435761) + np.uint64(fnv1a(name)))
         & np.uint64(0xFFFFFFFF)).astype(np.float64) / 4294967296.0
    v = 2.0 * u - 1.0
    if len(shape) == 1:
        one = (name.endswith("norm.weight") or name.endswith("c_attn")
               or name.endswith("residual_weight"))
        w = 1.0 + 0.2 * v if one else 0.1 * v
    elif len(shape) == 3:
        w = math.sqrt(6.0 / (shape[-2] + shape[-1])) * v * att
    else:
        w = (1.0 / math.sqrt(shape[-1])) * v
    return torch.from_numpy(w.astype(np.float32).reshape(shape))


# ---- the mesh ---------------------------------------------------------------

def square_mesh(n=6):
    xs = np.linspace(0.0, 1.0, n)
    pts = []
    for j in range(n):
        for i in range(n):
            x, y = xs[i], xs[j]
            if 0 < i < n - 1 and 0 < j < n - 1:
                x += 0.04 * math.sin(3.1 * i + 1.7 * j)
                y += 0.04 * math.cos(2.3 * i - 1.1 * j)
            pts.append((x, y))
    faces = []
    for j in range(n - 1):
        for i in range(n - 1):
            a, b = j * n + i, j * n + i + 1
            c, d = a + n, b + n
            if (i + j) % 2 == 0:
                faces += [(a, b, d), (a, d, c)]
            else:
                faces += [(a, b, c), (b, d, c)]
    return np.array(pts, dtype=np.float32), np.array(faces, dtype=np.int64)


def find_edges(faces, n):
    """processor.find_edges: unique sorted edges, then the reverses."""
    f = torch.from_numpy(faces)
    e = torch.cat([f[:, [1, 2]], f[:, [2, 0]], f[:, [0, 1]]], 0)
    e, _ = e.sort(dim=1)
    u = torch.unique(n * e[:, 0] + e[:, 1])
    single = torch.stack([u // n, u % n], 1)
    return torch.cat([single, single[:, [1, 0]]], 0).T  # [2, 2E]


def case(att, filename):
    torch.manual_seed(0)
    pts, faces = square_mesh()
    n1 = pts.shape[0]
    edges1 = find_edges(faces, n1)
    bs = 2
    xy = torch.from_numpy(np.concatenate([pts] * bs))
    bd1 = ((pts[:, 0] == 0) | (pts[:, 0] == 1) | (pts[:, 1] == 0)
           | (pts[:, 1] == 1)).astype(np.float32)
    bd = torch.from_numpy(np.concatenate([bd1] * bs))
    centres = [(0.3, 0.7), (0.65, 0.35)]
    mons, tars = [], []
    for cx, cy in centres:
        p = torch.from_numpy(pts)
        m = 1 + 5 * torch.exp(-((p[:, 0] - cx) ** 2 + (p[:, 1] - cy) ** 2)
                              / 0.05)
        mons.append(m / m.max())
        s = 0.3 * torch.sin(math.pi * p[:, 0]) * torch.sin(math.pi * p[:, 1])
        tars.append(p + s[:, None] * (torch.tensor([cx, cy]) - p))
    mon = torch.cat(mons)
    target = torch.cat(tars).float()
    x = torch.cat([xy, bd[:, None]], 1)
    mesh_feat = torch.cat([xy, mon[:, None]], 1)
    src = torch.cat([edges1[0] + g * n1 for g in range(bs)])
    dst = torch.cat([edges1[1] + g * n1 for g in range(bs)])
    face = torch.cat([torch.from_numpy(faces).T + g * n1 for g in range(bs)],
                     1)

    model = M2N_T()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(formula(name, tuple(p.shape), att))
    model.eval()
    cs = model(x, mesh_feat, src, dst, bs)
    out = cs[-1]
    la = area_loss(out, target, face, bs)
    lc = 100 * chamfer(out, target)
    loss = la + lc
    loss.backward()

    g = Golden()
    g.add("x", x)
    g.add("mesh_feat", mesh_feat)
    g.add("target", target)
    g.add("faces", face.T.contiguous())
    g.add("src", src)
    g.add("dst", dst)
    g.add("faces1", torch.from_numpy(faces))
    g.add("edges1", edges1)
    for k, c in enumerate(cs):
        g.add(f"coords{k + 1}", c)
    g.add("area_loss", la)
    g.add("chamfer_loss", lc)
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
    print("loss", loss.item(), "area", la.item(), "chamfer", lc.item())
    g.save(filename)


def adam_case(filename):
    """One step of run_train_baselines' optimiser on the two-graph batch:
    Adam lr 5e-5, weight decay 5e-4 (coupled), the area loss divided by
    the loader's batch size 5, dropout set to 0 so the step is
    deterministic. Stores the weight updates theta1 - theta0."""
    pts, faces = square_mesh()
    n1 = pts.shape[0]
    edges1 = find_edges(faces, n1)
    bs = 2
    xy = torch.from_numpy(np.concatenate([pts] * bs))
    bd1 = ((pts[:, 0] == 0) | (pts[:, 0] == 1) | (pts[:, 1] == 0)
           | (pts[:, 1] == 1)).astype(np.float32)
    bd = torch.from_numpy(np.concatenate([bd1] * bs))
    mons, tars = [], []
    for cx, cy in [(0.3, 0.7), (0.65, 0.35)]:
        p = torch.from_numpy(pts)
        m = 1 + 5 * torch.exp(-((p[:, 0] - cx) ** 2 + (p[:, 1] - cy) ** 2)
                              / 0.05)
        mons.append(m / m.max())
        s = 0.3 * torch.sin(math.pi * p[:, 0]) * torch.sin(math.pi * p[:, 1])
        tars.append(p + s[:, None] * (torch.tensor([cx, cy]) - p))
    target = torch.cat(tars).float()
    x = torch.cat([xy, bd[:, None]], 1)
    mesh_feat = torch.cat([xy, torch.cat(mons)[:, None]], 1)
    src = torch.cat([edges1[0] + k * n1 for k in range(bs)])
    dst = torch.cat([edges1[1] + k * n1 for k in range(bs)])
    face = torch.cat([torch.from_numpy(faces).T + k * n1 for k in range(bs)],
                     1)
    model = M2N_T()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(formula(name, tuple(p.shape), 0.01))
    model.train()
    for mod in model.modules():
        if isinstance(mod, nn.Dropout):
            mod.p = 0.0
        if isinstance(mod, nn.MultiheadAttention):
            mod.dropout = 0.0
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    opt = torch.optim.Adam(model.parameters(), lr=5e-5, betas=(0.9, 0.999),
                           eps=1e-08, weight_decay=5e-4)
    opt.zero_grad()
    out = model(x, mesh_feat, src, dst, bs)[-1]
    loss = area_loss(out, target, face, 5) + 100 * chamfer(out, target)
    loss.backward()
    opt.step()
    g = Golden()
    g.add("loss", loss)
    for name, p in model.named_parameters():
        u = (p.detach() - before[name]).reshape(-1)
        if u.numel() <= FULL_MAX:
            g.add("u." + name, u)
        else:
            g.add("v." + name, u[::u.numel() // SAMPLES][:SAMPLES])
    g.save(filename)


def main():
    # official-scale weights: the feature attention is nearly one-hot
    case(1.0, "um2n.bin")
    # attention vectors x 0.01: soft attention, well-conditioned gradients
    case(0.01, "um2n_soft.bin")
    adam_case("um2n_adam.bin")


if __name__ == "__main__":
    main()
