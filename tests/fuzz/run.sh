#!/bin/sh
# run.sh - runs every libFuzzer harness of a LETHE_FUZZ build for a fixed
# time over its committed seed corpus (make fuzz calls it). New inputs go
# to a scratch corpus in the build folder, never into tests/fuzz/corpus;
# a crash leaves its input in BUILD/fuzz-artifacts/ and fails the run.
#
# Usage: sh tests/fuzz/run.sh BUILD [SECONDS [HARNESS...]]
#   SECONDS   per harness (default $FUZZ_SECONDS, else 10)
#   HARNESS   names without "fuzz_" (default: every harness built)
# Extra libFuzzer flags can be given in $FUZZ_FLAGS.
set -u
build=${1:?usage: run.sh BUILD [SECONDS [HARNESS...]]}
secs=${2:-${FUZZ_SECONDS:-10}}
[ $# -ge 2 ] && shift 2 || shift $#
src=$(cd "$(dirname "$0")" && pwd)
names=$*
if [ -z "$names" ]; then
  for f in "$src"/fuzz_*.c; do
    n=$(basename "$f" .c)
    names="$names ${n#fuzz_}"
  done
fi
mkdir -p "$build/fuzz-artifacts"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
# Scratch files of the harnesses: tmpfs when there is one (the writers
# fsync, which costs a disk write per execution elsewhere).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=""
for n in $names; do
  bin="$build/fuzz_$n"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is not built" >&2
    failed="$failed $n"
    continue
  fi
  work="$build/fuzz-corpus/$n"
  mkdir -p "$work"
  log="$build/fuzz-artifacts/$n.log"
  dict=""
  case $n in
    safetensors | tokenizer | llama_config | shard_index | tofu | result_json)
      dict="-dict=$src/json.dict" ;;
  esac
  # -timeout: one input may take at most 10 s; -rss_limit_mb: 2 GB.
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$n-" \
    $dict ${FUZZ_FLAGS:-} "$work" "$src/corpus/$n" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  if [ $rc -eq 0 ]; then
    echo "fuzz $n: ${runs:-?} executions (${rate:-?}/s), no crash"
  else
    echo "fuzz $n: FAILED (exit $rc); log $log" >&2
    grep -E "ERROR|oracle failed|runtime error|SUMMARY|Test unit written" "$log" \
      | head -8 >&2
    failed="$failed $n"
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz: failed:$failed" >&2
  exit 1
fi
