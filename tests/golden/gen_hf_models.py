"""gen_hf_models.py - plain PyTorch twins of two more Hugging Face decoder
families (written here after the semantics of transformers' modeling_mistral
and modeling_qwen2, eager attention) and the golden values Lethe's
tests/test_hf_models.c checks against.

  Mistral: Llama's decoder with a causal sliding window. transformers masks
      key j for the query at position i unless i - sliding_window < j <= i
      (masking_utils.sliding_window_overlay: kv_idx > q_idx - sliding_window,
      and'ed with the causal kv_idx <= q_idx): each query sees itself and
      the sliding_window - 1 keys before it.
  Qwen2: Llama's decoder whose q_proj, k_proj and v_proj have biases (o_proj
      and the MLP have none); use_sliding_window false (the released models).

The norms, RoPE, MLP, losses and the safetensors writer are gen_llama.py's.

Writes, next to this script:
  mistral_tiny/config.json, model.safetensors        (F32, sliding_window 3)
  qwen2_tiny/config.json, model-0000{1,2}-of-00002.safetensors,
      model.safetensors.index.json                    (F32, tied, biases)
  hf_models.bin: for each model the ids, labels, logits, loss, per-sequence
      NLL, token log-probs and the gradient of every parameter after one
      backward of the loss; window attention cases (lt_attention_window).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from gen_llama import (HERE, IGNORE, lm_loss, mlp, rms_norm, rope_cos_sin,
                       rotate_half, seq_nll, st_bytes, token_logprobs, write)
from ltgolden import Golden, grads

MISTRAL = {
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "vocab_size": 64,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 48,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "max_position_embeddings": 64,
    "sliding_window": 3,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}

QWEN2 = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "vocab_size": 64,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 48,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "max_position_embeddings": 64,
    "use_sliding_window": False,
    "sliding_window": 32,  # ignored: use_sliding_window is false
    "max_window_layers": 2,
    "attention_dropout": 0.0,
    "tie_word_embeddings": True,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}


# ---- the twins -----------------------------------------------------------------

def window_mask(tq, tk, window):
    """Additive mask [tq, tk]: query row i sits at position i + tk - tq."""
    i = torch.arange(tq).unsqueeze(1) + (tk - tq)
    j = torch.arange(tk).unsqueeze(0)
    allowed = j <= i
    if window:
        allowed &= j > i - window
    return torch.zeros(tq, tk).masked_fill(~allowed, float("-inf"))


def attention(p, i, x, cfg):
    b, t, d = x.shape
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = d // nh
    pre = f"model.layers.{i}.self_attn."
    bias = cfg["model_type"] == "qwen2"

    def proj(name, heads):
        y = F.linear(x, p[pre + name + ".weight"],
                     p[pre + name + ".bias"] if bias else None)
        return y.view(b, t, heads, hd).transpose(1, 2)

    q, k, v = proj("q_proj", nh), proj("k_proj", nkv), proj("v_proj", nkv)
    cos, sin = rope_cos_sin(t, hd, cfg["rope_theta"])
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    rep = nh // nkv  # repeat_kv
    k = k[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
    v = v[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
    s = q @ k.transpose(2, 3) / math.sqrt(hd)
    window = cfg.get("sliding_window") if cfg["model_type"] == "mistral" \
        else None
    a = torch.softmax((s + window_mask(t, t, window)).float(), dim=-1)
    o = (a.to(q.dtype) @ v).transpose(1, 2).reshape(b, t, d)
    return F.linear(o, p[pre + "o_proj.weight"])


def forward(p, ids, cfg):
    eps = cfg["rms_norm_eps"]
    h = F.embedding(ids, p["model.embed_tokens.weight"])
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        h = h + attention(p, i, rms_norm(h, p[pre + "input_layernorm.weight"],
                                         eps), cfg)
        h = h + mlp(p, i, rms_norm(h, p[pre + "post_attention_layernorm.weight"],
                                   eps))
    h = rms_norm(h, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight" if cfg["tie_word_embeddings"]
             else "lm_head.weight"]
    return F.linear(h, head)


# ---- deterministic weights, in transformers' state-dict order -----------------

def make_params(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    d, f = cfg["hidden_size"], cfg["intermediate_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, v = d // nh, cfg["vocab_size"]
    bias = cfg["model_type"] == "qwen2"

    def lin(o, i):
        return torch.randn(o, i, generator=g) / math.sqrt(i)

    def vec(n, base, scale):
        return base + scale * torch.randn(n, generator=g)

    p = {"model.embed_tokens.weight": torch.randn(v, d, generator=g)}
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        for name, rows in (("q_proj", nh * hd), ("k_proj", nkv * hd),
                           ("v_proj", nkv * hd)):
            p[pre + f"self_attn.{name}.weight"] = lin(rows, d)
            if bias:
                p[pre + f"self_attn.{name}.bias"] = vec(rows, 0.0, 0.5)
        p[pre + "self_attn.o_proj.weight"] = lin(d, nh * hd)
        p[pre + "mlp.gate_proj.weight"] = lin(f, d)
        p[pre + "mlp.up_proj.weight"] = lin(f, d)
        p[pre + "mlp.down_proj.weight"] = lin(d, f)
        p[pre + "input_layernorm.weight"] = vec(d, 1.0, 0.1)
        p[pre + "post_attention_layernorm.weight"] = vec(d, 1.0, 0.1)
    p["model.norm.weight"] = vec(d, 1.0, 0.1)
    if not cfg["tie_word_embeddings"]:
        p["lm_head.weight"] = lin(v, d)
    return p


def save_config(d, cfg):
    write(os.path.join(d, "config.json"),
          (json.dumps(cfg, indent=2) + "\n").encode())


def save_single(dirname, cfg, params):
    d = os.path.join(HERE, dirname)
    save_config(d, cfg)
    write(os.path.join(d, "model.safetensors"), st_bytes(params))


def save_sharded(dirname, cfg, params):
    d = os.path.join(HERE, dirname)
    save_config(d, cfg)
    names = list(params)
    half = len(names) // 2
    weight_map, total = {}, 0
    for k, group in enumerate((names[:half], names[half:])):
        fname = f"model-{k + 1:05d}-of-00002.safetensors"
        write(os.path.join(d, fname), st_bytes({n: params[n] for n in group}))
        for n in group:
            weight_map[n] = fname
            total += params[n].numel() * 4
    index = {"metadata": {"total_size": total},
             "weight_map": dict(sorted(weight_map.items()))}
    write(os.path.join(d, "model.safetensors.index.json"),
          (json.dumps(index, indent=2) + "\n").encode())


# ---- golden values ---------------------------------------------------------------

def run(cfg, params, ids, labels, g, prefix):
    p = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    logits = forward(p, ids, cfg)
    loss = lm_loss(logits, labels)
    loss.backward()
    g.add(prefix + "ids", ids)
    g.add(prefix + "labels", labels)
    g.add(prefix + "logits", logits)
    g.add(prefix + "loss", loss.item())
    with torch.no_grad():
        g.add(prefix + "seq_nll", seq_nll(logits, labels))
        g.add(prefix + "token_logprobs", token_logprobs(logits, ids))
    for n, t in p.items():
        g.add(prefix + "grad." + n, t.grad)


def window_case(g, name, B, H, Hkv, Tq, Tk, D, window):
    """softmax(q k^T / sqrt(D) + window mask) v, float64, and its grads."""
    q = torch.randn(B, H, Tq, D, dtype=torch.float64).requires_grad_(True)
    k = torch.randn(B, Hkv, Tk, D, dtype=torch.float64).requires_grad_(True)
    v = torch.randn(B, Hkv, Tk, D, dtype=torch.float64).requires_grad_(True)
    kk = k.repeat_interleave(H // Hkv, dim=1)
    vv = v.repeat_interleave(H // Hkv, dim=1)
    s = q @ kk.transpose(-1, -2) / math.sqrt(D)
    y = torch.softmax(s + window_mask(Tq, Tk, window).double(), -1) @ vv
    r = torch.randn(y.shape, dtype=torch.float64)
    dq, dk, dv = grads(y, [q, k, v], r)
    for n, t in [("q", q), ("k", k), ("v", v), ("r", r), ("y", y),
                 ("dq", dq), ("dk", dk), ("dv", dv)]:
        g.add(f"win_{name}.{n}", t)
    g.add(f"win_{name}.window", float(window))


def main():
    torch.manual_seed(0)
    g = Golden()
    gen = torch.Generator().manual_seed(11)
    b, t = 2, 10  # t > sliding_window: the window truncates
    for cfg, prefix, seed, save in ((MISTRAL, "mistral.", 5, save_single),
                                    (QWEN2, "qwen2.", 6, save_sharded)):
        ids = torch.randint(0, cfg["vocab_size"], (b, t), generator=gen)
        labels = ids.clone()
        labels[0, :2] = IGNORE
        labels[1, :4] = IGNORE
        params = make_params(cfg, seed)
        save(cfg["model_type"] + "_tiny", cfg, params)
        run(cfg, params, ids, labels, g, prefix)
    # the op: one block, several query blocks (75 > 64 rows), a KV cache
    window_case(g, "small", 2, 2, 1, 9, 9, 4, 3)
    window_case(g, "blocks", 1, 2, 2, 150, 150, 4, 20)
    window_case(g, "kvcache", 1, 4, 2, 4, 12, 4, 5)
    window_case(g, "one", 1, 1, 1, 6, 6, 4, 1)
    g.save("hf_models.bin")


if __name__ == "__main__":
    main()
