#!/usr/bin/python3
"""torch_dm.py - the PyTorch side of the diffusion benchmark, and its table.

  torch_dm.py bench BUILD/bench_dm [--threads N] [--min-time S] [--cpu NAME]
                   [--precision fp32|bf16]
      run Lethe's bench_dm, then the PyTorch twin the same way (bf16:
      Lethe bf16 against PyTorch bf16 autocast), and print the joined
      table with ratios
  torch_dm.py run [--threads N] [--min-time S] [--batch B] [--samples N]
                  [--steps K] [--autocast bf16]
      time the PyTorch twin only; JSON lines ("info", then one "dm" line
      per part, as bench_dm prints them), for bench/perf.py

The twin is tests/golden/gen_unet.py's UNet (the structure of SalUn's DDPM
Conditional_Model) at the cond:s preset: ch 32, ch_mult 1,2,2, one block per
level, attention at 7x7 and in the middle, GroupNorm with 8 groups, 28x28x1
inputs, 10 classes, no dropout. One training step mirrors bench_dm.c:
opt.zero_grad, the official pixel-summed epsilon loss on fixed random data,
backward, torch.optim.Adam(lr 2e-4).step(). One sampling pass: 16 samples,
DDIM-50 (eta 0) with guidance (1+w)e(c) - w e(null), w = 2, the conditional
and unconditional passes batched together as Lethe does. Time: wall clock;
after a warm-up (>= 1 run and >= 0.5 s) the median of the runs made in
>= min-time (at least 3). With --autocast bf16 the training step's
forward and loss run under torch.autocast("cpu", dtype=torch.bfloat16),
its backward and Adam step outside (PyTorch's recipe), and sampling runs
wholly under autocast; the model and data stay fp32; GroupNorm runs in
fp32 (see benchlib.fp32_norms: PyTorch 1.13 cannot run it on bf16 inputs
with fp32 weights). Memory: the peak RSS
(getrusage) after the training runs and at the end.
"""
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "golden"))
from benchlib import fp32_norms  # noqa: E402


def time_runs(fn, min_time):
    t0 = time.perf_counter()
    while True:
        fn()
        if time.perf_counter() - t0 >= 0.5:
            break
    v = []
    t0 = time.perf_counter()
    while len(v) < 3 or time.perf_counter() - t0 < min_time:
        a = time.perf_counter()
        fn()
        v.append(time.perf_counter() - a)
    return statistics.median(v), len(v)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def torch_side(threads, min_time, batch=64, samples=16, steps=50,
               autocast=None):
    import numpy as np
    import torch
    import gen_unet as gu
    torch.set_num_threads(threads)

    def fwd_ctx():
        return (torch.autocast("cpu", dtype=torch.bfloat16) if autocast
                else contextlib.nullcontext())
    gu.GROUPS = 8
    torch.manual_seed(0)
    m = gu.UNet(32, (1, 2, 2), 1, (7,), 28, 10)
    if autocast:
        fp32_norms(torch, m)
    b = torch.from_numpy(np.linspace(1e-4, 0.02, 1000)).float()
    abar = (1 - b).cumprod(0)
    x0 = torch.rand(batch, 1, 28, 28) * 2 - 1
    e = torch.randn(batch, 1, 28, 28)
    t = torch.randint(0, 1000, (batch,))
    c = torch.arange(batch) % 10
    opt = torch.optim.Adam(m.parameters(), lr=2e-4)

    def train_step():
        opt.zero_grad(set_to_none=True)
        a = abar.index_select(0, t).view(-1, 1, 1, 1)
        xt = x0 * a.sqrt() + e * (1 - a).sqrt()
        with fwd_ctx():
            loss = (e - m(xt, t.float(), c)).square().sum(dim=(1, 2, 3)) \
                .mean()
        loss.backward()
        opt.step()

    cs = torch.arange(samples) % 10
    seq = list(range(0, 1000, 1000 // steps))

    def sample_pass():
        with torch.no_grad(), fwd_ctx():
            x = torch.randn(samples, 1, 28, 28)
            cc = torch.cat([cs, torch.full_like(cs, -1)])
            for k, i in enumerate(reversed(seq)):
                j = i - 1000 // steps
                at, an = abar[i], (abar[j] if j >= 0 else torch.tensor(1.0))
                ee = m(torch.cat([x, x]), torch.full((2 * samples,), float(i)),
                       cc).float()
                et = 3 * ee[:samples] - 2 * ee[samples:]
                x0p = (x - et * (1 - at).sqrt()) / at.sqrt()
                x = an.sqrt() * x0p + (1 - an).sqrt() * et

    prec = autocast or "fp32"
    tt, n1 = time_runs(train_step, min_time)
    rss_train = rss_mb()
    ts, n2 = time_runs(sample_pass, min_time)
    return [{"type": "dm", "part": "train", "precision": prec,
             "batch": batch, "seconds": tt, "runs": n1,
             "images_per_s": batch / tt, "rss_peak_mb": rss_train},
            {"type": "dm", "part": "sample", "precision": prec,
             "samples": samples, "steps": steps, "seconds": ts, "runs": n2,
             "images_per_s": samples / ts, "rss_peak_mb": rss_mb()}]


def cmd_run(argv):
    opt = {"--threads": "1", "--min-time": "3", "--batch": "64",
           "--samples": "16", "--steps": "50", "--autocast": None}
    it = iter(argv)
    for a in it:
        if a not in opt:
            raise SystemExit("torch_dm.py run: unknown option " + a)
        opt[a] = next(it)
    ac = opt["--autocast"]
    if ac not in (None, "bf16", "fp32", "none"):
        raise SystemExit(f"torch_dm.py run: --autocast '{ac}' is not bf16")
    ac = ac if ac == "bf16" else None
    import torch
    print(json.dumps({"type": "info", "side": "torch",
                      "torch": torch.__version__,
                      "threads": int(opt["--threads"]),
                      "precision": ac or "fp32", "autocast": ac}), flush=True)
    for d in torch_side(int(opt["--threads"]), float(opt["--min-time"]),
                        int(opt["--batch"]), int(opt["--samples"]),
                        int(opt["--steps"]), ac):
        print(json.dumps(d), flush=True)
    return 0


def cmd_bench(argv):
    binary, threads, min_time, cpu, prec = argv[0], 1, 3.0, None, "fp32"
    it = iter(argv[1:])
    for a in it:
        if a == "--threads":
            threads = int(next(it))
        elif a == "--min-time":
            min_time = float(next(it))
        elif a == "--cpu":
            cpu = next(it)
        elif a == "--precision":
            prec = next(it)
            if prec not in ("fp32", "bf16"):
                raise SystemExit(f"torch_dm.py bench: --precision '{prec}' "
                                 f"is not fp32 or bf16")
    out = subprocess.run([binary, "--threads", str(threads), "--min-time",
                          str(min_time), "--precision", prec],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return 1
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    info = lines[0]
    lethe = {d["part"]: d for d in lines[1:]}
    try:
        tor = {d["part"]: d for d in torch_side(
            threads, min_time, autocast=prec if prec == "bf16" else None)}
    except ImportError:
        tor = {}
    print(f"Diffusion UNet {info['spec']} ({info['params']} parameters), "
          f"{threads} thread(s), {prec}{', ' + cpu if cpu else ''}")
    print("| part | Lethe images/s | PyTorch fp32 images/s | Lethe / PyTorch |")
    print("|---|---|---|---|")
    names = {"train": "training step, batch 64",
             "sample": "DDIM-50 sampling, 16 images, guidance w=2"}
    for part in ("train", "sample"):
        lv = lethe[part]["images_per_s"]
        tv = tor.get(part, {}).get("images_per_s")
        ratio = f"{lv / tv:.2f}x" if tv else "-"
        tvs = f"{tv:.2f}" if tv else "-"
        print(f"| {names[part]} | {lv:.2f} | {tvs} | {ratio} |")
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        return cmd_run(sys.argv[2:])
    if len(sys.argv) < 3 or sys.argv[1] != "bench":
        sys.stderr.write(__doc__)
        return 2
    return cmd_bench(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
