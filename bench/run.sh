#!/bin/sh
# run.sh - `make bench`: time Lethe's heavy ops (BUILD/bench_ops) and
# PyTorch's on the same cases (bench/torch_ops.py) with one thread count,
# then print the joined table.
#   sh bench/run.sh BUILD [THREADS]     THREADS defaults to nproc
# Environment: PYTHON (default /usr/bin/python3), BENCH_MIN_TIME (seconds of
# timed steps per op and side, default 0.5), BENCH_ONLY (case-name filter),
# BENCH_KEEP (a folder to copy the raw JSON lines into).
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
if [ ! -x "$BIN" ]; then
  echo "run.sh: $BIN not found (build first: make)" >&2
  exit 1
fi
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
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

set -- --threads "$THREADS" --min-time "${BENCH_MIN_TIME:-0.5}"
[ -n "$BENCH_ONLY" ] && set -- "$@" --only "$BENCH_ONLY"
echo "bench: Lethe ($BIN, $THREADS threads)..." >&2
"$BIN" "$@" >"$TMP/lethe.jsonl"

if "$PY" -c 'import torch' 2>/dev/null; then
  echo "bench: PyTorch ($THREADS threads)..." >&2
  "$PY" "$HERE/torch_ops.py" run --threads "$THREADS" "$TMP/lethe.jsonl" \
    >"$TMP/torch.jsonl" || echo "bench: the PyTorch side failed" >&2
else
  echo "bench: PyTorch not found with $PY: Lethe side only" >&2
  : >"$TMP/torch.jsonl"
fi

cpuinfo() {
  sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo 2>/dev/null | head -n 1
}
CPU="$(cpuinfo 'model name'), family $(cpuinfo 'cpu family')"
CPU="$CPU model $(cpuinfo model)"
echo
"$PY" "$HERE/torch_ops.py" table "$TMP/lethe.jsonl" "$TMP/torch.jsonl" \
  --cpu "${CPU:-unknown} ($(nproc) logical CPUs)"
if [ -n "$BENCH_KEEP" ]; then
  cp "$TMP/lethe.jsonl" "$TMP/torch.jsonl" "$BENCH_KEEP"/
fi
