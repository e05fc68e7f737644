#!/usr/bin/python3
"""torch_ops.py - the PyTorch side of `make bench`, and the table.

  torch_ops.py run --threads N LETHE.jsonl   time PyTorch on the cases that
                                             bench_ops printed (same shapes,
                                             same step), one JSON line each
  torch_ops.py table LETHE.jsonl [TORCH.jsonl] [--cpu NAME]
                                             print the joined table

The PyTorch step mirrors bench_ops.c: gradients set to None, forward,
y.backward(ones); median wall time of N steps after a warm-up, N chosen so
the steps last >= min_time. Attention is written out as PyTorch 1.13 users
write it (q @ k^T * scale, causal masked_fill, softmax, @ v): 1.13 has no
fused scaled_dot_product_attention. PyTorch is used here only, never by the
library.
"""
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fmt, read_jsonl, table_args  # noqa: E402




# ---- timing ----------------------------------------------------------------

def build(case, torch):
    F = torch.nn.functional
    g = torch.Generator().manual_seed(0)

    def rand(shape, scale=1.0):
        return ((torch.rand(shape, generator=g) * 2 - 1) * scale)

    op = case["op"]
    if op == "attention":
        B, H, T, D = case["x"]
        q, k, v = (rand((B, H, T, D)).requires_grad_() for _ in range(3))
        scale = 1.0 / math.sqrt(D)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)

        def fwd():
            s = torch.matmul(q, k.transpose(-2, -1)) * scale
            if case["causal"]:
                s = s.masked_fill(mask, float("-inf"))
            return torch.matmul(torch.softmax(s, dim=-1), v)
        return fwd, [q, k, v]
    x = rand(case["x"]).requires_grad_()
    w_shape = case["w"]
    fan_in = math.prod(w_shape[1:])
    sc = 1.0 / math.sqrt(fan_in)
    w = rand(w_shape, sc).requires_grad_()
    b = rand((w_shape[0],), sc).requires_grad_() if case["bias"] else None
    leaves = [x, w] + ([b] if b is not None else [])
    if op == "linear":
        return (lambda: F.linear(x, w, b)), leaves
    if op == "conv2d":
        st, pd = case["stride"], case["pad"]
        return (lambda: F.conv2d(x, w, b, stride=st, padding=pd)), leaves
    raise ValueError("unknown op " + op)


def time_case(case, torch, min_time):
    fwd, leaves = build(case, torch)
    ones = torch.ones_like(fwd().detach())

    def step():
        t0 = time.perf_counter()
        for t in leaves:
            t.grad = None
        y = fwd()
        tf = time.perf_counter() - t0
        y.backward(ones)
        return tf

    t0 = time.perf_counter()
    warm = 0
    while warm < 1 or time.perf_counter() - t0 < 0.2:
        step()
        warm += 1
    per = (time.perf_counter() - t0) / warm
    n = min(max(int(min_time / per) + 1, 3), 2000)
    tot, fw = [], []
    for _ in range(n):
        t = time.perf_counter()
        fw.append(step())
        tot.append(time.perf_counter() - t)
    ms = 1e3 * statistics.median(tot)
    return {"type": "case", "name": case["name"], "reps": n, "ms": ms,
            "ms_min": 1e3 * min(tot), "ms_fwd": 1e3 * statistics.median(fw),
            "gflops": case["flop_total"] / ms * 1e-6}


def cmd_run(args):
    threads, path = None, None
    it = iter(args)
    for a in it:
        if a == "--threads":
            threads = int(next(it))
        else:
            path = a
    import torch
    if threads:
        torch.set_num_threads(threads)
    lines = read_jsonl(path)
    info = next((d for d in lines if d.get("type") == "info"), {})
    min_time = info.get("min_time", 0.5)
    print(json.dumps({"type": "info", "torch": torch.__version__,
                      "threads": torch.get_num_threads()}), flush=True)
    for case in lines:
        if case.get("type") != "case":
            continue
        try:
            print(json.dumps(time_case(case, torch, min_time)), flush=True)
        except Exception as e:  # report and go on with the next case
            print(json.dumps({"type": "case", "name": case["name"],
                              "error": str(e)}), flush=True)


# ---- table -----------------------------------------------------------------

def shape_str(c):
    x = "x".join(str(d) for d in c["x"])
    if c["op"] == "linear":
        w = "x".join(str(d) for d in c["w"])
        return f"[{x}]@[{w}]^T" + ("+b" if c["bias"] else "")
    if c["op"] == "conv2d":
        return f"[{x}]->{c['w'][0]} 3x3 p{c['pad']}"
    return f"[{x}]" + (" causal" if c["causal"] else "")


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()




def cmd_table(args):
    cpu, lethe, tor, info, tinfo = table_args(args)
    peaks = [d["gflops"] for d in lethe if d.get("type") == "peak"]
    tcase = {d["name"]: d for d in tor if d.get("type") == "case"}
    print(f"CPU: {cpu or '?'}")
    print(f"threads: Lethe {info.get('threads')} (OpenBLAS "
          f"{info.get('blas_threads')}, core {info.get('blas_core')})"
          + (f", PyTorch {tinfo['torch']} {tinfo['threads']}" if tinfo
             else ", PyTorch: not run"))
    if os.environ.get("BENCH_CORE_NOTE"):
        print("note: " + os.environ["BENCH_CORE_NOTE"])
    core = info.get("blas_core", "")
    flags = cpu_flags()
    if core.lower() in ("prescott", "core2", "nehalem") and (
            "avx2" in flags or "avx512f" in flags):
        want = "SkylakeX" if "avx512f" in flags else "Haswell"
        print(f"note: OpenBLAS did not recognise this CPU and runs its generic "
              f"{core} (SSE) kernels on both sides (Debian's PyTorch uses the "
              f"same OpenBLAS for matmul;\n      its conv uses oneDNN). "
              f"OPENBLAS_CORETYPE={want} selects the right kernels.")
    pk = max(peaks) if peaks else None
    print(f"OpenBLAS SGEMM peak (1024^3, best of 16, before and after): "
          f"{fmt(pk, '.1f')} GFLOP/s "
          f"({', '.join(format(p, '.1f') for p in peaks)})")
    print("step: forward + backward (input and weight grads), upstream grad "
          "ones; median wall time of N reps after warm-up")
    print("FLOPs: " + info.get("flop_convention", "?"))
    print("ratio = PyTorch ms / Lethe ms (> 1: Lethe faster)")
    print()
    head = ["case", "shape", "reps", "Lethe ms", "(fwd)", "GFLOP/s",
            "%peak", "torch ms", "(fwd)", "GFLOP/s", "torch/Lethe"]
    rows, ratios, errors = [], [], []
    for c in (d for d in lethe if d.get("type") == "case"):
        t = tcase.get(c["name"], {})
        for side, d in (("Lethe", c), ("PyTorch", t)):
            if "error" in d:
                errors.append(f"{c['name']}: {side}: {d['error']}")
        if "error" in c:
            rows.append([c["name"], shape_str(c), "-", "ERROR"] + ["-"] * 7)
            continue
        tm = t.get("ms")
        ratio = tm / c["ms"] if tm else None
        if ratio:
            ratios.append(ratio)
        rows.append([c["name"], shape_str(c), str(c["reps"]),
                     fmt(c["ms"], ".2f"), fmt(c["ms_fwd"], ".2f"),
                     fmt(c["gflops"], ".1f"),
                     fmt(100 * c["gflops"] / pk if pk else None, ".0f") + "%",
                     fmt(tm, ".2f"), fmt(t.get("ms_fwd"), ".2f"),
                     fmt(t.get("gflops"), ".1f"), fmt(ratio, ".2f")])
    width = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    left = {0, 1}
    for r in [head] + rows:
        print("  ".join(v.ljust(width[i]) if i in left else v.rjust(width[i])
                        for i, v in enumerate(r)).rstrip())
    for e in errors:
        print("error: " + e)
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\ngeometric mean ratio (PyTorch/Lethe): {gm:.2f} over "
              f"{len(ratios)} cases")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("run", "table"):
        sys.stderr.write(__doc__)
        return 2
    (cmd_run if sys.argv[1] == "run" else cmd_table)(sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
