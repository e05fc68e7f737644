"""gen_dm_text_salun.py - golden values for src/unlearn/dm_text_salun.c:
SalUn on a text-conditioned UNet as UnlearnCanvas' scripts compute it
(OPTML-Group/UnlearnCanvas, machine_unlearning/mu_saliency_unlearn_salun),
transcribed on the text UNet twin of gen_unet_text.py (name-hash weights,
random cross-attention weights stored as w.* so the prompt moves the
prediction):
  - generate_mask.py: per iteration (ceil(n / batch) of them, each on the
    FIRST forget batch, as next(iter(forget_dl)) without shuffling gives),
    preds = (1 + c) e(x_t | prompt) - c e(x_t | null), loss =
    -MSELoss()(noise, preds), backward, the gradients summed, then
    Adam.step() on every UNet weight (the model drifts between
    iterations); the mask from |sum|: the script's ascending ranks
    (`ranks < threshold_index`, the smallest entries) and SalUn's own
    descending rule (Unlearn-Saliency's `all_elements = -torch.cat(...)`);
  - train-erase.py: forget = MSELoss()(e(x_t | forget prompts),
    e(x_t | remain prompts).detach()), remain = LDM's shared_step on the
    remain batch (mean MSE of its own noise), loss = forget + alpha *
    remain, the gradient multiplied by the (descending) mask as the script
    means to, Adam on the 'attn2' parameters; two iterations.
Learning rates are 1e-3 (1e-5 in the scripts) so the steps are visible;
batch 2 over 3 pictures (4 in the scripts)."""
import copy

import torch

from gen_unet import fill
from gen_unet_text import ATTN, BLOCKS, CH, CTX_DIM, CTX_LEN, MULT, RES, TextUNet
from ltgolden import Golden

B, N, GUIDE, RATIO, ALPHA, LR, MASK_LR, T = 2, 3, 7.5, 0.4, 1.0, 1e-3, 1e-3, 1000
SOME = ["down.1.attn.0.transformer_blocks.0.attn2.to_k.weight",
        "mid.attn_1.transformer_blocks.0.attn2.to_out.0.bias",
        "up.2.attn.1.transformer_blocks.0.attn2.to_q.weight"]
OTHER = ["mid.attn_1.transformer_blocks.0.attn1.to_q.weight", "conv_in.weight"]


def twin(g):
    m = TextUNet(CH, MULT, BLOCKS, ATTN, RES, 0, in_ch=3)
    fill(m)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if "attn2" in n:
                fan = p.shape[1] if p.dim() == 2 else 1
                p.copy_(torch.randn(p.shape) * 2 / fan ** 0.5)
                g.add("w." + n, p)
    return m.train()


def q_sample(abar, x0, t, e):
    a = abar[t].view(-1, 1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * e


def mask_pass(g, base, abar, xf, ctx, null):
    m = copy.deepcopy(base).train()
    opt = torch.optim.Adam(m.parameters(), lr=MASK_LR)
    crit = torch.nn.MSELoss()
    sums = {n: torch.zeros_like(p) for n, p in m.named_parameters()}
    for k in range((N + B - 1) // B):
        opt.zero_grad()
        t = torch.randint(0, T, (B,))
        e = torch.randn(B, 3, RES, RES)
        g.add(f"m{k}.t", t)
        g.add(f"m{k}.e", e)
        xt = q_sample(abar, xf[:B], t, e)
        f = m(xt, t.float(), ctx.expand(B, -1, -1))
        nl = m(xt, t.float(), null.expand(B, -1, -1))
        loss = -crit(e, (1 + GUIDE) * f - GUIDE * nl)
        loss.backward()
        g.add(f"m{k}.loss", loss.item())
        for n, p in m.named_parameters():
            sums[n] += p.grad
        opt.step()
    absg = {n: v.abs() for n, v in sums.items()}
    flat = torch.cat([v.flatten() for v in absg.values()])
    k = int(len(flat) * RATIO)
    masks = {}
    for name, sign in (("top", -1), ("bottom", 1)):
        ranks = torch.argsort(torch.argsort(sign * flat))
        hard, at = {}, 0
        for n, v in absg.items():
            hard[n] = (ranks[at:at + v.numel()] < k).float().reshape(v.shape)
            at += v.numel()
        masks[name] = hard
        for n in SOME + OTHER:
            g.add(f"mask.{name}.{n}", hard[n])
    g.add("mask.kth", flat.sort(descending=True).values[k - 1])
    g.add("mask.ones", k)
    for n in SOME + OTHER:
        g.add("gsum." + n, sums[n])
    return masks["top"]


def main():
    torch.manual_seed(167)
    g = Golden()
    m = twin(g)
    sl = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=torch.float64) ** 2
    abar = (1 - sl.float()).cumprod(0)  # scaled_linear
    xf = torch.rand(N, 3, RES, RES) * 2 - 1
    xr = torch.rand(N, 3, RES, RES) * 2 - 1
    ctxf, ctxr = torch.randn(N, CTX_LEN, CTX_DIM), torch.randn(N, CTX_LEN, CTX_DIM)
    ctx_mask, null_mask = torch.randn(1, CTX_LEN, CTX_DIM), torch.randn(1, CTX_LEN, CTX_DIM)
    for n, v in [("xf", xf), ("xr", xr), ("ctxf", ctxf), ("ctxr", ctxr), ("ctx_mask", ctx_mask),
                 ("null_mask", null_mask), ("B", B), ("guide", GUIDE), ("ratio", RATIO),
                 ("alpha", ALPHA), ("lr", LR), ("mask_lr", MASK_LR)]:
        g.add(n, v)
    mask = mask_pass(g, m, abar, xf, ctx_mask, null_mask)
    params = [p for n, p in m.named_parameters() if "attn2" in n]
    opt = torch.optim.Adam(params, lr=LR)
    crit = torch.nn.MSELoss()
    named = dict(m.named_parameters())
    for k in range(2):  # epochs 1: ceil(3 / 2) iterations, the first batches
        opt.zero_grad()
        t, e = torch.randint(0, T, (B,)), torch.randn(B, 3, RES, RES)
        tr, er = torch.randint(0, T, (B,)), torch.randn(B, 3, RES, RES)
        for n, v in [("t", t), ("e", e), ("t_r", tr), ("e_r", er)]:
            g.add(f"s{k}.{n}", v)
        remain = crit(m(q_sample(abar, xr[:B], tr, er), tr.float(), ctxr[:B]), er)
        xt = q_sample(abar, xf[:B], t, e)
        forget = crit(m(xt, t.float(), ctxf[:B]), m(xt, t.float(), ctxr[:B]).detach())
        loss = forget + ALPHA * remain
        loss.backward()
        g.add(f"s{k}.loss", loss.item())
        for n, p in m.named_parameters():
            if p.grad is not None and "attn2" in n:
                p.grad *= mask[n]
        opt.step()
        for n in SOME + OTHER:
            g.add(f"s{k}.after.{n}", named[n].detach())
    g.save("dm_text_salun.bin")


if __name__ == "__main__":
    main()
