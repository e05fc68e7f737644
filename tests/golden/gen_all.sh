#!/bin/sh
# gen_all.sh - regenerate every golden file with Debian's PyTorch.
set -e
cd "$(dirname "$0")"
for g in gen_*.py; do
  /usr/bin/python3 "$g"
done
