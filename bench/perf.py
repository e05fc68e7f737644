#!/usr/bin/python3
"""perf.py - `make bench`'s driver: Lethe (fp32 and bf16) next to PyTorch
(fp32 and bf16 autocast) on the ops and the training workloads of issue
#15, in one run with one thread count, and the joined markdown table.

  perf.py run BUILD [--threads N] [--quick] [--part P[,P...]] [--out DIR]
                    [--only CASES] [--train-only MODELS] [--min-time S]
                    [--train-time S]
      run every side, write DIR/perf.jsonl (every JSON line of every side,
      tagged with "bench" (peaks, ops, train, lm, dm), "side" (lethe,
      torch) and "run" (fp32, bf16; start, end for the peaks); a side that
      failed leaves a "failed" line) and DIR/perf.md (the tables),
      and print the tables
  perf.py table DIR
      write DIR/perf.md again from DIR/perf.jsonl and print it

Parts: ops (bench_ops / torch_ops.py), train (bench_train /
torch_train.py: mlp, resnet8, resnet18), lm (bench_lm / torch_lm.py), dm
(bench_dm / torch_dm.py), um2n (bench_um2n_net / torch_um2n.py: UM2N's
M2N_T forward on one mesh and training step on five). Each workload runs four times in this order:
Lethe fp32, PyTorch fp32, Lethe bf16, PyTorch bf16 (alternating the sides,
so that drift in the machine's load hits both); every run is a fresh
process with the same thread count. --quick: min-time 0.3 s, ops cases
mlp.fc1, lm.mlp_up, resnet8.s1, lm.attn, training models mlp and resnet8,
DDIM sampling with 8 samples and 10 steps (for checking the output, not
for numbers). Defaults: DIR out/bench, threads nproc, min-time 0.5 s (ops)
and 3 s (training steps). The columns and the targets are described in
docs/performance.md ("## Benchmarks").
"""
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from benchlib import fmt, read_jsonl  # noqa: E402
from torch_ops import shape_str  # noqa: E402

PARTS = ("ops", "train", "lm", "dm", "um2n")
MODELS = ("mlp", "resnet8", "resnet18")
RUNS = (("lethe", "fp32"), ("torch", "fp32"), ("lethe", "bf16"),
        ("torch", "bf16"))
QUICK_OPS = "mlp.fc1,lm.mlp_up,resnet8.s1,lm.attn"
QUICK_MODELS = ("mlp", "resnet8")
# Targets of issue #15: (Lethe run, PyTorch run, minimum speed-up).
TARGETS = (("bf16", "fp32", 3.0), ("bf16", "bf16", 1.5), ("fp32", "fp32", 1.5))
GEMM_TARGET = 0.60  # GEMM-bound steps: >= 60% of the bf16 GEMM peak
TRAIN_ROWS = (("train", "mlp", "MLP 784-512-512-10, b256"),
              ("train", "resnet8", "ResNet-8 28x28x1, b128"),
              ("train", "resnet18", "ResNet-18 32x32x3, b128"),
              ("lm", "train", "LM tiny, T 128, b16"),
              ("dm", "train", "diffusion UNet cond:s, b64"))
OTHER_ROWS = (("lm", "generate", "LM tiny generation, 128 tokens"),
              ("dm", "sample", "UNet DDIM sampling"),
              ("um2n", "forward", "UM2N (M2N_T) forward, 1 mesh"),
              ("um2n", "train", "UM2N (M2N_T) train step (Adam), 5 meshes"))


# ---- running ---------------------------------------------------------------

def python():
    return os.environ.get("PYTHON") or "/usr/bin/python3"


def log(msg):
    sys.stderr.write("bench: " + msg + "\n")
    sys.stderr.flush()


def run_to(cmd, path):
    """Runs cmd with stdout into path (stderr passed on); None if it
    succeeded, else a line saying how it failed."""
    with open(path, "w") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(p.stderr)
    if p.returncode == 0:
        return None
    last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
    msg = f"{os.path.basename(cmd[1] if cmd[0] == python() else cmd[0])} " \
          f"exited with {p.returncode}: {last}"
    log(msg)
    return msg


def ops_cmds(o, prec, lpath):
    lethe = [os.path.join(o["build"], "bench_ops"), "--threads", o["threads"],
             "--min-time", o["min_time"], "--precision", prec]
    if o["only"]:
        lethe += ["--only", o["only"]]
    torch = [python(), os.path.join(HERE, "torch_ops.py"), "run",
             "--threads", o["threads"], "--autocast", prec, lpath]
    return lethe, torch


def train_cmds(o, prec, lpath, model):
    lethe = [os.path.join(o["build"], "bench_train"), "--threads",
             o["threads"], "--min-time", o["train_time"], "--only", model,
             "--precision", prec]
    torch = [python(), os.path.join(HERE, "torch_train.py"), "run",
             "--threads", o["threads"], "--autocast", prec, lpath]
    return lethe, torch


def lm_cmds(o, prec, lpath):
    lethe = [os.path.join(o["build"], "bench_lm"), "--threads", o["threads"],
             "--min-time", o["train_time"], "--precision", prec]
    torch = [python(), os.path.join(HERE, "torch_lm.py"), "run",
             "--threads", o["threads"], "--autocast", prec, lpath]
    return lethe, torch


def dm_cmds(o, prec, lpath):
    extra = ["--samples", "8", "--steps", "10"] if o["quick"] else []
    lethe = [os.path.join(o["build"], "bench_dm"), "--threads", o["threads"],
             "--min-time", o["train_time"], "--precision", prec] + extra
    torch = [python(), os.path.join(HERE, "torch_dm.py"), "run",
             "--threads", o["threads"], "--min-time", o["train_time"],
             "--autocast", prec] + extra
    return lethe, torch


def um2n_cmds(o, prec, lpath):
    extra = ["--grid", "8"] if o["quick"] else []
    lethe = [os.path.join(o["build"], "bench_um2n_net"), "--threads",
             o["threads"], "--min-time", o["train_time"], "--precision",
             prec] + extra
    torch = [python(), os.path.join(HERE, "torch_um2n.py"), "run",
             "--threads", o["threads"], "--min-time", o["train_time"],
             "--autocast", prec] + extra + [lpath]
    return lethe, torch


def run_peaks(o, tmp, have_torch, when):
    """The GEMM peaks alone (bench_ops --peaks, torch_ops.py peaks)."""
    out = []
    cmds = [("lethe", [os.path.join(o["build"], "bench_ops"), "--threads",
                       o["threads"], "--peaks"])]
    if have_torch:
        cmds.append(("torch", [python(), os.path.join(HERE, "torch_ops.py"),
                               "peaks", "--threads", o["threads"]]))
    log(f"GEMM peaks ({when})...")
    for side, cmd in cmds:
        path = os.path.join(tmp, f"peaks_{when}_{side}.jsonl")
        failed = run_to(cmd, path)
        got = read_jsonl(path)
        if failed:
            got.append({"type": "failed", "name": "peaks", "error": failed})
        for d in got:
            d.update(bench="peaks", side=side, run=when)
            out.append(d)
    return out


def run_workload(o, part, key, make_cmds, tmp, have_torch):
    """The four runs of one workload, alternating; returns tagged lines."""
    out, lpath = [], None
    for side, prec in RUNS:
        if side == "torch" and not have_torch:
            continue
        path = os.path.join(tmp, f"{part}_{key}_{side}_{prec}.jsonl")
        if side == "lethe":
            lpath = path
        lcmd, tcmd = make_cmds(prec, lpath)
        log(f"{part} {key}: {'Lethe' if side == 'lethe' else 'PyTorch'} "
            f"{prec} ({o['threads']} threads)...")
        failed = run_to(lcmd if side == "lethe" else tcmd, path)
        got = read_jsonl(path)
        if failed:
            got.append({"type": "failed", "name": key, "error": failed})
        for d in got:
            d.update(bench=part, side=side, run=prec)
            out.append(d)
    return out


def header(o, argv):
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  cwd=ROOT).stdout.strip()
        except OSError:
            return ""
    model = ""
    for line in sh(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    commit = sh(["git", "rev-parse", "--short", "HEAD"]) or "?"
    if sh(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    env = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                   if (k.startswith("BENCH_") and k != "BENCH_CORE_NOTE")
                   or k == "LETHE_BF16_BACKEND")
    return {"type": "header", "command": " ".join(argv), "env": env,
            "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "cpu": model or platform.processor() or "?",
            "amx_bf16": "amx_bf16" in flags,
            "avx512_bf16": "avx512_bf16" in flags,
            "logical_cpus": os.cpu_count(), "threads": int(o["threads"]),
            "quick": o["quick"], "min_time": float(o["min_time"]),
            "train_time": float(o["train_time"]),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
            "note": os.environ.get("BENCH_CORE_NOTE"),
            "load_start": os.getloadavg()[0]}


def parse_run_args(args):
    if not args:
        raise SystemExit("perf.py run: need the build folder")
    o = {"build": args[0], "threads": str(os.cpu_count() or 1),
         "quick": False, "parts": list(PARTS), "out": "out/bench",
         "only": None, "train_only": None, "min_time": None,
         "train_time": None}
    it = iter(args[1:])
    for a in it:
        if a == "--quick":
            o["quick"] = True
        elif a in ("--threads", "--part", "--out", "--only", "--train-only",
                   "--min-time", "--train-time"):
            v = next(it, None)
            if v is None:
                raise SystemExit(f"perf.py run: {a} needs a value")
            if a == "--part":
                o["parts"] = v.split(",")
            else:
                o[a[2:].replace("-", "_")] = v
        else:
            raise SystemExit("perf.py run: unknown option " + a)
    bad = [p for p in o["parts"] if p not in PARTS]
    if bad:
        raise SystemExit(f"perf.py run: --part {','.join(bad)}: not one of "
                         f"{', '.join(PARTS)}")
    o["min_time"] = o["min_time"] or ("0.3" if o["quick"] else "0.5")
    o["train_time"] = o["train_time"] or ("0.3" if o["quick"] else "3")
    for key, conv, least in (("threads", int, 1), ("min_time", float, 0),
                             ("train_time", float, 0)):
        try:
            ok = conv(o[key]) >= least
        except ValueError:
            ok = False
        if not ok:
            raise SystemExit(f"perf.py run: --{key.replace('_', '-')} "
                             f"'{o[key]}' is not a number >= {least}")
    if o["quick"] and not o["only"]:
        o["only"] = QUICK_OPS
    return o


def cmd_run(args):
    o = parse_run_args(args)
    have_torch = subprocess.run([python(), "-c", "import torch"],
                                stderr=subprocess.DEVNULL).returncode == 0
    if not have_torch:
        log(f"PyTorch not found with {python()}: Lethe side only")
    lines = [header(o, ["bench/perf.py", "run"] + args)]
    models = ([m for m in MODELS if o["train_only"] in m]
              if o["train_only"] else
              list(QUICK_MODELS if o["quick"] else MODELS))
    with tempfile.TemporaryDirectory() as tmp:
        lines += run_peaks(o, tmp, have_torch, "start")
        for part in PARTS:
            if part not in o["parts"]:
                continue
            if part == "train":
                for m in models:
                    lines += run_workload(
                        o, part, m, lambda p, lp, m=m:
                        train_cmds(o, p, lp, m), tmp, have_torch)
                continue
            make = {"ops": ops_cmds, "lm": lm_cmds, "dm": dm_cmds,
                    "um2n": um2n_cmds}[part]
            lines += run_workload(o, part, part,
                                  lambda p, lp, make=make: make(o, p, lp),
                                  tmp, have_torch)
        lines += run_peaks(o, tmp, have_torch, "end")
    lines[0]["load_end"] = os.getloadavg()[0]
    os.makedirs(o["out"], exist_ok=True)
    write_atomic(os.path.join(o["out"], "perf.jsonl"),
                 "".join(json.dumps(d) + "\n" for d in lines))
    return render(o["out"], lines)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ---- the tables ------------------------------------------------------------

def pick(lines, part, side, run, typ, key=None, keyfield="name"):
    for d in lines:
        if (d.get("bench") == part and d.get("side") == side and
                d.get("run") == run and d.get("type") == typ and
                (key is None or d.get(keyfield) == key)):
            return d
    return None


def step_ms(d):
    """Median step time (ms) of a model / lm / dm line, None if absent."""
    if not d or "error" in d:
        return None
    if "ms" in d:
        return d["ms"]
    return 1e3 * d["seconds"] if "seconds" in d else None


def row_lines(lines, part, key):
    typ = {"train": "model", "lm": "lm", "dm": "dm", "um2n": "um2n"}[part]
    field = "part" if part == "dm" else "name"
    return {(side, run): pick(lines, part, side, run, typ, key, field)
            for side, run in RUNS}


def mark(ok):
    return "✓" if ok else "✗"


def ratio_cell(lt, pt, target=None):
    if lt is None or pt is None:
        return "-"
    r = pt / lt
    return f"{r:.2f}×" + (f" {mark(r >= target)}" if target else "")


def rss_cell(d_l, d_t):
    lr = d_l.get("rss_peak_mb") if d_l else None
    tr = d_t.get("rss_peak_mb") if d_t else None
    if lr is None or tr is None:
        return f"{fmt(lr, '.0f')} / {fmt(tr, '.0f')}"
    return f"{lr:.0f} / {tr:.0f} {mark(lr <= tr)}"


def row_label(label, d):
    """The label, with the sampling pass's sizes when it is one."""
    v = next((x for x in d.values() if x and "steps" in x), None)
    if label.startswith("UNet DDIM") and v:
        return (f"UNet DDIM-{v['steps']} sampling, {v['samples']} images, "
                f"guidance")
    n = next((x["nodes"] for x in d.values() if x and "nodes" in x), None)
    if label.startswith("UM2N") and n:
        return f"{label} of {n} nodes"
    return label


def train_table(lines, rows, with_targets):
    t = [f"{a}×" for _, _, a in TARGETS]
    head = ["workload", "Lethe fp32 ms", "Lethe bf16 ms", "PyTorch fp32 ms",
            "PyTorch bf16 ms",
            f"Lethe bf16 vs PyTorch fp32 (≥{t[0]})" if with_targets else
            "Lethe bf16 vs PyTorch fp32",
            f"Lethe bf16 vs PyTorch bf16 (≥{t[1]})" if with_targets else
            "Lethe bf16 vs PyTorch bf16",
            f"Lethe fp32 vs PyTorch fp32 (≥{t[2]})" if with_targets else
            "Lethe fp32 vs PyTorch fp32",
            "peak RSS MB fp32, Lethe / PyTorch" + (" (≤)" if with_targets
                                                   else ""),
            "peak RSS MB bf16, Lethe / PyTorch" + (" (≤)" if with_targets
                                                   else "")]
    out, met = [head], []
    for part, key, label in rows:
        d = row_lines(lines, part, key)
        if all(v is None for v in d.values()):
            continue
        label = row_label(label, d)
        ms = {k: step_ms(v) for k, v in d.items()}
        cells = [label] + [fmt(ms[k], ".1f") for k in RUNS_ORDER]
        for lrun, trun, tgt in TARGETS:
            lt, pt = ms[("lethe", lrun)], ms[("torch", trun)]
            cells.append(ratio_cell(lt, pt, tgt if with_targets else None))
            if with_targets and lt and pt:
                met.append(pt / lt >= tgt)
        for run in ("fp32", "bf16"):
            dl, dt = d[("lethe", run)], d[("torch", run)]
            if not with_targets:
                cells.append(f"{fmt(dl and dl.get('rss_peak_mb'), '.0f')} / "
                             f"{fmt(dt and dt.get('rss_peak_mb'), '.0f')}")
                continue
            cells.append(rss_cell(dl, dt))
            if dl and dt and "rss_peak_mb" in dl and "rss_peak_mb" in dt:
                met.append(dl["rss_peak_mb"] <= dt["rss_peak_mb"])
        out.append(cells)
    return (md_table(out) if len(out) > 1 else "(no results)\n"), met


RUNS_ORDER = (("lethe", "fp32"), ("lethe", "bf16"), ("torch", "fp32"),
              ("torch", "bf16"))


def md_table(rows):
    s = "| " + " | ".join(rows[0]) + " |\n"
    s += "|" + "|".join("---" if i == 0 else "---:"
                        for i in range(len(rows[0]))) + "|\n"
    for r in rows[1:]:
        s += "| " + " | ".join(r) + " |\n"
    return s


def peaks(lines):
    """{(kind, impl): best GFLOP/s} over every run's peak lines."""
    best = {}
    for d in lines:
        if d.get("type") == "peak" and d.get("gflops"):
            k = (d.get("kind", "sgemm"), d.get("impl", "openblas"))
            best[k] = max(best.get(k, 0), d["gflops"])
    return best


def peak_values(lines):
    pk = peaks(lines)
    sg = max([v for (k, _), v in pk.items() if k == "sgemm"] or [0]) or None
    bf = pk.get(("bf16", "onednn"))
    return pk, sg, bf


def pct(v, peak):
    return f"{100 * v / peak:.0f}%" if v and peak else "-"


def gemm_table(lines, bf):
    head = ["GEMM-bound step", "GEMM GFLOP/step", "Lethe fp32", "Lethe bf16",
            "PyTorch fp32", "PyTorch bf16",
            f"Lethe bf16 % of bf16 peak (≥{100 * GEMM_TARGET:.0f}%)"]
    out, met = [head], []
    for part, key, label in (("train", "mlp", "MLP 784-512-512-10, b256"),
                             ("lm", "train", "LM tiny, T 128, b16")):
        d = row_lines(lines, part, key)
        flop = next((v["gemm_flop"] for v in d.values()
                     if v and v.get("gemm_flop")), None)
        if not flop:
            continue
        cells = [label, f"{flop * 1e-9:.2f}"]
        for k in RUNS_ORDER:
            ms = step_ms(d[k])
            gf = flop / ms * 1e-6 if ms else None
            cells.append(f"{fmt(gf, '.1f')} ({pct(gf, bf)})" if gf else "-")
        ms = step_ms(d[("lethe", "bf16")])
        if ms and bf:
            frac = flop / ms * 1e-6 / bf
            met.append(frac >= GEMM_TARGET)
            cells.append(f"{100 * frac:.0f}% {mark(frac >= GEMM_TARGET)}")
        else:
            cells.append("-")
        out.append(cells)
    return (md_table(out) if len(out) > 1 else "(no results)\n"), met


def ops_table(lines, sg, bf):
    cases = [d for d in lines if d.get("bench") == "ops" and
             d.get("side") == "lethe" and d.get("run") == "fp32" and
             d.get("type") == "case"]
    if not cases:
        cases = [d for d in lines if d.get("bench") == "ops" and
                 d.get("side") == "lethe" and d.get("type") == "case"]
    head = ["case", "shape", "Lethe fp32 GFLOP/s (% SGEMM)",
            "Lethe bf16 GFLOP/s (% bf16)", "PyTorch fp32 GFLOP/s (% SGEMM)",
            "PyTorch bf16 GFLOP/s (% bf16)", "Lethe bf16 vs PyTorch bf16",
            "Lethe fp32 vs PyTorch fp32"]
    out, seen = [head], set()
    for c in cases:
        if c["name"] in seen:
            continue
        seen.add(c["name"])
        v = {}
        for side, run in RUNS:
            d = pick(lines, "ops", side, run, "case", c["name"])
            v[(side, run)] = d if d and "error" not in d else None
        cells = [c["name"], shape_str(c).replace("|", "/")]
        for side, run in RUNS_ORDER:
            d = v[(side, run)]
            g = d.get("gflops") if d else None
            cells.append(f"{g:.1f} ({pct(g, sg if run == 'fp32' else bf)})"
                         if g else "-")
        for run in ("bf16", "fp32"):
            lt, pt = v[("lethe", run)], v[("torch", run)]
            cells.append(ratio_cell(lt and lt["ms"], pt and pt["ms"]))
        out.append(cells)
    return md_table(out) if len(out) > 1 else "(no results)\n"


def errors(lines):
    out = []
    for d in lines:
        if "error" in d:
            who = d.get("name") or d.get("part")
            out.append(f"- {d.get('bench')} {who}: "
                       f"{'Lethe' if d.get('side') == 'lethe' else 'PyTorch'}"
                       f" {d.get('run')}: {d['error']}")
    return out


def infos(lines):
    """Thread counts and versions from the sides' info lines."""
    th, torch_v, backend, core = set(), None, None, None
    for d in lines:
        if d.get("type") != "info":
            continue
        if "threads" in d:
            th.add(d["threads"])
        torch_v = d.get("torch", torch_v)
        backend = d.get("backend", backend)
        core = d.get("blas_core", core)
    return th, torch_v, backend, core


def header_md(h, lines, pk, sg, bf):
    th, torch_v, backend, core = infos(lines)
    s = ["# Lethe vs PyTorch: issue #15 benchmark", "",
         f"- command: `{h.get('command')}`"
         + (f" (environment: `{h['env']}`)" if h.get("env") else "")
         + (" (quick mode: for checking the output, not for numbers)"
            if h.get("quick") else ""),
         f"- commit: {h.get('commit')}; date: {h.get('date')}",
         f"- CPU: {h.get('cpu')} ({h.get('logical_cpus')} logical CPUs); "
         f"amx_bf16 in /proc/cpuinfo flags: "
         f"{'yes' if h.get('amx_bf16') else 'no'}; avx512_bf16: "
         f"{'yes' if h.get('avx512_bf16') else 'no'}",
         f"- threads: {h.get('threads')} on both sides (reported by the runs:"
         f" {', '.join(str(t) for t in sorted(th)) or '?'}"
         + ("; MISMATCH" if len(th) > 1 else "") + ")",
         f"- Lethe: matrix-product backend {backend or '?'}, OpenBLAS core "
         f"{core or '?'}"
         + (f" (OPENBLAS_CORETYPE={h['openblas_coretype']})"
            if h.get("openblas_coretype") else "")
         + f"; PyTorch {torch_v or 'not run'}",
         f"- timing: median step time after a warm-up; ops >= "
         f"{h.get('min_time')} s of steps per case and run, training steps "
         f">= {h.get('train_time')} s (at least 3 steps); runs alternate "
         f"Lethe fp32, PyTorch fp32, Lethe bf16, PyTorch bf16 per workload",
         f"- load average (1 min) at the start {h.get('load_start', 0):.2f}, "
         f"at the end {fmt(h.get('load_end'), '.2f')} (more than the thread "
         f"count means other work ran: noisy numbers)"]
    if h.get("note"):
        s.append("- note: " + h["note"])
    impl = next((d["dnnl_impl"] for d in lines if d.get("dnnl_impl")),
                "?")
    peaks_s = ", ".join(f"{k} {i} {v:.1f}" for (k, i), v in sorted(pk.items()))
    s.append(f"- GEMM peaks (1024³, best of 16 calls, every run's best): "
             f"{peaks_s or 'not measured'}; SGEMM peak = "
             f"{fmt(sg, '.1f')} GFLOP/s (best fp32), bf16 peak = "
             f"{fmt(bf, '.1f')} GFLOP/s (oneDNN bf16 matmul, implementation "
             f"{impl})")
    return "\n".join(s) + "\n"


def render(out_dir, lines):
    h = next((d for d in lines if d.get("type") == "header"), {})
    pk, sg, bf = peak_values(lines)
    parts = [header_md(h, lines, pk, sg, bf)]
    met = []
    tt, m = train_table(lines, TRAIN_ROWS, True)
    met += m
    parts.append("## Training steps\n\nms = median step time; a ratio = "
                 "PyTorch ms / Lethe ms (> 1: Lethe faster), marked against "
                 "its target; peak RSS marked against Lethe ≤ PyTorch.\n\n"
                 + tt)
    gt, m = gemm_table(lines, bf)
    met += m
    parts.append("## GEMM-bound steps\n\nGFLOP/s of the whole step counted "
                 "from its linear layers' GEMMs (3 per layer: forward, input "
                 "gradient, weight gradient; attention's products not "
                 "counted), in brackets % of the bf16 GEMM peak.\n\n" + gt)
    ot, _ = train_table(lines, OTHER_ROWS, False)
    if "(no results)" not in ot:
        parts.append("## Other parts (no targets)\n\n" + ot)
    parts.append("## Ops (forward + backward)\n\nGFLOP/s per case (FLOP "
                 "convention of bench_ops.c); fp32 columns in % of the SGEMM "
                 "peak, bf16 columns in % of the bf16 GEMM peak; ratios = "
                 "PyTorch ms / Lethe ms.\n\n" + ops_table(lines, sg, bf))
    err = errors(lines)
    summary = (f"## Summary\n\ntargets met: {sum(met)} of {len(met)}"
               + ("\n\n### Errors\n\n" + "\n".join(err) if err else "")
               + "\n")
    parts.append(summary)
    text = "\n".join(parts)
    write_atomic(os.path.join(out_dir, "perf.md"), text)
    print(text)
    log(f"wrote {os.path.join(out_dir, 'perf.md')} and "
        f"{os.path.join(out_dir, 'perf.jsonl')}")
    return 0


def cmd_table(args):
    if len(args) != 1:
        raise SystemExit("perf.py table: need the output folder")
    path = os.path.join(args[0], "perf.jsonl")
    if not os.path.exists(path):
        raise SystemExit(f"perf.py table: {path} not found")
    return render(args[0], read_jsonl(path))


def main():
    cmds = {"run": cmd_run, "table": cmd_table}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
