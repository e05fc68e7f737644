#!/bin/sh
# cli_errors.sh - end-to-end checks of the lethe command (run by ctest with
# the path of the lethe binary): a short real training run, eval --json,
# predict to .npy, and the bad-input cases of the training stack, each of
# which must print a clear error naming the culprit, exit non-zero and
# leave existing files untouched. Prints "N passed, N failed".
LETHE=${1:?usage: cli_errors.sh PATH/TO/lethe}
T=$(mktemp -d /tmp/lethe_cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL $1"; }

# expect_error NAME NEEDLE COMMAND...: non-zero exit, stderr contains NEEDLE
expect_error() {
  name=$1 needle=$2
  shift 2
  if "$@" >"$T/out" 2>"$T/err"; then
    bad "$name: exit 0"
  elif grep -q -- "$needle" "$T/err"; then
    ok "$name"
  else
    bad "$name: stderr lacks '$needle':"; cat "$T/err"
  fi
}

# small_fm DIR NTRAIN NTEST: the first items of Fashion-MNIST as raw IDX
# files (keeps the many-run checks below fast: the MIA's SVM scales with
# the test set).
be32() {
  for sh in 24 16 8 0; do
    printf "\\$(printf %03o $(( ($1 >> sh) & 255 )))"
  done
}
small_fm() {
  src=${LETHE_DATA:-/usr/share/datasets}/fashion-mnist
  [ -d "$src" ] || src=/usr/share/datasets/fashion-mnist
  mkdir -p "$1"
  for part in train:$2 t10k:$3; do
    name=${part%%:*} n=${part#*:}
    { printf '\000\000\010\003'; be32 "$n"; be32 28; be32 28
      zcat "$src/$name-images-idx3-ubyte.gz" | tail -c +17 | head -c $((n * 784))
    } >"$1/$name-images-idx3-ubyte"
    { printf '\000\000\010\001'; be32 "$n"
      zcat "$src/$name-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$n"
    } >"$1/$name-labels-idx1-ubyte"
  done
}

# Diffusion models: one real training step, then the bad-input cases.
small_fm "$T/fmdm" 64 16
if "$LETHE" dm train --model cond:xs --data "fashion-mnist:$T/fmdm" --steps 2 \
     --batch 4 --out "$T/dm.safetensors" >"$T/out" 2>"$T/err" &&
   [ -s "$T/dm.safetensors" ] && [ -s "$T/dm.safetensors.state" ]
then ok "dm train (2 steps)"; else bad "dm train"; cat "$T/err"; fi
if "$LETHE" dm sample --model "$T/dm.safetensors" --class 3 --n 2 --steps 2 \
     --out "$T/dm.npy" >"$T/out" 2>"$T/err" && grep -q "DDIM-2 of 1000 (eta 0), guidance salun w=2" "$T/out"
then ok "dm sample names its sampler and guidance"; else bad "dm sample"; cat "$T/out" "$T/err"; fi
expect_error "dm unknown preset" "unknown preset" \
  "$LETHE" dm train --model cond:m --out "$T/dmx.safetensors"
expect_error "dm bad override" "bad override 'depth=2'" \
  "$LETHE" dm train --model cond:s,depth=2 --out "$T/dmx.safetensors"
expect_error "dm unknown schedule" "schedule 'cosine': unknown" \
  "$LETHE" dm train --schedule cosine --out "$T/dmx.safetensors"
expect_error "dm resume other architecture" "cannot resume: its lethe.dm.arch is 'cond:xs'" \
  "$LETHE" dm train --model cond:xs,ch=24 --data "fashion-mnist:$T/fmdm" --steps 3 \
  --batch 4 --out "$T/dm.safetensors" --resume
if "$LETHE" dm train --model cond:xs --data "fashion-mnist:$T/fmdm" --steps 1 \
     --batch 4 --init "$T/dm.safetensors" --out "$T/dmi.safetensors" >"$T/out" 2>"$T/err"
then ok "dm train --init (same model)"; else bad "dm train --init"; cat "$T/err"; fi
expect_error "dm train --init of another model" "is a cond:xs; --model is cond:xs,ch=24" \
  "$LETHE" dm train --model cond:xs,ch=24 --data "fashion-mnist:$T/fmdm" --steps 1 \
  --batch 4 --init "$T/dm.safetensors" --out "$T/dmx.safetensors"
expect_error "dm train --init is --out" "same file" \
  "$LETHE" dm train --model cond:xs --data "fashion-mnist:$T/fmdm" --steps 1 \
  --batch 4 --init "$T/dm.safetensors" --out "$T/dm.safetensors"
expect_error "dm sample missing model" "$T/none.safetensors" \
  "$LETHE" dm sample --model "$T/none.safetensors" --out "$T/dmx.npy"
expect_error "dm sample nan guidance" "--w expects a finite number" \
  "$LETHE" dm sample --model "$T/dm.safetensors" --w nan --out "$T/dmx.npy"
expect_error "dm sample bad class" "expected 0..9" \
  "$LETHE" dm sample --model "$T/dm.safetensors" --class 12 --out "$T/dmx.npy"
expect_error "dm sample steps not dividing T" "must divide T = 1000" \
  "$LETHE" dm sample --model "$T/dm.safetensors" --steps 7 --out "$T/dmx.npy"
expect_error "dm sample unknown guidance" "guidance 'cfg': unknown" \
  "$LETHE" dm sample --model "$T/dm.safetensors" --guidance cfg --out "$T/dmx.npy"
expect_error "dm sample output is the model" "is the same file as --model" \
  "$LETHE" dm sample --model "$T/dm.safetensors" --out "$T/dm.safetensors.npy" \
  --npy "$T/dm.safetensors"
if "$LETHE" dm unlearn --model "$T/dm.safetensors" --data "fashion-mnist:$T/fmdm" \
     --forget-class 3 --method salun --steps 2 --batch 4 --mask-batch 8 \
     --out "$T/dmu.safetensors" >"$T/out" 2>"$T/err" && [ -s "$T/dmu.safetensors" ] &&
   grep -q "mask saliency:0.5, class 3 forgotten" "$T/out" &&
   grep -q "lethe.dmu.method" "$T/dmu.safetensors"
then ok "dm unlearn salun (2 steps)"; else bad "dm unlearn"; cat "$T/out" "$T/err"; fi
expect_error "dm unlearn unknown method" "--method sb: unknown (known: salun, rl, ga, esd, sa)" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --method sb --out "$T/dmx.safetensors"
SA="--replay-per-class 1 --replay-steps 2 --fim-timesteps 2 --steps 2 --batch 4"
# shellcheck disable=SC2086
if "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --method sa $SA \
     --fim "$T/sa.fim" --out "$T/dmsa.safetensors" >"$T/out" 2>"$T/err" &&
   [ -s "$T/dmsa.safetensors" ] && [ -s "$T/sa.fim" ] && grep -q "sa, class 3 forgotten" "$T/out" &&
   "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --method sa $SA \
     --fim "$T/sa.fim" --out "$T/dmsa2.safetensors" >"$T/out" 2>"$T/err" &&
   grep -q "Fisher from $T/sa.fim" "$T/err" &&
   [ "$("$LETHE" hash "$T/dmsa.safetensors" | cut -c1-64)" = "$("$LETHE" hash "$T/dmsa2.safetensors" | cut -c1-64)" ]
then ok "dm unlearn sa (2 steps, --fim written then reused)"; else bad "dm unlearn sa"; cat "$T/out" "$T/err"; fi
# the short preset: a variant, named so in the output
# shellcheck disable=SC2086
if "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --method sa \
     --sa-recipe short $SA --out "$T/dmsas.safetensors" >"$T/out" 2>"$T/err" &&
   grep -q "sa-short, class 3 forgotten" "$T/out" && grep -q "sa (short recipe)" "$T/err" &&
   head -c 4096 "$T/dmsas.safetensors" | grep -q '"lethe.dmu.method":"sa-short"'
then ok "dm unlearn sa --sa-recipe short"; else bad "dm unlearn sa short"; cat "$T/out" "$T/err"; fi
expect_error "dm unlearn sa unknown recipe" "--sa-recipe" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --method sa \
  --sa-recipe week --out "$T/dmx.safetensors"
expect_error "bench dm: one spot sample" "spot_samples 1" \
  "$LETHE" bench dm --quick --spot 1 --cache "$T/dmx-cache"
# shellcheck disable=SC2086
expect_error "dm unlearn sa --fim of other settings" "$T/sa.fim: made for lethe.sa.key" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --method sa $SA --fim-pm1 \
  --fim "$T/sa.fim" --out "$T/dmx.safetensors"
expect_error "dm unlearn sa class out of range" "--forget-class 10: expected 0..9" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 10 --method sa --out "$T/dmx.safetensors"
expect_error "dm unlearn sa --fim is the model" "same file" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --method sa \
  --fim "$T/dm.safetensors" --out "$T/dmx.safetensors"
expect_error "dm unlearn class out of range" "--forget-class 10: expected 0..9" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 10 --out "$T/dmx.safetensors"
expect_error "dm unlearn needs a class" "--forget-class K and --out FILE are required" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --out "$T/dmx.safetensors"
expect_error "dm unlearn target is the forgotten class" "--target-class 3: expected another class" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --target-class 3 --out "$T/dmx.safetensors"
expect_error "dm unlearn rl options with ga" "shape the rl loss (salun, rl), not --method ga" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --method ga --pair-drop \
  --data "fashion-mnist:$T/fmdm" --steps 1 --batch 2 --out "$T/dmx.safetensors"
expect_error "dm unlearn bad mask" "mask half: unknown" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --data "fashion-mnist:$T/fmdm" --forget-class 3 \
  --mask half --out "$T/dmx.safetensors"
expect_error "dm unlearn soft mask" "takes saliency:R, random:R or none" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --data "fashion-mnist:$T/fmdm" --forget-class 3 \
  --mask soft:0.5 --out "$T/dmx.safetensors"
expect_error "dm unlearn missing model" "$T/none.safetensors" \
  "$LETHE" dm unlearn --model "$T/none.safetensors" --forget-class 3 --out "$T/dmx.safetensors"
expect_error "dm unlearn output is the model" "same file" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --forget-class 3 --out "$T/dm.safetensors"
[ -e "$T/dmx.npy" ] || [ -e "$T/dmx.safetensors" ] && bad "dm left output after an error" || ok "dm: no output after errors"

# A real (short) run: MLP, one epoch on Fashion-MNIST.
if "$LETHE" train --model mlp:784-64-10 --epochs 1 --batch 256 --lr 0.05 \
     --out "$T/mlp.safetensors" >"$T/out" 2>"$T/err" &&
   grep -q "test accuracy" "$T/out"; then ok "train mlp"; else bad "train mlp"; cat "$T/err"; fi
acc=$(sed -n 's/.*test accuracy \([0-9.]*\)%.*/\1/p' "$T/out" | tail -n 1)
if [ -n "$acc" ] && [ "${acc%%.*}" -ge 75 ]; then ok "one epoch reaches $acc% (>= 75)"; else bad "accuracy '$acc'"; fi
if "$LETHE" eval --model "$T/mlp.safetensors" --json "$T/e.json" >"$T/out" 2>"$T/err" &&
   grep -q '"accuracy"' "$T/e.json" && grep -q '"arch":.*"mlp:784-64-10"' "$T/e.json"
then ok "eval --json"; else bad "eval --json"; cat "$T/err"; fi
eacc=$(sed -n 's/^test .*accuracy \([0-9.]*\)%.*/\1/p' "$T/out")
[ "$eacc" = "$(printf '%.2f' "$acc")" ] && ok "eval agrees with train ($eacc%)" || bad "eval $eacc vs train $acc"
if "$LETHE" predict --model "$T/mlp.safetensors" --out "$T/l.npy" >"$T/out" 2>"$T/err" &&
   head -c 6 "$T/l.npy" | od -c | grep -q "N   U   M   P   Y" &&
   head -c 128 "$T/l.npy" | grep -q "'shape': (10000, 10)" &&
   [ "$(wc -c <"$T/l.npy")" -eq $((128 + 10000 * 10 * 4)) ]
then ok "predict .npy"; else bad "predict .npy"; cat "$T/err"; fi
expect_error "train --dp unknown" "not a data-parallel reduction" \
  "$LETHE" train --model mlp:784-64-10 --epochs 1 --dp fast --out "$T/dp.safetensors"
[ -e "$T/dp.safetensors" ] && bad "train --dp left output" || ok "train --dp: no output"
expect_error "dm train --dp unknown" "not a data-parallel reduction" \
  "$LETHE" dm train --model cond:xs --steps 1 --dp fast --out "$T/dpd.safetensors"
[ -e "$T/dpd.safetensors" ] && bad "dm train --dp left output" || ok "dm train --dp: no output"

# Unlearning metrics of a checkpoint (the model against itself as Retrain:
# the Avg. Gap must be exactly 0).
if "$LETHE" eval --model "$T/mlp.safetensors" --forget random:10% \
     --retrain "$T/mlp.safetensors" --json "$T/u.json" >"$T/out" 2>"$T/err" &&
   grep -q "forget random:10% (6000 items)" "$T/out" &&
   grep -q "Avg. Gap 0.00" "$T/out" && grep -q '"MIA"' "$T/u.json"
then ok "eval --forget --retrain"; else bad "eval --forget"; cat "$T/out" "$T/err"; fi
expect_error "forget spec out of range" "random:0%" \
  "$LETHE" eval --model "$T/mlp.safetensors" --forget random:0%
expect_error "forget class out of range" "class:10" \
  "$LETHE" eval --model "$T/mlp.safetensors" --forget class:10
printf '12\nbanana\n' >"$T/junk.idx"
expect_error "indices file with junk" "$T/junk.idx:2" \
  "$LETHE" eval --model "$T/mlp.safetensors" --forget "indices:$T/junk.idx"

# Unlearning (SalUn: random labels under a saliency mask), one epoch.
if "$LETHE" unlearn --model "$T/mlp.safetensors" --forget random:10% \
     --method salun --epochs 1 --out "$T/un.safetensors" >"$T/out" 2>"$T/err" &&
   grep -q "salun: RTE" "$T/out" && [ -s "$T/un.safetensors.forget.txt" ] &&
   [ "$(grep -vc '^#' "$T/un.safetensors.forget.txt")" -eq 6000 ]
then ok "unlearn salun"; else bad "unlearn salun"; cat "$T/out" "$T/err"; fi
# Class-wise Retrain never sees the class: UA must be exactly 100.
if "$LETHE" unlearn --model "$T/mlp.safetensors" --forget class:3 \
     --method retrain --epochs 1 --out "$T/re.safetensors" >"$T/out" 2>"$T/err" &&
   grep -q "retrain: RTE .* UA 100.00" "$T/out"
then ok "class-wise retrain has UA 100"; else bad "retrain"; cat "$T/out" "$T/err"; fi
# Every other method, one epoch each, with --json, on 2000 + 500 items.
small_fm "$T/fm" 2000 500
if "$LETHE" train --data "fashion-mnist:$T/fm" --model mlp:784-32-10 --epochs 2 \
     --augment none --out "$T/small.safetensors" --loss-plot "$T/train.png" \
     >"$T/out" 2>"$T/err" &&
   [ "$(head -c 4 "$T/train.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ]
then ok "train on a 2000-item IDX subset (and its loss plot)"; else bad "small train"; cat "$T/err"; fi
# Unlearning's progress on a terminal (script(1) gives it one): a bar per
# pass over its minibatches; and the loss of every minibatch as a plot.
if script -qec "'$LETHE' unlearn --model '$T/small.safetensors' \
     --data 'fashion-mnist:$T/fm' --forget random:5% --method rl --epochs 1 \
     --batch 64 --out '$T/lp.safetensors' --loss-plot '$T/unlearn.png'" \
     /dev/null >"$T/out" 2>&1 &&
   grep -q "epoch 1/1 forget \[#*\] 2/2 " "$T/out" &&
   grep -q "epoch 1/1 retain \[#*\] 30/30 " "$T/out" &&
   [ "$(head -c 4 "$T/unlearn.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ]
then ok "unlearn: progress bars and --loss-plot"; else bad "unlearn progress"; cat "$T/out"; fi
# --loss-plot FILE.csv keeps the points; lethe plot overlays two runs.
if "$LETHE" unlearn --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
     --forget random:5% --method rl --epochs 1 --batch 64 \
     --out "$T/lpc.safetensors" --loss-plot "$T/unlearn.csv" >"$T/out" 2>"$T/err" &&
   [ "$(head -n 1 "$T/unlearn.csv")" = "series,x,y" ] &&
   [ "$(grep -c '^forget,' "$T/unlearn.csv")" -eq 2 ] &&
   [ "$(grep -c '^retain,' "$T/unlearn.csv")" -eq 30 ] &&
   printf 'series,x,y\nloss,1,2.5\nloss,2,2.25\n' >"$T/other.csv" &&
   "$LETHE" plot --curves "$T/unlearn.csv=rl,$T/other.csv=ref" \
     --out "$T/both.png" >"$T/out" 2>"$T/err" &&
   [ "$(head -c 4 "$T/both.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] &&
   "$LETHE" plot --curves "$T/unlearn.csv=rl,$T/other.csv=ref" \
     --out "$T/both.csv" >"$T/out" 2>"$T/err" &&
   [ "$(grep -c '^ref,2,2.25$' "$T/both.csv")" -eq 1 ] &&
   [ "$(grep -c '^rl forget,' "$T/both.csv")" -eq 2 ]
then ok "--loss-plot X.csv and lethe plot"; else bad "loss csv / plot"; cat "$T/out" "$T/err"; fi
printf 'series,x,y\nloss,1,abc\n' >"$T/badcurve.csv"
expect_error "plot: malformed curve" "badcurve.csv:2: not a" \
  "$LETHE" plot --curves "$T/badcurve.csv" --out "$T/bad.png"
[ -e "$T/bad.png" ] && bad "plot: wrote a picture from a bad curve" || ok "plot: no picture from a bad curve"
expect_error "plot: missing curve file" "$T/nocurve.csv" \
  "$LETHE" plot --curves "$T/nocurve.csv" --out "$T/bad.png"
expect_error "unlearn: --loss-plot over --model" "same file" \
  "$LETHE" unlearn --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
  --forget random:5% --method rl --out "$T/lp2.safetensors" --loss-plot "$T/small.safetensors"
for m in ft ga rl l1-sparse iu bs be salun-soft ugradsl ugradsl+; do
  if "$LETHE" unlearn --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
       --forget random:5% \
       --method "$m" --epochs 1 --iu-samples 20 --out "$T/m.safetensors" \
       --json "$T/m.json" >"$T/out" 2>"$T/err" &&
     grep -q "^$m: RTE" "$T/out" && grep -q "\"method\":	\"$m\"" "$T/m.json"
  then ok "unlearn $m"; else bad "unlearn $m"; cat "$T/out" "$T/err"; fi
done
# Worst-case selection on the small set, then unlearning that set.
if "$LETHE" select --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
     --size 5% --worst-case --upper-epochs 2 --lower-steps 3 --out "$T/w.idx" \
     >"$T/out" 2>"$T/err" &&
   [ "$(grep -vc '^#' "$T/w.idx")" -eq 100 ] && grep -q '"class_histogram"' "$T/w.idx.json" &&
   "$LETHE" unlearn --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
     --forget "indices:$T/w.idx" --method ft --epochs 1 --out "$T/wu.safetensors" \
     >"$T/out" 2>"$T/err" && grep -q "^ft: RTE" "$T/out"
then ok "select --worst-case, then unlearn it"; else bad "select"; cat "$T/out" "$T/err"; fi
expect_error "select: both objectives" "exactly one of" \
  "$LETHE" select --model "$T/small.safetensors" --worst-case --easiest --out "$T/w2.idx"
expect_error "select: size out of range" "--size '0%'" \
  "$LETHE" select --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
  --size 0% --worst-case --out "$T/w2.idx"
[ -e "$T/w2.idx" ] && bad "select left output after an error" || ok "select: no output after errors"

# The benchmark, tiny: one seed, two methods, an lr grid, a fresh cache;
# the second run reuses the cached original and Retrain.
if "$LETHE" bench classify --model mlp:784-16-10 --train-epochs 1 --seeds 1 \
     --data "fashion-mnist:$T/fm" \
     --methods ga,rl --lr-grid ga=1e-4:1e-3 --cache "$T/cache" \
     --json "$T/b.json" --markdown "$T/b.md" --plot "$T/b.png" >"$T/out" 2>"$T/err" &&
   [ "$(head -c 4 "$T/b.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] &&
   grep -q "| ga@0.001 |" "$T/b.md" && grep -q "| rl |" "$T/b.md" &&
   grep -q "| retrain | .* | 0.00 |" "$T/b.md" && grep -q '"avg_gap_std"' "$T/b.json" &&
   "$LETHE" bench classify --model mlp:784-16-10 --train-epochs 1 --seeds 1 \
     --data "fashion-mnist:$T/fm" --methods ga --cache "$T/cache" >"$T/out2" 2>"$T/err2" &&
   grep -q "retrain: cached" "$T/out2" && grep -q "original model from" "$T/out2"
then ok "bench classify (and its cache)"; else bad "bench classify"; cat "$T/out" "$T/err" "$T/out2" "$T/err2"; fi
# A checkpoint of another architecture than the data: 14x14 images.
mkdir -p "$T/fm14"
for name in train t10k; do
  { printf '\000\000\010\003'; be32 300; be32 14; be32 14
    head -c $((300 * 196)) /dev/zero; } >"$T/fm14/$name-images-idx3-ubyte"
  { printf '\000\000\010\001'; be32 300; head -c 300 /dev/zero; } \
    >"$T/fm14/$name-labels-idx1-ubyte"
done
expect_error "data of another shape" "expected N 28x28 images" \
  "$LETHE" unlearn --model "$T/small.safetensors" --data "fashion-mnist:$T/fm14" \
  --forget random:10% --method ga --out "$T/u3.safetensors"
# Random vs worst-case sets side by side.
if "$LETHE" bench worst-case --model mlp:784-16-10 --train-epochs 1 --seeds 1 \
     --data "fashion-mnist:$T/fm" --methods ft --cache "$T/cache" \
     --markdown "$T/wc.md" --json "$T/wc.json" >"$T/out" 2>"$T/err" &&
   grep -q "| ft | .* → .* (" "$T/wc.md" && grep -q '"worst-case forget set"' "$T/wc.json"
then ok "bench worst-case"; else bad "bench worst-case"; cat "$T/out" "$T/err"; fi
# lethe report of those results: a page with both tables and the plot.
mkdir "$T/page" && cp "$T/b.json" "$T/b.png" "$T/page/"
if "$LETHE" report "$T/page" >"$T/out" 2>"$T/err" &&
   grep -q "1 result file (1 tables, 5 rows), 1 picture" "$T/out" &&
   grep -q '<td class="t">ga@0.001</td>' "$T/page/report.html" &&
   grep -q 'data-file="b.png" src="data:image/png;base64,' "$T/page/report.html"
then ok "report of a bench folder"; else bad "report"; cat "$T/out" "$T/err"; fi
expect_error "report: no folder" "cannot open the folder" \
  "$LETHE" report "$T/nonexistent"
expect_error "report: --out not a page" "must be an .html file" \
  "$LETHE" report "$T/page" --out "$T/page/b.json"
# report merge: the bench report with itself is two runs of every row.
if "$LETHE" report merge "$T/b.json" "$T/b.json" --json "$T/m.json" \
     --markdown "$T/m.md" >"$T/out" 2>"$T/err" &&
   grep -q '"seeds":[[:space:]]*2' "$T/m.json" && grep -q ' ± ' "$T/m.md"
then ok "report merge"; else bad "report merge"; cat "$T/out" "$T/err"; fi
expect_error "report merge: no file" "cannot open" \
  "$LETHE" report merge "$T/b.json" "$T/nonexistent.json"
echo '{"rows": []}' > "$T/notreport.json"
expect_error "report merge: not a report" "not a Lethe report" \
  "$LETHE" report merge "$T/wc.json" "$T/notreport.json"
expect_error "report merge: not JSON" "not JSON" \
  "$LETHE" report merge "$T/page/report.html"
expect_error "report merge: no files" "give 1 to 16 report files" \
  "$LETHE" report merge --json "$T/m2.json"
expect_error "report merge: other tables" "report 2 has" \
  "$LETHE" report merge "$T/b.json" "$T/wc.json"
expect_error "bench worst-case: class forget set" "must be random" \
  "$LETHE" bench worst-case --forget class:1 --data "fashion-mnist:$T/fm" \
  --model mlp:784-16-10 --train-epochs 1 --cache "$T/cache"
expect_error "bench: bad lr grid" "lr grid 'ga=fast'" \
  "$LETHE" bench classify --lr-grid ga=fast --cache "$T/cache"
expect_error "bench: unknown method" "methods: " \
  "$LETHE" bench classify --methods ga,nope --cache "$T/cache"
expect_error "bench: unknown subcommand" "usage: lethe bench" "$LETHE" bench clasify
expect_error "bad smoothing" "--smooth" \
  "$LETHE" unlearn --model "$T/mlp.safetensors" --forget random:10% --method ugradsl --smooth 5 --out "$T/u2.safetensors"
expect_error "unknown method" "--method" \
  "$LETHE" unlearn --model "$T/mlp.safetensors" --forget random:10% --method nope --out "$T/u2.safetensors"
expect_error "bad mask" "saliency:2" \
  "$LETHE" unlearn --model "$T/mlp.safetensors" --forget random:10% --mask saliency:2 --out "$T/u2.safetensors"
expect_error "missing --forget" "--forget" \
  "$LETHE" unlearn --model "$T/mlp.safetensors" --out "$T/u2.safetensors"
[ -e "$T/u2.safetensors" ] && bad "unlearn left output after an error" || ok "unlearn: no output after errors"

# Language models: synthetic TOFU data, a short training run (a tokenizer
# trained on the data), greedy generation and scoring with ROUGE-L.
if "$LETHE" data tofu-synth --authors 2 --seed 1 --out "$T/tofu" >"$T/out" 2>"$T/err" &&
   [ "$(wc -l <"$T/tofu/full.json")" -eq 40 ] &&
   "$LETHE" lm train --config tiny --data "$T/tofu/full.json" --epochs 1 --batch 8 \
     --vocab 300 --out "$T/lm.safetensors" >"$T/out" 2>"$T/err" &&
   "$LETHE" lm generate --model "$T/lm.safetensors" --question "Who?" --max-new 4 \
     >"$T/out" 2>"$T/err" &&
   "$LETHE" lm score --model "$T/lm.safetensors" --data "$T/tofu/forget10.json" \
     --json "$T/s.json" >"$T/out" 2>"$T/err" && grep -q "rouge_l_recall" "$T/s.json"
then ok "lm: tofu-synth, train, generate, score"; else bad "lm pipeline"; cat "$T/out" "$T/err"; fi
printf '{"question": "a?", "answer": "b."}\n{"question": "c?", \n' >"$T/bad.json"
expect_error "lm: malformed data" "bad.json:2" \
  "$LETHE" lm train --config tiny --data "$T/bad.json" --out "$T/lm2.safetensors"
[ -e "$T/lm2.safetensors" ] && bad "lm train left output after an error" || ok "lm: no output after an error"
"$LETHE" tokenizer train --corpus "$T/tofu/full.json" --vocab 280 --out "$T/tok2.json" >/dev/null 2>&1
expect_error "lm: tokenizer of another vocabulary" "vocabulary" \
  "$LETHE" lm score --model "$T/lm.safetensors" --tokenizer "$T/tok2.json" --data "$T/tofu/forget10.json"

# LLM unlearning and evaluation on the 2-author model above.
if "$LETHE" lm unlearn --model "$T/lm.safetensors" --forget "$T/tofu/forget10.json" \
     --retain "$T/tofu/retain90.json" --method npo-gd --mask wagle:0.5 --epochs 1 \
     --out "$T/u.safetensors" --json "$T/u.json" >"$T/out" 2>"$T/err" &&
   grep -q '"steps"' "$T/u.json" && [ -e "$T/u.tokenizer.json" ] &&
   "$LETHE" lm eval --benchmark tofu --model "$T/u.safetensors" \
     --forget "$T/tofu/forget10_perturbed.json" --retain "$T/tofu/retain_perturbed.json" \
     --retain-model "$T/lm.safetensors" --json "$T/e.json" >"$T/out" 2>"$T/err" &&
   grep -q "forget_quality" "$T/e.json"
then ok "lm: unlearn (npo-gd, wagle mask), eval (tofu)"; else bad "lm unlearn/eval"; cat "$T/out" "$T/err"; fi
expect_error "lm unlearn: unknown method" "unknown unlearning method 'npx'" \
  "$LETHE" lm unlearn --model "$T/lm.safetensors" --forget "$T/tofu/forget10.json" \
  --retain "$T/tofu/retain90.json" --method npx --out "$T/u2.safetensors"
expect_error "lm unlearn: npo on the mean NLL in shards" "cannot be split over data-parallel shards" \
  "$LETHE" lm unlearn --model "$T/lm.safetensors" --forget "$T/tofu/forget10.json" \
  --method npo --npo-nll mean --shards 2 --out "$T/u3.safetensors"
[ -e "$T/u3.safetensors" ] && bad "lm unlearn --shards left output" || ok "lm unlearn --shards: no output"
expect_error "lm unlearn: bad mask" "wagle:2" \
  "$LETHE" lm unlearn --model "$T/lm.safetensors" --forget "$T/tofu/forget10.json" \
  --retain "$T/tofu/retain90.json" --method ga --mask wagle:2 --out "$T/u2.safetensors"
expect_error "lm unlearn: missing forget file" "$T/none.json" \
  "$LETHE" lm unlearn --model "$T/lm.safetensors" --forget "$T/none.json" \
  --retain "$T/tofu/retain90.json" --method ga --out "$T/u2.safetensors"
[ -e "$T/u2.safetensors" ] && bad "lm unlearn left output after an error" || ok "lm unlearn: no output after an error"
expect_error "lm eval: corrupt retain json" "$T/bad.json" \
  "$LETHE" lm eval --benchmark tofu --model "$T/u.safetensors" \
  --forget "$T/tofu/forget10_perturbed.json" --retain-json "$T/bad.json"
# The Mistral (sliding window shorter than the texts) and Qwen2 (q/k/v
# biases, tied) families through train, generate, score, unlearn and eval.
"$LETHE" tokenizer train --corpus "$T/tofu/full.json" --vocab 300 --out "$T/tok300.json" >/dev/null 2>&1
printf '{"model_type": "mistral", "sliding_window": 4,' >"$T/mistral.json"
printf '{"model_type": "qwen2", "tie_word_embeddings": true,' >"$T/qwen2.json"
for fam in mistral qwen2; do
  printf ' "vocab_size": 300, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
   "num_key_value_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128}\n' >>"$T/$fam.json"
  if "$LETHE" lm train --config "$T/$fam.json" --tokenizer "$T/tok300.json" --data "$T/tofu/full.json" \
       --epochs 1 --batch 8 --out "$T/$fam" >"$T/out" 2>"$T/err" &&
     grep -q "\"model_type\":.*\"$fam\"" "$T/$fam/config.json" &&
     "$LETHE" lm generate --model "$T/$fam" --question "Who?" --max-new 4 >"$T/out" 2>"$T/err" &&
     "$LETHE" lm score --model "$T/$fam" --data "$T/tofu/forget10.json" --json "$T/$fam.s.json" \
       >"$T/out" 2>"$T/err" && grep -q "rouge_l_recall" "$T/$fam.s.json" &&
     "$LETHE" lm unlearn --model "$T/$fam" --forget "$T/tofu/forget10.json" \
       --retain "$T/tofu/retain90.json" --method npo-gd --epochs 1 --out "$T/$fam.u" \
       >"$T/out" 2>"$T/err" && grep -q "\"model_type\":.*\"$fam\"" "$T/$fam.u/config.json" &&
     "$LETHE" lm eval --benchmark tofu --model "$T/$fam.u" --forget "$T/tofu/forget10_perturbed.json" \
       --retain "$T/tofu/retain_perturbed.json" --retain-model "$T/$fam" --json "$T/$fam.e.json" \
       >"$T/out" 2>"$T/err" && grep -q "forget_quality" "$T/$fam.e.json"
  then ok "lm $fam: train, generate, score, unlearn, eval"; else bad "lm $fam pipeline"; cat "$T/out" "$T/err"; fi
done
grep -aq "self_attn.v_proj.bias" "$T/qwen2.u/model.safetensors" && ok "lm qwen2: biases saved" ||
  bad "lm qwen2: no v_proj.bias in the saved model"
printf '{"model_type": "qwen2", "use_sliding_window": true, "vocab_size": 300, "hidden_size": 32,
 "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 64}\n' >"$T/qwen2w.json"
expect_error "lm train: qwen2 sliding window" "use_sliding_window" \
  "$LETHE" lm train --config "$T/qwen2w.json" --tokenizer "$T/tok300.json" --data "$T/tofu/full.json" \
  --out "$T/q2w"
[ -e "$T/q2w" ] && bad "lm train left output after a refused config" || ok "lm train: no output after a refused config"
expect_error "bench tofu: unknown method, before any training" "npx" \
  "$LETHE" bench tofu --methods ga,npx --cache "$T/tc"
expect_error "bench tofu: bad mask" "wagle:2" \
  "$LETHE" bench tofu --masks none,wagle:2 --cache "$T/tc"
[ -e "$T/tc" ] && bad "bench tofu trained before checking its options" || ok "bench tofu: options checked first"
expect_error "bench dm: unknown method, before any training" "'nope' unknown" \
  "$LETHE" bench dm --methods salun,nope --cache "$T/dc" --json "$T/dc.json"
expect_error "bench dm: bad class list" "classes '1,x'" \
  "$LETHE" bench dm --classes 1,x --cache "$T/dc"
expect_error "bench dm: --json in a missing folder, before any work" "does not exist" \
  "$LETHE" bench dm --json "$T/no/such/dir/r.json" --cache "$T/dc"
expect_error "bench dm: retrain without a cache" "cache" \
  "$LETHE" bench dm --methods retrain
[ -e "$T/dc" ] || [ -e "$T/dc.json" ] && bad "bench dm wrote before checking its options" ||
  ok "bench dm: options checked first"
expect_error "bench muse: unknown method, before any training" "npx" \
  "$LETHE" bench muse --methods ga,npx --cache "$T/mc"
[ -e "$T/mc" ] && bad "bench muse built data before checking its options" || ok "bench muse: options checked first"
expect_error "data muse: unknown collection" "nosuchcollection" \
  "$LETHE" data muse --forget nosuchcollection --out "$T/muse"

# Outputs never overwrite inputs (nor each other): refused with exit
# status 2 before any work, naming both options; the input is unchanged.
# expect_refused NAME NEEDLE KEEP COMMAND...: KEEP is the input to compare
# byte for byte afterwards ("-": none).
expect_refused() {
  name=$1 needle=$2 keep=$3
  shift 3
  [ "$keep" = - ] || cp "$keep" "$T/kept"
  "$@" >"$T/out" 2>"$T/err"
  st=$?
  if [ "$st" -ne 2 ]; then
    bad "$name: exit $st"; cat "$T/err"
  elif ! grep -qF -- "$needle" "$T/err"; then
    bad "$name: stderr lacks '$needle':"; cat "$T/err"
  elif [ "$keep" != - ] && ! cmp -s "$keep" "$T/kept"; then
    bad "$name: $keep was changed"
  else
    ok "$name"
  fi
}
M=$T/mlp.safetensors
expect_refused "predict --out the model" "--out $M is the same file as --model" "$M" \
  "$LETHE" predict --model "$M" --out "$M"
ln -s "$M" "$T/mlp.link"
ln "$M" "$T/mlp.hard"
expect_refused "predict --out a symlink to the model" \
  "--out $T/mlp.link is the same file as --model $M" "$M" \
  "$LETHE" predict --model "$M" --out "$T/mlp.link"
expect_refused "predict --out a hard link to the model" \
  "--out $T/mlp.hard is the same file as --model $M" "$M" \
  "$LETHE" predict --model "$M" --out "$T/mlp.hard"
expect_refused "eval --json the model" "--json $M is the same file as --model" "$M" \
  "$LETHE" eval --model "$M" --json "$M"
expect_refused "eval --json the --retrain model" "is the same file as --retrain" "$M" \
  "$LETHE" eval --model "$T/small.safetensors" --forget random:10% \
  --retrain "$M" --json "$T/mlp.link"
expect_refused "eval --json the forget indices" "is the same file as --forget" "$T/w.idx" \
  "$LETHE" eval --model "$M" --forget "indices:$T/w.idx" --json "$T/w.idx"
expect_refused "unlearn --json the model" "--json $M is the same file as --model" "$M" \
  "$LETHE" unlearn --model "$M" --forget random:10% --method ga --epochs 1 \
  --out "$T/u4.safetensors" --json "$M"
expect_refused "unlearn --json the --out file" \
  "--json $T/./u4.safetensors is the same file as --out $T/u4.safetensors" - \
  "$LETHE" unlearn --model "$M" --forget random:10% --method ga --epochs 1 \
  --out "$T/u4.safetensors" --json "$T/./u4.safetensors"
expect_refused "unlearn --json the forget list beside --out" \
  "--json $T/u4.safetensors.forget.txt is the same file as --out's forget list" - \
  "$LETHE" unlearn --model "$M" --forget random:10% --method ga --epochs 1 \
  --out "$T/u4.safetensors" --json "$T/u4.safetensors.forget.txt"
expect_refused "unlearn --out the model" "--out $M is the same file as --model" "$M" \
  "$LETHE" unlearn --model "$M" --forget random:10% --method ga --epochs 1 --out "$M"
[ -e "$T/u4.safetensors" ] || [ -e "$T/u4.safetensors.forget.txt" ] &&
  bad "unlearn left output after a refusal" || ok "unlearn: nothing written when refused"
expect_refused "select --json the model" "--json $M is the same file as --model" "$M" \
  "$LETHE" select --model "$M" --worst-case --out "$T/w3.idx" --json "$M"
expect_refused "select --json the --out file" \
  "is the same file as --out" - \
  "$LETHE" select --model "$M" --worst-case --out "$T/w3.idx" --json "$T/w3.idx"
L=$T/lm.safetensors
expect_refused "lm unlearn --json the model" "--json $L is the same file as --model" "$L" \
  "$LETHE" lm unlearn --model "$L" --forget "$T/tofu/forget10.json" --method ga \
  --out "$T/u5.safetensors" --json "$L"
expect_refused "lm unlearn --json the model's tokenizer" \
  "--json $T/lm.tokenizer.json is the same file as --model's tokenizer" "$T/lm.tokenizer.json" \
  "$LETHE" lm unlearn --model "$L" --forget "$T/tofu/forget10.json" --method ga \
  --out "$T/u5.safetensors" --json "$T/lm.tokenizer.json"
expect_refused "lm unlearn --out the model" "--out $L is the same file as --model" "$L" \
  "$LETHE" lm unlearn --model "$L" --forget "$T/tofu/forget10.json" --method ga --out "$L"
expect_refused "lm unlearn --json the tokenizer beside --out" \
  "--json $T/u5.tokenizer.json is the same file as --out's tokenizer" - \
  "$LETHE" lm unlearn --model "$L" --forget "$T/tofu/forget10.json" --method ga \
  --out "$T/u5.safetensors" --json "$T/u5.tokenizer.json"
expect_refused "lm unlearn --json the tokenizer in an HF folder --out" \
  "--json $T/hf/tokenizer.json is the same file as --out's tokenizer" - \
  "$LETHE" lm unlearn --model "$L" --forget "$T/tofu/forget10.json" --method ga \
  --out "$T/hf" --json "$T/hf/tokenizer.json"
expect_refused "lm unlearn --json the --forget data" "is the same file as --forget" \
  "$T/tofu/forget10.json" \
  "$LETHE" lm unlearn --model "$L" --forget "$T/tofu/forget10.json" --method ga \
  --out "$T/u5.safetensors" --json "$T/tofu/forget10.json"
[ -e "$T/u5.safetensors" ] || [ -e "$T/hf" ] &&
  bad "lm unlearn left output after a refusal" || ok "lm unlearn: nothing written when refused"
D=$T/tofu/forget10.json
expect_refused "lm score --json the data file" "--json $D is the same file as --data" "$D" \
  "$LETHE" lm score --model "$L" --data "$D" --json "$D"
expect_refused "lm eval --json the forget file" \
  "is the same file as --forget" "$T/tofu/forget10_perturbed.json" \
  "$LETHE" lm eval --benchmark tofu --model "$L" \
  --forget "$T/tofu/forget10_perturbed.json" --json "$T/tofu/forget10_perturbed.json"
expect_refused "lm eval --json the retain model" "is the same file as --retain-model" "$L" \
  "$LETHE" lm eval --benchmark tofu --model "$T/u.safetensors" \
  --forget "$T/tofu/forget10_perturbed.json" --retain-model "$L" --json "$L"
expect_refused "lm train --out the data file (as a folder)" \
  "--out $T/tofu/full.json is the same file as --data" "$T/tofu/full.json" \
  "$LETHE" lm train --config tiny --data "$T/tofu/retain90.json,$T/tofu/full.json" \
  --epochs 1 --out "$T/tofu/full.json"
expect_refused "lm train --out's tokenizer over --tokenizer" \
  "--out's tokenizer $T/lm.tokenizer.json is the same file as --tokenizer" \
  "$T/lm.tokenizer.json" \
  "$LETHE" lm train --config tiny --data "$T/tofu/full.json" --epochs 1 \
  --tokenizer "$T/lm.tokenizer.json" --out "$T/lm.safetensors"
expect_refused "lm train --init the --out model" "--out $L is the same file as --init" "$L" \
  "$LETHE" lm train --init "$L" --data "$T/tofu/full.json" --epochs 1 --out "$L"
expect_refused "tokenizer train --out a corpus file" \
  "--out $T/tofu/full.json is the same file as --corpus" "$T/tofu/full.json" \
  "$LETHE" tokenizer train --corpus "$T/tofu/retain90.json,$T/tofu/full.json" \
  --vocab 280 --out "$T/tofu/full.json"
mkdir -p "$T/md"
printf 'a first text to forget\n%%\na second one\n%%\n' >"$T/md/forget.txt"
expect_refused "data muse --out the folder of its --forget file" \
  "--out's forget.txt $T/md/forget.txt is the same file as --forget" "$T/md/forget.txt" \
  "$LETHE" data muse --forget "$T/md/forget.txt" --out "$T/md"
expect_refused "lm eval muse --json a corpus file" \
  "--json $T/md/forget.txt is the same file as --dir's forget.txt" "$T/md/forget.txt" \
  "$LETHE" lm eval --benchmark muse --model "$L" --dir "$T/md" --json "$T/md/forget.txt"
expect_refused "bench classify --json and --markdown one file" \
  "--markdown $T/rep is the same file as --json" - \
  "$LETHE" bench classify --json "$T/rep" --markdown "$T/rep" --cache "$T/bc"
expect_refused "bench classify --json the forget indices" \
  "--json $T/w.idx is the same file as --forget" "$T/w.idx" \
  "$LETHE" bench classify --forget "indices:$T/w.idx" --json "$T/w.idx" --cache "$T/bc"
expect_refused "bench tofu --json and --markdown one file" \
  "--markdown $T/./rep is the same file as --json $T/rep" - \
  "$LETHE" bench tofu --quick --json "$T/rep" --markdown "$T/./rep" --cache "$T/bc"
expect_refused "bench muse --json the --forget collection file" \
  "--json $T/md/forget.txt is the same file as --forget" "$T/md/forget.txt" \
  "$LETHE" bench muse --quick --forget "$T/md/forget.txt" --json "$T/md/forget.txt" --cache "$T/bc"
[ -e "$T/rep" ] || [ -e "$T/bc" ] && bad "bench wrote after a refusal" ||
  ok "bench: nothing written when refused"

# Bad inputs.
cp "$T/mlp.safetensors" "$T/keep.safetensors"
expect_error "unknown model" "unknown model 'resnet99'" \
  "$LETHE" train --model resnet99 --epochs 1 --out "$T/keep.safetensors"
cmp -s "$T/mlp.safetensors" "$T/keep.safetensors" && ok "unknown model: output untouched" || bad "output overwritten"
expect_error "missing data folder" "/nonexistent/fm" \
  "$LETHE" train --data fashion-mnist:/nonexistent/fm --out "$T/x.safetensors"
mkdir "$T/bad"
printf '\000\000\010\007\000\000\000\001' >"$T/bad/train-images-idx3-ubyte"
expect_error "IDX wrong magic" "$T/bad/train-images-idx3-ubyte" \
  "$LETHE" train --data "mnist:$T/bad" --out "$T/x.safetensors"
head -c 100 "$T/mlp.safetensors" >"$T/trunc.safetensors"
expect_error "truncated safetensors" "$T/trunc.safetensors" \
  "$LETHE" eval --model "$T/trunc.safetensors"
printf 'not a checkpoint at all' >"$T/junk.safetensors"
expect_error "corrupt safetensors" "$T/junk.safetensors" \
  "$LETHE" eval --model "$T/junk.safetensors"
expect_error "missing checkpoint" "$T/none.safetensors" \
  "$LETHE" predict --model "$T/none.safetensors" --out "$T/l2.npy"
[ -e "$T/l2.npy" ] && bad "predict left output after an error" || ok "no output after an error"
expect_error "bad number" "expects a number" \
  "$LETHE" train --epochs ten --out "$T/x.safetensors"
expect_error "nan threads" "--threads expects a finite number" \
  "$LETHE" train --threads nan --out "$T/x.safetensors"
expect_error "bad precision" "--precision: unknown precision 'fp16' (use fp32 or bf16)" \
  "$LETHE" train --precision fp16 --out "$T/x.safetensors"
[ -e "$T/x.safetensors" ] && bad "bad precision left a checkpoint" || ok "bad precision: no output"
expect_error "bench tofu: bad precision" "--precision: unknown precision 'half'" \
  "$LETHE" bench tofu --quick --precision half --cache "$T/tc"
expect_error "nan lr" "--lr expects a finite number" \
  "$LETHE" train --lr nan --out "$T/x.safetensors"
expect_error "infinite lr" "--lr expects a finite number" \
  "$LETHE" train --lr -inf --out "$T/x.safetensors"
expect_error "fractional epochs" "--epochs expects a whole number" \
  "$LETHE" train --epochs 1.9 --out "$T/x.safetensors"
expect_error "negative seed" "--seed expects a whole number" \
  "$LETHE" train --seed -1 --out "$T/x.safetensors"
expect_error "seed 1e30" "--seed expects a whole number" \
  "$LETHE" train --seed 1e30 --out "$T/x.safetensors"
expect_error "seed 2^64" "--seed expects a whole number" \
  "$LETHE" train --seed 18446744073709551616 --out "$T/x.safetensors"
expect_error "duplicated flag" "lethe train: --lr given twice" \
  "$LETHE" train --lr 0.1 --lr 0.2 --out "$T/x.safetensors"
expect_error "duplicated switch" "lethe select: --easiest given twice" \
  "$LETHE" select --easiest --easiest
if "$LETHE" train --seed 18446744073709551615 --epochs 1e3 --help >"$T/out" 2>"$T/err"
then ok "largest seed, --epochs 1e3 accepted"; else bad "largest seed"; cat "$T/err"; fi
expect_error "unknown option" "unknown option '--epoch'" \
  "$LETHE" train --epoch 3 --out "$T/x.safetensors"
expect_error "bad split" "split must be train or test" \
  "$LETHE" predict --model "$T/mlp.safetensors" --split valid --out "$T/l3.npy"
expect_error "unknown command" "unknown command 'trian'" "$LETHE" trian

# FashionCanvas (lethe data canvas): a tiny real run, a rerun into the
# same folder, then the bad inputs; none of them writes anything.
if "$LETHE" data canvas --out "$T/canvas" --per-class 1 --test-per-class 1 \
     --seed 3 >"$T/out" 2>"$T/err" &&
   grep -q "220 train + 220 test pictures" "$T/out" &&
   [ -f "$T/canvas/index.json" ] && [ -f "$T/canvas/preview.png" ] &&
   [ "$(find "$T/canvas" -name '*.png' | wc -l)" -eq 441 ] &&
   head -c 8 "$T/canvas/train/neon/bag_0000.png" | od -c | grep -q "P   N   G"
then ok "data canvas"; else bad "data canvas"; cat "$T/out" "$T/err"; fi
cp "$T/canvas/index.json" "$T/canvas-index.json"
if "$LETHE" data canvas --out "$T/canvas" --per-class 1 --test-per-class 1 \
     --seed 3 >"$T/out" 2>"$T/err" &&
   cmp -s "$T/canvas/index.json" "$T/canvas-index.json"
then ok "data canvas: rerun into its folder, same index"; else bad "data canvas rerun"; cat "$T/err"; fi
expect_error "data canvas: missing --out" "--out DIR is required" \
  "$LETHE" data canvas --per-class 1
expect_error "data canvas: missing data" "$T/nofm" \
  "$LETHE" data canvas --out "$T/cv1" --data "fashion-mnist:$T/nofm"
expect_error "data canvas: other data set" "is not fashion-mnist" \
  "$LETHE" data canvas --out "$T/cv1" --data "cifar10:$T"
mkdir -p "$T/badfm"
printf 'not an idx file' >"$T/badfm/train-images-idx3-ubyte"
printf 'not an idx file' >"$T/badfm/train-labels-idx1-ubyte"
expect_error "data canvas: corrupt data" "$T/badfm/train-images-idx3-ubyte" \
  "$LETHE" data canvas --out "$T/cv1" --data "fashion-mnist:$T/badfm"
expect_error "data canvas: --per-class 0" "--per-class" \
  "$LETHE" data canvas --out "$T/cv1" --per-class 0
expect_error "data canvas: --per-class ten" "--per-class expects a number" \
  "$LETHE" data canvas --out "$T/cv1" --per-class ten
expect_error "data canvas: --test-per-class 1001" "--test-per-class" \
  "$LETHE" data canvas --out "$T/cv1" --test-per-class 1001
expect_error "data canvas: negative seed" "--seed expects a whole number" \
  "$LETHE" data canvas --out "$T/cv1" --seed -4
[ -e "$T/cv1" ] && bad "data canvas: a failed run left its folder" ||
  ok "data canvas: failed runs write nothing"
printf 'keep me' >"$T/afile"
expect_error "data canvas: out is a file" "exists and is not a folder" \
  "$LETHE" data canvas --out "$T/afile"
[ "$(cat "$T/afile")" = "keep me" ] && ok "data canvas: the file is untouched" ||
  bad "data canvas: the file changed"
mkdir -p "$T/foreign" && printf 'x' >"$T/foreign/notes.txt"
expect_error "data canvas: foreign folder" "is not a FashionCanvas" \
  "$LETHE" data canvas --out "$T/foreign" --per-class 1
[ "$(ls -A "$T/foreign")" = "notes.txt" ] && ok "data canvas: foreign folder untouched" ||
  bad "data canvas: wrote into a foreign folder"
# Text models on the canvas above: encoder pretraining, a UNet step, a
# prompt; then their errors.
if "$LETHE" dm clip --data "$T/canvas" --out "$T/enc.safetensors" --preset xs \
     --steps 3 --batch 8 >"$T/out" 2>"$T/err" &&
   "$LETHE" dm train --model text:xs,ctx_dim=32 --data "canvas:$T/canvas" \
     --encoder "$T/enc.safetensors" --steps 1 --batch 2 --out "$T/tdm.safetensors" \
     >>"$T/out" 2>>"$T/err" && [ -s "$T/tdm.safetensors.clip.safetensors" ] &&
   "$LETHE" dm sample --model "$T/tdm.safetensors" --n 2 --steps 2 \
     --prompt "An dress image in Neon style." --out "$T/tdm.png" >>"$T/out" 2>>"$T/err" &&
   head -c 8 "$T/tdm.png" | od -c | grep -q "P   N   G"
then ok "dm clip, text train, prompt sample"; else bad "dm text path"; cat "$T/out" "$T/err"; fi
# the schedule: SD's for a new text model, an --init model's own otherwise
sched() { head -c 4096 "$1" | grep -a -o '"lethe.dm.schedule":"[a-z_]*"'; }
if [ "$(sched "$T/tdm.safetensors")" = '"lethe.dm.schedule":"scaled_linear"' ] &&
   "$LETHE" dm train --model text:xs,ctx_dim=32 --data "canvas:$T/canvas" \
     --encoder "$T/enc.safetensors" --steps 1 --batch 2 --schedule linear \
     --out "$T/tlin.safetensors" >"$T/out" 2>"$T/err" &&
   "$LETHE" dm train --model text:xs,ctx_dim=32 --data "canvas:$T/canvas" \
     --encoder "$T/enc.safetensors" --steps 1 --batch 2 --init "$T/tlin.safetensors" \
     --out "$T/tlin2.safetensors" >>"$T/out" 2>>"$T/err" &&
   [ "$(sched "$T/tlin2.safetensors")" = '"lethe.dm.schedule":"linear"' ]
then ok "dm train: text models default to scaled_linear, --init keeps its schedule"
else bad "dm train schedule defaults"; cat "$T/out" "$T/err"; fi
expect_error "dm unlearn: a text model" "is a text-conditioned model" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --forget-class 0 --out "$T/tx.safetensors"
expect_error "dm unlearn sa: a text model" "--method sa needs a class-conditional one" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --forget-class 0 --method sa --out "$T/tx.safetensors"
# ESD on the one-step text model: esd-x and esd-u runs whose output the
# sampler and the attack read, then the errors.
OBJ="$(dirname "$0")/../models/fashion-canvas-object-v1.safetensors"
if "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "Neon" --method esd-x \
     --steps 2 --ddim-steps 5 --out "$T/tesd.safetensors" >"$T/out" 2>"$T/err" &&
   [ -s "$T/tesd.safetensors.clip.safetensors" ] &&
   head -c 4096 "$T/tesd.safetensors" | grep -q '"lethe.dmu.method":"esd-x"' &&
   head -c 4096 "$T/tesd.safetensors" | grep -q '"lethe.dmu.concept":"Neon"' &&
   head -c 4096 "$T/tesd.safetensors" | grep -q '"lethe.command":"lethe dm unlearn' &&
   "$LETHE" dm sample --model "$T/tesd.safetensors" --n 1 --steps 1 \
     --prompt "a dress in neon style" --out "$T/tesd.npy" >>"$T/out" 2>>"$T/err" &&
   "$LETHE" dm attack --unlearned "$T/tesd.safetensors" --concept style:neon \
     --method none --prompts 1 --steps 1 --out-prompts "$T/tesd.json" \
     --detector "$(dirname "$0")/../models/fashion-canvas-style-v1.safetensors" \
     >>"$T/out" 2>>"$T/err" &&
   "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "dress" --method esd-u \
     --steps 1 --ddim-steps 5 --out "$T/tesdu.safetensors" >>"$T/out" 2>>"$T/err"
then ok "dm unlearn esd-x / esd-u (text), sampled and attacked"
else bad "dm unlearn esd"; cat "$T/out" "$T/err"; fi
# the sd variant (esd_sd.py): esd-x-strict, then its refusals
if "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "Neon" --method esd-x-strict \
     --esd-variant sd --steps 2 --ddim-steps 5 --out "$T/tesdsd.safetensors" \
     >"$T/out" 2>"$T/err" &&
   head -c 4096 "$T/tesdsd.safetensors" |
     grep -q '"lethe.dmu.method":"esd-x-strict (esd_sd.py)"' &&
   grep -q "eta 2, start guidance 3, PLMS 5" "$T/err"
then ok "dm unlearn --esd-variant sd (esd-x-strict)"
else bad "dm unlearn esd sd"; cat "$T/out" "$T/err"; fi
expect_error "dm unlearn esd: sd-only set under paper" "paper variant's script has no such set" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method esd-all \
  --out "$T/tx.safetensors"
expect_error "dm unlearn esd: unknown variant" "--esd-variant" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method esd-x \
  --esd-variant xl --out "$T/tx.safetensors"
[ ! -e "$T/tx.safetensors" ] || bad "dm unlearn esd variant errors left an output"
if "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept style:neon --method fmn \
     --data "canvas:$T/canvas" --steps 2 --out "$T/tfmn.safetensors" >"$T/out" 2>"$T/err" &&
   [ -s "$T/tfmn.safetensors.clip.safetensors" ] &&
   head -c 4096 "$T/tfmn.safetensors" | grep -q '"lethe.dmu.method":"fmn"' &&
   "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept object:bag --method fmn \
     --only-ca --data "$T/canvas" --steps 1 --out "$T/tfmn2.safetensors" >>"$T/out" 2>>"$T/err" &&
   "$LETHE" dm sample --model "$T/tfmn.safetensors" --n 1 --steps 1 \
     --prompt "a dress in neon style" --out "$T/tfmn.npy" >>"$T/out" 2>>"$T/err"
then ok "dm unlearn fmn (style, object --only-ca), sampled"
else bad "dm unlearn fmn"; cat "$T/out" "$T/err"; fi
# FMN with its textual-inversion stage first (--fmn-ti)
if "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept object:bag --method fmn \
     --fmn-ti --ti-steps 2 --data "canvas:$T/canvas" --steps 1 --out "$T/tfti.safetensors" \
     >"$T/out" 2>"$T/err" &&
   head -c 4096 "$T/tfti.safetensors" | grep -q '"lethe.dmu.method":"fmn+ti"' &&
   head -c 4096 "$T/tfti.safetensors" | grep -q '"lethe.dmu.ti":"3 tokens, 2 steps' &&
   grep -q "textual inversion of 3 tokens" "$T/err"
then ok "dm unlearn fmn --fmn-ti"; else bad "dm unlearn fmn --fmn-ti"; cat "$T/out" "$T/err"; fi
expect_error "dm unlearn esd: --fmn-ti" "--fmn-ti is fmn's" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method esd-x \
  --fmn-ti --out "$T/tx.safetensors"
# AdvUnlearn on a three-step text model (the one-step model's UNet still
# ignores its context, so no gradient would reach the encoder): a
# two-iteration encoder run (warm-up, then one adversarial step), the same
# run killed after one iteration and resumed (same weights, and not the
# starting ones), its encoder plugged in with dm sample --encoder, the UNet
# variant with fast-AT and no retain term; then the errors (none leaves a
# file).
ADVU="--concept Neon --method advunlearn --retain style:neon --warmup 1 --attack-steps 1 --retain-batch 1 --ddim-steps 2"
if "$LETHE" dm train --model text:xs,ctx_dim=32 --data "canvas:$T/canvas" \
     --encoder "$T/enc.safetensors" --steps 3 --batch 2 --lr 1e-2 \
     --out "$T/tdm3.safetensors" >"$T/out" 2>"$T/err" &&
   "$LETHE" dm unlearn --model "$T/tdm3.safetensors" $ADVU --steps 2 \
     --out "$T/tadv.safetensors" >>"$T/out" 2>>"$T/err" &&
   head -c 16384 "$T/tadv.safetensors.clip.safetensors" | grep -q '"lethe.dmu.method":"advunlearn"' &&
   head -c 4096 "$T/tadv.safetensors" | grep -q '"lethe.dmu.trained":"encoder"' &&
   head -c 4096 "$T/tadv.safetensors" | grep -q '"lethe.dmu.attack":"pgd k 1, 1 steps' &&
   "$LETHE" dm unlearn --model "$T/tdm3.safetensors" $ADVU --steps 1 \
     --out "$T/tadv2.safetensors" >>"$T/out" 2>>"$T/err" &&
   "$LETHE" dm unlearn --model "$T/tdm3.safetensors" $ADVU --steps 2 --resume \
     --out "$T/tadv2.safetensors" >>"$T/out" 2>>"$T/err" &&
   grep -q "resumed from .*tadv2.safetensors.state at iteration 1" "$T/err" &&
   "$LETHE" hash "$T/tadv.safetensors.clip.safetensors" "$T/tadv2.safetensors.clip.safetensors" \
     "$T/tdm3.safetensors.clip.safetensors" >"$T/hash" 2>>"$T/err" &&
   [ "$(cut -d' ' -f1 "$T/hash" | sort -u | wc -l)" -eq 2 ] &&
   [ "$(head -1 "$T/hash" | cut -d' ' -f1)" = "$(sed -n 2p "$T/hash" | cut -d' ' -f1)" ] &&
   "$LETHE" dm sample --model "$T/tdm.safetensors" --encoder "$T/tadv.safetensors.clip.safetensors" \
     --prompt "a dress in neon style" --n 1 --steps 1 --out "$T/tadv.npy" >>"$T/out" 2>>"$T/err" &&
   "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "a dress" --method advunlearn \
     --train unet --unet-params esd-x --attack fast-at --retain none --steps 1 --warmup 0 \
     --attack-steps 1 --ddim-steps 2 --out "$T/tadvu.safetensors" >>"$T/out" 2>>"$T/err" &&
   head -c 4096 "$T/tadvu.safetensors" | grep -q '"lethe.dmu.trained":"esd-x"'
then ok "dm unlearn advunlearn (encoder, resumed exactly; unet + fast-at), robust encoder plugged in"
else bad "dm unlearn advunlearn"; cat "$T/out" "$T/err"; fi
expect_error "advunlearn: no retain prompts named" "--retain SPEC" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method advunlearn \
  --out "$T/tx.safetensors"
expect_error "advunlearn: unknown trained part" "unknown (encoder, unet)" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method advunlearn \
  --retain none --retain-weight 0 --train vae --out "$T/tx.safetensors"
expect_error "advunlearn: unknown attack" "unknown (pgd, fast-at)" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method advunlearn \
  --retain mark --attack fgsm --out "$T/tx.safetensors"
expect_error "advunlearn: attack init" "--attack-init takes latest" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method advunlearn \
  --retain mark --attack-init zero --out "$T/tx.safetensors"
expect_error "advunlearn: retain none with a weight" "--retain-weight must then be 0" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method advunlearn \
  --retain none --retain-weight 0.5 --out "$T/tx.safetensors"
expect_error "advunlearn: unknown retain style" "no such FashionCanvas style" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method advunlearn \
  --retain style:nosuch --out "$T/tx.safetensors"
expect_error "advunlearn: missing retain file" "$T/none.txt" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method advunlearn \
  --retain "$T/none.txt" --out "$T/tx.safetensors"
printf 'a dress\na spaceship\n' >"$T/retain.txt"
expect_error "advunlearn: retain word not in the vocabulary" "unknown word 'spaceship'" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method advunlearn \
  --retain "$T/retain.txt" --out "$T/tx.safetensors"
expect_error "advunlearn: concept word not in the vocabulary" "unknown word 'spaceship'" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "a spaceship" \
  --method advunlearn --retain mark --out "$T/tx.safetensors"
expect_error "advunlearn: k larger than the context" "do not fit the context of 16" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "a dress" --method advunlearn \
  --retain mark --k 13 --out "$T/tx.safetensors"
expect_error "advunlearn: a class model" "is a class-conditional model" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --concept neon --method advunlearn \
  --retain mark --out "$T/tx.safetensors"
[ -e "$T/tx.safetensors" ] || [ -e "$T/tx.safetensors.clip.safetensors" ] ||
  [ -e "$T/tx.safetensors.state" ] &&
  bad "advunlearn left output" || ok "advunlearn: no output after errors"
# SalUn for canvas (the target replaced by Photo): its mask file drives
# esd-x, then the errors.
if "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept style:neon --method salun \
     --data "canvas:$T/canvas" --per-pair 1 --epochs 1 --out "$T/tsal.safetensors" \
     --mask-out "$T/tsal-mask.safetensors" >"$T/out" 2>"$T/err" &&
   [ -s "$T/tsal.safetensors.clip.safetensors" ] && [ -s "$T/tsal-mask.safetensors" ] &&
   head -c 4096 "$T/tsal.safetensors" | grep -q '"lethe.dmu.method":"salun"' &&
   "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method esd-x \
     --steps 1 --ddim-steps 5 --mask "$T/tsal-mask.safetensors" \
     --out "$T/tesdm.safetensors" >>"$T/out" 2>>"$T/err" &&
   head -c 4096 "$T/tesdm.safetensors" | grep -q 'tsal-mask.safetensors"'
then ok "dm unlearn salun (canvas) with --mask-out, esd-x with that --mask"
else bad "dm unlearn salun"; cat "$T/out" "$T/err"; fi
expect_error "dm unlearn salun: unknown style" "no FashionCanvas style is called 'nosuch'" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept style:nosuch --method salun \
  --data "$T/canvas" --out "$T/tx.safetensors"
expect_error "dm unlearn salun: unknown object" "no FashionCanvas object is called 'car'" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept object:car --method salun \
  --data "$T/canvas" --out "$T/tx.safetensors"
expect_error "dm unlearn salun: empty target" "the name is empty" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept style: --method salun \
  --data "$T/canvas" --out "$T/tx.safetensors"
expect_error "dm unlearn salun: a class model" "needs a text-conditioned 32x32x3 model" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --concept style:neon --method salun \
  --data "$T/canvas" --out "$T/tx.safetensors"
expect_error "dm unlearn salun: too few pictures" "1 picture(s) of Neon tshirt, 3 wanted" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept style:neon --method salun \
  --data "$T/canvas" --out "$T/tx.safetensors"
expect_error "dm unlearn esd: a mask that is not one" "holds" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method esd-x \
  --steps 1 --mask "$T/tdm.safetensors" --out "$T/tx.safetensors"
STY="$(dirname "$0")/../models/fashion-canvas-style-v1.safetensors"
expect_error "bench canvas: unknown style, before any work" "no FashionCanvas style is called 'nosuch'" \
  "$LETHE" bench canvas --targets style:nosuch --cache "$T/cc" --json "$T/cc.json"
expect_error "bench canvas: empty target" "the name is empty" \
  "$LETHE" bench canvas --targets object: --cache "$T/cc"
expect_error "bench canvas: bad --unlearned" "model 'foo': want NAME=FILE or NAME=FILE:ENCODER" \
  "$LETHE" bench canvas --unlearned foo --cache "$T/cc"
expect_error "bench canvas: --unlearned file missing, before any work" "--unlearned a: $T/none.safetensors not found" \
  "$LETHE" bench canvas --unlearned "a=$T/none.safetensors" --cache "$T/cc"
expect_error "bench canvas: unknown method" "'nope'" \
  "$LETHE" bench canvas --methods esd-x,nope --cache "$T/cc"
expect_error "bench canvas: a class model" "not a text-conditioned model" \
  "$LETHE" bench canvas --model "$T/dm.safetensors" --data "canvas:$T/canvas" \
  --targets style:neon --style-classifier "$STY" --object-classifier "$OBJ"
[ -e "$T/cc" ] || [ -e "$T/cc.json" ] && bad "bench canvas wrote before checking its inputs" ||
  ok "bench canvas: inputs checked first"
expect_error "dm unlearn fmn: a plain concept" "fmn takes style:NAME or object:NAME" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method fmn \
  --data "$T/canvas" --out "$T/tx.safetensors"
expect_error "dm unlearn fmn: unknown style" "'style:nosuch'" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept style:nosuch --method fmn \
  --data "$T/canvas" --out "$T/tx.safetensors"
expect_error "dm unlearn fmn: no data" "--method fmn needs --data canvas:DIR" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept style:neon --method fmn \
  --out "$T/tx.safetensors"
expect_error "dm unlearn esd: fmn's options" "--data and --only-ca are fmn's" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept neon --method esd-x \
  --only-ca --out "$T/tx.safetensors"
expect_error "dm unlearn esd: unknown word" "unknown word 'spaceship'" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "a spaceship" \
  --method esd-x --out "$T/tx.safetensors"
expect_error "dm unlearn esd: empty concept" "--concept is empty" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept " " --method esd-x \
  --out "$T/tx.safetensors"
expect_error "dm unlearn esd: a class model" "is a class-conditional model" \
  "$LETHE" dm unlearn --model "$T/dm.safetensors" --concept "neon" --method esd-x \
  --out "$T/tx.safetensors"
expect_error "dm unlearn esd: class-wise method with a concept" "erased with esd-x, esd-u" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "neon" --method rl \
  --out "$T/tx.safetensors"
expect_error "dm unlearn esd: no concept" "--concept PROMPT and --out FILE are required" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --method esd-u --out "$T/tx.safetensors"
expect_error "dm unlearn esd: a forget class" "--forget-class" \
  "$LETHE" dm unlearn --model "$T/tdm.safetensors" --concept "neon" --method esd-x \
  --forget-class 1 --out "$T/tx.safetensors"
expect_error "dm text: unknown word" "unknown word 'shoe'" \
  "$LETHE" dm sample --model "$T/tdm.safetensors" --prompt "a shoe" --out "$T/tx.png"
expect_error "dm text: train without encoder" "text models need --encoder" \
  "$LETHE" dm train --model text:xs --data "canvas:$T/canvas" --out "$T/tx.safetensors"
expect_error "dm text: prompt to a class model" "--prompt needs a text model" \
  "$LETHE" dm sample --model "$T/dm.safetensors" --prompt "a dress" --out "$T/tx.png"
"$LETHE" dm clip --data "$T/canvas" --out "$T/enc64.safetensors" --preset tiny \
  --steps 1 --batch 4 >/dev/null 2>&1
expect_error "dm text: encoder of another width" "the encoder gives 16x64 contexts" \
  "$LETHE" dm sample --model "$T/tdm.safetensors" --prompt "a dress" \
  --encoder "$T/enc64.safetensors" --out "$T/tx.png"
expect_error "dm eval text: no canvas" "text models need --data canvas:DIR" \
  "$LETHE" dm eval --model "$T/tdm.safetensors" --json "$T/tx.json"
expect_error "dm eval text: too many per pair" "--per-pair" \
  "$LETHE" dm eval --model "$T/tdm.safetensors" --data "canvas:$T/canvas" --per-pair 11 \
  --json "$T/tx.json"
if "$LETHE" dm sample --model "$T/tdm.safetensors" --n 1 --steps 1 --prompt "a dress" \
     --out "$T/tdm1.npy" >"$T/out" 2>"$T/err" && grep -q "guidance sd s=7.5" "$T/err"
then ok "dm sample: text models default to sd 7.5"; else bad "dm sample text default guidance"; cat "$T/out" "$T/err"; fi
[ -e "$T/tx.png" ] || [ -e "$T/tx.safetensors" ] || [ -e "$T/tx.json" ] && bad "dm text left output" || ok "dm text: no output after errors"
# dm attack on the one-step text model (as both the original and the
# attacked model): a tiny UnlearnDiff run whose prompt replays, then errors.
OBJ="$(dirname "$0")/../models/fashion-canvas-object-v1.safetensors"
if "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --original "$T/tdm.safetensors" \
     --concept object:bag --method unlearndiff --timesteps 2 --iters 1 --steps 1 \
     --prompts 1 --detector "$OBJ" --out-prompts "$T/atk.json" --json "$T/atkr.json" \
     --grid "$T/atk.png" >"$T/out" 2>"$T/err" && grep -q '"replay"' "$T/atk.json" &&
   head -c 8 "$T/atk.png" | od -c | grep -q "P   N   G" &&
   grep -q '"asr"' "$T/atkr.json" && grep -q "judge (verdict)" "$T/out"
then ok "dm attack unlearndiff (2 tries)"; else bad "dm attack"; cat "$T/out" "$T/err"; fi
ADV=$(sed -n 's/.*"adversarial_prompt":[^"]*"\(.*\)",$/\1/p' "$T/atk.json")
if [ -n "$ADV" ] && "$LETHE" dm sample --model "$T/tdm.safetensors" --prompt "$ADV" \
     --seed 1 --n 1 --steps 1 --out "$T/adv.npy" >"$T/out" 2>"$T/err"
then ok "dm attack: the adversarial prompt replays with dm sample"
else bad "dm attack replay of '$ADV'"; cat "$T/err"; fi
expect_error "dm attack: word not in the vocabulary" "unknown word 'spaceship'" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --concept object:bag \
  --method none --prompt "a spaceship" --prompts 1 --steps 1 --detector "$OBJ" \
  --out-prompts "$T/atkx.json"
expect_error "dm attack: k larger than the context" "exceed the context of 16 tokens" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --concept object:bag \
  --method random --prompt "a bag" --k 14 --prompts 1 --steps 1 --detector "$OBJ" \
  --out-prompts "$T/atkx.json"
expect_error "dm attack: missing original encoder" "--original-encoder" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --original "$T/tdm.safetensors" \
  --original-encoder "$T/no-such-encoder.safetensors" --concept object:bag \
  --prompts 1 --steps 1 --detector "$OBJ" --out-prompts "$T/atkx.json"
expect_error "dm attack: original encoder of another shape" "original-encoder $T/enc64.safetensors" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --original "$T/tdm.safetensors" \
  --original-encoder "$T/enc64.safetensors" --concept object:bag --method p4d \
  --prompts 1 --steps 1 --timesteps 1 --iters 1 --detector "$OBJ" --out-prompts "$T/atkx.json"
if "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --original "$T/tdm.safetensors" \
     --original-encoder "$T/tdm.safetensors.clip.safetensors" --concept object:bag \
     --method p4d --timesteps 1 --iters 1 --steps 1 --prompts 1 --detector "$OBJ" \
     --json "$T/atke.json" >"$T/out" 2>"$T/err" &&
   grep -q '"original_encoder":.*tdm.safetensors.clip.safetensors (weights sha256 [0-9a-f]\{64\})"' "$T/atke.json"
then ok "dm attack --original-encoder: recorded with its weights hash"
else bad "dm attack --original-encoder"; cat "$T/out" "$T/err" "$T/atke.json"; fi
expect_error "bench attack: bad --model" "NAME=FILE or NAME=FILE:ENCODER" \
  "$LETHE" bench attack --original "$T/tdm.safetensors" --model "$T/tesd.safetensors"
expect_error "bench attack: unknown concept" "unknown concept 'object:spaceship'" \
  "$LETHE" bench attack --original "$T/tdm.safetensors" --concepts object:spaceship
expect_error "bench attack: missing encoder" "encoder of model 'adv' ($T/no-such-encoder.safetensors) does not exist" \
  "$LETHE" bench attack --original "$T/tdm.safetensors" \
  --model "adv=$T/tdm.safetensors:$T/no-such-encoder.safetensors"
expect_error "dm attack: a mark detector of the wrong axis" "must have 2 classes" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --concept mark --method none \
  --detector "$OBJ" --out-prompts "$T/atkx.json"
MARK="$(dirname "$0")/../models/fashion-canvas-mark-v1.safetensors"
MARKJ="$(dirname "$0")/../models/fashion-canvas-mark-judge-v1.safetensors"
if "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --original "$T/tdm.safetensors" \
     --concept mark --method none --prompts 1 --steps 1 --detector "$MARK" \
     --judge "$MARKJ" --json "$T/atkm.json" >"$T/out" 2>"$T/err" &&
   grep -q '"independent_judge":[[:space:]]*"yes"' "$T/atkm.json"
then ok "dm attack --concept mark: the committed detector and judge"
else bad "dm attack --concept mark"; cat "$T/out" "$T/err" "$T/atkm.json"; fi
expect_error "dm attack: detector of the wrong axis" "must have 10 classes" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --concept object:bag --method none \
  --detector "$(dirname "$0")/../models/fashion-canvas-style-v1.safetensors" \
  --out-prompts "$T/atkx.json"
expect_error "dm attack: unknown concept" "unknown concept 'object:spaceship'" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --concept object:spaceship \
  --method none --out-prompts "$T/atkx.json"
expect_error "dm attack: unlearndiff without the original" "need --original" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --concept object:bag
expect_error "dm attack: unknown method" "unknown attack 'gcg'" \
  "$LETHE" dm attack --unlearned "$T/tdm.safetensors" --concept object:bag --method gcg
[ -e "$T/atkx.json" ] && bad "dm attack: a failed run left its prompts file" ||
  ok "dm attack: failed runs write nothing"
# A failed command leaves no outputs (issue #20 point 4): every output is
# staged and renamed only when the whole command succeeded.
# expect_none NAME FILE...: none of the files exists, and no temporary is
# left in $T.
expect_none() {
  name=$1
  shift
  for f in "$@"; do
    if [ -e "$f" ]; then bad "$name: $f was left"; return; fi
  done
  if ls "$T" | grep -q '\.tmp\.'; then bad "$name: a temporary was left"; return; fi
  ok "$name: nothing left"
}
expect_error "unlearn: --json in a missing folder" "$T/nodir/x.json" \
  "$LETHE" unlearn --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
  --forget random:5% --method ft --epochs 1 --out "$T/f1.safetensors" --json "$T/nodir/x.json"
expect_none "unlearn after --json failed" "$T/f1.safetensors" "$T/f1.safetensors.forget.txt"
expect_error "select: --json in a missing folder" "$T/nodir/s.json" \
  "$LETHE" select --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
  --size 5% --worst-case --upper-epochs 1 --lower-steps 1 --out "$T/f2.idx" --json "$T/nodir/s.json"
expect_none "select after --json failed" "$T/f2.idx"
mkdir -p "$T/fmuse/knowmem_retain.json"
expect_error "data muse: the last file cannot be written" "knowmem_retain.json: cannot write" \
  "$LETHE" data muse --forget literature --retain science --out "$T/fmuse"
[ "$(ls -A "$T/fmuse")" = "knowmem_retain.json" ] && ok "data muse: failed run wrote none of its files" ||
  bad "data muse: failed run left $(ls -A "$T/fmuse")"
mkdir -p "$T/ftofu/full.json"
expect_error "data tofu-synth: one file cannot be written" "full.json: cannot write" \
  "$LETHE" data tofu-synth --authors 2 --out "$T/ftofu"
[ "$(ls -A "$T/ftofu")" = "full.json" ] && ok "data tofu-synth: failed run wrote none of its files" ||
  bad "data tofu-synth: failed run left $(ls -A "$T/ftofu")"
"$LETHE" data tofu-synth --authors 2 --out "$T/ftofu2/a/b" >/dev/null 2>&1 &&
  [ -s "$T/ftofu2/a/b/full.json" ] && ok "data tofu-synth: creates nested folders" ||
  bad "data tofu-synth into a new nested folder"
expect_error "lm unlearn: --json in a missing folder" "$T/nodir/u.json" \
  "$LETHE" lm unlearn --model "$T/lm.safetensors" --forget "$T/tofu/forget10.json" \
  --retain "$T/tofu/retain90.json" --method ga --epochs 1 --out "$T/f3.safetensors" \
  --json "$T/nodir/u.json"
expect_none "lm unlearn after --json failed" "$T/f3.safetensors" "$T/f3.tokenizer.json"
# A diverged LLM run (issue #20 point 7) writes no model: exit 2, only the
# --json report, which says "diverged": true.
"$LETHE" lm unlearn --model "$T/lm.safetensors" --forget "$T/tofu/forget10.json" \
  --retain "$T/tofu/retain90.json" --method ga --epochs 1 --max-loss 1e-9 \
  --out "$T/f4.safetensors" --json "$T/f4.json" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "diverged: .*no model written" "$T/err" &&
   grep -q '"diverged":	true' "$T/f4.json"
then ok "lm unlearn: divergence exits 2 with a marked report"; else bad "lm unlearn divergence (exit $rc)"; cat "$T/err"; fi
expect_none "lm unlearn diverged" "$T/f4.safetensors" "$T/f4.tokenizer.json"
# A torn LM pair (issue #20 point 3): the tokenizer beside a model is not
# the file it was saved with; a named --tokenizer is the user's choice.
cp "$T/lm.safetensors" "$T/torn.safetensors" && cp "$T/lm.tokenizer.json" "$T/torn.tokenizer.json" &&
  printf '\n' >>"$T/torn.tokenizer.json"
expect_error "lm: torn model/tokenizer pair" "tokenizer $T/torn.tokenizer.json is not the one model $T/torn.safetensors" \
  "$LETHE" lm generate --model "$T/torn.safetensors" --question "Who?" --max-new 2
if "$LETHE" lm generate --model "$T/torn.safetensors" --tokenizer "$T/torn.tokenizer.json" \
     --question "Who?" --max-new 2 >"$T/out" 2>"$T/err"
then ok "lm: a named --tokenizer is not hash-checked"; else bad "lm: named tokenizer"; cat "$T/err"; fi
# Deterministic artefacts (issue #20 point 8): the same command twice gives
# a byte-identical checkpoint (no timings in it: they go to --json); runs
# that differ only in their --out give the same `lethe hash`.
det_train() {
  "$LETHE" train --data "fashion-mnist:$T/fm" --model mlp:784-16-10 --epochs 1 \
    --augment none --batch 64 --out "$1" --json "$2" >/dev/null 2>"$T/err"
}
if det_train "$T/det.safetensors" "$T/det.json" && mv "$T/det.safetensors" "$T/det1.safetensors" &&
   det_train "$T/det.safetensors" "$T/det.json" && cmp -s "$T/det.safetensors" "$T/det1.safetensors"
then ok "train: the same command twice, byte-identical checkpoints"; else bad "train: not byte-identical"; cat "$T/err"; fi
grep -q '"train_seconds"' "$T/det.json" && ! grep -aq 'seconds' "$T/det.safetensors" &&
  ok "train: timings in --json, not in the checkpoint" || bad "train: timings placement"
if det_train "$T/det2.safetensors" "$T/det2.json" && ! cmp -s "$T/det.safetensors" "$T/det2.safetensors" &&
   [ "$("$LETHE" hash "$T/det.safetensors" | cut -d' ' -f1)" = "$("$LETHE" hash "$T/det2.safetensors" | cut -d' ' -f1)" ]
then ok "hash: same weights, other --out, same hash"; else bad "hash of the same weights differs"; fi
[ "$("$LETHE" hash "$T/det.safetensors" | cut -d' ' -f1)" != "$("$LETHE" hash "$T/small.safetensors" | cut -d' ' -f1)" ] &&
  ok "hash: other weights, other hash" || bad "hash: other weights, same hash"
expect_error "hash: missing file" "$T/none.safetensors" "$LETHE" hash "$T/none.safetensors"
grep -aq '"lethe.command"' "$T/dm.safetensors" && grep -aq '"lethe.commit"' "$T/dm.safetensors" &&
  ok "dm train records its command and commit" || bad "dm train: no command/commit in its metadata"
# --data NAME:DIR files are inputs (issue #20 point 6).
expect_refused "train --out a file of --data" "is the same file as --data's train-images-idx3-ubyte" \
  "$T/fm/train-images-idx3-ubyte" \
  "$LETHE" train --data "fashion-mnist:$T/fm" --model mlp:784-16-10 --epochs 1 \
  --out "$T/fm/train-images-idx3-ubyte"
expect_refused "eval --json a file of --data" "is the same file as --data's t10k-labels-idx1-ubyte" \
  "$T/fm/t10k-labels-idx1-ubyte" \
  "$LETHE" eval --model "$T/small.safetensors" --data "fashion-mnist:$T/fm" \
  --json "$T/fm/t10k-labels-idx1-ubyte"
expect_refused "unlearn --out a file of --data (via a symlink)" "is the same file as --data's" \
  "$T/fm/train-labels-idx1-ubyte" sh -c "ln -sf '$T/fm/train-labels-idx1-ubyte' '$T/lnk' &&
  '$LETHE' unlearn --model '$T/small.safetensors' --data 'fashion-mnist:$T/fm' \
  --forget random:5% --method ft --epochs 1 --out '$T/lnk'"

# tokenizer encode --special / --decode on a committed SentencePiece-style
# file whose TemplateProcessing adds <s> (id 1).
SP="$(dirname "$0")/fuzz/corpus/tokenizer/sentencepiece.json"
if [ "$("$LETHE" tokenizer encode --tokenizer "$SP" --text ab 2>/dev/null)" = "6 5" ] &&
   "$LETHE" tokenizer encode --tokenizer "$SP" --text ab --special --decode \
     >"$T/out" 2>/dev/null && [ "$(head -1 "$T/out")" = "1 6 5" ] &&
   grep -q "^decoded: <s> ab$" "$T/out"
then ok "tokenizer encode --special adds the template's <s>; --decode"
else bad "tokenizer encode --special/--decode"; cat "$T/out"; fi
# The swirl case and the square with a hole (issue #18, 5b-c): a short
# swirl run writes its summary, pictures and final mesh; bad arguments are
# refused before any output.
SWD="$(dirname "$0")/data/mesh"
if "$LETHE" mesh swirl --mesh "$SWD/square_lc0.2.msh" --steps 2 --method ma \
     --out "$T/swirl" >"$T/out" 2>"$T/err" &&
   grep -q "L2 error at T" "$T/swirl/summary.txt" &&
   [ -f "$T/swirl/field_0002.png" ] && [ -f "$T/swirl/mesh_0000.png" ] &&
   "$LETHE" mesh png --mesh "$T/swirl/mesh_final.msh" --out "$T/sw.png" >/dev/null 2>&1
then ok "mesh swirl writes a summary, pictures and the final mesh"
else bad "mesh swirl"; cat "$T/out" "$T/err"; fi
expect_error "mesh swirl: odd --steps" "must be even" \
  "$LETHE" mesh swirl --mesh "$SWD/square_lc0.2.msh" --steps 3 --out "$T/sw_odd"
expect_error "mesh swirl: unknown method" "--method: expected ma or uniform" \
  "$LETHE" mesh swirl --mesh "$SWD/square_lc0.2.msh" --method um3n --out "$T/sw_m"
expect_error "mesh swirl: no --out" "--out DIR is required" \
  "$LETHE" mesh swirl --mesh "$SWD/square_lc0.2.msh"
expect_error "mesh swirl: --steps 0" "--steps" \
  "$LETHE" mesh swirl --mesh "$SWD/square_lc0.2.msh" --steps 0 --out "$T/sw_0"
expect_error "mesh swirl: missing --mesh" "$T/none.msh" \
  "$LETHE" mesh swirl --mesh "$T/none.msh" --out "$T/sw_none"
[ ! -e "$T/sw_odd" ] && [ ! -e "$T/sw_m" ] && [ ! -e "$T/sw_none" ] &&
  ok "mesh swirl: refused runs leave no --out folder" ||
  bad "mesh swirl: a refused run left an --out folder"
expect_error "mesh swirl: gmsh missing" "gmsh not found" \
  env LETHE_GMSH=/nonexistent/gmsh "$LETHE" mesh swirl --lc 0.2 --out "$T/sw_g"
expect_error "mesh gen: bad --geometry" "--geometry: expected square or hole" \
  "$LETHE" mesh gen --geometry disc --out "$T/g.msh"
expect_error "mesh gen: hole radius too large" "gmsh hole: radius" \
  "$LETHE" mesh gen --geometry hole --radius 0.49 --lc 0.1 --out "$T/g.msh"
[ ! -e "$T/g.msh" ] && ok "mesh gen: refused holes write nothing" ||
  bad "mesh gen: a refused hole wrote a mesh"
if "$LETHE" mesh move --mesh "$SWD/hole_lc0.1.msh" --seed 1 --pin-tags 5 \
     --out "$T/hole_moved.msh" >"$T/out" 2>"$T/err" &&
   grep -q "0 tangled cells" "$T/out"
then ok "mesh move on the hole with its tag pinned"
else bad "mesh move on the hole"; cat "$T/out" "$T/err"; fi
# The benchmark's hole and swirl cases (uniform and MA rows: no network
# given): a hole set made with the hole pinned, a 2-step swirl.
if "$LETHE" mesh data --mesh "$SWD/hole_lc0.1.msh" --n 2 --seed 3 \
     --pin-tags 5 --out "$T/hole_set" >"$T/out" 2>"$T/err" &&
   grep -q "pinned 5" "$T/hole_set/dataset.txt" &&
   "$LETHE" bench um2n --case hole,swirl --hole-data "$T/hole_set" \
     --split all --swirl-mesh "$SWD/square_lc0.2.msh" --swirl-steps 2 \
     --markdown "$T/u2.md" --json "$T/u2.json" >"$T/out" 2>"$T/err" &&
   grep -q "2 hole (Helmholtz) meshes" "$T/u2.md" &&
   grep -q "swirl (.* 2 steps" "$T/u2.md" && grep -q "| MA |" "$T/u2.md" &&
   grep -q '"swirl_steps"' "$T/u2.json"
then ok "bench um2n --case hole,swirl (a hole set made with --pin-tags 5)"
else bad "bench um2n hole/swirl"; cat "$T/out" "$T/err"; fi
expect_error "bench um2n: unknown --case" "--case swirly" \
  "$LETHE" bench um2n --case swirly --quick
expect_error "bench um2n: swirl without a mesh" "--swirl-mesh" \
  "$LETHE" bench um2n --case swirl --data "$T/hole_set"
expect_error "mesh move: bad --m2n-grid" "--m2n-grid: expected square or poly" \
  "$LETHE" mesh move --mesh "$SWD/hole_lc0.1.msh" --method m2n --model x \
  --m2n-grid hull
expect_error "mesh data: bad --pin-tags" "--pin-tags" \
  "$LETHE" mesh data --mesh "$SWD/hole_lc0.1.msh" --n 2 --pin-tags 5x \
  --out "$T/hole_bad"

# Meshes (issue #18): the committed gmsh square moved by Monge-Ampere, then
# the bad inputs; a failed command leaves an existing --out as it was.
MESHD="$(dirname "$0")/data/mesh"
if "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --seed 1 \
     --out "$T/moved.msh" --png "$T/moved.png" --field-png "$T/field.png" \
     >"$T/out" 2>"$T/err" &&
   grep -q "converged" "$T/out" && grep -q "error reduction" "$T/out" &&
   "$LETHE" mesh png --mesh "$T/moved.msh" --out "$T/again.png" >/dev/null 2>&1 &&
   [ -s "$T/moved.png" ] && [ -s "$T/again.png" ] &&
   [ "$(head -c 4 "$T/field.png" | od -An -c | tr -d ' ')" = "211PNG" ]
then ok "mesh move --method ma writes a moved mesh that reads back"
else bad "mesh move"; cat "$T/out" "$T/err"; fi
printf '$MeshFormat\n2.2 0 8\n$EndMeshFormat\n' >"$T/v22.msh"
expect_error "mesh solve: .msh 2.2" "$T/v22.msh: unsupported .msh version 2.2" \
  "$LETHE" mesh solve --mesh "$T/v22.msh"
head -c 700 "$MESHD/square_lc0.2.msh" >"$T/cut.msh"
expect_error "mesh solve: truncated .msh" "truncated" \
  "$LETHE" mesh solve --mesh "$T/cut.msh"
awk '/^\$EndElements/ { $0 = p[1] " " p[2] " " p[4] " " p[3] "\n" $0; print; q = 1; next }
     { if (NR > 1 && !q) print prev; prev = $0; split($0, p, " ") }' \
  "$MESHD/square_lc0.2.msh" >"$T/inverted.msh"
cp "$T/moved.msh" "$T/keep.msh"
expect_error "mesh move: inverted mesh" "inverted mesh" \
  "$LETHE" mesh move --mesh "$T/inverted.msh" --out "$T/moved.msh"
cmp -s "$T/moved.msh" "$T/keep.msh" && ok "mesh move: failed run keeps --out" ||
  bad "mesh move: failed run changed --out"
expect_error "mesh gen: gmsh missing (LETHE_GMSH)" "gmsh not found" \
  env LETHE_GMSH=/nonexistent/gmsh "$LETHE" mesh gen --out "$T/new.msh"
expect_error "mesh gen: gmsh missing (PATH)" "apt-get install gmsh" \
  env PATH=/nonexistent "$LETHE" mesh gen --out "$T/new.msh"
[ ! -e "$T/new.msh" ] && ok "mesh gen: no mesh without gmsh" ||
  bad "mesh gen: wrote a mesh without gmsh"
expect_error "mesh move: unknown method" "expected ma, um2n, m2n or uniform" \
  "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --method mrn
expect_error "mesh move: um2n without --model" "--method um2n / m2n needs --model" \
  "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --method um2n
# UM2N data sets, training and the network's move (issue #18): six samples
# on the lc 0.2 square, resumed; two epochs; the trained model moves a mesh.
U="$T/um2n"
if "$LETHE" mesh data --mesh "$MESHD/square_lc0.2.msh" --n 6 --seed 2 \
     --out "$U/set" >"$T/out" 2>"$T/err" &&
   [ "$(ls "$U/set/data" | wc -l)" -eq 6 ] &&
   grep -q "^split 4 0 0$" "$U/set/dataset.txt" &&
   rm "$U/set/data/data_0003.safetensors" &&
   "$LETHE" mesh data --mesh "$MESHD/square_lc0.2.msh" --n 6 --seed 2 \
     --out "$U/set" >"$T/out" 2>"$T/err" &&
   grep -q "(1 made now, 5 already there" "$T/out"
then ok "mesh data writes six samples and resumes a deleted one"
else bad "mesh data"; cat "$T/out" "$T/err"; fi
expect_error "mesh data: other settings in the folder" "describes another data set" \
  "$LETHE" mesh data --mesh "$MESHD/square_lc0.2.msh" --n 6 --seed 3 --out "$U/set"
if "$LETHE" um2n train --data "$U/set" --out "$U/run" --epochs 1 --no-test \
     >"$T/out" 2>"$T/err" &&
   "$LETHE" um2n train --data "$U/set" --out "$U/run" --epochs 2 --no-test \
     --resume >"$T/out" 2>"$T/err" && grep -q "resumed at epoch 1" "$T/out" &&
   [ "$(wc -l <"$U/run/loss.csv")" -eq 3 ] && [ -s "$U/run/loss.png" ] &&
   "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --seed 4 --method um2n \
     --model "$U/run/model.safetensors" --out "$U/moved.msh" >"$T/out" 2>"$T/err" &&
   grep -q "network forward" "$T/out" && grep -q "error reduction" "$T/out" &&
   "$LETHE" mesh png --mesh "$U/moved.msh" --out "$U/moved.png" >/dev/null 2>&1
then ok "um2n train (resumed) and mesh move --method um2n"
else bad "um2n train / mesh move --method um2n"; cat "$T/out" "$T/err"; fi
if "$LETHE" um2n eval --data "$U/set" --split train \
     --model "$U/run/model.safetensors" >"$T/out" 2>"$T/err" &&
   grep -q "train, 4 samples): UM2N mean ER" "$T/out" && grep -q "MA mean ER" "$T/out"
then ok "um2n eval over a split"
else bad "um2n eval"; cat "$T/out" "$T/err"; fi
# the M2N baseline: trained (coord loss by default), moves a mesh, and a
# checkpoint of one kind is refused as the other
if "$LETHE" um2n train --data "$U/set" --out "$U/m2n" --epochs 1 --no-test \
     --arch m2n >"$T/out" 2>"$T/err" && grep -q "m2n, 4 train.*coord loss" "$T/out" &&
   "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --seed 4 --method m2n \
     --model "$U/m2n/model.safetensors" >"$T/out" 2>"$T/err" &&
   grep -q "^m2n: .*network forward" "$T/out" &&
   "$LETHE" um2n eval --data "$U/set" --split train \
     --model "$U/m2n/model.safetensors" >"$T/out" 2>"$T/err" &&
   grep -q "train, 4 samples): M2N mean ER" "$T/out"
then ok "um2n train --arch m2n, mesh move --method m2n, eval of M2N"
else bad "M2N train / move / eval"; cat "$T/out" "$T/err"; fi
expect_error "mesh move: UM2N checkpoint as M2N" "is a UM2N (M2N_T) checkpoint, the model is an M2N" \
  "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --method m2n --model "$U/run/model.safetensors"
expect_error "mesh move: M2N checkpoint as UM2N" "is an M2N (m2n) checkpoint, the model is a UM2N" \
  "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --method um2n --model "$U/m2n/model.safetensors"
expect_error "um2n train: --resume of another arch" "architecture m2n, this run trains m2n_t" \
  "$LETHE" um2n train --data "$U/set" --out "$U/m2n" --epochs 2 --resume --loss coord --no-test
expect_error "um2n train: bad --arch" "--arch: expected um2n or m2n" \
  "$LETHE" um2n train --data "$U/set" --out "$U/m2n2" --epochs 1 --arch mrn
expect_error "um2n eval: unknown split" "unknown split 'dev'" \
  "$LETHE" um2n eval --data "$U/set" --split dev --model "$U/run/model.safetensors"
expect_error "um2n train: existing run without --resume" "pass --resume" \
  "$LETHE" um2n train --data "$U/set" --out "$U/run" --epochs 3
expect_error "um2n train: --resume without a checkpoint" "--resume: .*missing" \
  "$LETHE" um2n train --data "$U/set" --out "$U/run2" --epochs 3 --resume
expect_error "um2n train: --resume with another loss" "trained with the area-chamfer loss" \
  "$LETHE" um2n train --data "$U/set" --out "$U/run" --epochs 3 --resume --loss coord
expect_error "um2n train: missing data folder" "$U/none/dataset.txt: cannot read" \
  "$LETHE" um2n train --data "$U/none" --out "$U/run3" --epochs 1
head -c 3000 "$U/set/data/data_0002.safetensors" >"$T/cut.st"
mv "$T/cut.st" "$U/set/data/data_0002.safetensors"
expect_error "um2n train: corrupt sample" "data_0002.safetensors" \
  "$LETHE" um2n train --data "$U/set" --out "$U/run3" --epochs 1
[ ! -e "$U/run3/train.safetensors" ] && ok "um2n train: no checkpoint from a bad set" ||
  bad "um2n train: wrote a checkpoint from a bad set"
expect_error "mesh move: um2n with a missing model" "$U/none.safetensors" \
  "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --method um2n --model "$U/none.safetensors"
expect_error "um2n: unknown subcommand" "unknown subcommand 'fly'" "$LETHE" um2n fly
expect_error "mesh move: bad --pin-tags" "--pin-tags: expected a comma-separated list" \
  "$LETHE" mesh move --mesh "$MESHD/square_lc0.2.msh" --pin-tags 1,x
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
