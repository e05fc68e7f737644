#!/bin/sh
# precision_cli.sh - --precision end to end (run by ctest with the path of
# the lethe binary), on a few hundred Fashion-MNIST items so it takes
# seconds: train and eval --json record the precision that ran ("fp32"
# without the flag, "bf16" with it) and the backend; a bf16 training gives
# other weights than fp32's (the flag reaches the matrix products); bench
# classify records the precision in its settings and keeps the models of
# the two precisions apart in one cache (a bf16 run trains its own
# original, a later fp32 run gets the fp32 one back). Prints
# "N passed, N failed".
LETHE=${1:?usage: precision_cli.sh PATH/TO/lethe}
T=$(mktemp -d /tmp/lethe_prec.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL $1"; }

# The first N items of a split as an uncompressed IDX file pair.
be32() {
  for sh in 24 16 8 0; do
    printf "\\$(printf %03o $(( ($1 >> sh) & 255 )))"
  done
}
idx_head() { # SRC_NAME N OUT_NAME
  src=${LETHE_DATA:-/usr/share/datasets}/fashion-mnist
  { printf '\000\000\010\003'; be32 "$2"; be32 28; be32 28
    zcat "$src/$1-images-idx3-ubyte.gz" | tail -c +17 | head -c $(($2 * 784))
  } >"$T/fm/$1-images-idx3-ubyte"
  { printf '\000\000\010\001'; be32 "$2"
    zcat "$src/$1-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$2"
  } >"$T/fm/$1-labels-idx1-ubyte"
}
src=${LETHE_DATA:-/usr/share/datasets}/fashion-mnist
if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
  echo "precision_cli: no Fashion-MNIST at $src, skipped"
  exit 77
fi
mkdir -p "$T/fm"
idx_head train 400
idx_head t10k 100
D="fashion-mnist:$T/fm"

# json_has FILE KEY VALUE: the file has "KEY": "VALUE" (any spacing)
json_has() { grep -q "\"$2\":[[:space:]]*\"$3\"" "$1"; }

# train and eval record the precision that ran
for p in default fp32 bf16; do
  flag=""
  [ "$p" = default ] || flag="--precision $p"
  want=$p
  [ "$p" = default ] && want=fp32
  # shellcheck disable=SC2086
  if "$LETHE" train --model mlp:784-16-10 --data "$D" --epochs 1 --batch 100 \
       --out "$T/$p.safetensors" --json "$T/$p.json" $flag >"$T/out" 2>"$T/err" &&
     json_has "$T/$p.json" precision "$want" && grep -q '"backend":[[:space:]]*"[a-z]' "$T/$p.json"
  then ok "train ($p) records \"precision\": \"$want\" and the backend"
  else bad "train ($p)"; cat "$T/err" "$T/$p.json"; fi
done
if "$LETHE" eval --model "$T/fp32.safetensors" --data "$D" --precision bf16 \
     --json "$T/ev.json" >"$T/out" 2>"$T/err" && json_has "$T/ev.json" precision bf16 &&
   "$LETHE" eval --model "$T/fp32.safetensors" --data "$D" \
     --json "$T/ev2.json" >"$T/out" 2>"$T/err" && json_has "$T/ev2.json" precision fp32
then ok "eval records the precision"; else bad "eval"; cat "$T/err" "$T/ev.json"; fi
h32=$("$LETHE" hash "$T/fp32.safetensors" | cut -d' ' -f1)
hdef=$("$LETHE" hash "$T/default.safetensors" | cut -d' ' -f1)
h16=$("$LETHE" hash "$T/bf16.safetensors" | cut -d' ' -f1)
[ -n "$h32" ] && [ "$h32" = "$hdef" ] && ok "fp32 is the default (same weights)" ||
  bad "fp32 and default weights differ ($h32, $hdef)"
[ -n "$h16" ] && [ "$h16" != "$h32" ] && ok "bf16 trains other weights than fp32" ||
  bad "bf16 gave fp32's weights ($h16)"

# bench classify: the setting, and no model handed across precisions
bench() { # PRECISION TAG
  "$LETHE" bench classify --model mlp:784-16-10 --train-epochs 1 --seeds 1 \
    --data "$D" --methods ga --cache "$T/cache" --precision "$1" \
    --json "$T/b$2.json" >"$T/bout$2" 2>"$T/berr$2"
}
orig() { sed -n 's/.*"original":[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }
if bench fp32 1 && json_has "$T/b1.json" precision fp32 &&
   ! grep -q "original model from" "$T/bout1" "$T/berr1"
then ok "bench classify fp32: trains its original, records fp32"
else bad "bench classify fp32"; cat "$T/bout1" "$T/berr1"; fi
if bench bf16 2 && json_has "$T/b2.json" precision bf16 &&
   ! grep -q "original model from" "$T/bout2" "$T/berr2" &&
   ! grep -q "retrain: cached" "$T/bout2" "$T/berr2" &&
   [ -n "$(orig "$T/b2.json")" ] && [ "$(orig "$T/b1.json")" != "$(orig "$T/b2.json")" ]
then ok "bench classify bf16: not handed the fp32 models, records bf16"
else bad "bench classify bf16 reused fp32's cache"; cat "$T/bout2" "$T/berr2"; fi
if bench fp32 3 && grep -q "original model from $(orig "$T/b1.json")" "$T/bout3" "$T/berr3" &&
   grep -q "retrain: cached" "$T/bout3" "$T/berr3"
then ok "bench classify fp32 again: its own cached models"
else bad "bench classify fp32 again"; cat "$T/bout3" "$T/berr3"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
