#!/usr/bin/env bash
# Device run 10 (2026-12-05), one call: does a fresh machine settle, and do two calibrations of a settled
# machine reproduce? Run 9's calibration A (machine up 0 min) measured the CPU rows a median 11 % slower than
# calibration B five minutes later, and its profile predicted 10 % (p90 43 %) apart from B's.
#   1. `hgca calibrate --quick` in a loop for ~75 s: the warm-up curve of the CPU rows on a fresh machine
#   2. calibration A, 3. calibration B (3 passes each, back to back)
#   4. with FIT=1 only (device time was short): the fit points (2 passes), for a second stage of both
# A vs B is then judged on the stage-1 profiles' predictions of run 9's tables.
# Binaries: the hgca of this commit (the measured table records pass_ms). Runner mode as runs 7-9.
# The tarball is rewritten after every step, so a call cut short still returns what it measured.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w10; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary.txt
{ date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
pack() { cp "$S" "$OUT/"; tar -C $W -czf $OUT/run10.tgz .; }
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
calibrate() {
  step calibrate-$1 200 $bin calibrate --out $W/micro-$1.yaml --base device-h100 --passes 3
  sed -n '/^Error on the fitted rows/,/^$/p' $W/calibrate-$1.txt >> "$S"
  grep -E "^cpu\.(llc|gather|row_cost|bandwidth|flops)" $W/calibrate-$1.txt >> "$S"
  pack
}
t0=$(date +%s); i=0
while [ $(( $(date +%s) - t0 )) -lt 75 ]; do
  i=$((i+1))
  echo "probe $i at $(( $(date +%s) - t0 )) s" >> $W/probe-times.txt
  timeout 60 $bin calibrate --quick --base device-h100 --out $W/probe-$i.yaml --measurements-out $W/probe-$i.csv > /dev/null 2>> $W/probe.log
done
echo "probes: $i in $(( $(date +%s) - t0 )) s" | tee -a "$S"
pack
calibrate A
calibrate B
if [ "${FIT:-0}" = 1 ]; then
  step fit 190 $bin validate measure --preset default --role fit --passes 2 --out $W/fit.csv
  pack
fi
