#!/bin/sh
# tofu_lr_search.sh - the per-method learning-rate search behind the LLM
# unlearning defaults in src/unlearn/llm_unlearn.c (docs/hyperparameters.md):
# `lethe bench tofu`'s default setting (40 synthetic authors, forget10,
# micro model, 5 epochs, AdamW, no mask), two to four rates per method. Rule: the
# rate with the highest forget quality among those that keep model utility
# at >= 80% of the original model's; if none does, the highest utility.
# Usage: sh bench/tofu_lr_search.sh [BUILD] [CACHE]  (writes out/tofu-lr-search.*)
BUILD=${1:-build}
CACHE=${2:-out/tofu-cache}
mkdir -p out
"./$BUILD/lethe" bench tofu --cache "$CACHE" --optims adamw \
  --lr-grid "ga=2e-4:5e-4:1e-3,graddiff=3e-4:6e-4:1e-3:3e-3,\
npo=5e-4:1e-3:2e-3:4e-3,npo-gd=1e-3:3e-3:6e-3,simnpo=1e-3:3e-3:1e-2,\
refusal=1e-3:3e-3,rmu=3e-3:1e-2:3e-2" \
  --markdown out/tofu-lr-search.md --json out/tofu-lr-search.json
# round 2: between the best rate and the first that broke utility
"./$BUILD/lethe" bench tofu --cache "$CACHE" --optims adamw \
  --lr-grid "ga=1.5e-3,graddiff=2e-3,npo=1.5e-3,simnpo=5e-3:7e-3,rmu=5e-3" \
  --markdown out/tofu-lr-search2.md --json out/tofu-lr-search2.json
