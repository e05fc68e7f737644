#!/bin/sh
# lr_search.sh - the per-method learning-rate search behind the defaults in
# src/unlearn/methods.c (docs/hyperparameters.md): one seed of random 10%
# forgetting on Fashion-MNIST with the bench's MLP; each method's grid is
# centred on the paper's value; pick the lowest Avg. Gap to Retrain.
# Usage: sh bench/lr_search.sh [BUILD] [FORGET]   (writes out/lr-search.*)
BUILD=${1:-build}
FORGET=${2:-random:10%}
mkdir -p out
exec "./$BUILD/lethe" bench classify --forget "$FORGET" --seeds 1 \
  --lr-grid "ft=0.01:0.03:0.1,ga=3e-4:1e-3:3e-3:1e-2,rl=1e-3:3e-3:0.013,\
l1-sparse=0.01:0.03:0.1,iu=1:10:100:1000,bs=1e-4:1e-3:1e-2,be=1e-5:1e-4:1e-3,\
salun=1e-3:3e-3:0.013,salun-soft=1e-3:3e-3:0.013,ugradsl=3e-4:1e-3:3e-3:1e-2,\
ugradsl+=1e-3:3e-3:1e-2" \
  --markdown out/lr-search.md --json out/lr-search.json
