#!/usr/bin/python3
"""torch_train.py - the PyTorch side of the training benchmark, and its table.

  torch_train.py run --threads N [--autocast bf16] LETHE.jsonl
      time the PyTorch twins of the models that bench_train printed (same
      architecture, input, batch), each in a fresh Python process of its own
      so that its peak RSS is its own; one JSON line per model
  torch_train.py one --arch ARCH --input C,H,W --classes K --batch B
                     [--name NAME] [--threads N] [--min-time S]
                     [--autocast bf16]
      time one model in this process (what `run` starts per model)
  torch_train.py table LETHE.jsonl [TORCH.jsonl] [--cpu NAME]
      print the joined table

The twins are the modules of tests/golden/gen_models.py, which share Lethe's
architecture and parameter layout exactly. One step mirrors bench_train.c:
opt.zero_grad(set_to_none=True), train-mode forward, F.cross_entropy (mean),
backward, torch.optim.SGD(lr 0.01, momentum 0.9, weight_decay 5e-4).step()
on a fixed random batch (no data loading). Time: wall clock per step; after
a warm-up (>= 1 step and >= 0.5 s) the median of N steps, N chosen so the
steps last >= min-time (at least 3). Memory: resource.getrusage(RUSAGE_SELF)
.ru_maxrss before the first step (after import torch, model and batch) and
at the end. With --autocast bf16 the forward and the loss run under
torch.autocast("cpu", dtype=torch.bfloat16), the backward and the optimizer
step outside it (PyTorch's recipe); the model and batch stay fp32.
PyTorch is used here only, never by the library.
"""
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fmt, read_jsonl, table_args  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "tests", "golden")




def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- one model ---------------------------------------------------------------

def make_twin(arch, c, h, w, k):
    sys.path.insert(0, GOLDEN)
    import gen_models as gm
    if arch.startswith("mlp:"):
        return gm.MLP([int(v) for v in arch[4:].split("-")])
    if arch == "cnn":
        return gm.CNN(c, h, w, k)
    if arch == "resnet8":
        return gm.ResNet(c, k, 3, 16, 1)
    if arch == "resnet18":
        return gm.ResNet(c, k, 4, 64, 2)
    raise ValueError("no PyTorch twin for " + arch)


def cmd_one(args):
    opt = {"--name": None, "--arch": None, "--input": None, "--classes": "10",
           "--batch": None, "--threads": None, "--min-time": "3",
           "--autocast": None}
    it = iter(args)
    for a in it:
        if a not in opt:
            raise SystemExit("torch_train.py one: unknown option " + a)
        opt[a] = next(it)
    import contextlib
    import torch
    import torch.nn.functional as F
    autocast = opt["--autocast"]
    if autocast not in (None, "bf16", "fp32", "none"):
        raise SystemExit(f"torch_train.py one: --autocast '{autocast}' is "
                         f"not bf16")
    autocast = autocast if autocast == "bf16" else None

    def fwd_ctx():
        return (torch.autocast("cpu", dtype=torch.bfloat16) if autocast
                else contextlib.nullcontext())
    if opt["--threads"]:
        torch.set_num_threads(int(opt["--threads"]))
    c, h, w = (int(v) for v in opt["--input"].split(","))
    k, batch = int(opt["--classes"]), int(opt["--batch"])
    min_time = float(opt["--min-time"])
    torch.manual_seed(0)
    model = make_twin(opt["--arch"], c, h, w, k)
    model.train()
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          weight_decay=5e-4)
    x = torch.randn(batch, c, h, w)
    y = torch.randint(0, k, (batch,))
    rss_base = rss_mb()

    def step():
        sgd.zero_grad(set_to_none=True)
        with fwd_ctx():
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        sgd.step()
        return loss.item()

    t0 = time.perf_counter()
    warm, loss_first = 0, None
    while warm < 1 or time.perf_counter() - t0 < 0.5:
        loss = step()
        loss_first = loss if loss_first is None else loss_first
        warm += 1
    per = (time.perf_counter() - t0) / warm
    n = min(max(int(min_time / per) + 1, 3), 1000)
    tot = []
    for _ in range(n):
        t = time.perf_counter()
        loss = step()
        tot.append(time.perf_counter() - t)
    if not math.isfinite(loss):
        raise SystemExit("torch_train.py: the loss is not finite")
    med = statistics.median(tot)
    print(json.dumps({
        "type": "model", "name": opt["--name"] or opt["--arch"],
        "precision": autocast or "fp32", "arch": opt["--arch"], "batch": batch, "threads":
        torch.get_num_threads(), "params": sum(p.numel() for p in
                                               model.parameters()),
        "warmup": warm, "reps": n, "ms": 1e3 * med, "ms_min": 1e3 * min(tot),
        "ms_mean": 1e3 * sum(tot) / n, "samples_s": batch / med,
        "rss_base_mb": rss_base, "rss_peak_mb": rss_mb(),
        "loss_first": loss_first, "loss_last": loss}), flush=True)


# ---- all models, one process each --------------------------------------------

def cmd_run(args):
    threads, path, autocast = None, None, None
    it = iter(args)
    for a in it:
        if a == "--threads":
            threads = int(next(it))
        elif a == "--autocast":
            autocast = next(it)
        else:
            path = a
    lines = read_jsonl(path)
    info = next((d for d in lines if d.get("type") == "info"), {})
    min_time = info.get("min_time", 3.0)
    import torch
    print(json.dumps({"type": "info", "torch": torch.__version__,
                      "threads": threads or torch.get_num_threads(),
                      "precision": autocast or "fp32",
                      "autocast": autocast, "min_time": min_time}),
          flush=True)
    for m in lines:
        if m.get("type") != "model" or "error" in m:
            continue
        cmd = [sys.executable, os.path.abspath(__file__), "one",
               "--name", m["name"], "--arch", m["arch"],
               "--input", ",".join(str(v) for v in m["input"]),
               "--classes", str(m["classes"]), "--batch", str(m["batch"]),
               "--min-time", str(min_time)]
        if threads:
            cmd += ["--threads", str(threads)]
        if autocast:
            cmd += ["--autocast", autocast]
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        got = [json.loads(l) for l in p.stdout.splitlines()
               if l.startswith("{")]
        if p.returncode == 0 and got:
            print(json.dumps(got[-1]), flush=True)
        else:
            err = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])
            print(json.dumps({"type": "model", "name": m["name"],
                              "precision": autocast or "fp32",
                              "error": err[-1]}), flush=True)


# ---- table -------------------------------------------------------------------



def cmd_table(args):
    cpu, lethe, tor, info, tinfo = table_args(args)
    tmod = {d["name"]: d for d in tor if d.get("type") == "model"}
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    print("Training throughput (forward + backward + SGD momentum step, train "
          "mode, random data, no data loading)")
    if cpu:
        print(f"CPU: {cpu}")
    print(f"threads: Lethe {info.get('threads')} (OpenBLAS "
          f"{info.get('blas_threads')}, core {info.get('blas_core')})"
          + (f", PyTorch {tinfo['torch']} {tinfo['threads']}" if tinfo
             else ", PyTorch: not run")
          + (f"; load average at the end {load:.2f}" if load is not None
             else ""))
    if load is not None:
        own = min(info.get("threads") or 1, os.cpu_count() or 1)
        print(f"      ({os.cpu_count()} CPUs; the benchmark itself accounts "
              f"for about {own}: more means other work ran and the numbers "
              f"are noisy)")
    if os.environ.get("BENCH_CORE_NOTE"):
        print("note: " + os.environ["BENCH_CORE_NOTE"])
    print(f"optimizer: {info.get('optim', '?')} (both sides); median step "
          f"time of >= 3 steps lasting >= {info.get('min_time')} s after "
          f"warm-up; each model in a fresh process per side")
    print("memory: Lethe = arena peak + parameters (theta, grad) + momentum; "
          "RSS = peak resident set (getrusage), base = before the first step")
    print("N = timed steps per side; ms = median step time; ratio = Lethe "
          "samples/s / PyTorch samples/s (> 1: Lethe faster)")
    print()
    head = ["model", "input", "batch", "params", "N", "Lethe ms",
            "samples/s", "N", "torch ms", "samples/s", "ratio",
            "Lethe MB", "Lethe RSS (base)", "torch RSS (base)"]
    rows, errors, notes = [], [], []
    for m in (d for d in lethe if d.get("type") == "model"):
        t = tmod.get(m["name"], {})
        for side, d in (("Lethe", m), ("PyTorch", t)):
            if "error" in d:
                errors.append(f"{m['name']}: {side}: {d['error']}")
        if "error" in m:
            rows.append([m["name"], "-", "-", "-", "-", "ERROR"] +
                        ["-"] * (len(head) - 6))
            continue
        if "params" in t and t["params"] != m["params"]:
            notes.append(f"{m['name']}: parameter counts differ (Lethe "
                         f"{m['params']}, PyTorch {t['params']})")
        ts = t.get("samples_s")
        ratio = m["samples_s"] / ts if ts else None
        rows.append([
            m["name"], "x".join(str(v) for v in m["input"]), str(m["batch"]),
            f"{m['params'] / 1e6:.2f}M", str(m["reps"]), fmt(m["ms"], ".1f"),
            fmt(m["samples_s"], ".1f"), fmt(t.get("reps"), "d"),
            fmt(t.get("ms"), ".1f"), fmt(ts, ".1f"), fmt(ratio, ".2f"),
            fmt(m["lethe_mb"], ".0f"),
            f"{m['rss_peak_mb']:.0f} ({m['rss_base_mb']:.0f})",
            (f"{t['rss_peak_mb']:.0f} ({t['rss_base_mb']:.0f})"
             if "rss_peak_mb" in t else "-")])
    width = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    left = {0, 1}
    for r in [head] + rows:
        print("  ".join(v.ljust(width[i]) if i in left else v.rjust(width[i])
                        for i, v in enumerate(r)).rstrip())
    for n in notes:
        print("note: " + n)
    for e in errors:
        print("error: " + e)


def main():
    cmds = {"run": cmd_run, "one": cmd_one, "table": cmd_table}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    cmds[sys.argv[1]](sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
