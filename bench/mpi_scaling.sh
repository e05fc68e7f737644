#!/bin/sh
# mpi_scaling.sh - `make mpi-bench`: how Lethe's MPI scale-out scales on
# this machine (docs/mpi.md, "Scaling"), side by side in one run:
#   1. data-parallel training: `lethe train` of the benchmark MLP
#      (mlp:784-512-512-10, one epoch of Fashion-MNIST, batch 128) as one
#      process with 1 thread, one process with 2 threads, and 2 ranks of 1
#      thread (--dp sum, the same global batch), with the all-reduce after
#      backward and overlapped with it (--dp-overlap), and the same pair
#      for 12 steps of `lethe dm train --model cond:s` (batch 64);
#   2. a sweep: `lethe bench classify` (small: --seeds 2, methods
#      ft,ga,rl,salun, 1 training epoch) as 1 rank and as 2 ranks of 1
#      thread, the reference models trained once beforehand into the cache
#      so both time the rows only.
# For every 2-rank run it reads each rank's "[rank R] collectives" line
# (time inside the collectives: moving data and waiting for the slower
# rank) and reports the communication share and the bytes per step; then
# it projects DP training to K ranks of a cluster from the measured
# compute time per step and volume per step (ring all-reduce model).
# Measure only on an otherwise idle machine: every number here is a
# wall-clock time.
# Usage: sh bench/mpi_scaling.sh [BUILD_MPI] [OUT]   (build-mpi, out/bench)
# Environment: MPI_BENCH_EPOCHS (training epochs, 1), MPI_BENCH_LINK_GBS
# (the cluster link's bandwidth in GB/s for the projection, 12.5 = 100
# Gb/s), MPI_BENCH_LATENCY_US (per-message latency, 2), MPI_BENCH_DATA
# (the data set, fashion-mnist; a cut subset checks the script quickly).
set -eu
BUILD=$(cd "${1:-build-mpi}" && pwd)
OUT=${2:-out/bench}
L="$BUILD/lethe"
[ -x "$L" ] || { echo "mpi_scaling.sh: $L not found (make mpi)" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=passive OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI="mpirun -n 2 --oversubscribe --allow-run-as-root"
EPOCHS=${MPI_BENCH_EPOCHS:-1}
cd "$work"

# run NAME CMD...: time CMD (stdout, stderr to NAME.out/.err), append a line
# "NAME start end" (seconds) to times
run() {
  name=$1; shift
  echo "mpi_scaling.sh: $name" >&2
  t0=$(date +%s.%N)
  "$@" > "$name.out" 2> "$name.err" ||
    { tail "$name.err" >&2; echo "mpi_scaling.sh: $name failed" >&2; exit 1; }
  echo "$name $t0 $(date +%s.%N)" >> times
}

DATA=${MPI_BENCH_DATA:-fashion-mnist}
T="train --model mlp:784-512-512-10 --data $DATA --epochs $EPOCHS --batch 128 --seed 1"
run train-1p1t env OMP_NUM_THREADS=1 "$L" $T --threads 1 --out a.safetensors
run train-1p2t env OMP_NUM_THREADS=2 "$L" $T --threads 2 --out b.safetensors
run train-2r1t $MPI -x OMP_NUM_THREADS=1 "$L" $T --threads 1 --dp sum \
  --out c.safetensors
run train-2r1t-ov $MPI -x OMP_NUM_THREADS=1 "$L" $T --threads 1 --dp sum \
  --dp-overlap --out d.safetensors
D="dm train --model cond:s --data $DATA --steps 12 --batch 64 --seed 1 --ckpt-every 1000 --threads 1 --dp sum"
run dm-2r1t $MPI -x OMP_NUM_THREADS=1 "$L" $D --out e.safetensors
run dm-2r1t-ov $MPI -x OMP_NUM_THREADS=1 "$L" $D --dp-overlap --out f.safetensors

S="bench classify --data $DATA --seeds 2 --methods ft,ga,rl,salun --train-epochs 1 --cache cc"
run sweep-warm env OMP_NUM_THREADS=1 "$L" $S --threads 1 --markdown w.md
run sweep-1r env OMP_NUM_THREADS=1 "$L" $S --threads 1 --markdown s1.md
run sweep-2r $MPI -x OMP_NUM_THREADS=1 "$L" $S --threads 1 --markdown s2.md

/usr/bin/python3 - "$OUT" "$EPOCHS" "${MPI_BENCH_LINK_GBS:-12.5}" \
  "${MPI_BENCH_LATENCY_US:-2}" <<'EOF'
import re, sys, os
out, epochs, link, lat = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) * 1e-6
t = {}
for l in open("times"):
    k, a, b = l.split()
    t[k] = float(b) - float(a)

def coll(name):
    """Each rank's (seconds in collectives, wall, calls, MB)."""
    rows = []
    for l in open(name + ".err"):
        m = re.search(r"\[rank (\d+)\] collectives: ([\d.]+) s of ([\d.]+) s "
                      r"\(([\d.]+)%\), (\d+) calls, ([\d.]+) MB", l)
        if m:
            rows.append(tuple(float(x) for x in m.groups()))
    return sorted(rows)

tr = coll("train-2r1t")
tro = coll("train-2r1t-ov")
sw = coll("sweep-2r")
steps = int(tr[0][4]) if tr else 0   # DP training: one all-reduce per step
lines = ["# MPI scaling on this machine", "",
         "Host: %s, %d cores; training: %d epoch(s), %d steps of batch 128 "
         "(the 2-rank run's all-reduce count)." % (
             os.uname().nodename, os.cpu_count(), epochs, steps), "",
         "| Run | Wall (s) | Speed-up vs 1 process, 1 thread |",
         "|---|---|---|"]
for k, label in [("train-1p1t", "train: 1 process, 1 thread"),
                 ("train-1p2t", "train: 1 process, 2 threads"),
                 ("train-2r1t", "train: 2 ranks x 1 thread (--dp sum)"),
                 ("train-2r1t-ov", "train: 2 ranks x 1 thread (--dp sum --dp-overlap)"),
                 ("sweep-1r", "bench classify sweep: 1 rank, 1 thread"),
                 ("sweep-2r", "bench classify sweep: 2 ranks x 1 thread")]:
    base = t["train-1p1t"] if k.startswith("train") else t["sweep-1r"]
    lines.append("| %s | %.2f | %.2fx |" % (label, t[k], base / t[k]))
lines += ["", "All-reduce after backward vs overlapped with it (--dp-overlap), "
          "2 ranks x 1 thread:", "",
          "| Run | After (s) | Overlapped (s) | Overlapped / after |",
          "|---|---|---|---|"]
for k, label in [("train-2r1t", "train, MLP, 1 epoch"),
                 ("dm-2r1t", "dm train, cond:s, 12 steps")]:
    lines.append("| %s | %.2f | %.2f | %.3f |" % (
        label, t[k], t[k + "-ov"], t[k + "-ov"] / t[k]))
lines += ["", "| 2-rank run | Rank | In collectives (s) | Share of wall | Calls | MB sent |",
          "|---|---|---|---|---|---|"]
for name, rows in [("train", tr), ("train, overlapped", tro),
                   ("dm train", coll("dm-2r1t")),
                   ("dm train, overlapped", coll("dm-2r1t-ov")),
                   ("sweep", sw)]:
    for r in rows:
        lines.append("| %s | %d | %.3f | %.1f%% | %d | %.1f |" % (
            name, r[0], r[1], r[3], r[4], r[5]))
if tr:
    vol = tr[0][5] * 1e6 / max(tr[0][4], 1)       # bytes per collective
    per_step = t["train-1p1t"] / steps  # 1 process, 1 thread, with loading
    lines += ["", "Measured: %.2f MB per step (one all-reduce of the "
              "gradients); %.2f ms per step on 1 thread (the 1-process run's "
              "wall time over its steps, data loading and evaluation "
              "included)." % (vol / 1e6, per_step * 1e3),
              "", "Projection of DP training to K ranks of 1 thread on a cluster "
              "(ring all-reduce over a %.1f GB/s link, %.0f us latency per "
              "message; compute per step divided by K, the global batch fixed; "
              "an upper bound for the all-reduce after backward: small per-rank "
              "batches compute less efficiently; --dp-overlap can hide part "
              "of the all-reduce behind backward, and the overlapped run above "
              "measures how much it hides here):" % (link, lat * 1e6),
              "", "| K | Compute per step (ms) | All-reduce per step (ms) | Efficiency | Speed-up |",
              "|---|---|---|---|---|"]
    for K in [2, 4, 8, 16, 32, 64]:
        comp = per_step / K
        comm = 2 * (K - 1) / K * vol / (link * 1e9) + 2 * (K - 1) * lat
        lines.append("| %d | %.3f | %.3f | %.0f%% | %.1fx |" % (
            K, comp * 1e3, comm * 1e3, 100 * comp / (comp + comm),
            per_step / (comp + comm)))
text = "\n".join(lines) + "\n"
open(os.path.join(out, "mpi-scaling.md"), "w").write(text)
print(text)
EOF
