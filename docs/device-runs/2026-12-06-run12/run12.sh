#!/usr/bin/env bash
# Device run 12 (2026-12-06), one call: is the whole calibration (microbenchmarks, then the second stage on
# the runner's own fit points) reproducible? Runs 9-11 measured the fit points once and gave both calibrations
# the same table; here each calibration measures its own, minutes apart, as two researchers would.
#   calibrate A (3 passes, after settling), fit points A (2 passes),
#   calibrate B (3 passes), fit points B (2 passes), holdout points (3 passes)
# The tarball is rewritten after every step, so a call cut short still returns what it measured.
# Offline: docs/VALIDATION.md "Run 12".
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w12; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary.txt
# The base profile (whatever calibrate does not measure) is the one of the GPU this machine has.
base=device-h100; nvidia-smi -L | grep -q H200 && base=device-h200
{ echo "== run 12"; date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
pack() { cp "$S" "$OUT/"; tar -C $W -czf $OUT/run12.tgz .; }
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
calibrate() {
  step calibrate-$1 200 $bin calibrate --out $W/micro-$1.yaml --base $base --passes 3
  grep -E "^cpu\." $W/calibrate-$1.txt >> "$S"
  pack
}
points() {  # role, passes, name
  step $3 150 $bin validate measure --preset default --role $1 --passes $2 --out $W/$3.csv; pack
}
calibrate A; points fit 2 fit-A
calibrate B; points fit 2 fit-B
points holdout 3 holdout
