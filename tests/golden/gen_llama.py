"""gen_llama.py - a plain PyTorch Llama decoder (written here, following the
semantics of Hugging Face's modeling_llama: RMSNorm in float32, rotate-half
RoPE with rope_theta, grouped KV heads repeated per query group, SwiGLU MLP,
shifted causal-LM cross-entropy with ignore index -100) and the golden
values Lethe's tests/test_llama.c checks against.

Writes, next to this script:
  llama_tiny/config.json, llama_tiny/model.safetensors   (untied, F32)
  llama_tiny_sharded/config.json, model-0000{1,2}-of-00002.safetensors,
      model.safetensors.index.json                         (same weights)
  llama_tiny_bf16/config.json, model.safetensors          (same, BF16)
  llama_tied/config.json, llama_tied/model.safetensors   (tied embeddings)
  llama.bin: ids, labels, logits, loss, per-sequence NLL, token log-probs,
      the residual stream after layer 1,
      the gradient of every parameter after one backward, every parameter
      after one AdamW step; the tied model's logits, loss and gradients.
safetensors files are written by a small writer here (8-byte little-endian
header length, JSON header, raw little-endian data) since the safetensors
package is not a dependency.
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

from ltgolden import Golden

HERE = os.path.dirname(os.path.abspath(__file__))
IGNORE = -100

CFG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 64,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 48,
    "rms_norm_eps": 1e-6,
    "rope_theta": 500.0,
    "max_position_embeddings": 64,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}


# ---- the model --------------------------------------------------------------

def rms_norm(x, w, eps):
    xf = x.to(torch.float32)
    var = xf.pow(2).mean(-1, keepdim=True)
    return w * (xf * torch.rsqrt(var + eps)).to(x.dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_cos_sin(t_len, dim, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2).float() / dim))
    pos = torch.arange(t_len, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def attention(p, i, x, cfg):
    b, t, d = x.shape
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = d // nh
    pre = f"model.layers.{i}.self_attn."
    q = F.linear(x, p[pre + "q_proj.weight"]).view(b, t, nh, hd).transpose(1, 2)
    k = F.linear(x, p[pre + "k_proj.weight"]).view(b, t, nkv, hd).transpose(1, 2)
    v = F.linear(x, p[pre + "v_proj.weight"]).view(b, t, nkv, hd).transpose(1, 2)
    cos, sin = rope_cos_sin(t, hd, cfg["rope_theta"])
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    rep = nh // nkv  # repeat_kv: query head h uses kv head h // rep
    k = k[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
    v = v[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
    s = q @ k.transpose(2, 3) / math.sqrt(hd)
    mask = torch.full((t, t), float("-inf")).triu(1)
    a = torch.softmax((s + mask).float(), dim=-1).to(q.dtype)
    o = (a @ v).transpose(1, 2).reshape(b, t, d)
    return F.linear(o, p[pre + "o_proj.weight"])


def mlp(p, i, x):
    pre = f"model.layers.{i}.mlp."
    g = F.linear(x, p[pre + "gate_proj.weight"])
    u = F.linear(x, p[pre + "up_proj.weight"])
    return F.linear(F.silu(g) * u, p[pre + "down_proj.weight"])


def forward(p, ids, cfg, n_layers=None):
    """Logits, or the residual stream after n_layers layers."""
    eps = cfg["rms_norm_eps"]
    h = F.embedding(ids, p["model.embed_tokens.weight"])
    for i in range(cfg["num_hidden_layers"] if n_layers is None else n_layers):
        pre = f"model.layers.{i}."
        h = h + attention(p, i, rms_norm(h, p[pre + "input_layernorm.weight"],
                                         eps), cfg)
        h = h + mlp(p, i, rms_norm(h, p[pre + "post_attention_layernorm.weight"],
                                   eps))
    if n_layers is not None:
        return h
    h = rms_norm(h, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight" if cfg["tie_word_embeddings"]
             else "lm_head.weight"]
    return F.linear(h, head)


def lm_loss(logits, labels):
    v = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, v),
                           labels[:, 1:].reshape(-1), ignore_index=IGNORE)


def seq_nll(logits, labels):
    lp = torch.log_softmax(logits[:, :-1], -1)
    tg = labels[:, 1:]
    on = tg != IGNORE
    tok = lp.gather(-1, tg.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(tok * on).sum(1)


def token_logprobs(logits, ids):
    lp = torch.log_softmax(logits[:, :-1], -1)
    return lp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)


# ---- deterministic weights ---------------------------------------------------

def make_params(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    d, f = cfg["hidden_size"], cfg["intermediate_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = d // nh
    v = cfg["vocab_size"]

    def lin(o, i):
        return torch.randn(o, i, generator=g) / math.sqrt(i)

    def norm(n):
        return 1.0 + 0.1 * torch.randn(n, generator=g)

    p = {"model.embed_tokens.weight": torch.randn(v, d, generator=g)}
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        p[pre + "self_attn.q_proj.weight"] = lin(nh * hd, d)
        p[pre + "self_attn.k_proj.weight"] = lin(nkv * hd, d)
        p[pre + "self_attn.v_proj.weight"] = lin(nkv * hd, d)
        p[pre + "self_attn.o_proj.weight"] = lin(d, nh * hd)
        p[pre + "mlp.gate_proj.weight"] = lin(f, d)
        p[pre + "mlp.up_proj.weight"] = lin(f, d)
        p[pre + "mlp.down_proj.weight"] = lin(d, f)
        p[pre + "input_layernorm.weight"] = norm(d)
        p[pre + "post_attention_layernorm.weight"] = norm(d)
    p["model.norm.weight"] = norm(d)
    if not cfg["tie_word_embeddings"]:
        p["lm_head.weight"] = lin(v, d)
    return p


# ---- Hugging Face checkpoint layout ------------------------------------------

def st_bytes(tensors, dtype="F32"):
    """A safetensors file: u64 LE header length, JSON header, data."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if dtype == "F32":
            raw = t.to(torch.float32).numpy().astype("<f4").tobytes()
        else:  # BF16: the upper 16 bits of the float32 after rounding
            raw = t.to(torch.bfloat16).view(torch.int16).numpy() \
                   .astype("<i2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def save_checkpoint(dirname, cfg, params, dtype="F32"):
    d = os.path.join(HERE, dirname)
    write(os.path.join(d, "config.json"),
          (json.dumps(dict(cfg, torch_dtype="float32" if dtype == "F32"
                           else "bfloat16"), indent=2) + "\n").encode())
    write(os.path.join(d, "model.safetensors"), st_bytes(params, dtype))


def save_sharded(dirname, cfg, params):
    d = os.path.join(HERE, dirname)
    write(os.path.join(d, "config.json"),
          (json.dumps(cfg, indent=2) + "\n").encode())
    names = list(params)  # declaration order, as transformers shards
    half = len(names) // 2
    shards = [names[:half], names[half:]]
    weight_map, total = {}, 0
    for k, group in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        write(os.path.join(d, fname),
              st_bytes({n: params[n] for n in group}))
        for n in group:
            weight_map[n] = fname
            total += params[n].numel() * 4
    index = {"metadata": {"total_size": total},
             "weight_map": dict(sorted(weight_map.items()))}
    write(os.path.join(d, "model.safetensors.index.json"),
          (json.dumps(index, indent=2) + "\n").encode())


# ---- golden values ------------------------------------------------------------

def run(cfg, params, ids, labels, g, prefix, adamw):
    p = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    logits = forward(p, ids, cfg)
    loss = lm_loss(logits, labels)
    loss.backward()
    g.add(prefix + "logits", logits)
    g.add(prefix + "loss", loss.item())
    with torch.no_grad():
        g.add(prefix + "seq_nll", seq_nll(logits, labels))
        g.add(prefix + "token_logprobs", token_logprobs(logits, ids))
        g.add(prefix + "hidden1", forward(p, ids, cfg, 1))
    for n, t in p.items():
        g.add(prefix + "grad." + n, t.grad)
    if adamw:
        opt = torch.optim.AdamW(list(p.values()), lr=1e-2, betas=(0.9, 0.999),
                                eps=1e-8, weight_decay=0.1)
        opt.step()
        for n, t in p.items():
            g.add(prefix + "adamw." + n, t)


def main():
    torch.manual_seed(0)
    b, t = 2, 8
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, CFG["vocab_size"], (b, t), generator=gen)
    labels = ids.clone()
    labels[0, :3] = IGNORE  # a masked "question"
    labels[1, :5] = IGNORE

    g = Golden()
    g.add("ids", ids)
    g.add("labels", labels)

    params = make_params(CFG, 2)
    save_checkpoint("llama_tiny", CFG, params)
    save_sharded("llama_tiny_sharded", CFG, params)
    save_checkpoint("llama_tiny_bf16", CFG, params, "BF16")
    run(CFG, params, ids, labels, g, "", True)

    tied = dict(CFG, tie_word_embeddings=True)
    tparams = make_params(tied, 3)
    save_checkpoint("llama_tied", tied, tparams)
    run(tied, tparams, ids, labels, g, "tied.", False)
    g.save("llama.bin")


if __name__ == "__main__":
    main()
