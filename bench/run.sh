#!/bin/sh
# run.sh - `make bench`: Lethe in fp32 and bf16 next to PyTorch fp32 and
# PyTorch bf16 autocast, with one thread count, in one run (bench/perf.py
# drives it): the heavy ops (BUILD/bench_ops, bench/torch_ops.py) with the
# same-run SGEMM and oneDNN bf16 GEMM peaks, the training steps of the
# classifiers (BUILD/bench_train, bench/torch_train.py), the language model
# (BUILD/bench_lm, bench/torch_lm.py) and the diffusion UNet (BUILD/bench_dm,
# bench/torch_dm.py). Writes BENCH_OUT/perf.md (the tables, also printed)
# and BENCH_OUT/perf.jsonl (every side's JSON lines); docs/performance.md
# ("## Benchmarks") explains the columns and the targets.
#   sh bench/run.sh BUILD [THREADS]     THREADS defaults to nproc
# Environment: PYTHON (default /usr/bin/python3), BENCH_QUICK=1 (quick
# mode: 0.3 s per case and side, fewer cases; for checking the output),
# BENCH_MIN_TIME (seconds of timed steps per op and side, default 0.5),
# BENCH_ONLY (ops case-name filter, comma-separated), BENCH_TRAIN_TIME
# (seconds of timed steps per model and side, default 3; at least 3 steps),
# BENCH_TRAIN_ONLY (model-name filter: mlp, resnet8, resnet18), BENCH_PART
# (ops, train, lm, dm or um2n, or several comma-separated: run those parts only),
# BENCH_OUT (output folder, default out/bench), BENCH_KEEP (a folder to
# copy perf.jsonl and perf.md into).
# OpenBLAS 0.3.21 does not know recent Xeons and falls back to its generic
# Prescott (SSE3) kernels, 5-6x slower than the AVX-512 ones. When it does
# so on an AVX-512 (AVX2) CPU and OPENBLAS_CORETYPE is unset, this script
# sets OPENBLAS_CORETYPE=SkylakeX (Haswell) for both sides and says so;
# BENCH_BLAS_DETECT=1 keeps OpenBLAS's own choice.
set -e
BUILD=${1:-build}
THREADS=${2:-$(nproc)}
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$BUILD/bench_ops
for b in bench_ops bench_train bench_lm bench_dm; do
  if [ ! -x "$BUILD/$b" ]; then
    echo "run.sh: $BUILD/$b not found (build first: make)" >&2
    exit 1
  fi
done
case "$THREADS" in
  ''|*[!0-9]*|0) echo "run.sh: THREADS '$THREADS' is not a positive number" >&2
       exit 2 ;;
esac
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
CORE=$("$BIN" --info | sed -n 's/.*"blas_core":"\([^"]*\)".*/\1/p')
FLAGS=$(grep -m 1 '^flags' /proc/cpuinfo 2>/dev/null || true)
if [ -z "$OPENBLAS_CORETYPE" ] && [ -z "$BENCH_BLAS_DETECT" ] &&
   [ "$CORE" = Prescott ]; then
  case "$FLAGS" in
    *" avx512f "*) export OPENBLAS_CORETYPE=SkylakeX ;;
    *" avx2 "*) export OPENBLAS_CORETYPE=Haswell ;;
  esac
  if [ -n "$OPENBLAS_CORETYPE" ]; then
    BENCH_CORE_NOTE="OpenBLAS detected $CORE on this CPU; run.sh set"
    BENCH_CORE_NOTE="$BENCH_CORE_NOTE OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE"
    export BENCH_CORE_NOTE="$BENCH_CORE_NOTE for both sides \
(BENCH_BLAS_DETECT=1 keeps $CORE)"
  fi
fi
OUT=${BENCH_OUT:-out/bench}
set -- "$BUILD" --threads "$THREADS" --out "$OUT"
[ -n "$BENCH_QUICK" ] && [ "$BENCH_QUICK" != 0 ] && set -- "$@" --quick
[ -n "$BENCH_PART" ] && [ "$BENCH_PART" != all ] && set -- "$@" --part "$BENCH_PART"
[ -n "$BENCH_ONLY" ] && set -- "$@" --only "$BENCH_ONLY"
[ -n "$BENCH_TRAIN_ONLY" ] && set -- "$@" --train-only "$BENCH_TRAIN_ONLY"
[ -n "$BENCH_MIN_TIME" ] && set -- "$@" --min-time "$BENCH_MIN_TIME"
[ -n "$BENCH_TRAIN_TIME" ] && set -- "$@" --train-time "$BENCH_TRAIN_TIME"
export PYTHON="$PY"
"$PY" "$HERE/perf.py" run "$@"
if [ -n "$BENCH_KEEP" ]; then
  mkdir -p "$BENCH_KEEP" && cp "$OUT/perf.jsonl" "$OUT/perf.md" "$BENCH_KEEP"/
fi
