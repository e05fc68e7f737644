"""gen_dm_text_unlearn.py - golden values for src/unlearn/dm_text_unlearn.c:
ESD (and FMN, below) as the paper-era train-esd.py of
rohitgandikota/erasing computes it, transcribed on the text UNet twin of gen_unet_text.py (name-hash weights):
  - the parameter filters of train_esd (train_method 'xattn': 'attn2' in
    name; 'noxattn': not (name.startswith('out.') or 'attn2' in name or
    'time_embed' in name); 'selfattn', 'full', 'notime'), counted over the
    twin's named_parameters();
  - the starting point z: CompVis DDIMSampler.sample with eta 0 from a
    given start code, guidance e_u + s (e_c - e_u), timesteps
    make_ddim_timesteps('uniform') = range(0, T, T // S) + 1, alphas_prev
    [abar[0]] + abar[tau[:-1]], and ddim_sampling's till_T break
    (`if index + 1 == till: break`), run by the model being trained;
  - loss = MSELoss()(e_n, e_0 - eta (e_p - e_0)) with e_0, e_p from a
    frozen deep copy, e_n from the trained model;
  - torch.optim.Adam(lr) on the 'xattn' parameters only, two iterations
    with fixed draws (t_enc, t_ddpm, start code), the second sampled by the
    once-updated model.
And one step of Forget-Me-Not's train_attn.py (the attention controller's
loss through MyCrossAttnProcessor, AdamW over the whole UNet) from the
same weights. S is 10 here (50 in the script) to keep the file and the test small; the
schedule is Stable Diffusion's scaled_linear, and the cross-attention
weights are random (stored as w.*) so the prompt visibly moves the
prediction of the name-hash-filled twin."""
import copy

import numpy as np
import torch

from gen_unet import fill
from gen_unet_text import ATTN, BLOCKS, CH, CTX_DIM, CTX_LEN, MULT, RES, TextUNet
from ltgolden import Golden

S, T, ETA, GUIDE, LR = 10, 1000, 1.0, 3.0, 1e-3
DRAWS = [(3, 345), (0, 57)]  # (t_enc, t_ddpm) of the two iterations
SOME = ["down.1.attn.0.transformer_blocks.0.attn2.to_k.weight",
        "mid.attn_1.transformer_blocks.0.attn2.to_out.0.bias",
        "up.2.attn.1.transformer_blocks.0.attn2.to_q.weight"]
OTHER = ["mid.attn_1.transformer_blocks.0.attn1.to_q.weight", "conv_in.weight"]


def selects(method, name):
    if method == "xattn":
        return "attn2" in name
    if method == "noxattn":
        return not (name.startswith("out.") or "attn2" in name or "time_embed" in name)
    if method == "selfattn":
        return "attn1" in name
    if method == "full":
        return True
    return not (name.startswith("out.") or "time_embed" in name)  # notime


@torch.no_grad()
def sample_till(model, x, c, uc, abar, t_enc):
    """DDIMSampler.sample(S, eta=0, scale=GUIDE, x_T=x, till_T=t_enc)."""
    tau = torch.arange(0, T, T // S) + 1
    a_all = abar[tau]
    a_prev = torch.cat([abar[:1], abar[tau[:-1]]])
    till = t_enc
    for i, step in enumerate(reversed(tau.tolist())):
        index = S - i - 1
        ts = torch.full((1,), float(step))
        e_u, e_c = model(torch.cat([x, x]), torch.cat([ts, ts]), torch.cat([uc, c])).chunk(2)
        e_t = e_u + GUIDE * (e_c - e_u)
        a, ap = a_all[index], a_prev[index]
        pred_x0 = (x - (1 - a).sqrt() * e_t) / a.sqrt()
        x = ap.sqrt() * pred_x0 + (1 - ap).sqrt() * e_t
        if index + 1 == till:
            break
    return x


def main():
    torch.manual_seed(161)
    g = Golden()
    g_w = []
    m = TextUNet(CH, MULT, BLOCKS, ATTN, RES, 0, in_ch=3)
    fill(m)
    with torch.no_grad():  # random cross-attention weights (stored below)
        for n, p in m.named_parameters():
            if "attn2" in n:
                fan = p.shape[1] if p.dim() == 2 else 1
                p.copy_(torch.randn(p.shape) * 2 / fan ** 0.5)
                g_w.append((n, p.detach().clone()))
    frozen = copy.deepcopy(m).eval()
    m.train()
    sl = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=np.float64) ** 2
    abar = (1 - torch.from_numpy(sl).float()).cumprod(0)  # scaled_linear
    ctx = torch.randn(1, CTX_LEN, CTX_DIM)
    null = torch.randn(1, CTX_LEN, CTX_DIM)
    for n, v in [("ctx", ctx), ("null", null), ("eta", ETA), ("guide", GUIDE),
                 ("lr", LR), ("S", S)]:
        g.add(n, v)
    for n, v in g_w:
        g.add("w." + n, v)
    for meth in ("xattn", "noxattn", "selfattn", "full", "notime"):
        g.add("count." + meth, sum(p.numel() for n, p in m.named_parameters() if selects(meth, n)))
    params = [p for n, p in m.named_parameters() if selects("xattn", n)]
    opt = torch.optim.Adam(params, lr=LR)
    mse = torch.nn.MSELoss()
    named = dict(m.named_parameters())
    for k, (t_enc, t_ddpm) in enumerate(DRAWS):
        start = torch.randn(1, 3, RES, RES)
        g.add(f"s{k}.t_enc", t_enc)
        g.add(f"s{k}.t_ddpm", t_ddpm)
        g.add(f"s{k}.start", start)
        opt.zero_grad()
        z = sample_till(m, start, ctx, null, abar, t_enc)
        t = torch.full((1,), float(t_ddpm))
        with torch.no_grad():
            e_0 = frozen(z, t, null)
            e_p = frozen(z, t, ctx)
        e_n = m(z, t, ctx)
        loss = mse(e_n, e_0 - ETA * (e_p - e_0))
        loss.backward()
        g.add(f"s{k}.z", z)
        g.add(f"s{k}.loss", loss.item())
        for n in SOME:
            g.add(f"s{k}.grad.{n}", named[n].grad)
        opt.step()
        for n in SOME + OTHER:
            g.add(f"s{k}.after.{n}", named[n].detach())
    fmn(g, frozen, abar)
    g.save("dm_text_unlearn.bin")


class AttnController:
    """train_attn.py's controller for batch 1: the attention probabilities
    [heads, queries, L] at the concept positions, concatenated, L2 norm."""

    def __init__(self, positions):
        self.positions, self.probs = positions, []

    def __call__(self, p):
        heads = p.shape[0]
        sel = p.masked_select(self.positions[:, None, :].repeat(heads, 1, 1))
        self.probs.append(sel.reshape(-1, int(self.positions[0].sum())))

    def loss(self):
        return torch.cat(self.probs).norm()


def probed_forward(ctl):
    """MyCrossAttnProcessor on the twin's CrossAttention."""
    def forward(self, x, context=None):
        h = self.heads

        def split(t):
            b, n, hd = t.shape
            return t.reshape(b, n, h, hd // h).permute(0, 2, 1, 3).reshape(b * h, n, hd // h)

        q, k, v = split(self.to_q(x)), split(self.to_k(context)), split(self.to_v(context))
        attn = (torch.einsum("bid,bjd->bij", q, k) * self.scale).softmax(dim=-1)
        ctl(attn)
        out = torch.einsum("bij,bjd->bid", attn, v)
        bh, n, d = out.shape
        out = out.reshape(bh // h, h, n, d).permute(0, 2, 1, 3).reshape(bh // h, n, h * d)
        return self.to_out(out)
    return forward


def fmn(g, base, abar):
    """One FMN step of train_attn.py (batch 1, the whole UNet, AdamW with
    weight decay 0.01, no effective clipping) on a copy of the twin."""
    import types
    m = copy.deepcopy(base).train()
    pos = torch.tensor([[False, True, True, False, True]])
    ctl = AttnController(pos)
    for n, mod in m.named_modules():
        if n.endswith("attn2"):
            mod.forward = types.MethodType(probed_forward(ctl), mod)
    x0, e = torch.rand(1, 3, RES, RES) * 2 - 1, torch.randn(1, 3, RES, RES)
    ctx = torch.randn(1, CTX_LEN, CTX_DIM)
    t = torch.tensor([500])
    a = abar[t].view(-1, 1, 1, 1)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * e
    opt = torch.optim.AdamW(m.parameters(), lr=LR, weight_decay=0.01)
    m(xt, t.float(), ctx)
    loss = ctl.loss()
    loss.backward()
    for n, v in [("fmn.x0", x0), ("fmn.e", e), ("fmn.ctx", ctx), ("fmn.t", t),
                 ("fmn.mask", pos.float()), ("fmn.loss", loss.item()),
                 ("fmn.layers", len(ctl.probs))]:
        g.add(n, v)
    named = dict(m.named_parameters())
    for n in SOME + OTHER:
        g.add("fmn.grad." + n, named[n].grad)
    opt.step()
    for n in SOME + OTHER:
        g.add("fmn.after." + n, named[n].detach())


if __name__ == "__main__":
    main()
