"""benchlib.py - helpers shared by the PyTorch sides of the benchmarks
(bench/torch_*.py): reading the JSON lines the C benchmarks print, number
formatting, the table scripts' argument parsing, the timing loop of
torch_lm.py and torch_um2n.py, and the twins' normalisations in fp32 under
bf16 autocast (torch_dm.py, torch_um2n.py)."""
import json
import statistics
import time


def time_runs(fn, min_time):
    """Runs fn until >= 0.5 s and >= 1 run have passed (the warm-up), then
    N timed runs lasting >= min_time (3 <= N <= 1000); (warm-up runs,
    seconds of each timed run)."""
    t0 = time.perf_counter()
    warm = 0
    while warm < 1 or time.perf_counter() - t0 < 0.5:
        fn()
        warm += 1
    per = (time.perf_counter() - t0) / warm
    n = min(max(int(min_time / per) + 1, 3), 1000)
    tot = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        tot.append(time.perf_counter() - t)
    return warm, tot


def timing_fields(warm, tot):
    """The JSON fields of a time_runs result."""
    return {"warmup": warm, "reps": len(tot),
            "ms": 1e3 * statistics.median(tot), "ms_min": 1e3 * min(tot),
            "ms_mean": 1e3 * sum(tot) / len(tot)}


def read_jsonl(path):
    """The JSON objects of a file, one per line (other lines ignored)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table_args(args):
    """[--cpu NAME] LETHE.jsonl [TORCH.jsonl] -> (cpu, lethe rows, torch rows,
    lethe info, torch info)."""
    cpu, paths = None, []
    it = iter(args)
    for a in it:
        if a == "--cpu":
            cpu = next(it)
        else:
            paths.append(a)
    lethe = read_jsonl(paths[0])
    tor = read_jsonl(paths[1]) if len(paths) > 1 else []
    info = next((d for d in lethe if d.get("type") == "info"), {})
    tinfo = next((d for d in tor if d.get("type") == "info"), None)
    return cpu, lethe, tor, info, tinfo


def fp32_norms(torch, model):
    """GroupNorm and LayerNorm in fp32 under autocast. PyTorch 1.13's CPU
    autocast leaves group_norm and layer_norm off its lists and their
    kernels reject a bf16 input with fp32 weights; later versions run them
    in fp32, which this does (the input is cast up, the result stays fp32,
    the next layer casts it down again)."""
    F = torch.nn.functional

    def patch(mod):
        def forward(x):
            with torch.autocast("cpu", enabled=False):
                if isinstance(mod, torch.nn.GroupNorm):
                    return F.group_norm(x.float(), mod.num_groups,
                                        mod.weight, mod.bias, mod.eps)
                return F.layer_norm(x.float(), mod.normalized_shape,
                                    mod.weight, mod.bias, mod.eps)
        mod.forward = forward
    for mod in model.modules():
        if isinstance(mod, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
            patch(mod)
