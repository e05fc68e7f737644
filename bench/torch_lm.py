#!/usr/bin/python3
"""torch_lm.py - the PyTorch side of the language-model benchmark (issue #6
item 7), its table, and a driver that runs both sides.

  torch_lm.py bench BUILD/bench_lm [--threads N] [--min-time S] [--cpu NAME]
                   [--precision fp32|bf16]
      run Lethe's bench_lm (at that precision; PyTorch with bf16 autocast
      for bf16), then the PyTorch twin with the model and sizes
      bench_lm reported (in a fresh Python process), then print the table;
      with BENCH_KEEP set, copy both JSON files there. Lethe-only when
      PyTorch cannot be imported.
  torch_lm.py run --threads N [--autocast bf16] LETHE.jsonl
      time the PyTorch twin of the model bench_lm printed; JSON lines
  torch_lm.py table LETHE.jsonl [TORCH.jsonl] [--cpu NAME]
      print the joined table (and one closing line with the two ratios)

The twin is a plain PyTorch Llama with Hugging Face LlamaForCausalLM's
structure and numerics, the same as tests/golden/gen_llama.py (RMSNorm in
float32, rotate-half RoPE, grouped KV heads repeated per query group,
SwiGLU MLP, an untied LM head), written as nn.Modules with separate
q/k/v/o and gate/up/down nn.Linear layers (as transformers has them), RoPE
cos/sin tables computed once, and attention as matmul + causal mask +
float32 softmax + matmul (transformers' eager attention; PyTorch 1.13 has
no scaled_dot_product_attention). Initialisation: N(0, 0.02^2), norms 1.

Train step, mirroring bench_lm.c: opt.zero_grad(set_to_none=True), forward,
F.cross_entropy of logits[:, :-1] against ids[:, 1:] (mean over all
B*(T-1) positions), backward, torch.optim.AdamW(lr from bench_lm, betas
0.9/0.999, eps 1e-8, weight_decay 0.01).step() on a fixed random batch;
tokens/s = B*T / step time. Generation, under torch.no_grad(): preallocated
per-layer key/value buffers (made inside each timed call, as bench_lm's
lt_llama_generate makes its cache), the prompt in one forward, then one
token per forward, greedy (argmax), no EOS; tokens/s = new tokens / call
time. Time: wall clock; after a warm-up (>= 1 run and >= 0.5 s) the median
of N runs lasting >= min-time (at least 3). With --autocast bf16 (`run`
only) the train step's forward and loss run under torch.autocast("cpu",
dtype=torch.bfloat16), its backward and AdamW step outside (PyTorch's
recipe), and generation runs wholly under autocast; the model stays fp32.
PyTorch is used here only, never by the library.
"""
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (fmt, read_jsonl, table_args, time_runs,  # noqa: E402
                      timing_fields)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- the model -----------------------------------------------------------------

def build_model(cfg):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class RMSNorm(nn.Module):
        def __init__(self, d, eps):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))
            self.eps = eps

        def forward(self, x):
            xf = x.to(torch.float32)
            var = xf.pow(2).mean(-1, keepdim=True)
            return self.weight * (xf * torch.rsqrt(var + self.eps)).to(x.dtype)

    def rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    class Attention(nn.Module):
        def __init__(self, c):
            super().__init__()
            d, self.nh, self.nkv = c["hidden"], c["heads"], c["kv_heads"]
            self.hd = c["head_dim"]
            self.q_proj = nn.Linear(d, self.nh * self.hd, bias=False)
            self.k_proj = nn.Linear(d, self.nkv * self.hd, bias=False)
            self.v_proj = nn.Linear(d, self.nkv * self.hd, bias=False)
            self.o_proj = nn.Linear(self.nh * self.hd, d, bias=False)

        def forward(self, x, cos, sin, mask, cache, pos):
            b, t, _ = x.shape
            q = self.q_proj(x).view(b, t, self.nh, self.hd).transpose(1, 2)
            k = self.k_proj(x).view(b, t, self.nkv, self.hd).transpose(1, 2)
            v = self.v_proj(x).view(b, t, self.nkv, self.hd).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if cache is not None:  # keys/values of positions 0..pos+t-1
                kb, vb = cache
                kb[:, :, pos:pos + t] = k
                vb[:, :, pos:pos + t] = v
                k, v = kb[:, :, :pos + t], vb[:, :, :pos + t]
            rep = self.nh // self.nkv
            if rep > 1:
                n = k.shape[2]
                k = k[:, :, None].expand(b, self.nkv, rep, n, self.hd) \
                    .reshape(b, self.nh, n, self.hd)
                v = v[:, :, None].expand(b, self.nkv, rep, n, self.hd) \
                    .reshape(b, self.nh, n, self.hd)
            s = q @ k.transpose(2, 3) / math.sqrt(self.hd)
            if mask is not None:
                s = s + mask
            a = torch.softmax(s.float(), dim=-1).to(q.dtype)
            o = (a @ v).transpose(1, 2).reshape(b, t, self.nh * self.hd)
            return self.o_proj(o)

    class MLP(nn.Module):
        def __init__(self, d, f):
            super().__init__()
            self.gate_proj = nn.Linear(d, f, bias=False)
            self.up_proj = nn.Linear(d, f, bias=False)
            self.down_proj = nn.Linear(f, d, bias=False)

        def forward(self, x):
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

    class Layer(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.input_layernorm = RMSNorm(c["hidden"], c["rms_eps"])
            self.self_attn = Attention(c)
            self.post_attention_layernorm = RMSNorm(c["hidden"], c["rms_eps"])
            self.mlp = MLP(c["hidden"], c["ffn"])

        def forward(self, h, cos, sin, mask, cache, pos):
            h = h + self.self_attn(self.input_layernorm(h), cos, sin, mask,
                                   cache, pos)
            return h + self.mlp(self.post_attention_layernorm(h))

    class Llama(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c = c
            self.embed_tokens = nn.Embedding(c["vocab"], c["hidden"])
            self.layers = nn.ModuleList(Layer(c) for _ in range(c["layers"]))
            self.norm = RMSNorm(c["hidden"], c["rms_eps"])
            self.lm_head = None if c["tied"] else \
                nn.Linear(c["hidden"], c["vocab"], bias=False)
            hd = c["head_dim"]
            inv = 1.0 / (c["rope_theta"] **
                         (torch.arange(0, hd, 2).float() / hd))
            fr = torch.outer(torch.arange(c["max_pos"], dtype=torch.float32),
                             inv)
            emb = torch.cat((fr, fr), dim=-1)
            self.register_buffer("cos", emb.cos(), persistent=False)
            self.register_buffer("sin", emb.sin(), persistent=False)
            for mod in self.modules():  # Hugging Face's initialisation
                if isinstance(mod, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(mod.weight, 0.0, 0.02)

        def forward(self, ids, caches=None, pos=0):
            t = ids.shape[1]
            cos, sin = self.cos[pos:pos + t], self.sin[pos:pos + t]
            mask = None
            if t > 1:  # query pos+i sees keys 0..pos+i
                mask = torch.full((t, pos + t), float("-inf")).triu(pos + 1)
            h = self.embed_tokens(ids)
            for i, layer in enumerate(self.layers):
                h = layer(h, cos, sin, mask,
                          None if caches is None else caches[i], pos)
            h = self.norm(h)
            w = self.embed_tokens.weight if self.lm_head is None \
                else self.lm_head.weight
            return F.linear(h, w)

        def new_caches(self, batch, length):
            c = self.c
            shape = (batch, c["kv_heads"], length, c["head_dim"])
            return [(torch.empty(shape), torch.empty(shape))
                    for _ in range(c["layers"])]

    return Llama(cfg)


def generate(model, prompt, n_new):
    """Greedy continuation of prompt [1, P] by n_new tokens (KV cache)."""
    import torch
    with torch.no_grad():
        caches = model.new_caches(1, prompt.shape[1] + n_new)
        out = torch.empty(n_new, dtype=torch.long)
        logits = model(prompt, caches, 0)
        pos = prompt.shape[1]
        for i in range(n_new):
            nxt = torch.argmax(logits[0, -1])
            out[i] = nxt
            if i + 1 < n_new:
                logits = model(nxt.view(1, 1), caches, pos)
                pos += 1
    return out


def cmd_run(args):
    threads, path, autocast = None, None, None
    it = iter(args)
    for a in it:
        if a == "--threads":
            threads = int(next(it))
        elif a == "--autocast":
            autocast = next(it)
            if autocast not in ("bf16", "fp32", "none"):
                raise SystemExit(f"torch_lm.py run: --autocast '{autocast}'"
                                 f" is not bf16")
            autocast = autocast if autocast == "bf16" else None
        else:
            path = a
    lines = read_jsonl(path)
    info = next((d for d in lines if d.get("type") == "info"), None)
    if not info or "hidden" not in info:
        raise SystemExit("torch_lm.py run: no model info line in " + path)
    parts = {d["name"]: d for d in lines if d.get("type") == "lm"}
    min_time = info.get("min_time", 3.0)
    import contextlib
    import torch
    import torch.nn.functional as F
    if threads:
        torch.set_num_threads(threads)
    prec = autocast or "fp32"

    def fwd_ctx():
        return (torch.autocast("cpu", dtype=torch.bfloat16) if autocast
                else contextlib.nullcontext())
    print(json.dumps({"type": "info", "torch": torch.__version__,
                      "threads": torch.get_num_threads(),
                      "precision": prec, "autocast": autocast,
                      "min_time": min_time}), flush=True)
    torch.manual_seed(0)
    model = build_model(info)
    params = sum(p.numel() for p in model.parameters())

    tr = parts.get("train")
    if tr and "error" not in tr:
        b, t, v = tr["batch"], tr["seq"], info["vocab"]
        ids = torch.randint(0, v, (b, t))
        opt = torch.optim.AdamW(model.parameters(), lr=info.get("lr", 1e-3),
                                betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=0.01)
        losses = []

        def step():
            opt.zero_grad(set_to_none=True)
            with fwd_ctx():
                logits = model(ids)
                loss = F.cross_entropy(logits[:, :-1].reshape(-1, v),
                                       ids[:, 1:].reshape(-1))
            loss.backward()
            opt.step()
            losses.append(loss.item())

        model.train()
        warm, tot = time_runs(step, min_time)
        if not math.isfinite(losses[-1]):
            raise SystemExit("torch_lm.py: the loss is not finite")
        print(json.dumps(dict(
            {"type": "lm", "name": "train", "precision": prec, "batch": b,
             "seq": t,
             "tokens": b * t, "params": params},
            **timing_fields(warm, tot),
            tokens_s=b * t / statistics.median(tot), loss_first=losses[0],
            loss_last=losses[-1], rss_peak_mb=rss_mb())), flush=True)

    gen = parts.get("generate")
    if gen and "error" not in gen:
        torch.manual_seed(0)
        model = build_model(info)  # generation from the initial weights
        model.eval()
        prompt = torch.randint(0, info["vocab"], (1, gen["prompt"]))
        n_new = gen["new"]
        res = []

        def gen_once():
            with fwd_ctx():
                res.append(generate(model, prompt, n_new))
        warm, tot = time_runs(gen_once, min_time)
        print(json.dumps(dict(
            {"type": "lm", "name": "generate", "precision": prec,
             "batch": 1,
             "prompt": gen["prompt"], "new": n_new, "tokens": n_new,
             "params": params},
            **timing_fields(warm, tot),
            tokens_s=n_new / statistics.median(tot),
            first_ids=[int(x) for x in res[-1][:4]], rss_peak_mb=rss_mb())),
            flush=True)


# ---- table -----------------------------------------------------------------------

def cmd_table(args):
    cpu, lethe, tor, info, tinfo = table_args(args)
    parts = [d for d in lethe if d.get("type") == "lm"]
    tparts = {d["name"]: d for d in tor if d.get("type") == "lm"}
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    print(f"Language model (Llama '{info.get('config', '?')}': "
          f"{info.get('layers')} layers, d {info.get('hidden')}, "
          f"{info.get('heads')} heads ({info.get('kv_heads')} KV), SwiGLU "
          f"{info.get('ffn')}, vocab {info.get('vocab')}, "
          f"{'tied' if info.get('tied') else 'untied'} head; "
          f"{fmt(info.get('params', 0) / 1e6, '.2f')}M parameters)")
    if cpu:
        print(f"CPU: {cpu}")
    print(f"threads: Lethe {info.get('threads')} (OpenBLAS "
          f"{info.get('blas_threads')}, core {info.get('blas_core')})"
          + (f", PyTorch {tinfo['torch']} {tinfo['threads']}" if tinfo
             else ", PyTorch: not run")
          + (f"; load average at the end {load:.2f}" if load is not None
             else ""))
    if os.environ.get("BENCH_CORE_NOTE"):
        print("note: " + os.environ["BENCH_CORE_NOTE"])
    tr = next((d for d in parts if d.get("name") == "train"), {})
    ge = next((d for d in parts if d.get("name") == "generate"), {})
    print(f"train: forward + mean next-token cross-entropy + backward + "
          f"{info.get('optim', 'AdamW')} on a fixed random batch of "
          f"{tr.get('batch', '?')} x {tr.get('seq', '?')} tokens; tokens/s = "
          f"batch x length / median step time")
    print(f"generate: greedy, batch 1, a {ge.get('prompt', '?')}-token "
          f"prompt, {ge.get('new', '?')} new tokens with a KV cache (no EOS); "
          f"tokens/s = new tokens / median time of a whole call")
    print(f"median of N runs lasting >= {info.get('min_time')} s after "
          f"warm-up; ratio = Lethe tokens/s / PyTorch tokens/s (> 1: Lethe "
          f"faster); (min) = the fastest run, and the ratio of the fastest "
          f"runs (less sensitive to other load)")
    print()
    head = ["part", "N", "Lethe ms", "(min)", "tokens/s", "N", "torch ms",
            "(min)", "tokens/s", "ratio", "(min)",
            "loss first->last Lethe | torch"]
    rows, errors, ratios = [], [], {}
    for m in parts:
        t = tparts.get(m["name"], {})
        for side, d in (("Lethe", m), ("PyTorch", t)):
            if "error" in d:
                errors.append(f"{m['name']}: {side}: {d['error']}")
        if "error" in m:
            rows.append([m["name"], "-", "ERROR"] + ["-"] * (len(head) - 3))
            continue
        ts = t.get("tokens_s")
        ratio = m["tokens_s"] / ts if ts else None
        rmin = t["ms_min"] / m["ms_min"] if t.get("ms_min") else None
        ratios[m["name"]] = (ratio, rmin)
        loss = "-"
        if "loss_first" in m:
            loss = f"{m['loss_first']:.3f}->{m['loss_last']:.3f}"
            if "loss_first" in t:
                loss += f" | {t['loss_first']:.3f}->{t['loss_last']:.3f}"
        rows.append([m["name"], str(m["reps"]), fmt(m["ms"], ".1f"),
                     fmt(m["ms_min"], ".1f"), fmt(m["tokens_s"], ".1f"),
                     fmt(t.get("reps"), "d"), fmt(t.get("ms"), ".1f"),
                     fmt(t.get("ms_min"), ".1f"), fmt(ts, ".1f"),
                     fmt(ratio, ".2f"), fmt(rmin, ".2f"), loss])
    if not rows:
        print("(no results)")
    else:
        width = [max(len(r[i]) for r in rows + [head])
                 for i in range(len(head))]
        for r in [head] + rows:
            print("  ".join(v.ljust(width[i]) if i in (0, len(head) - 1)
                            else v.rjust(width[i])
                            for i, v in enumerate(r)).rstrip())
    if info.get("params") and any("params" in d for d in tparts.values()):
        tp = next(d["params"] for d in tparts.values() if "params" in d)
        if tp != info["params"]:
            print(f"note: parameter counts differ (Lethe {info['params']}, "
                  f"PyTorch {tp})")
    for e in errors:
        print("error: " + e)
    tr_r, ge_r = ratios.get("train", (None,) * 2), \
        ratios.get("generate", (None,) * 2)
    print("LM ratios to PyTorch (Lethe tokens/s / PyTorch tokens/s, median "
          f"[fastest]): train {fmt(tr_r[0], '.2f')} [{fmt(tr_r[1], '.2f')}], "
          f"generate {fmt(ge_r[0], '.2f')} [{fmt(ge_r[1], '.2f')}]")


# ---- both sides ------------------------------------------------------------------

def cmd_bench(args):
    if not args:
        raise SystemExit("torch_lm.py bench: need the path of bench_lm")
    binary, rest = args[0], args[1:]
    threads, min_time, cpu, prec = None, None, None, "fp32"
    it = iter(rest)
    for a in it:
        if a == "--threads":
            threads = next(it)
        elif a == "--min-time":
            min_time = next(it)
        elif a == "--cpu":
            cpu = next(it)
        elif a == "--precision":
            prec = next(it)
            if prec not in ("fp32", "bf16"):
                raise SystemExit(f"torch_lm.py bench: --precision '{prec}' "
                                 f"is not fp32 or bf16")
        else:
            raise SystemExit("torch_lm.py bench: unknown option " + a)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"torch_lm.py: {binary} not found (build first: make)")
    tmp = tempfile.mkdtemp()
    try:
        lpath = os.path.join(tmp, "lethe_lm.jsonl")
        tpath = os.path.join(tmp, "torch_lm.jsonl")
        cmd = [binary]
        if threads:
            cmd += ["--threads", threads]
        if min_time:
            cmd += ["--min-time", min_time]
        cmd += ["--precision", prec]
        sys.stderr.write(f"bench: language model, Lethe ({binary}, "
                         f"{threads or 'default'} threads)...\n")
        with open(lpath, "w") as f:
            if subprocess.run(cmd, stdout=f).returncode != 0:
                sys.stderr.write("bench: a Lethe LM run failed\n")
        with open(tpath, "w") as f:
            have_torch = subprocess.run(
                [sys.executable, "-c", "import torch"],
                stderr=subprocess.DEVNULL).returncode == 0
            if have_torch:
                sys.stderr.write(f"bench: language model, PyTorch "
                                 f"({threads or 'default'} threads)...\n")
                tcmd = [sys.executable, os.path.abspath(__file__), "run",
                        "--autocast", prec, lpath]
                if threads:
                    tcmd += ["--threads", threads]
                if subprocess.run(tcmd, stdout=f).returncode != 0:
                    sys.stderr.write("bench: the PyTorch LM side failed\n")
            else:
                sys.stderr.write("bench: PyTorch not found: Lethe side only\n")
        print()
        cmd_table([lpath, tpath] + (["--cpu", cpu] if cpu else []))
        keep = os.environ.get("BENCH_KEEP")
        if keep:
            shutil.copy(lpath, keep)
            shutil.copy(tpath, keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    cmds = {"bench": cmd_bench, "run": cmd_run, "table": cmd_table}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    cmds[sys.argv[1]](sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
