#!/bin/sh
# mpi_check.sh - the Open MPI checks of docs/mpi.md, on loopback with two
# ranks (`make mpi-test`; CI runs it from .ci/run). Needs an MPI build of
# lethe (cmake -DLETHE_MPI=ON; `make mpi` makes build-mpi) and Debian's
# Fashion-MNIST, of which it cuts a small subset (1024 training, 256 test
# items) so every run takes seconds:
#   1. test_dist and test_dist_models under mpirun -n 2 (collectives, DP
#      gradient mean, tolerance of classifier, diffusion and LLM-unlearning
#      training, batch norm, identical weights on every rank);
#   2. `lethe train`: 2 ranks (--dp ordered) give the same weight bits as
#      one process computing the same 2 shards in turn, with 2 and with 4
#      shards; 2 ranks --dp sum stay within 1e-5 (relative) of
#      single-process training in train and test loss, and with
#      --dp-overlap (train, dm train) give the bits of --dp sum; `lethe unlearn`
#      (salun, ugradsl+), `lethe lm train`, `lethe dm train` (with its
#      dropout, and resumed), `lethe dm unlearn` (salun, ga, sa), `lethe
#      dm clip`, `lethe lm
#      unlearn` (graddiff, npo, rmu) and `lethe um2n train` (coordinate
#      and area + Chamfer loss, with dropout) on 2 ranks give the bits of
#      1 process with 2 shards;
#   3. `lethe bench classify`, `bench tofu`, `bench dm` and `bench um2n`
#      on 2 ranks print the 1-rank table exactly (classify, tofu, um2n:
#      every column but the last, a wall-clock time; dm: its number
#      columns but time and peak memory); resumed tofu, dm and um2n
#      sweeps rerun nothing and print the same table;
#   4. a rank that fails (its run file cannot be written) stops the sweep
#      with "rank R failed on row ROW", and the runs that finished stay;
#   5. a rank killed mid-sweep stops the job, its finished runs stay in
#      CACHE/runs, and `--resume` completes the same table from them.
# Usage: sh tests/mpi_check.sh [build folder]   (default build-mpi)
set -eu
build=$(cd "${1:-build-mpi}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
L="$build/lethe"
src=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
# containers often forbid the cross-process memory copy of Open MPI's
# shared-memory transport: copy through the shared segment instead
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI="mpirun -n 2 --oversubscribe --allow-run-as-root"
fail() { echo "mpi_check: FAIL: $*" >&2; exit 1; }
say() { echo "mpi_check: $*"; }
# same_bits A B MESSAGE: the two checkpoints hold the same weights, bit for bit
same_bits() {
  [ "$($L hash "$1" | cut -d' ' -f1)" = "$($L hash "$2" | cut -d' ' -f1)" ] ||
    fail "$3"
}

# big-endian 32-bit integer as 4 bytes
be32() {
  printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) \
    $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"
}
# the first $2 items of split $1 of Fashion-MNIST, as IDX files in $work/fm
cut_split() {
  { printf '\000\000\010\003'; be32 "$2"; be32 28; be32 28
    zcat "$src/$1-images-idx3-ubyte.gz" | tail -c +17 | head -c $(($2 * 784))
  } > "$work/fm/$1-images-idx3-ubyte"
  { printf '\000\000\010\001'; be32 "$2"
    zcat "$src/$1-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$2"
  } > "$work/fm/$1-labels-idx1-ubyte"
}
mkdir -p "$work/fm"
cut_split train 1024
cut_split t10k 256
data="fashion-mnist:$work/fm"

# ---- 1. the unit test on two ranks -------------------------------------
$MPI "$build/test_dist" > "$work/unit.log" 2>&1 ||
  { cat "$work/unit.log"; fail "test_dist on 2 ranks"; }
[ "$(grep -c ' passed, 0 failed' "$work/unit.log")" = 2 ] ||
  { cat "$work/unit.log"; fail "test_dist: not every rank passed"; }
$MPI "$build/test_dist_models" > "$work/models.log" 2>&1 ||
  { cat "$work/models.log"; fail "test_dist_models on 2 ranks"; }
[ "$(grep -c ' passed, 0 failed' "$work/models.log")" = 2 ] ||
  { cat "$work/models.log"; fail "test_dist_models: not every rank passed"; }
say "test_dist and test_dist_models pass on 2 ranks"

# ---- 2. data-parallel lethe train ----------------------------------------
T="train --model mlp:784-64-10 --data $data --epochs 2 --batch 64 --lr 0.05 --threads 1"
cd "$work"
$L $T --out one.safetensors --json one.json > /dev/null 2>&1 ||
  fail "lethe train (1 process)"
for s in 2 4; do
  $L $T --dp ordered --shards $s --out s$s.safetensors > /dev/null 2>&1 ||
    fail "lethe train --shards $s (1 process)"
  $MPI $L $T --dp ordered --shards $s --out m$s.safetensors > /dev/null \
    2>&1 || fail "mpirun -n 2 lethe train --dp ordered --shards $s"
  a=$($L hash s$s.safetensors | cut -d' ' -f1)
  b=$($L hash m$s.safetensors | cut -d' ' -f1)
  [ "$a" = "$b" ] || fail "--dp ordered, $s shards: 2 ranks $b, 1 process $a"
done
$MPI $L $T --out sum.safetensors --json sum.json > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe train (sum)"
for k in train_loss test_loss; do
  x=$(sed -n "s/.*\"$k\":[^0-9-]*\([-0-9.e]*\).*/\1/p" one.json)
  y=$(sed -n "s/.*\"$k\":[^0-9-]*\([-0-9.e]*\).*/\1/p" sum.json)
  awk -v x="$x" -v y="$y" 'BEGIN { d = x - y; if (d < 0) d = -d;
    exit !(x != "" && d <= 1e-5 * (x < 0 ? -x : x)) }' ||
    fail "--dp sum $k $y vs 1 process $x (tolerance 1e-5 relative)"
done
say "train: 2 ranks = 1 process with the same shards (ordered: same bits)"
say "train: 2 ranks (sum) within 1e-5 of 1 process in train and test loss"
# the all-reduce overlapped with backward, in buckets: the same bits as one
# all-reduce after it (2 ranks: every float is a + b either way)
$MPI $L $T --dp-overlap --out ov.safetensors > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe train --dp-overlap"
same_bits ov.safetensors sum.safetensors "train --dp-overlap: not the bits of --dp sum"
say "train: 2 ranks, all-reduce overlapped with backward = one all-reduce after it"
# unlearning passes: a mask (salun), a joint retain term (ugradsl+)
for m in salun ugradsl+; do
  U="unlearn --model one.safetensors --data $data --forget random:10% --method $m --threads 1 --dp ordered"
  $L $U --shards 2 --out us.safetensors > /dev/null 2>&1 ||
    fail "lethe unlearn --method $m --shards 2 (1 process)"
  $MPI $L $U --out um.safetensors > /dev/null 2>&1 ||
    fail "mpirun -n 2 lethe unlearn --method $m"
  a=$($L hash us.safetensors | cut -d' ' -f1)
  b=$($L hash um.safetensors | cut -d' ' -f1)
  [ "$a" = "$b" ] || fail "unlearn $m --dp ordered: 2 ranks $b, 1 process $a"
done
say "unlearn (salun, ugradsl+): 2 ranks = 1 process with the same shards"
# a micro language model on 6 kB of Debian's fortunes (cmake/deps.sh
# --data installs them)
for f in /usr/share/games/fortunes/fortunes /usr/share/games/fortunes/art; do
  [ -f "$f" ] && head -c 6000 "$f" > lm.txt && break
done
if [ -s lm.txt ]; then
  LM="lm train --config micro --text lm.txt --epochs 1 --batch 8 --max-len 64 --vocab 300 --threads 1 --dp ordered"
  $L $LM --shards 2 --out ls.safetensors > /dev/null 2>&1 ||
    fail "lethe lm train --shards 2 (1 process)"
  $MPI $L $LM --out lmm.safetensors > /dev/null 2>&1 ||
    fail "mpirun -n 2 lethe lm train"
  a=$($L hash ls.safetensors | cut -d' ' -f1)
  b=$($L hash lmm.safetensors | cut -d' ' -f1)
  [ "$a" = "$b" ] || fail "lm train --dp ordered: 2 ranks $b, 1 process $a"
  say "lm train: 2 ranks = 1 process with the same shards"
else
  say "lm train: skipped (no fortunes text)"
fi
# a diffusion UNet (cond:xs, dropout 0.1: each shard's dropout is seeded by
# its number), also stopped after 2 steps and resumed on 2 ranks
D="dm train --model cond:xs --data $data --batch 8 --ckpt-every 2 --threads 1 --dp ordered"
$L $D --steps 4 --shards 2 --out ds.safetensors > /dev/null 2>&1 ||
  fail "lethe dm train --shards 2 (1 process)"
$MPI $L $D --steps 4 --out dm.safetensors > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe dm train"
$MPI $L $D --steps 2 --out dr.safetensors > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe dm train --steps 2"
a=$($L hash ds.safetensors | cut -d' ' -f1)
[ "$($L hash dr.safetensors | cut -d' ' -f1)" != "$a" ] ||
  fail "dm train: 2 steps gave the weights of 4"
$MPI $L $D --steps 4 --resume --out dr.safetensors > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe dm train --resume"
for f in dm dr; do
  b=$($L hash $f.safetensors | cut -d' ' -f1)
  [ "$a" = "$b" ] || fail "dm train --dp ordered: 2 ranks ($f) $b, 1 process $a"
done
say "dm train: 2 ranks (and resumed) = 1 process with the same shards"
DS="dm train --model cond:xs --data $data --batch 8 --steps 3 --threads 1 --dp sum"
$MPI $L $DS --out dsum.safetensors > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe dm train --dp sum"
$MPI $L $DS --dp-overlap --out dov.safetensors > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe dm train --dp-overlap"
same_bits dov.safetensors dsum.safetensors "dm train --dp-overlap: not the bits of --dp sum"
say "dm train: all-reduce overlapped with backward = one all-reduce after it"
# class-wise unlearning of that model (salun: its saliency mask computed
# in full on every rank)
for m in salun ga; do
  U="dm unlearn --model ds.safetensors --forget-class 0 --method $m --steps 2 --batch 8 --data $data --threads 1 --dp ordered"
  $L $U --shards 2 --out dus.safetensors > /dev/null 2>&1 ||
    fail "lethe dm unlearn --method $m --shards 2 (1 process)"
  $MPI $L $U --out dum.safetensors > /dev/null 2>&1 ||
    fail "mpirun -n 2 lethe dm unlearn --method $m"
  a=$($L hash dus.safetensors | cut -d' ' -f1)
  b=$($L hash dum.safetensors | cut -d' ' -f1)
  [ "$a" = "$b" ] || fail "dm unlearn $m --dp ordered: 2 ranks $b, 1 process $a"
done
say "dm unlearn (salun, ga): 2 ranks = 1 process with the same shards"
# Selective Amnesia: 2 ranks share the replay sampling and the Fisher
# (spread), then the loop is data-parallel; with the replay set and Fisher
# of one process (--fim) the loop gives the bits of 1 process, 2 shards
SA="dm unlearn --model ds.safetensors --forget-class 0 --method sa --sa-recipe short --replay-per-class 2 --replay-steps 4 --fim-timesteps 5 --steps 2 --batch 4 --threads 1 --dp ordered"
$L $SA --shards 2 --fim fim1.safetensors --out sas.safetensors > /dev/null 2>&1 ||
  fail "lethe dm unlearn --method sa --shards 2 (1 process)"
$MPI $L $SA --fim fim1.safetensors --out sam.safetensors > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe dm unlearn --method sa --fim"
same_bits sas.safetensors sam.safetensors "dm unlearn sa --dp ordered: 2 ranks differ from 1 process"
$MPI $L $SA --fim fim2.safetensors --out sa2.safetensors > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe dm unlearn --method sa (spread replay and Fisher)"
[ -s fim2.safetensors ] && [ -s sa2.safetensors ] ||
  fail "dm unlearn sa on 2 ranks wrote no Fisher file or model"
say "dm unlearn (sa): 2 ranks = 1 process with the same shards; spread replay and Fisher run"
# the text encoder's contrastive pretraining on a small canvas: InfoNCE on
# the gathered embeddings of every shard
$L data canvas --out cv --per-class 1 --test-per-class 1 --data $data \
  --threads 1 > /dev/null 2>&1 || fail "lethe data canvas"
C="dm clip --data cv --preset xs --steps 3 --batch 8 --seed 1 --threads 1 --dp ordered"
$L $C --shards 2 --out cs.safetensors > /dev/null 2>&1 ||
  fail "lethe dm clip --shards 2 (1 process)"
$MPI $L $C --out cm.safetensors > /dev/null 2>&1 || fail "mpirun -n 2 lethe dm clip"
same_bits cs.safetensors cm.safetensors "dm clip --dp ordered: 2 ranks differ from 1 process"
say "dm clip: 2 ranks = 1 process with the same shards"
# LLM unlearning of a micro model trained on 4 synthetic TOFU authors
$L data tofu-synth --authors 4 --out tofu --threads 1 > /dev/null 2>&1 &&
  $L lm train --config micro --data tofu/full.json --epochs 1 --batch 8 \
    --vocab 300 --threads 1 --out tl.safetensors > /dev/null 2>&1 ||
  fail "the TOFU model for lm unlearn"
for m in graddiff npo rmu; do
  U="lm unlearn --model tl.safetensors --forget tofu/forget10.json --retain tofu/retain90.json --method $m --epochs 1 --batch 4 --threads 1 --dp ordered"
  $L $U --shards 2 --out lus.safetensors > /dev/null 2>&1 ||
    fail "lethe lm unlearn --method $m --shards 2 (1 process)"
  $MPI $L $U --out lum.safetensors > /dev/null 2>&1 ||
    fail "mpirun -n 2 lethe lm unlearn --method $m"
  a=$($L hash lus.safetensors | cut -d' ' -f1)
  b=$($L hash lum.safetensors | cut -d' ' -f1)
  [ "$a" = "$b" ] || fail "lm unlearn $m --dp ordered: 2 ranks $b, 1 process $a"
done
say "lm unlearn (graddiff, npo, rmu): 2 ranks = 1 process with the same shards"
# UM2N with the coordinate loss (transformer dropout 0.1: each shard's
# seeded by its number) on the 4 training meshes of a 6-sample set
$L mesh data --mesh "$root/tests/data/mesh/square_lc0.2.msh" --n 6 --seed 2 \
  --out u2set --threads 1 > /dev/null 2>&1 || fail "mesh data for um2n train"
UT="um2n train --data u2set --loss coord --epochs 2 --no-test --threads 1 --dp ordered"
$L $UT --shards 2 --out u2s > /dev/null 2>&1 ||
  fail "lethe um2n train --shards 2 (1 process)"
$MPI $L $UT --out u2m > /dev/null 2>&1 || fail "mpirun -n 2 lethe um2n train"
a=$($L hash u2s/model.safetensors | cut -d' ' -f1)
b=$($L hash u2m/model.safetensors | cut -d' ' -f1)
[ "$a" = "$b" ] || fail "um2n train --dp ordered: 2 ranks $b, 1 process $a"
say "um2n train (coord): 2 ranks = 1 process with the same shards"
# the area + Chamfer loss (UM2N's default): the Chamfer term on the
# gathered cloud of the whole batch
UC="um2n train --data u2set --epochs 2 --no-test --threads 1 --dp ordered"
$L $UC --shards 2 --out u2cs > /dev/null 2>&1 ||
  fail "lethe um2n train (area + Chamfer) --shards 2 (1 process)"
$MPI $L $UC --out u2cm > /dev/null 2>&1 ||
  fail "mpirun -n 2 lethe um2n train (area + Chamfer)"
same_bits u2cs/model.safetensors u2cm/model.safetensors \
  "um2n train (area + Chamfer) --dp ordered: 2 ranks differ from 1 process"
say "um2n train (area + Chamfer): 2 ranks = 1 process with the same shards"

# ---- 3. bench classify: the same table -----------------------------------
B="bench classify --data $data --model mlp:784-32-10 --train-epochs 1 --seeds 3 --threads 1"
# the table rows without the last column (RTE, a time)
rows() { grep '^|' "$1" | sed 's/| [^|]* |$/|/'; }
$L $B --cache c1 --markdown t1.md > /dev/null 2>&1 || fail "1-rank sweep"
$MPI $L $B --cache c2 --markdown t2.md > o2.txt 2> e2.txt ||
  { tail e2.txt; fail "2-rank sweep"; }
[ "$(rows t1.md | wc -l)" -ge 10 ] || fail "the 1-rank table is short"
rows t1.md > r1
rows t2.md > r2
cmp -s r1 r2 || { diff r1 r2; fail "2-rank table differs from 1-rank"; }
grep -q '\[rank 1\] .* ran in' o2.txt || fail "rank 1 ran nothing"
say "bench classify: the 2-rank table equals the 1-rank table"
# sweep_check NAME ROWS MIN RAN KEPT ARGS...: `lethe ARGS` as 1 rank and
# as 2 ranks give the same rows (ROWS: a function printing a Markdown
# file's compared rows; at least MIN of them), rank 1 printed a line
# matching RAN, and a resumed 2-rank run reruns none of its KEPT rows and
# gives the same rows
sweep_check() {
  n=$1 rowsof=$2 min=$3 ran=$4 kept=$5
  shift 5
  $L "$@" --markdown $n-1.md > /dev/null 2>&1 || fail "1-rank bench $n"
  $MPI $L "$@" --markdown $n-2.md > o$n-2.txt 2> e$n-2.txt ||
    { tail e$n-2.txt; fail "2-rank bench $n"; }
  [ "$($rowsof $n-1.md | wc -l)" -ge "$min" ] || fail "the 1-rank $n table is short"
  $rowsof $n-1.md > r$n-1
  $rowsof $n-2.md > r$n-2
  cmp -s r$n-1 r$n-2 || { diff r$n-1 r$n-2; fail "2-rank $n table differs"; }
  grep -q "\[rank 1\] .*$ran" o$n-2.txt || fail "$n: rank 1 ran nothing"
  $MPI $L "$@" --resume --markdown $n-3.md > o$n-3.txt 2> e$n-3.txt ||
    { tail e$n-3.txt; fail "resumed bench $n"; }
  [ "$(grep -c 'done before (--resume)' o$n-3.txt)" -eq "$kept" ] ||
    fail "$n --resume: not every row was kept"
  $rowsof $n-3.md > r$n-3
  cmp -s r$n-1 r$n-3 || { diff r$n-1 r$n-3; fail "the resumed $n table differs"; }
}
# bench tofu at a size smaller than --quick; the 2-rank sweep reuses the
# models the 1-rank one trained (rank 0 checks the cache, the others wait)
sweep_check tofu rows 7 running 4 bench tofu --quick --train-epochs 8 \
  --methods ga,npo,simnpo --masks none --epochs 2 --max-items 8 --threads 1 \
  --cache ct
say "bench tofu: the 2-rank table equals the 1-rank table; --resume reruns no row"
# bench dm smaller than --quick on the subset, 2 seeds (6 runs: the
# original, Retrain, rl); the 2-rank sweep reuses the base and Retrain
# models the 1-rank one trained
DQ="bench dm --quick --base-steps 10 --retrain-steps 10 --data $data --classifier $root/models/fmnist-eval-b-v1.safetensors --seeds 2 --methods original,retrain,rl --threads 1 --cache cd"
# the metrics table without its last two columns (time, peak memory)
dmrows() { sed -n '/^| Method/,/^$/p' "$1" | grep '^|' |
  sed 's/| [^|]* | [^|]* |$/|/'; }
$L $DQ --markdown d1.md > /dev/null 2>&1 || fail "1-rank bench dm"
$MPI $L $DQ --markdown d2.md > od2.txt 2> ed2.txt ||
  { tail ed2.txt; fail "2-rank bench dm"; }
[ "$(dmrows d1.md | wc -l)" -ge 5 ] || fail "the 1-rank dm table is short"
dmrows d1.md > rd1
dmrows d2.md > rd2
cmp -s rd1 rd2 || { diff rd1 rd2; fail "2-rank dm table differs"; }
grep -q '\[rank 1\] .* running' od2.txt || fail "dm: rank 1 ran nothing"
$MPI $L $DQ --resume --markdown d3.md > od3.txt 2> ed3.txt ||
  { tail ed3.txt; fail "resumed bench dm"; }
[ "$(grep -c 'done before (--resume)' od3.txt)" -eq 6 ] ||
  fail "dm --resume: not every run was kept"
cmp -s d2.md d3.md || { diff d2.md d3.md; fail "the resumed dm table differs"; }
say "bench dm: the 2-rank table equals the 1-rank table; --resume reruns no run"
# bench um2n --quick, Helmholtz and swirl: every rank trains the quick
# networks and runs the uniform swirl; the network rows and the swirl's MA
# row (7 units) are spread; the tables compared without their last column
# (a wall-clock time; the quick MA times are remade on every run)
u2rows() { grep '^| ' "$1" | grep -v '^| Method' | sed 's/| [^|]* |$/|/'; }
sweep_check um2n u2rows 10 tangled 7 bench um2n --quick \
  --case helmholtz,swirl --threads 1 --cache cu
say "bench um2n: the 2-rank tables equal the 1-rank tables; --resume reruns no row"

# ---- 4. a failing rank names itself and the row --------------------------
# the run file of one row made unwritable (a folder in its place)
key=$(grep -l '"label":[[:space:]]*"rl"' c1/runs/*.json | head -n 1)
[ -n "$key" ] || fail "no run file of row rl"
mkdir -p c4/runs/"$(basename "$key")"
if $MPI $L $B --cache c4 --markdown t4.md > o4.txt 2> e4.txt; then
  fail "the sweep with an unwritable run file succeeded"
fi
grep -q 'rank [01] failed on row rl (seed [0-9])' e4.txt ||
  { tail e4.txt; fail "no message naming the rank and the row"; }
[ "$(ls c4/runs | wc -l)" -ge 2 ] || fail "no finished run was kept"
say "a failing rank: $(grep -o 'rank [01] failed on row rl (seed [0-9])' \
    e4.txt | head -n 1)"

# ---- 5. a rank killed mid-sweep; --resume --------------------------------
tag=$$-$(date +%s)
MPI_CHECK_TAG=$tag $MPI $L $B --cache c5 --markdown t5.md > /dev/null 2> e5.txt &
job=$!
n=0 # wait for the first kept runs, then kill rank 1
while [ "$(ls c5/runs 2>/dev/null | wc -l)" -lt 1 ] && [ $n -lt 600 ]; do
  sleep 0.05; n=$((n + 1))
done
victim="" # this job's rank 1: its environment holds the tag and its rank
for e in /proc/[0-9]*/environ; do
  env=$({ tr '\0' '\n' < "$e"; } 2>/dev/null) || continue
  case "$env" in *"MPI_CHECK_TAG=$tag"*) ;; *) continue ;; esac
  echo "$env" | grep -qx 'OMPI_COMM_WORLD_RANK=1' || continue
  p=${e#/proc/}; victim=${p%/environ}
done
[ -n "$victim" ] || fail "rank 1 not found (the sweep ended before the kill)"
kill -9 "$victim"
if wait $job; then fail "the sweep survived the kill of rank 1"; fi
kept=$(ls c5/runs | wc -l)
[ "$kept" -ge 1 ] || fail "no finished run kept after the kill"
$MPI $L $B --cache c5 --resume --markdown t5.md > o5r.txt 2> e5r.txt ||
  { tail e5r.txt; fail "the resumed sweep"; }
grep -q 'done before (--resume)' o5r.txt || fail "--resume reran everything"
rows t5.md > r5
cmp -s r1 r5 || { diff r1 r5; fail "the resumed table differs"; }
say "killed rank 1: $kept runs kept; --resume gives the same table"
say "all MPI checks passed"
