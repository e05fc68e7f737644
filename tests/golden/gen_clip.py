"""gen_clip.py - a plain PyTorch twin of Lethe's CLIP-like model (written
here, following Hugging Face's modeling_clip for the text side: token +
position embeddings, pre-LN layers of causal self-attention with q scaled by
head_dim^-0.5 and a quick_gelu MLP, final LayerNorm, the state at the first
EOS through text_projection; a conv3x3-GroupNorm-SiLU CNN with global
average pooling and visual_projection for images; CLIP's symmetric InfoNCE
loss on L2-normalised embeddings with exp(logit_scale)) and the golden values
tests/test_clip.c checks against.

Writes clip.bin next to this script:
  param.<name>          every parameter (random, non-trivial gains/biases)
  ids, eos, images      a batch of 3 captions (EOS at 4, 7 and 2) and images
  hidden, text_embeds, image_embeds, logits, loss
  grad.<name>           d loss / d every parameter (from token ids)
  emb.x, emb.loss, emb.grad_x
                        the same loss from input embeddings x [B, L, D]
  soft.s, soft.loss, soft.grad_s, soft.grad_tok
                        from a soft one-hot s [B, L, V]: x = s @ token table
"""
import math

import torch
import torch.nn.functional as F

from ltgolden import Golden

V, L, D, LAYERS, HEADS, MLP, P = 20, 8, 16, 2, 4, 32, 12
WIDTHS, GROUPS, EPS = [4, 8], 2, 1e-5
B, IMG = 3, 16
PAD, BOS, EOS = 0, 1, 2

# ---- parameters (Hugging Face CLIPModel names) -------------------------------


def param_shapes():
    s = {"text_model.embeddings.token_embedding.weight": (V, D),
         "text_model.embeddings.position_embedding.weight": (L, D)}
    for i in range(LAYERS):
        pre = f"text_model.encoder.layers.{i}."
        for p in ("q_proj", "k_proj", "v_proj", "out_proj"):
            s[pre + f"self_attn.{p}.weight"] = (D, D)
            s[pre + f"self_attn.{p}.bias"] = (D,)
        s[pre + "mlp.fc1.weight"], s[pre + "mlp.fc1.bias"] = (MLP, D), (MLP,)
        s[pre + "mlp.fc2.weight"], s[pre + "mlp.fc2.bias"] = (D, MLP), (D,)
        for n in ("layer_norm1", "layer_norm2"):
            s[pre + n + ".weight"], s[pre + n + ".bias"] = (D,), (D,)
    s["text_model.final_layer_norm.weight"] = (D,)
    s["text_model.final_layer_norm.bias"] = (D,)
    s["text_projection.weight"] = (P, D)
    cin = 3
    for i, w in enumerate(WIDTHS):
        pre = f"vision_model.blocks.{i}."
        s[pre + "conv.weight"], s[pre + "conv.bias"] = (w, cin, 3, 3), (w,)
        s[pre + "norm.weight"], s[pre + "norm.bias"] = (w,), (w,)
        cin = w
    s["visual_projection.weight"] = (P, cin)
    s["logit_scale"] = (1,)
    return s


def make_params():
    p = {}
    for name, shape in param_shapes().items():
        if name == "logit_scale":
            t = torch.tensor([math.log(1 / 0.07)])
        elif name.endswith("norm1.weight") or name.endswith("norm2.weight") \
                or name.endswith("norm.weight"):
            t = 1 + 0.1 * torch.randn(shape)
        elif len(shape) == 1:
            t = 0.1 * torch.randn(shape)
        else:
            fan_in = math.prod(shape[1:])
            t = torch.randn(shape) / math.sqrt(fan_in)
        p[name] = t.requires_grad_()
    return p


# ---- the model ---------------------------------------------------------------

def attention(p, i, x):
    b, t, d = x.shape
    hd = d // HEADS
    pre = f"text_model.encoder.layers.{i}.self_attn."

    def proj(n):
        return F.linear(x, p[pre + n + ".weight"], p[pre + n + ".bias"])

    q = (proj("q_proj") * hd ** -0.5).view(b, t, HEADS, hd).transpose(1, 2)
    k = proj("k_proj").view(b, t, HEADS, hd).transpose(1, 2)
    v = proj("v_proj").view(b, t, HEADS, hd).transpose(1, 2)
    mask = torch.full((t, t), float("-inf")).triu(1)
    a = torch.softmax(q @ k.transpose(2, 3) + mask, dim=-1)
    o = (a @ v).transpose(1, 2).reshape(b, t, d)
    return F.linear(o, p[pre + "out_proj.weight"], p[pre + "out_proj.bias"])


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def mlp(p, i, x):
    pre = f"text_model.encoder.layers.{i}.mlp."
    h = quick_gelu(F.linear(x, p[pre + "fc1.weight"], p[pre + "fc1.bias"]))
    return F.linear(h, p[pre + "fc2.weight"], p[pre + "fc2.bias"])


def ln(p, name, x):
    return F.layer_norm(x, (D,), p[name + ".weight"], p[name + ".bias"], EPS)


def text_hidden(p, x):
    h = x + p["text_model.embeddings.position_embedding.weight"][:x.shape[1]]
    for i in range(LAYERS):
        pre = f"text_model.encoder.layers.{i}."
        h = h + attention(p, i, ln(p, pre + "layer_norm1", h))
        h = h + mlp(p, i, ln(p, pre + "layer_norm2", h))
    return ln(p, "text_model.final_layer_norm", h)


def text_project(p, h, eos):
    pooled = h[torch.arange(h.shape[0]), eos]
    return F.linear(pooled, p["text_projection.weight"])


def image_embeds(p, x):
    for i in range(len(WIDTHS)):
        pre = f"vision_model.blocks.{i}."
        x = F.conv2d(x, p[pre + "conv.weight"], p[pre + "conv.bias"],
                     stride=1 if i == 0 else 2, padding=1)
        x = F.silu(F.group_norm(x, GROUPS, p[pre + "norm.weight"],
                                p[pre + "norm.bias"], EPS))
    return F.linear(x.mean(dim=(2, 3)), p["visual_projection.weight"])


def clip_loss(p, t, v):
    t = t / t.norm(p=2, dim=-1, keepdim=True)
    v = v / v.norm(p=2, dim=-1, keepdim=True)
    logits = t @ v.t() * p["logit_scale"].exp()
    lab = torch.arange(t.shape[0])
    loss = (F.cross_entropy(logits, lab) + F.cross_entropy(logits.t(), lab)) / 2
    return loss, logits


def full_loss(p, x, eos, images):
    h = text_hidden(p, x)
    t = text_project(p, h, eos)
    v = image_embeds(p, images)
    loss, logits = clip_loss(p, t, v)
    return loss, logits, h, t, v


# ---- goldens -----------------------------------------------------------------

def batch_ids():
    ids = torch.full((B, L), PAD, dtype=torch.long)
    lengths = [3, 6, 1]  # words per caption: EOS at 4, 7 and 2
    for b, n in enumerate(lengths):
        ids[b, 0] = BOS
        ids[b, 1:1 + n] = torch.randint(3, V, (n,))
        ids[b, 1 + n] = EOS
    return ids, torch.tensor([1 + n for n in lengths])


def main():
    torch.manual_seed(20240611)
    p = make_params()
    ids, eos = batch_ids()
    images = torch.rand(B, 3, IMG, IMG) * 2 - 1
    tok = p["text_model.embeddings.token_embedding.weight"]
    g = Golden()
    for name, t in p.items():
        g.add("param." + name, t)
    g.add("ids", ids)
    g.add("eos", eos)
    g.add("images", images)

    loss, logits, h, t, v = full_loss(p, F.embedding(ids, tok), eos, images)
    grads = torch.autograd.grad(loss, list(p.values()))
    for k, (name, _) in enumerate(p.items()):
        g.add("grad." + name, grads[k])
    for name, val in (("hidden", h), ("text_embeds", t), ("image_embeds", v),
                      ("logits", logits), ("loss", loss.reshape(1))):
        g.add(name, val)

    x = (F.embedding(ids, tok) + 0.1 * torch.randn(B, L, D)).detach()
    x.requires_grad_()
    loss2 = full_loss(p, x, eos, images)[0]
    g.add("emb.x", x)
    g.add("emb.loss", loss2.reshape(1))
    g.add("emb.grad_x", torch.autograd.grad(loss2, x)[0])

    s = torch.softmax(2 * torch.randn(B, L, V), dim=-1).requires_grad_()
    loss3 = full_loss(p, s @ tok, eos, images)[0]
    gs, gt = torch.autograd.grad(loss3, [s, tok])
    g.add("soft.s", s)
    g.add("soft.loss", loss3.reshape(1))
    g.add("soft.grad_s", gs)
    g.add("soft.grad_tok", gt)
    g.save("clip.bin")


if __name__ == "__main__":
    main()
