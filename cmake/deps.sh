#!/bin/sh
# deps.sh - make sure the Debian packages Lethe builds and tests with are
# installed. As root it installs what is missing with apt-get; otherwise it
# prints the exact command and fails.
#   cmake/deps.sh          build dependencies (and NumPy for the Python module)
#   cmake/deps.sh --ref    also the PyTorch reference (goldens, benchmarks)
#   cmake/deps.sh --data   also the data sets (Fashion-MNIST, WordNet, fortunes)
#   cmake/deps.sh --fuzz   also clang with libFuzzer and LLVM's OpenMP (make fuzz)
#   cmake/deps.sh --gmsh   also the gmsh mesher (new meshes: lethe mesh gen)
#   cmake/deps.sh --mpi    also Open MPI (make mpi, make mpi-test; docs/mpi.md)
#   cmake/deps.sh --browser also Chromium (about 300 MB; the report_browser
#                          test opens lethe report's page in it, else skips)
set -e
pkgs="cmake make gcc pkg-config libopenblas-openmp-dev libdnnl-dev zlib1g-dev libcjson-dev libsvm-dev libpng-dev libpcre2-dev libutf8proc-dev libsuitesparse-dev python3-numpy libcairo2-dev"
for a in "$@"; do
  case "$a" in
    --ref) pkgs="$pkgs python3-torch python3-numpy python3-regex python3-scipy" ;;
    --data) pkgs="$pkgs dataset-fashion-mnist wordnet-base fortunes" ;;
    --fuzz) pkgs="$pkgs clang libclang-rt-dev libomp-dev" ;;
    --gmsh) pkgs="$pkgs gmsh" ;;
    --mpi) pkgs="$pkgs libopenmpi-dev openmpi-bin" ;;
    --browser) pkgs="$pkgs chromium" ;;
  esac
done
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q $missing >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; }
else
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
