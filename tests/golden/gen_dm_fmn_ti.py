"""gen_dm_fmn_ti.py - golden values for src/unlearn/dm_fmn_ti.c: the
textual-inversion stage of Forget-Me-Not as its train_ti.py computes it
(train_inversion + loss_step with configs/ti.yaml: batch 1, AdamW over
the text encoder's input embeddings with weight decay, clip_ti_decay,
the rows of every other token restored after each step), transcribed on
the PyTorch twins of Lethe's CLIP text encoder (gen_clip.py) and text
UNet (gen_unet_text.py) with gen_dm_attack.py's 17-word vocabulary,
context 6, width 12. In pixel space (no VAE): x_t =
sqrt(abar_t) x0 + sqrt(1 - abar_t) noise (DDPMScheduler.add_noise),
loss = F.mse_loss(unet(x_t, t, text_encoder(ids)), noise), the UNet in
eval mode and frozen. The concept "neon" becomes K = 3 new tokens
(placeholders <s1><s2><s3>; the first initialised from "neon", the
others random), the prompt "neon ." -> <bos> <s1> <s2> <s3> . <eos>.
Two steps with given draws (image, flip, t, noise); lr 1e-3 (the
config's), so lambda = min(1, 100 lr) = 0.1, and the norm target 0.4 (the
script's constant). The UNet's cross-attention weights are random
(stored as w.*) so the context moves the prediction.

Writes dm_fmn_ti.bin: x, emb0, ids (placeholders as -1..-K), target,
lr, wd, s{k}.{index,flip,t,noise,loss,grad,emb} and ctx_after (the
contexts of the prompt with the learned rows)."""
import numpy as np
import torch
import torch.nn.functional as F

import gen_clip
import gen_unet_text
from gen_dm_attack import BOS, EOS, WORDS, fill_dict
from gen_unet import fill
from ltgolden import Golden

V, L, D, K = len(WORDS) + 3, 6, 12, 3
LR, WD, TARGET = 1e-3, 0.1, 0.4
NEON, DOT = 3 + WORDS.index("neon"), 3 + WORDS.index(".")
IDS = [BOS, -1, -2, -3, DOT, EOS]
SL = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=np.float64) ** 2
ABAR = (1 - torch.from_numpy(SL).float()).cumprod(0)


def main():
    torch.manual_seed(23)
    g = Golden()
    p = {n: torch.zeros(s) for n, s in gen_clip.param_shapes().items()}
    fill_dict(p)
    unet = gen_unet_text.TextUNet(gen_unet_text.CH, gen_unet_text.MULT,
                                  gen_unet_text.BLOCKS, gen_unet_text.ATTN,
                                  gen_unet_text.RES, 0, in_ch=3)
    fill(unet)
    with torch.no_grad():
        for n, q in unet.named_parameters():
            if "attn2" in n:
                fan = q.shape[1] if q.dim() == 2 else 1
                q.copy_(torch.randn(q.shape) * 2 / fan ** 0.5)
                g.add("w." + n, q)
    unet.requires_grad_(False)
    unet.eval()
    tok = p["text_model.embeddings.token_embedding.weight"]
    emb0 = torch.cat([tok[NEON][None], torch.randn(K - 1, D)])  # word, <rand-1>
    # resize_token_embeddings: the new rows after the V existing ones
    table = torch.nn.Parameter(torch.cat([tok, emb0]))
    orig = table.data.clone()
    ids = torch.tensor([i if i >= 0 else V + (-1 - i) for i in IDS])
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    for n, v in [("x", x), ("emb0", emb0), ("ids", torch.tensor(IDS)),
                 ("target", TARGET), ("lr", LR), ("wd", WD)]:
        g.add(n, v)
    opt = torch.optim.AdamW([table], lr=LR, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=WD)
    updates = torch.arange(V + K) >= V  # index_updates
    draws = [(1, True, 300), (0, False, 720)]
    for k, (index, flip, t) in enumerate(draws):
        noise = torch.randn(1, 3, 8, 8)
        x0 = x[index:index + 1]
        if flip:
            x0 = torch.flip(x0, dims=[-1])
        a = ABAR[t]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        hidden = gen_clip.text_hidden(p, table[ids][None])
        pred = unet(xt, torch.tensor([float(t)]), hidden)
        loss = F.mse_loss(pred.float(), noise.float(), reduction="mean")
        loss.backward()
        grad = table.grad[V:].clone()
        opt.step()
        opt.zero_grad()
        with torch.no_grad():
            pre = table[updates].norm(dim=-1, keepdim=True)
            lam = min(1.0, 100 * LR)
            table[updates] = F.normalize(table[updates], dim=-1) * (pre + lam * (TARGET - pre))
            table[~updates] = orig[~updates]
        for n, v in [("index", index), ("flip", int(flip)), ("t", t),
                     ("noise", noise), ("loss", loss.item()), ("grad", grad),
                     ("emb", table[V:].detach())]:
            g.add(f"s{k}.{n}", v)
    with torch.no_grad():
        g.add("ctx_after", gen_clip.text_hidden(p, table[ids][None]))
    g.save("dm_fmn_ti.bin")


if __name__ == "__main__":
    main()
