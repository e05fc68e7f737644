#!/usr/bin/python3
"""torch_ops.py - the PyTorch side of `make bench`, and the table.

  torch_ops.py run --threads N [--autocast bf16] LETHE.jsonl
                                             time PyTorch on the cases that
                                             bench_ops printed (same shapes,
                                             same step), one JSON line each
  torch_ops.py peaks [--threads N]            PyTorch's fp32 and bf16 matmul
                                             peaks only (JSON lines)
  torch_ops.py table LETHE.jsonl [TORCH.jsonl] [--cpu NAME]
                                             print the joined table

The PyTorch step mirrors bench_ops.c: gradients set to None, forward,
y.backward(ones); median wall time of N steps after a warm-up, N chosen so
the steps last >= min_time. Attention is written out as PyTorch 1.13 users
write it (q @ k^T * scale, causal masked_fill, softmax, @ v): 1.13 has no
fused scaled_dot_product_attention. With --autocast bf16 the forward runs
under torch.autocast("cpu", dtype=torch.bfloat16) and the backward outside
it (as PyTorch recommends); the tensors and parameters stay fp32. `run`
also prints two "peak" lines: PyTorch's fp32 matmul and its bf16 matmul
(bf16 tensors), 1024^3, best of 16 after 2 warm-up calls. PyTorch is used
here only, never by the library.
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


def autocast_ctx(torch, autocast):
    """The context of a forward pass: bf16 autocast, or nothing."""
    import contextlib
    if autocast == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def time_case(case, torch, min_time, autocast=None):
    fwd, leaves = build(case, torch)
    with autocast_ctx(torch, autocast):
        ones = torch.ones_like(fwd().detach())

    def step():
        t0 = time.perf_counter()
        for t in leaves:
            t.grad = None
        with autocast_ctx(torch, autocast):
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
    return {"type": "case", "name": case["name"],
            "precision": autocast or "fp32", "reps": n, "ms": ms,
            "ms_min": 1e3 * min(tot), "ms_fwd": 1e3 * statistics.median(fw),
            "gflops": case["flop_total"] / ms * 1e-6}


def matmul_peak(torch, dtype, n=1024, reps=16):
    """Best-of GFLOP/s of an n x n x n torch.matmul in dtype."""
    g = torch.Generator().manual_seed(7)
    a = (torch.rand((n, n), generator=g) * 2 - 1).to(dtype)
    b = (torch.rand((n, n), generator=g) * 2 - 1).to(dtype)
    best = float("inf")
    for i in range(reps + 2):
        t = time.perf_counter()
        torch.matmul(a, b)
        t = time.perf_counter() - t
        if i >= 2:
            best = min(best, t)
    return 2.0 * n ** 3 / best * 1e-9


def print_peaks(torch):
    for kind, dtype in (("sgemm", torch.float32), ("bf16", torch.bfloat16)):
        print(json.dumps({"type": "peak", "kind": kind, "impl": "torch",
                          "n": 1024, "gflops": matmul_peak(torch, dtype)}),
              flush=True)


def parse_autocast(value):
    if value not in ("bf16", "fp32", "none"):
        raise SystemExit(f"--autocast: '{value}' is not bf16 (or fp32/none)")
    return value if value == "bf16" else None


def cmd_run(args):
    threads, path, autocast = None, None, None
    it = iter(args)
    for a in it:
        if a == "--threads":
            threads = int(next(it))
        elif a == "--autocast":
            autocast = parse_autocast(next(it))
        else:
            path = a
    import torch
    if threads:
        torch.set_num_threads(threads)
    lines = read_jsonl(path)
    info = next((d for d in lines if d.get("type") == "info"), {})
    min_time = info.get("min_time", 0.5)
    print(json.dumps({"type": "info", "torch": torch.__version__,
                      "threads": torch.get_num_threads(),
                      "precision": autocast or "fp32",
                      "autocast": autocast}), flush=True)
    print_peaks(torch)
    for case in lines:
        if case.get("type") != "case":
            continue
        try:
            print(json.dumps(time_case(case, torch, min_time, autocast)),
                  flush=True)
        except Exception as e:  # report and go on with the next case
            print(json.dumps({"type": "case", "name": case["name"],
                              "precision": autocast or "fp32",
                              "error": str(e)}), flush=True)
    print_peaks(torch)


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
    peaks = [d["gflops"] for d in lethe if d.get("type") == "peak"
             and d.get("kind", "sgemm") == "sgemm" and d.get("gflops")]
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


def cmd_peaks(args):
    import torch
    if len(args) == 2 and args[0] == "--threads":
        torch.set_num_threads(int(args[1]))
    elif args:
        raise SystemExit("torch_ops.py peaks: usage: peaks [--threads N]")
    print(json.dumps({"type": "info", "torch": torch.__version__,
                      "threads": torch.get_num_threads()}), flush=True)
    print_peaks(torch)


def main():
    cmds = {"run": cmd_run, "table": cmd_table, "peaks": cmd_peaks}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    cmds[sys.argv[1]](sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
