"""gen_unet.py - golden values for src/models/unet.c and diffusion.c: a
PyTorch twin of the class-conditional DDPM UNet of SalUn
(DDPM/models/diffusion.py, Conditional_Model), transcribed with GroupNorm's
group count made a setting, the official noise-estimation loss, both
classifier-free guidance conventions and the generalized (DDIM, eta 0)
sampler on the uniform sequence, as DDPM/functions/denoising.py computes
them. Weights come from a name-hash formula that tests/test_diffusion.c
computes identically, so no weight file is needed."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ltgolden import Golden

GROUPS = 4


def fnv1a(s):
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) % 4294967296
    return h


def fill(model):
    """Parameter `name`, element k: u = h / 2^31 - 1 with h = (2654435761 k
    + 97531 fnv1a(name)) mod 2^32; weights of >= 2 dims u / sqrt(fan_in);
    1-D names ending '.weight' (norm scales) 1 + 0.1 u; others 0.1 u."""
    fill_named(model.state_dict().items())


def fill_named(items):
    """fill's formula on (name, tensor) pairs (tensors written in place)."""
    for name, t in items:
        n = t.numel()
        h = (torch.arange(n, dtype=torch.int64) * 2654435761 + 97531 * fnv1a(name)) % 4294967296
        u = h.to(torch.float64) / 2147483648.0 - 1.0
        if t.dim() >= 2:
            v = u / math.sqrt(n // t.shape[0])
        elif name.endswith(".weight"):
            v = 1 + 0.1 * u
        else:
            v = 0.1 * u
        t.copy_(v.to(torch.float32).view_as(t))


def silu(x):
    return x * torch.sigmoid(x)


def gn(ch):
    return nn.GroupNorm(GROUPS, ch, eps=1e-6)


def timestep_embedding(t, dim):
    half = dim // 2
    k = math.log(10000) / (half - 1)
    e = torch.exp(torch.arange(half, dtype=torch.float32) * -k)
    e = t.float()[:, None] * e[None, :]
    return torch.cat([torch.sin(e), torch.cos(e)], dim=1)


class ResBlock(nn.Module):
    """proj: the embedding projection's name (the text model's temb_proj)."""
    def __init__(self, cin, cout, tc, proj="temb_cemb_proj"):
        super().__init__()
        self.norm1 = gn(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.proj = proj
        setattr(self, proj, nn.Linear(tc, cout))
        self.norm2 = gn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)
        self.cin, self.cout = cin, cout

    def forward(self, x, tc):
        h = self.conv1(silu(self.norm1(x)))
        h = h + getattr(self, self.proj)(tc)[:, :, None, None]
        h = self.conv2(silu(self.norm2(h)))  # dropout 0 in the goldens
        if self.cin != self.cout:
            x = self.nin_shortcut(x)
        return x + h


class Attn(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.norm = gn(ch)
        self.q = nn.Conv2d(ch, ch, 1)
        self.k = nn.Conv2d(ch, ch, 1)
        self.v = nn.Conv2d(ch, ch, 1)
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)
        k = k.reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q, k) * (int(c) ** -0.5), dim=2)
        v = v.reshape(b, c, hh * ww)
        h = torch.bmm(v, w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(h)


class UNet(nn.Module):
    """The DDPM UNet skeleton with the class model's conditioning; the
    text twin (gen_unet_text.py) overrides the hooks make_embedding, embed,
    resblock, attn, attend, make_output and output."""

    def __init__(self, ch, mult, blocks, attn_res, res, classes, in_ch=1):
        super().__init__()
        self.ch, self.mult, self.blocks, self.res = ch, mult, blocks, res
        self.make_embedding(ch, 4 * ch, classes)
        self.conv_in = nn.Conv2d(in_ch, ch, 3, 1, 1)
        cur, in_mult, bin_ = res, (1,) + tuple(mult), ch
        self.down = nn.ModuleList()
        for lv in range(len(mult)):
            d = nn.Module()
            d.block, d.attn = nn.ModuleList(), nn.ModuleList()
            bout = ch * mult[lv]
            for _ in range(blocks):
                d.block.append(self.resblock(bin_, bout))
                bin_ = bout
                if cur in attn_res:
                    d.attn.append(self.attn(bin_))
            if lv != len(mult) - 1:
                d.downsample = nn.Module()
                d.downsample.conv = nn.Conv2d(bin_, bin_, 3, 2, 0)
                cur //= 2
            self.down.append(d)
        self.mid = nn.Module()
        self.mid.block_1 = self.resblock(bin_, bin_)
        self.mid.attn_1 = self.attn(bin_)
        self.mid.block_2 = self.resblock(bin_, bin_)
        ups = []
        for lv in reversed(range(len(mult))):
            up = nn.Module()
            up.block, up.attn = nn.ModuleList(), nn.ModuleList()
            bout = ch * mult[lv]
            skip = ch * mult[lv]
            for b in range(blocks + 1):
                if b == blocks:
                    skip = ch * in_mult[lv]
                up.block.append(self.resblock(bin_ + skip, bout))
                bin_ = bout
                if cur in attn_res:
                    up.attn.append(self.attn(bin_))
            if lv != 0:
                up.upsample = nn.Module()
                up.upsample.conv = nn.Conv2d(bin_, bin_, 3, 1, 1)
                cur *= 2
            ups.insert(0, up)
        self.up = nn.ModuleList(ups)
        self.make_output(bin_, in_ch)

    # ---- the class model's hooks ----
    def make_embedding(self, ch, tch, classes):
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, tch), nn.Linear(tch, tch)])
        self.classes_emb = nn.Embedding(classes, ch)
        self.null_classes_emb = nn.Parameter(torch.randn(ch))
        self.cemb = nn.Module()
        self.cemb.dense = nn.ModuleList([nn.Linear(ch, tch), nn.Linear(tch, tch)])
        self.emb_width = 2 * tch

    def resblock(self, cin, cout):
        return ResBlock(cin, cout, self.emb_width)

    def attn(self, ch):
        return Attn(ch)

    def attend(self, module, h, c):
        return module(h)

    def make_output(self, ch, in_ch):
        self.norm_out = gn(ch)
        self.conv_out = nn.Conv2d(ch, in_ch, 3, 1, 1)

    def embed(self, t, c):
        """c: class ids, -1 for the null class."""
        temb = self.temb.dense[1](silu(self.temb.dense[0](timestep_embedding(t, self.ch))))
        keep = (c >= 0)[:, None]
        cemb = torch.where(keep, self.classes_emb(c.clamp(min=0)),
                           self.null_classes_emb[None, :].expand(len(c), -1))
        cemb = self.cemb.dense[1](silu(self.cemb.dense[0](cemb)))
        return silu(torch.cat([temb, cemb], dim=-1))

    def output(self, h):
        return self.conv_out(silu(self.norm_out(h)))

    def forward(self, x, t, c):
        """c: the condition (class ids here, a context in the text twin)."""
        tc = self.embed(t, c)
        hs = [self.conv_in(x)]
        for lv in range(len(self.mult)):
            for b in range(self.blocks):
                h = self.down[lv].block[b](hs[-1], tc)
                if len(self.down[lv].attn) > 0:
                    h = self.attend(self.down[lv].attn[b], h, c)
                hs.append(h)
            if lv != len(self.mult) - 1:
                hs.append(self.down[lv].downsample.conv(F.pad(hs[-1], (0, 1, 0, 1))))
        h = self.mid.block_1(hs[-1], tc)
        h = self.mid.block_2(self.attend(self.mid.attn_1, h, c), tc)
        for lv in reversed(range(len(self.mult))):
            for b in range(self.blocks + 1):
                h = self.up[lv].block[b](torch.cat([h, hs.pop()], dim=1), tc)
                if len(self.up[lv].attn) > 0:
                    h = self.attend(self.up[lv].attn[b], h, c)
            if lv != 0:
                h = self.up[lv].upsample.conv(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.output(h)


def betas_linear(T):
    return torch.from_numpy(np.linspace(1e-4, 0.02, T, dtype=np.float64)).float()


def guided(model, x, t, c, kind, w, null=None):
    """null: the null condition (default: class -1 for every sample)."""
    ec = model(x, t, c)
    en = model(x, t, torch.full_like(c, -1) if null is None else null)
    if kind == "salun":
        return (1 + w) * ec - w * en
    return en + w * (ec - en)


def ddim(model, x, c, b, steps, w, kind="salun", null=None):
    """generalized_steps_conditional with eta = 0 and the uniform skip."""
    T = b.shape[0]
    seq = list(range(0, T, T // steps))
    seq_next = [-1] + seq[:-1]
    bb = torch.cat([torch.zeros(1), b])
    for i, j in zip(reversed(seq), reversed(seq_next)):
        at = (1 - bb).cumprod(0)[i + 1]
        an = (1 - bb).cumprod(0)[j + 1]
        et = guided(model, x, torch.full((x.shape[0],), float(i)), c, kind, w, null)
        x0 = (x - et * (1 - at).sqrt()) / at.sqrt()
        c2 = (1 - an).sqrt()
        x = an.sqrt() * x0 + c2 * et
    return x


def main():
    torch.manual_seed(0)
    g = Golden()
    # "cond:xs,res=8,ch=8,groups=4,mult=1-2-2,blocks=2,attn=4,classes=3,dropout=0"
    m = UNet(8, (1, 2, 2), 2, (4,), 8, 3)
    fill(m)
    b = betas_linear(1000)
    g.add("beta", b)
    g.add("abar", (1 - b).cumprod(0))
    sl = torch.from_numpy(np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=np.float64) ** 2).float()
    g.add("abar_scaled", (1 - sl).cumprod(0))
    x0 = torch.randn(4, 1, 8, 8)
    e = torch.randn(4, 1, 8, 8)
    t = torch.tensor([0, 999, 417, 63])
    c = torch.tensor([2, -1, 0, 1])
    a = (1 - b).cumprod(0).index_select(0, t).view(-1, 1, 1, 1)
    xt = x0 * a.sqrt() + e * (1.0 - a).sqrt()
    out = m(xt, t.float(), c)
    loss = (e - out).square().sum(dim=(1, 2, 3)).mean(dim=0)
    loss.backward()
    for n, v in [("x0", x0), ("e", e), ("t", t), ("c", c), ("xt", xt),
                 ("eps", out), ("loss", loss.item())]:
        g.add(n, v)
    for n, p in m.named_parameters():
        g.add("grad." + n, p.grad)
    with torch.no_grad():
        for kind, w in (("salun", 2.0), ("sd", 7.5)):
            g.add(f"guided.{kind}", guided(m, xt, t.float(), c, kind, w))
        xT = torch.randn(3, 1, 8, 8)
        cc = torch.tensor([0, 1, 2])
        g.add("ddim.xT", xT)
        g.add("ddim.c", cc)
        g.add("ddim.x0", ddim(m, xT, cc, b, 10, 2.0))
    g.save("unet.bin")


if __name__ == "__main__":
    main()
