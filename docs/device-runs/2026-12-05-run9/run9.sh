#!/usr/bin/env bash
# Device run 9 (2026-12-05): two calibrations on one machine (reproducibility with the LLC sweep of run 8),
# and the holdout points measured with 6 passes, so that the spread between passes (the noise floor of a
# measured figure) can be set beside the model's error. Two calls on the same warm machine:
#   PART=1: a throwaway quick grid (the first process on a fresh machine measures far off), calibration A
#           (3 passes), the fit points (2 passes)
#   PART=2: calibration B (3 passes), the holdout points (6 passes)
# Runner mode as runs 7-8: workers parked (spin 0), pool on huge pages. Same binaries as run 8.
set -u
PART=${PART:-1}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w9; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary-$PART.txt
{ date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
calibrate() {
  step calibrate-$1 220 $bin calibrate --out $W/micro-$1.yaml --base device-h100 --passes 3
  sed -n '/^Error on the fitted rows/,/^$/p' $W/calibrate-$1.txt >> "$S"
  grep -E "^cpu\.(llc|gather|row_cost|bandwidth)" $W/calibrate-$1.txt >> "$S"
}
if [ "$PART" = 1 ]; then
  step warmup 60 $bin validate measure --preset quick --passes 1 --out $W/warmup.csv
  calibrate A
  step fit 200 $bin validate measure --preset default --role fit --passes 2 --out $W/fit.csv
else
  calibrate B
  step holdout 260 $bin validate measure --preset default --role holdout --passes 6 --out $W/holdout.csv
fi
cp "$S" "$OUT/"
tar -C $W -czf $OUT/run9-$PART.tgz .
