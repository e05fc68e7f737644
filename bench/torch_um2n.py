#!/usr/bin/python3
"""torch_um2n.py - the PyTorch side of `make bench`'s UM2N rows: the plain
PyTorch twin of M2N_T in tests/golden/gen_um2n.py (the modules written
after the official UM2N code, message passing and Chamfer by hand) timed
as bench/bench_um2n_net.c times Lethe's network.

  torch_um2n.py run [--threads N] [--autocast bf16] [--grid G]
                    [--min-time S] [LETHE.jsonl]
      one JSON line per pass kind: {"type": "um2n", "name": "forward" |
      "train", ...}; min-time and grid default to those of the Lethe
      side's info line when LETHE.jsonl is given

The case is bench_um2n_net.c's: the unit square cut into G x G squares
along the diagonal from (x, y) to (x + h, y + h) (G 22: 529 nodes), five
meshes whose monitor is 1 + 5 exp(-|x - c|^2 / 0.02) / its maximum, target
x + 0.03 sin(pi x) sin(pi y) (c - x). forward: model.eval() under
torch.no_grad() on one mesh. train: model.train(), the area loss (divided
by 5) + 100 x Chamfer on the batch of five, backward,
torch.optim.Adam(lr 5e-5, weight_decay 5e-4).step(). Time: wall clock; after
a warm-up (>= 1 pass and >= 0.5 s) the median of N passes lasting
>= min-time (at least 3). With --autocast bf16 the forward and the loss run
under torch.autocast("cpu", dtype=torch.bfloat16), with LayerNorm in fp32
(benchlib.fp32_norms: PyTorch 1.13's CPU autocast leaves layer_norm off its
lists and its kernel rejects a bf16 input with fp32 weights, as
torch_dm.py's GroupNorm); a pass the twin cannot run so prints an "error"
line. PyTorch is used here only, never by the
library.
"""
import contextlib
import json
import math
import os
import resource
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "tests", "golden")
sys.path.insert(0, HERE)
sys.path.insert(0, GOLDEN)
from benchlib import (fp32_norms, read_jsonl, time_runs,  # noqa: E402
                      timing_fields)

N_MESH = 5


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def square_grid(g):
    """lt_mesh_square_grid: vertices row by row, each square cut along the
    diagonal from (x, y) to (x + h, y + h), counter-clockwise."""
    import numpy as np
    n = g + 1
    xs = np.linspace(0.0, 1.0, n)
    pts = np.array([(xs[i], xs[j]) for j in range(n) for i in range(n)])
    faces = []
    for j in range(g):
        for i in range(g):
            a, b = j * n + i, j * n + i + 1
            faces += [(a, b, b + n), (a, b + n, a + n)]
    return pts, np.array(faces, dtype=np.int64)


def make_case(g):
    import torch
    import gen_um2n as gu
    pts, faces = square_grid(g)
    n = pts.shape[0]
    edges = gu.find_edges(faces, n)
    p = torch.from_numpy(pts).float()
    bd = ((p[:, 0] == 0) | (p[:, 0] == 1) | (p[:, 1] == 0) |
          (p[:, 1] == 1)).float()
    xs, feats, tars = [], [], []
    for k in range(N_MESH):
        cx, cy = 0.2 + 0.15 * k, 0.7 - 0.1 * k
        m = 1 + 5 * torch.exp(-((p[:, 0] - cx) ** 2 + (p[:, 1] - cy) ** 2)
                              / 0.02)
        s = 0.03 * torch.sin(math.pi * p[:, 0]) * torch.sin(math.pi * p[:, 1])
        xs.append(torch.cat([p, bd[:, None]], 1))
        feats.append(torch.cat([p, (m / m.max())[:, None]], 1))
        tars.append(p + s[:, None] * (torch.tensor([cx, cy]) - p))
    src = torch.cat([edges[0] + k * n for k in range(N_MESH)])
    dst = torch.cat([edges[1] + k * n for k in range(N_MESH)])
    face = torch.cat([torch.from_numpy(faces).T + k * n
                      for k in range(N_MESH)], 1)
    one = (xs[0], feats[0], edges[0], edges[1])
    batch = (torch.cat(xs), torch.cat(feats), src, dst, face, torch.cat(tars))
    return n, one, batch


def cmd_run(args):
    threads, autocast, grid, min_time, path = None, None, None, None, None
    it = iter(args)
    for a in it:
        if a in ("--threads", "--autocast", "--grid", "--min-time"):
            v = next(it, None)
            if v is None:
                raise SystemExit(f"torch_um2n.py: {a} needs a value")
            if a == "--threads":
                threads = int(v)
            elif a == "--autocast":
                autocast = v if v == "bf16" else None
            elif a == "--grid":
                grid = int(v)
            else:
                min_time = float(v)
        elif a.startswith("--"):
            raise SystemExit("torch_um2n.py: unknown option " + a)
        else:
            path = a
    info = {}
    if path and os.path.exists(path):
        info = next((d for d in read_jsonl(path)
                     if d.get("type") == "info"), {})
    min_time = min_time or info.get("min_time", 3.0)
    import torch
    import gen_um2n as gu
    if threads:
        torch.set_num_threads(threads)
    prec = autocast or "fp32"
    print(json.dumps({"type": "info", "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "precision": prec,
                      "min_time": min_time}), flush=True)
    lethe = {d.get("name"): d for d in (read_jsonl(path) if path and
                                        os.path.exists(path) else [])
             if d.get("type") == "um2n"}
    g = grid or next((round(math.sqrt(d["nodes"])) - 1 for d in lethe.values()
                      if "nodes" in d), 22)
    torch.manual_seed(1)
    n, one, batch = make_case(g)
    model = gu.M2N_T()
    if autocast:
        fp32_norms(torch, model)
    opt = torch.optim.Adam(model.parameters(), lr=5e-5, betas=(0.9, 0.999),
                           eps=1e-08, weight_decay=5e-4)

    def ctx():
        return (torch.autocast("cpu", dtype=torch.bfloat16) if autocast
                else contextlib.nullcontext())

    def forward():
        model.eval()
        with torch.no_grad(), ctx():
            model(one[0], one[1], one[2], one[3], 1)

    def train():
        model.train()
        x, feat, src, dst, face, tar = batch
        opt.zero_grad(set_to_none=True)
        with ctx():
            out = model(x, feat, src, dst, N_MESH)[-1]
            loss = (gu.area_loss(out.float(), tar, face, N_MESH) +
                    100 * gu.chamfer(out.float(), tar))
        loss.backward()
        opt.step()

    params = sum(p.numel() for p in model.parameters())
    for name, fn, graphs in (("forward", forward, 1),
                             ("train", train, N_MESH)):
        try:
            warm, tot = time_runs(fn, min_time)
        except RuntimeError as e:
            print(json.dumps({"type": "um2n", "name": name, "precision": prec,
                              "error": str(e).splitlines()[0]}), flush=True)
            continue
        print(json.dumps({
            "type": "um2n", "name": name, "precision": prec, "nodes": n,
            "graphs": graphs, "params": params, **timing_fields(warm, tot),
            "threads": torch.get_num_threads(), "rss_peak_mb": rss_mb()}),
            flush=True)


def main():
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        sys.stderr.write(__doc__)
        return 2
    cmd_run(sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
