#!/usr/bin/env bash
# On a GPU machine: `validate measure --preset quick` writes a measured table that `validate predict` reads.
# Exit 77 (skipped) without a GPU or without the runner in the build.
set -u
hgca=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$hgca" validate measure --preset quick --out "$tmp/m.csv" >"$tmp/log.txt" 2>"$tmp/err.txt"
rc=$?
if [ $rc -eq 2 ] && grep -qE "no CUDA device|without CUDA" "$tmp/err.txt"; then
  echo "SKIPPED: $(cat "$tmp/err.txt")"
  exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL: measure exited $rc: $(cat "$tmp/err.txt")"; exit 1; }
head -1 "$tmp/m.csv" | grep -q "^# runner: 3 passes," || { echo "FAIL: the first line should say the 3 passes"; head -1 "$tmp/m.csv"; exit 1; }
[ "$(grep -vc '^#' "$tmp/m.csv")" -eq 6 ] || { echo "FAIL: expected a header and 5 rows"; cat "$tmp/m.csv"; exit 1; }
"$hgca" validate predict --measured "$tmp/m.csv" --hw device-h100 --out "$tmp/v.h5" || { echo "FAIL: predict"; exit 1; }
[ -s "$tmp/v.h5" ] || { echo "FAIL: no HDF5"; exit 1; }
echo "validation gpu quick: ok"
