#!/bin/sh
# lr_search.sh - the per-method learning-rate search behind the defaults in
# src/unlearn/methods.c (docs/hyperparameters.md): one seed of random 10%
# forgetting on Fashion-MNIST with the bench's MLP; each method's grid
# brackets the paper's value; the lowest Avg. Gap to Retrain wins. Round 2
# refines the methods whose round-1 optimum sat at a grid edge or between
# a good value and a collapse.
# Usage: sh bench/lr_search.sh [BUILD]   (writes out/lr-search-round{1,2}.*)
BUILD=${1:-build}
mkdir -p out
"./$BUILD/lethe" bench classify --seeds 1 \
  --lr-grid "ft=0.01:0.03:0.1,ga=3e-4:1e-3:3e-3:1e-2,rl=1e-3:3e-3:0.013,\
l1-sparse=0.01:0.03:0.1,iu=1:10:100:1000,bs=1e-4:1e-3:1e-2,be=1e-5:1e-4:1e-3,\
salun=1e-3:3e-3:0.013,salun-soft=1e-3:3e-3:0.013,ugradsl=3e-4:1e-3:3e-3:1e-2,\
ugradsl+=1e-3:3e-3:1e-2" \
  --markdown out/lr-search-round1.md --json out/lr-search-round1.json &&
"./$BUILD/lethe" bench classify --seeds 1 \
  --methods ga,l1-sparse,iu,bs,be,salun,ugradsl,ugradsl+ \
  --lr-grid "ga=5e-4:7e-4,l1-sparse=1e-3:3e-3,iu=20:40,bs=1e-6:1e-5,\
be=3e-6:3e-5,salun=3e-4,ugradsl=1e-5:3e-5:1e-4,ugradsl+=1e-5:3e-5:1e-4:3e-4" \
  --markdown out/lr-search-round2.md --json out/lr-search-round2.json
