"""gen_dm_advunlearn.py - golden values for src/unlearn/dm_advunlearn.c:
AdvUnlearn as OPTML-Group/AdvUnlearn computes it, transcribed onto the
PyTorch twins of Lethe's CLIP text encoder (gen_clip.py) and text UNet
(gen_unet_text.py), filled with gen_unet.py's name-hash weights:
  - param_choices('text_encoder_full', component 'all'): the encoder's
    parameters named encoder.* or final_layer_norm.* under text_model;
  - soft_prompt_attack (attack_util.py, prefix_k, word_embd): the prefix
    is one Parameter, a fresh Adam, and the loop never zeroes its
    gradient, so each step adds to the earlier ones; 'pgd' steps on that
    sum, 'fast_at' takes its sign in place first. The function returns the
    embedding built at the last step, before that step's update;
  - get_train_loss_retain (get_loss.py, retain_train 'reg'):
    MSE(e_n, e_0 - eta (e_p - e_0)) + w MSE(U(z_r | E(retain)), U0(z_r |
    E0(retain))), z and z_r from the DDIM sampler of train-esd.py
    (gen_dm_text_unlearn.sample_till), then Adam (lr) on the encoder's
    chosen parameters.
The draws (t_enc, t_ddpm, start codes, retain prompts) are given, so the
values are deterministic. The UNet's cross-attention weights are random
(stored as w.*, so the context visibly moves the prediction), and the
trained encoder has layers.1.mlp.fc1.weight scaled by 1.5 against the
original E0 (a run some steps in), so the retain term is not zero. Sizes as gen_dm_attack.py (17 words, context 6,
width 12); concept "bag ." with k = 2 prefix tokens (the default is 1; two
check the layout), S = 10 DDIM steps (gen_dm_text_unlearn.S), Stable
Diffusion's scaled_linear schedule, late t_enc (8, 9: a random UNet's
DDIM blows the image up over longer chains).

Writes dm_advunlearn.bin:
  pgd.var0, pgd.{t_enc,t,start,loss,grad,var}{1,2}   two PGD steps (grad:
                      the accumulated gradient Adam stepped on)
  fast.{loss,grad,var}{1,2}                          the same with fast_at
  out.{t_enc,t,start,retain,rstart,loss,esd,ret}     one adversarial outer
                      step with the prefix pgd.var1 (the attack's result)
  out.grad.NAME, out.after.NAME                      chosen parameters
  warm.{t_enc,t,start,retain,rstart,loss}, warm.after.NAME   one warm-up
                      step (the concept's own ids) from the start weights
  count.selected                                     size of the chosen set
"""

import numpy as np
import torch
import torch.nn.functional as F

import gen_clip
import gen_unet_text
from gen_dm_attack import BOS, EOS, PROMPT_IDS, WORDS, fill_dict
from gen_dm_text_unlearn import sample_till
from gen_unet import fill
from ltgolden import Golden

V, L, D, K = len(WORDS) + 3, 6, 12, 2
gen_clip.V, gen_clip.L, gen_clip.D, gen_clip.HEADS = V, L, D, 2
gen_unet_text.CTX_DIM, gen_unet_text.CTX_LEN = D, L
ETA, GAMMA, ATTACK_LR, LR = 1.0, 0.5, 1e-2, 1e-3
RETAIN = ["red bag .", "neon style .", "old small bag"]
SOME = ["text_model.encoder.layers.0.self_attn.q_proj.weight",
        "text_model.encoder.layers.1.mlp.fc2.bias",
        "text_model.final_layer_norm.weight"]
PERTURB = "text_model.encoder.layers.1.mlp.fc1.weight"  # x 1.5 in E only
SL = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=np.float64) ** 2
ABAR = (1 - torch.from_numpy(SL).float()).cumprod(0)  # scaled_linear


def ids_of(text):
    ids = [BOS] + [3 + WORDS.index(w) for w in text.split()] + [EOS]
    return torch.tensor(ids + [0] * (L - len(ids)))


def selected(name):
    """param_choices('text_encoder_full', 'all') on text_model's names."""
    n = name[len("text_model."):] if name.startswith("text_model.") else None
    return n is not None and (n.startswith("final_layer_norm") or
                              n.startswith("encoder"))


def encode(p, ids):
    tok = p["text_model.embeddings.token_embedding.weight"]
    return gen_clip.text_hidden(p, tok[ids])


def adv_embedding(p, adv):
    """construct_embd('prefix_k'): sot, adv, the prompt, eot (cut by k)."""
    tok = p["text_model.embeddings.token_embedding.weight"].detach()
    ids = ids_of("bag .")
    n = len(PROMPT_IDS)
    return torch.cat([tok[ids[:1]][None], adv[None], tok[ids[1:1 + n]][None],
                      tok[ids[1 + n:L - K]][None]], dim=1)


def attack(p, unet, c_p, c_0, var0, draws, fast):
    """soft_prompt_attack's loop (model = model_orig = unet here)."""
    adv = var0.clone().requires_grad_(True)
    opt = torch.optim.Adam([adv], lr=ATTACK_LR)
    out = []
    for t_enc, t, start in draws:
        with torch.no_grad():
            z = sample_till(unet, start, c_p, c_0, ABAR, t_enc)
            e_p = unet(z, torch.tensor([float(t)]), c_p)
        emb = adv_embedding(p, adv)
        e_n = unet(z, torch.tensor([float(t)]), gen_clip.text_hidden(p, emb))
        loss = F.mse_loss(e_n, e_p)
        loss.backward()  # no zero_grad: adv.grad accumulates
        if fast:
            adv.grad.sign_()
        grad = adv.grad.clone()
        opt.step()
        out.append((loss.item(), grad, adv.detach().clone(), emb.detach()))
    return out


def outer(p, p0, unet, c_0, ids_n, adv, draw, retain):
    """get_train_loss_retain + opt.step() on the chosen parameters."""
    t_enc, t, start, ridx, rstart = draw
    tt = torch.tensor([float(t)])
    c_p = encode(p0, ids_of("bag .")[None])
    r_ids = torch.stack([retain[i] for i in ridx])
    with torch.no_grad():
        z = sample_till(unet, start, c_p, c_0, ABAR, t_enc)
        e_0 = unet(z, tt, c_0)
        e_p = unet(z, tt, c_p)
        r_p = encode(p0, r_ids)
        r_z = torch.cat([sample_till(unet, rstart[b:b + 1], r_p[b:b + 1],
                                     c_0, ABAR, t_enc)
                         for b in range(len(ridx))])
        r_e_p = unet(r_z, tt.repeat(len(ridx)), r_p)
    if adv is None:
        e_n = unet(z, tt, encode(p, ids_n[None]))
    else:
        e_n = unet(z, tt, gen_clip.text_hidden(p, adv_embedding(p, adv)))
    esd = F.mse_loss(e_n, e_0 - ETA * (e_p - e_0))
    r_e_n = unet(r_z, tt.repeat(len(ridx)), encode(p, r_ids))
    ret = F.mse_loss(r_e_n, r_e_p)
    return esd + GAMMA * ret, esd, ret


def main():
    torch.manual_seed(19)
    g = Golden()
    p = {n: torch.zeros(s) for n, s in gen_clip.param_shapes().items()}
    fill_dict(p)
    p0 = {n: q.clone() for n, q in p.items()}  # E0: the original encoder
    unet = gen_unet_text.TextUNet(gen_unet_text.CH, gen_unet_text.MULT,
                                  gen_unet_text.BLOCKS, gen_unet_text.ATTN,
                                  gen_unet_text.RES, 0, in_ch=3)
    fill(unet)
    with torch.no_grad():  # random cross-attention weights (stored below)
        for n, q in unet.named_parameters():
            if "attn2" in n:
                fan = q.shape[1] if q.dim() == 2 else 1
                q.copy_(torch.randn(q.shape) * 2 / fan ** 0.5)
                g.add("w." + n, q)
    for q in unet.parameters():
        q.requires_grad_(False)
    with torch.no_grad():  # the trained encoder has moved: E != E0
        p[PERTURB].mul_(1.5)
    g.add("count.selected", sum(q.numel() for n, q in p.items()
                                if selected(n)))
    with torch.no_grad():
        c_0 = encode(p0, torch.tensor([[BOS, EOS] + [0] * (L - 2)]))
        c_p = encode(p0, ids_of("bag .")[None])
    tok = p["text_model.embeddings.token_embedding.weight"]
    var0 = tok[[3 + 5, 3 + 12]] + 0.2 * torch.randn(K, D)
    g.add("pgd.var0", var0)
    draws = [(9, 457, torch.randn(1, 3, 8, 8)), (8, 83, torch.randn(1, 3, 8, 8))]
    for j, (t_enc, t, start) in enumerate(draws, 1):
        g.add(f"pgd.t_enc{j}", t_enc)
        g.add(f"pgd.t{j}", t)
        g.add(f"pgd.start{j}", start)
    for name, fast in (("pgd", False), ("fast", True)):
        for j, (loss, grad, var, _) in enumerate(
                attack(p, unet, c_p, c_0, var0, draws, fast), 1):
            g.add(f"{name}.loss{j}", loss)
            g.add(f"{name}.grad{j}", grad)
            g.add(f"{name}.var{j}", var)
    # the attack returns the embedding of its last step, before the update
    adv = attack(p, unet, c_p, c_0, var0, draws, False)[-1][3][0, 1:1 + K]

    retain = [ids_of(r) for r in RETAIN]
    for tag, prefix, seed in (("out", adv, 1), ("warm", None, 2)):
        q = {n: v.clone().requires_grad_(selected(n)) for n, v in p.items()}
        chosen = [v for n, v in q.items() if selected(n)]
        opt = torch.optim.Adam(chosen, lr=LR)
        torch.manual_seed(100 + seed)
        draw = (7 + seed, 311 * seed, torch.randn(1, 3, 8, 8), [2, seed - 1],
                torch.randn(2, 3, 8, 8))
        for k, v in zip(("t_enc", "t", "start", "retain", "rstart"), draw):
            g.add(f"{tag}.{k}", torch.tensor(v) if k == "retain" else v)
        opt.zero_grad()
        loss, esd, ret = outer(q, p0, unet, c_0, ids_of("bag ."), prefix,
                               draw, retain)
        loss.backward()
        g.add(f"{tag}.loss", loss.item())
        g.add(f"{tag}.esd", esd.item())
        g.add(f"{tag}.ret", ret.item())
        for n in SOME:
            g.add(f"{tag}.grad.{n}", q[n].grad)
        opt.step()
        for n in SOME:
            g.add(f"{tag}.after.{n}", q[n].detach())
    g.save("dm_advunlearn.bin")


if __name__ == "__main__":
    main()
