"""gen_attention.py - golden values for lt_attention and lt_rope. The
attention reference is written out explicitly: softmax(q k^T * scale + mask)
v, with repeat_interleave for grouped KV heads; RoPE follows Hugging Face
Llama (rotate_half, cos/sin of cat(freqs, freqs)). Each case stores the
inputs, an upstream gradient r, the output and the gradients of
sum(y * r)."""
import math

import torch

from ltgolden import Golden, grads

torch.manual_seed(4321)
g = Golden()


def attention(q, k, v, causal, scale):
    H, Hkv = q.shape[1], k.shape[1]
    k = k.repeat_interleave(H // Hkv, dim=1)
    v = v.repeat_interleave(H // Hkv, dim=1)
    s = q @ k.transpose(-1, -2) * scale
    Tq, Tk = q.shape[2], k.shape[2]
    if causal:
        i = torch.arange(Tq).unsqueeze(1)
        j = torch.arange(Tk).unsqueeze(0)
        s = s.masked_fill(j > i + (Tk - Tq), float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def att_case(name, B, H, Hkv, Tq, Tk, D, causal, scale):
    q = torch.randn(B, H, Tq, D, dtype=torch.float64).requires_grad_(True)
    k = torch.randn(B, Hkv, Tk, D, dtype=torch.float64).requires_grad_(True)
    v = torch.randn(B, Hkv, Tk, D, dtype=torch.float64).requires_grad_(True)
    eff = scale if scale > 0 else 1.0 / math.sqrt(D)
    y = attention(q, k, v, causal, eff)
    r = torch.randn(y.shape, dtype=torch.float64)
    dq, dk, dv = grads(y, [q, k, v], r)
    p = f"att_{name}"
    for n, t in [("q", q), ("k", k), ("v", v), ("r", r), ("y", y),
                 ("dq", dq), ("dk", dk), ("dv", dv)]:
        g.add(f"{p}.{n}", t)
    g.add(f"{p}.causal", float(causal))
    g.add(f"{p}.scale", float(scale))


att_case("self_causal", 2, 3, 3, 9, 9, 8, True, 0.0)
att_case("cross", 2, 2, 2, 5, 11, 6, False, 0.3)
att_case("gqa", 1, 4, 2, 7, 7, 8, True, 0.0)
att_case("kvcache", 2, 2, 1, 4, 10, 8, True, 0.0)
att_case("long", 1, 2, 1, 75, 75, 4, True, 0.0)  # spans query blocks


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope(x, pos0, theta):
    D, T = x.shape[-1], x.shape[-2]
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2).float() / D))
    pos = torch.arange(pos0, pos0 + T).float()
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().double(), emb.sin().double()
    return x * cos + rotate_half(x) * sin


for pos0 in (0, 5):
    x = torch.randn(2, 3, 6, 10, dtype=torch.float64).requires_grad_(True)
    y = rope(x, pos0, 10000.0)
    r = torch.randn(y.shape, dtype=torch.float64)
    (dx,) = grads(y, [x], r)
    p = f"rope{pos0}"
    for n, t in [("x", x), ("r", r), ("y", y), ("dx", dx)]:
        g.add(f"{p}.{n}", t)

g.save("attention.bin")
