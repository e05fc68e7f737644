#!/bin/sh
# run.sh - `make bench`: time Lethe's heavy ops (BUILD/bench_ops) and
# PyTorch's on the same cases (bench/torch_ops.py) with one thread count,
# then print the joined table; then the same for whole training steps of
# the models (BUILD/bench_train, bench/torch_train.py), then the language
# model (BUILD/bench_lm, bench/torch_lm.py).
# Last, the diffusion UNet (BUILD/bench_dm, bench/torch_dm.py): a training
# step and a DDIM-50 sampling pass.
#   sh bench/run.sh BUILD [THREADS]     THREADS defaults to nproc
# Environment: PYTHON (default /usr/bin/python3), BENCH_MIN_TIME (seconds of
# timed steps per op and side, default 0.5), BENCH_ONLY (case-name filter),
# BENCH_TRAIN_TIME (seconds of timed steps per model and side, default 3;
# at least 3 steps), BENCH_TRAIN_ONLY (model-name filter: mlp, resnet8,
# resnet18), BENCH_PART (ops, train, lm or dm: run that part only), BENCH_KEEP (a
# folder to copy the raw JSON lines into).
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

HAVE_TORCH=
if "$PY" -c 'import torch' 2>/dev/null; then
  HAVE_TORCH=1
else
  echo "bench: PyTorch not found with $PY: Lethe side only" >&2
fi
cpuinfo() {
  sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo 2>/dev/null | head -n 1
}
CPU="$(cpuinfo 'model name'), family $(cpuinfo 'cpu family')"
CPU="$CPU model $(cpuinfo model)"
CPU="${CPU:-unknown} ($(getconf _NPROCESSORS_ONLN) logical CPUs)"

case "${BENCH_PART:-all}" in
  ops) RUN_OPS=1 RUN_TRAIN= ;;
  train) RUN_OPS= RUN_TRAIN=1 ;;
  lm) RUN_OPS= RUN_TRAIN= RUN_LM=1 ;;
  dm) RUN_OPS= RUN_TRAIN= RUN_DM=1 ;;
  *) RUN_OPS=1 RUN_TRAIN=1 RUN_LM=1 RUN_DM=1 ;;
esac

# ---- ops --------------------------------------------------------------------
if [ -n "$RUN_OPS" ]; then
  set -- --threads "$THREADS" --min-time "${BENCH_MIN_TIME:-0.5}"
  [ -n "$BENCH_ONLY" ] && set -- "$@" --only "$BENCH_ONLY"
  echo "bench: Lethe ($BIN, $THREADS threads)..." >&2
  "$BIN" "$@" >"$TMP/lethe.jsonl"

  : >"$TMP/torch.jsonl"
  if [ -n "$HAVE_TORCH" ]; then
    echo "bench: PyTorch ($THREADS threads)..." >&2
    "$PY" "$HERE/torch_ops.py" run --threads "$THREADS" "$TMP/lethe.jsonl" \
      >"$TMP/torch.jsonl" || echo "bench: the PyTorch side failed" >&2
  fi
  echo
  "$PY" "$HERE/torch_ops.py" table "$TMP/lethe.jsonl" "$TMP/torch.jsonl" \
    --cpu "$CPU"
  if [ -n "$BENCH_KEEP" ]; then
    cp "$TMP/lethe.jsonl" "$TMP/torch.jsonl" "$BENCH_KEEP"/
  fi
fi

# ---- training steps -----------------------------------------------------------
TBIN=$BUILD/bench_train
if [ -n "$RUN_TRAIN" ]; then
  if [ ! -x "$TBIN" ]; then
    echo "run.sh: $TBIN not found (build first: make)" >&2
    exit 1
  fi
  set -- --threads "$THREADS" --min-time "${BENCH_TRAIN_TIME:-3}"
  [ -n "$BENCH_TRAIN_ONLY" ] && set -- "$@" --only "$BENCH_TRAIN_ONLY"
  echo "bench: training, Lethe ($TBIN, $THREADS threads)..." >&2
  "$TBIN" "$@" >"$TMP/lethe_train.jsonl" ||
    echo "bench: a Lethe training run failed" >&2

  : >"$TMP/torch_train.jsonl"
  if [ -n "$HAVE_TORCH" ]; then
    echo "bench: training, PyTorch ($THREADS threads)..." >&2
    "$PY" "$HERE/torch_train.py" run --threads "$THREADS" \
      "$TMP/lethe_train.jsonl" >"$TMP/torch_train.jsonl" ||
      echo "bench: the PyTorch training side failed" >&2
  fi
  echo
  "$PY" "$HERE/torch_train.py" table "$TMP/lethe_train.jsonl" \
    "$TMP/torch_train.jsonl" --cpu "$CPU"
  if [ -n "$BENCH_KEEP" ]; then
    cp "$TMP/lethe_train.jsonl" "$TMP/torch_train.jsonl" "$BENCH_KEEP"/
  fi
fi

# The language model (issue 6): training tokens/s of a 4-layer d=256 Llama
# (T=128, batch 16) and greedy generation tokens/s with a KV cache.
if [ -n "$RUN_LM" ]; then
  "$PY" "$HERE/torch_lm.py" bench "$BUILD/bench_lm" --threads "$THREADS" \
    --min-time "${BENCH_TRAIN_TIME:-3}" --cpu "$CPU" ||
    echo "bench: the LM benchmark failed" >&2
fi

# The diffusion UNet (issue 14): images/s of a cond:s training step (batch
# 64) and of DDIM-50 sampling with guidance, Lethe and its PyTorch twin.
if [ -n "$RUN_DM" ]; then
  echo
  "$PY" "$HERE/torch_dm.py" bench "$BUILD/bench_dm" --threads "$THREADS" \
    --min-time "${BENCH_TRAIN_TIME:-3}" --cpu "$CPU" ||
    echo "bench: the diffusion benchmark failed" >&2
fi
