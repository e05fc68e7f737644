#!/bin/sh
# report_browser.sh - `lethe report` in a real browser: the page of the
# committed results folder tests/data/report (a real, small `lethe bench
# classify --plot` run, described in tests/data/report/README) plus a sample
# grid is opened by headless Chromium
# (Debian's chromium; cmake/deps.sh --browser installs it). Chromium's DOM
# must hold every results table and every picture decoded (the page marks
# each <img> with the width it decoded to, data-loaded), and a screenshot
# must be a PNG with something drawn on it (an empty page of that size is
# about 9 KB). Exit 77 (ctest: skipped, with the reason printed) when
# Chromium is not installed; 1 on any failure.
#
# Usage: sh tests/report_browser.sh path/to/lethe repository-root
lethe=$1
root=$2
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
  echo "SKIP: Chromium is not installed, so the report page was not opened" \
       "in a browser (sh cmake/deps.sh --browser installs Debian's chromium)"
  exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/chromium.log" ] && tail -5 "$tmp/chromium.log"; exit 1; }

# the committed results, and a real sample grid (lethe dm eval --grid) kept
# in docs/img as a picture with no result file of its own
mkdir "$tmp/results" && cp "$root"/tests/data/report/* "$tmp/results/" &&
  cp "$root/docs/img/fmnist-cond-s-v1-samples.png" "$tmp/results/samples.png" ||
  fail "cannot copy tests/data/report and the sample grid"
"$lethe" report "$tmp/results" --out "$tmp/page.html" || fail "lethe report"
tables=$(grep -c '<table class="results">' "$tmp/page.html")
pictures=$(ls "$tmp/results"/*.png | wc -l)
[ "$tables" -ge 1 ] || fail "no results table in the page"
[ "$(grep -o '<img ' "$tmp/page.html" | wc -l)" -eq "$pictures" ] ||
  fail "the page does not show the folder's $pictures pictures"

# Chromium, headless, with its own profile and no sandbox (CI runs as root).
run() {
  HOME="$tmp" timeout 120 "$chrome" --headless --no-sandbox --disable-gpu \
    --disable-dev-shm-usage --user-data-dir="$tmp/profile" "$@" \
    2>>"$tmp/chromium.log"
}
run --virtual-time-budget=5000 --dump-dom "file://$tmp/page.html" \
  >"$tmp/dom.html" || fail "chromium --dump-dom"
[ "$(grep -o '<table class="results">' "$tmp/dom.html" | wc -l)" -eq "$tables" ] ||
  fail "Chromium's DOM lacks the results tables"
grep -q '<td class="t">' "$tmp/dom.html" || fail "no table cell in the DOM"
loaded=$(grep -o 'data-loaded="[1-9][0-9]*"' "$tmp/dom.html" | wc -l)
[ "$loaded" -eq "$pictures" ] ||
  fail "Chromium decoded $loaded of the $pictures pictures"

run --window-size=1200,1600 --screenshot="$tmp/shot.png" \
  "file://$tmp/page.html" >/dev/null || fail "chromium --screenshot"
[ -s "$tmp/shot.png" ] || fail "no screenshot"
[ "$(head -c 8 "$tmp/shot.png" | od -An -tx1 | tr -d ' \n')" = \
  "89504e470d0a1a0a" ] || fail "the screenshot is not a PNG"
size=$(wc -c <"$tmp/shot.png")
[ "$size" -gt 20000 ] || fail "the screenshot looks empty ($size bytes)"
echo "ok: Chromium rendered $tables table(s) and $loaded picture(s);" \
     "screenshot $size bytes"
