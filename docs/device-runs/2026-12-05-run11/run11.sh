#!/usr/bin/env bash
# Device run 11 (2026-12-05), three calls on one warm machine: do two calibrations of one machine now agree?
# Since run 10 the microbenchmarks warm every new thread pool before timing it (run 10's first row after each
# new pool measured up to 10x its neighbours, and every LLC-sweep row was such a first row), repeat small CPU
# rows until 20 ms of samples, calibrate holds cpu.flops_per_core and fits with a soft-L1 loss (outlier scale
# 10 %), and both calibrate and validate measure wait for 90 s of uptime (--settle-s).
#   run11.sh calibrate   calibrations A and B, back to back (3 passes each)
#   run11.sh fit         the fit points (2 passes), for the second stage of both calibrations
#   run11.sh holdout     the holdout points (4 passes)
#   run11.sh all         calibrate, holdout, fit in one call (run 10 took 71+107+76+96 s): one machine start
# The tarball is rewritten after every step, so a call cut short still returns what it measured.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w11; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary.txt
# The base profile (whatever calibrate does not measure) is the one of the GPU this machine has.
base=device-h100; nvidia-smi -L | grep -q H200 && base=device-h200
{ echo "== $1"; date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
pack() { cp "$S" "$OUT/"; tar -C $W -czf $OUT/run11.tgz .; }
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
calibrate() {
  step calibrate-$1 260 $bin calibrate --out $W/micro-$1.yaml --base $base --passes 3
  sed -n '/^Error on the fitted rows/,/^$/p' $W/calibrate-$1.txt >> "$S"
  grep -E "^cpu\." $W/calibrate-$1.txt >> "$S"
  pack
}
fit() { step fit 500 $bin validate measure --preset default --role fit --passes 2 --out $W/fit.csv; pack; }
holdout() { step holdout 500 $bin validate measure --preset default --role holdout --passes 4 --out $W/holdout.csv; pack; }
case "$1" in
  calibrate) calibrate A; calibrate B ;;
  fit) fit ;;
  holdout) holdout ;;
  all) calibrate A; calibrate B; holdout; fit ;;
esac
