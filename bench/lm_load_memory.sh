#!/bin/sh
# lm_load_memory.sh - peak memory (and wall time) of loading a synthetic
# BF16 Mistral-family checkpoint in Hugging Face's sharded layout
# (model.safetensors.index.json + shards) and generating one token.
#
#   sh bench/lm_load_memory.sh LETHE [OTHER_LETHE] [LAYERS]
#
# Writes the checkpoint (random weights: hidden 1024, SwiGLU 2816, 16 heads
# / 4 KV heads, vocab 300, LAYERS layers, default 12: about 134M parameters,
# 270 MB of BF16) and a 300-token tokenizer under $TMPDIR, then runs
# `lethe lm generate` with each binary given under /usr/bin/time -v and
# prints its maximum resident set size (MiB). Float32 parameters take 4 bytes
# each, so the floor is about 4 x parameters; anything above it is the
# loader's copies and the forward pass. On a shared, loaded machine the
# times are not benchmarks.
set -e
A=${1:?usage: lm_load_memory.sh LETHE [OTHER_LETHE] [LAYERS]}
B=${2:-}
LAYERS=${3:-12}
D=$(mktemp -d "${TMPDIR:-/tmp}/lethe_lmmem.XXXXXX")
trap 'rm -rf "$D"' EXIT
/usr/bin/python3 - "$D/model" "$LAYERS" <<'EOF'
import json, os, struct, sys
import numpy as np
out, layers = sys.argv[1], int(sys.argv[2])
cfg = {"architectures": ["MistralForCausalLM"], "model_type": "mistral",
       "vocab_size": 300, "hidden_size": 1024, "intermediate_size": 2816,
       "num_hidden_layers": layers, "num_attention_heads": 16,
       "num_key_value_heads": 4, "max_position_embeddings": 512,
       "sliding_window": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
       "tie_word_embeddings": False, "torch_dtype": "bfloat16"}
os.makedirs(out)
json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
d, f, v, kd = 1024, 2816, 300, 4 * 64
shapes = [("model.embed_tokens.weight", (v, d))]
for i in range(layers):
    p = f"model.layers.{i}."
    shapes += [(p + "self_attn.q_proj.weight", (d, d)),
               (p + "self_attn.k_proj.weight", (kd, d)),
               (p + "self_attn.v_proj.weight", (kd, d)),
               (p + "self_attn.o_proj.weight", (d, d)),
               (p + "mlp.gate_proj.weight", (f, d)),
               (p + "mlp.up_proj.weight", (f, d)),
               (p + "mlp.down_proj.weight", (d, f)),
               (p + "input_layernorm.weight", (d,)),
               (p + "post_attention_layernorm.weight", (d,))]
shapes += [("model.norm.weight", (d,)), ("lm_head.weight", (v, d))]
rng = np.random.default_rng(0)
groups, cur, size = [], [], 0
for name, shp in shapes:  # shards of about 100 MB, tensors whole
    n = int(np.prod(shp)) * 2
    if cur and size + n > 100_000_000:
        groups.append(cur); cur, size = [], 0
    cur.append((name, shp)); size += n
groups.append(cur)
wmap, total = {}, 0
for k, g in enumerate(groups):
    fname = f"model-{k + 1:05d}-of-{len(groups):05d}.safetensors"
    hdr, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, shp in g:
        x = (rng.standard_normal(shp, dtype=np.float32) * 0.02) \
            if len(shp) == 2 else np.ones(shp, np.float32)
        raw = (x.view(np.uint32) >> 16).astype("<u2").tobytes()
        hdr[name] = {"dtype": "BF16", "shape": list(shp),
                     "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw); wmap[name] = fname; total += len(raw)
    h = json.dumps(hdr).encode(); h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(out, fname), "wb") as fh:
        fh.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            fh.write(b)
json.dump({"metadata": {"total_size": total}, "weight_map": wmap},
          open(os.path.join(out, "model.safetensors.index.json"), "w"))
n = sum(int(np.prod(s)) for _, s in shapes)
print(f"synthetic checkpoint: {n} parameters, {total} bytes of BF16 in "
      f"{len(groups)} shards; float32 parameters alone: {4 * n / 2**20:.0f} MiB")
EOF
seq 1 20000 | tr '\n' ' ' >"$D/corpus.txt"
"$A" tokenizer train --corpus "$D/corpus.txt" --vocab 300 --out "$D/tok.json" \
  --threads 1
for L in "$A" $B; do
  /usr/bin/time -v "$L" lm generate --model "$D/model" --tokenizer "$D/tok.json" \
    --prompt "a b c" --max-new 1 --threads 1 >/dev/null 2>"$D/time.txt" ||
    { cat "$D/time.txt"; exit 1; }
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$D/time.txt")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$D/time.txt")
  echo "$L: max RSS $((rss / 1024)) MiB, wall $wall"
done
