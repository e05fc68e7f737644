"""gen_dm_attack.py - golden values for src/eval/dm_attack.c: two steps of
UnlearnDiff and one of P4D, transcribed from the official code
(OPTML-Group/Diffusion-MU-Attack: src/attackers/text_grad_.py TextGrad with
STERandSelect, bisection and projection; src/attackers/hard_prompt_.py's
cosine projection; src/tasks/classifier_.py and P4D_.py get_loss) onto the
PyTorch twins of Lethe's CLIP text encoder (gen_clip.py) and text UNet
(gen_unet_text.py), both filled with gen_unet.py's name-hash weights (the C
test fills its models with the same formula).

Sizes: 17 words (V = 20 with <pad> <bos> <eos>), context 6, width 12, 2
heads;
prompt "bag ." with k = 2 prefix tokens: <bos> a1 a2 bag . <eos>. The
multinomial samples of STERandSelect and the noise are given (the C step
takes them as arguments), so the values are deterministic.

Writes dm_attack.bin:
  x0, t                    target image [3, 8, 8] and timestep
  ud.var0                  the simplex variable [2, 17] before the steps
  ud.{idx,e,loss,grad,var}{1,2}  per step: sampled word indices, noise, loss,
                           the straight-through gradient (hardtanh), the
                           variable after Adam + projection
  p4d.var0, p4d.e, p4d.loss, p4d.grad, p4d.var1   one P4D step (the
                           original model is the attacked one with every
                           attn2 weight scaled by 1.1)
"""

import torch
import torch.nn.functional as F

import gen_clip
import gen_unet_text
from gen_unet import betas_linear, fill, fill_named
from ltgolden import Golden

WORDS = ["an", "bag", "image", "in", "neon", "style", ".", "red", "blue",
         "green", "dark", "soft", "bright", "old", "new", "big", "small"]
V, L, D, K = len(WORDS) + 3, 6, 12, 2
gen_clip.V, gen_clip.L, gen_clip.D, gen_clip.HEADS = V, L, D, 2
gen_unet_text.CTX_DIM, gen_unet_text.CTX_LEN = D, L
BOS, EOS = 1, 2
PROMPT_IDS = [3 + WORDS.index("bag"), 3 + WORDS.index(".")]


def fill_dict(p):
    """gen_unet.fill's formula on a dict of named tensors."""
    with torch.no_grad():
        fill_named(p.items())


class STERandSelect(torch.autograd.Function):
    """The official op with its multinomial draw replaced by given ids."""
    @staticmethod
    def forward(ctx, p, idx):
        return F.one_hot(idx, num_classes=p.shape[-1]).float()

    @staticmethod
    def backward(ctx, g):
        return F.hardtanh(g), None


def bisection(a, eps=1.0, xi=1e-5, ub=1):
    """text_grad_.py TextGrad.bisection, as written (float32 tensors)."""
    pa = torch.clip(a, 0, ub)
    if abs(torch.sum(pa).item() - eps) <= xi:
        return pa
    mu_l = torch.min(a - 1).item()
    mu_u = torch.max(a).item()
    mu_a = (mu_u + mu_l) / 2
    while abs(mu_u - mu_l) > xi:
        mu_a = (mu_u + mu_l) / 2
        gu = torch.sum(torch.clip(a - mu_a, 0, ub)) - eps
        gu_l = torch.sum(torch.clip(a - mu_l, 0, ub)) - eps + 1e-8
        gu_u = torch.sum(torch.clip(a - mu_u, 0, ub)) - eps
        if gu == 0:
            break
        elif gu_l == 0:
            mu_a = mu_l
            break
        elif gu_u == 0:
            mu_a = mu_u
            break
        if gu * gu_l < 0:
            mu_u = mu_a
        elif gu * gu_u < 0:
            mu_l = mu_a
        else:
            raise Exception("bisection lost its bracket")
    return torch.clip(a - mu_a, 0, ub)


def context(p, adv_rows):
    tok = p["text_model.embeddings.token_embedding.weight"]
    rest = [PROMPT_IDS[0], PROMPT_IDS[1], EOS]
    x = torch.cat([tok[[BOS]], adv_rows, tok[rest]], dim=0)[None]
    return gen_clip.text_hidden(p, x)


def noised(x0, e, t):
    abar = (1 - betas_linear(1000)).cumprod(0)[t]
    return x0 * abar.sqrt() + e * (1 - abar).sqrt()


def main():
    torch.manual_seed(7)
    g = Golden()
    p = {n: torch.zeros(s) for n, s in gen_clip.param_shapes().items()}
    fill_dict(p)
    unet = gen_unet_text.TextUNet(gen_unet_text.CH, gen_unet_text.MULT,
                                  gen_unet_text.BLOCKS, gen_unet_text.ATTN,
                                  gen_unet_text.RES, 0, in_ch=3)
    fill(unet)
    for q in list(p.values()) + list(unet.parameters()):
        q.requires_grad_(False)
    words = p["text_model.embeddings.token_embedding.weight"][3:]
    x0 = torch.randn(3, 8, 8).clamp(-1, 1)
    t = 417
    g.add("x0", x0)
    g.add("t", t)

    # UnlearnDiff: two steps of TextGrad.run's inner loop.
    var = torch.stack([bisection(r) for r in torch.rand(K, len(WORDS)) * 0.3])
    g.add("ud.var0", var)
    var = var.clone().requires_grad_(True)
    opt = torch.optim.Adam([var], lr=0.01, weight_decay=0.1)
    for step, idx in ((1, [4, 11]), (2, [9, 0])):
        e = torch.randn(3, 8, 8)
        idx = torch.tensor(idx)
        opt.zero_grad()
        onehot = STERandSelect.apply(var, idx)
        ctx = context(p, onehot @ words)
        xt = noised(x0, e, t)[None]
        eps = unet(xt, torch.tensor([float(t)]), ctx)
        loss = F.mse_loss(e[None], eps)
        var.grad = torch.autograd.grad(loss, [var])[0]
        g.add(f"ud.idx{step}", idx)
        g.add(f"ud.e{step}", e)
        g.add(f"ud.loss{step}", loss.item())
        g.add(f"ud.grad{step}", var.grad)
        opt.step()
        with torch.no_grad():
            var.data = torch.stack([bisection(r) for r in var.data])
        g.add(f"ud.var{step}", var)

    # P4D: one step of HardPromptAttacker.run's inner loop.
    orig = gen_unet_text.TextUNet(gen_unet_text.CH, gen_unet_text.MULT,
                                  gen_unet_text.BLOCKS, gen_unet_text.ATTN,
                                  gen_unet_text.RES, 0, in_ch=3)
    fill(orig)
    with torch.no_grad():
        for n, q in orig.named_parameters():
            if "attn2" in n:
                q.mul_(1.1)
    for q in orig.parameters():
        q.requires_grad_(False)
    tok = p["text_model.embeddings.token_embedding.weight"]
    adv = tok[[3 + 5, 3 + 12]] + 0.3 * torch.randn(K, D)
    g.add("p4d.var0", adv)
    adv = adv.clone().requires_grad_(True)
    opt = torch.optim.Adam([adv], lr=0.01, weight_decay=0.1)
    e = torch.randn(3, 8, 8)
    sim = F.cosine_similarity(F.normalize(adv, dim=-1)[:, None],
                              F.normalize(words, dim=-1)[None], dim=-1)
    proj = words[sim.argmax(dim=-1)].clone().requires_grad_(True)
    xt = noised(x0, e, t)[None]
    tt = torch.tensor([float(t)])
    ctx_orig = gen_clip.text_hidden(p, tok[[BOS] + PROMPT_IDS + [EOS, 0, 0]][None])
    loss = F.mse_loss(orig(xt, tt, ctx_orig), unet(xt, tt, context(p, proj)))
    adv.grad = torch.autograd.grad(loss, [proj])[0]
    opt.step()
    g.add("p4d.e", e)
    g.add("p4d.proj", sim.argmax(dim=-1))
    g.add("p4d.loss", loss.item())
    g.add("p4d.grad", adv.grad)
    g.add("p4d.var1", adv)
    g.save("dm_attack.bin")


if __name__ == "__main__":
    main()
