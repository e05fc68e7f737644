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
expect_error "unknown method" "--method" \
  "$LETHE" unlearn --model "$T/mlp.safetensors" --forget random:10% --method nope --out "$T/u2.safetensors"
expect_error "bad mask" "saliency:2" \
  "$LETHE" unlearn --model "$T/mlp.safetensors" --forget random:10% --mask saliency:2 --out "$T/u2.safetensors"
expect_error "missing --forget" "--forget" \
  "$LETHE" unlearn --model "$T/mlp.safetensors" --out "$T/u2.safetensors"
[ -e "$T/u2.safetensors" ] && bad "unlearn left output after an error" || ok "unlearn: no output after errors"

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
expect_error "unknown option" "unknown option '--epoch'" \
  "$LETHE" train --epoch 3 --out "$T/x.safetensors"
expect_error "bad split" "split must be train or test" \
  "$LETHE" predict --model "$T/mlp.safetensors" --split valid --out "$T/l3.npy"
expect_error "unknown command" "unknown command 'trian'" "$LETHE" trian
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
