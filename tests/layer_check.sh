#!/bin/sh
# layer_check.sh - checks Lethe's layering ("a lower layer never includes
# a higher one", README's layer map) over the #include lines of src/ and include/: a file may include
# only headers of its own layer or of lower layers, in the order
#   core < backend < ops < nn = optim < io < data < mesh < models
#        < unlearn < eval < bench < cli
# A file's layer is its folder under src/ (src/<layer>/...) or, for a public
# header include/lethe/<name>.h, the table below; every public header must
# be in the table (an unmapped one is an error, so a new header gets a
# layer when it is added). A private header (one under src/<layer>/) may be
# included only from its own folder: what other folders need belongs in
# the public API. Folders that do not exist yet (src/backend, src/mesh,
# src/bench) are fine. Exit 0 when clean, 1 listing every violation.
#
# Usage: sh tests/layer_check.sh [repository root]   (ctest runs it)

root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2

# Rank of a layer; nn and optim share one. Empty for an unknown name.
rank() {
    case $1 in
    core) echo 1 ;; backend) echo 2 ;; ops) echo 3 ;; nn | optim) echo 4 ;;
    io) echo 5 ;; data) echo 6 ;; mesh) echo 7 ;; models) echo 8 ;;
    unlearn) echo 9 ;; eval) echo 10 ;; bench) echo 11 ;; cli) echo 12 ;;
    *) echo "" ;;
    esac
}

# Layer of each public header (include/lethe/<name>.h).
header_layer() {
    case $1 in
    core.h) echo core ;;
    ops.h) echo ops ;;
    nn.h) echo nn ;;
    optim.h) echo optim ;;
    io.h | npy.h | safetensors.h | tokenizer.h | fileset.h | png.h) echo io ;;
    data.h | tofu.h | fortunes.h | canvas.h) echo data ;;
    models.h | llama.h | lm.h | train.h | clip.h | diffusion.h | dm_canvas.h) echo models ;;
    unlearn.h | methods.h | select.h | llm_unlearn.h | dm_unlearn.h) echo unlearn ;;
    metrics.h | rouge.h | stats.h | tofu_eval.h | lm_mia.h | muse.h | lm_score.h | image_metrics.h) echo eval ;;
    bench.h) echo bench ;;
    lethe.h) echo bench ;; # the umbrella: everything up to the protocols
    *) echo "" ;;
    esac
}

bad=0
nfiles=0
nincl=0
fail() {
    echo "layer_check: $*"
    bad=1
}

# Layer of a file of the tree (src/... or include/lethe/...).
file_layer() {
    case $1 in
    include/lethe/*.h) header_layer "${1#include/lethe/}" ;;
    src/*/*) d=${1#src/}; echo "${d%%/*}" ;;
    *) echo "" ;;
    esac
}

# Every public header must have a layer.
for h in include/lethe/*.h; do
    [ -f "$h" ] || continue
    [ -n "$(header_layer "${h#include/lethe/}")" ] ||
        fail "$h: public header not in the layer table of tests/layer_check.sh"
done

files=$(find src include -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null |
        LC_ALL=C sort)
for f in $files; do
    nfiles=$((nfiles + 1))
    fl=$(file_layer "$f")
    fr=$(rank "$fl")
    if [ -z "$fl" ] || [ -z "$fr" ]; then
        fail "$f: not in a known layer (folder or header table)"
        continue
    fi
    fdir=$(dirname "$f")
    # "line:target:delimiter" for each #include "x" / #include <lethe/x>.
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "$f" |
        sed -n 's/^\([0-9]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*\(["<]\)\([^">]*\)[">].*/\1:\3:\2/p' \
        >"${TMPDIR:-/tmp}/layer_check.$$"
    while IFS=: read -r line target delim; do
        case $target in
        lethe/*)
            nincl=$((nincl + 1))
            tl=$(header_layer "${target#lethe/}")
            if [ -z "$tl" ]; then
                fail "$f:$line: includes $target, a header not in the layer table"
                continue
            fi
            ;;
        *)
            [ "$delim" = '"' ] || continue # a system header
            nincl=$((nincl + 1))
            if [ -f "$fdir/$target" ]; then
                t="$fdir/$target"
            elif [ -f "src/$target" ]; then
                t="src/$target"
            else
                fail "$f:$line: includes \"$target\", which is not in the tree"
                continue
            fi
            tdir=$(cd "$(dirname "$t")" && pwd -P)
            if [ "$tdir" != "$(cd "$fdir" && pwd -P)" ]; then
                fail "$f:$line: includes the private header \"$target\" of" \
                     "another folder (promote what it needs to include/lethe/)"
                continue
            fi
            tl=$fl
            ;;
        esac
        tr=$(rank "$tl")
        if [ "$tr" -gt "$fr" ]; then
            fail "$f:$line: $fl layer includes $target of the higher $tl layer"
        fi
    done <"${TMPDIR:-/tmp}/layer_check.$$"
done
rm -f "${TMPDIR:-/tmp}/layer_check.$$"

if [ $bad -ne 0 ]; then
    echo "layer_check: FAILED (order: core < backend < ops < nn,optim < io <" \
         "data < mesh < models < unlearn < eval < bench < cli)"
    exit 1
fi
echo "layer_check: $nfiles files, $nincl project includes, no layer violations"
exit 0
