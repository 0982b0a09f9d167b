#!/usr/bin/env bash
# Device run 16 (2026-12-07): how much of the attention p90 is the runner's own repeatability?
# Run 15's own holdout missed by 13.9 % at the p90 while its points' passes, minutes apart in one call, spread
# by 6.7 % at the median and 16 % at the p90 (max / min pass). Here everything comes from one lease, with more
# passes, so that the error against the median of passes can be set beside the passes' own spread:
#   run16.sh 1: calibrate A (it settles a fresh machine itself) with the cache residency free (the fit on all 16 cores, --jobs 0)
#   run16.sh 2: fit points (3 passes), holdout points (5 passes)
#   run16.sh all: the two in one call, shorter (calibration and fit points with 2 passes each)
# Offline: stage 2 (docs/device-runs/2026-12-05-run7/analyze.sh), then docs/device-runs/2026-12-07-run16/passes.py.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w16; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary.txt
base=device-h100; nvidia-smi -L | grep -q H200 && base=device-h200
{ echo "== run 16 call $1"; date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
pack() { cp "$S" "$OUT/"; tar -C $W -czf $OUT/run16-$1.tgz .; }
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
case $1 in
  1) step calibrate-A 480 $bin calibrate --out $W/micro-A.yaml --base $base --passes 3 --free cpu.llc_residency
     grep -E "^cpu\.|^cpu_attention" $W/calibrate-A.txt >> "$S"; uptime >> "$S"; pack 1 ;;
  2) step fit 260 $bin validate measure --preset default --role fit --passes 3 --out $W/fit.csv; pack 2
     step holdout 200 $bin validate measure --preset default --role holdout --passes 5 --out $W/holdout.csv
     uptime >> "$S"; pack 2 ;;
  all) # one call (a short budget): the calibration with 2 passes, then the points
     step calibrate-A 220 $bin calibrate --out $W/micro-A.yaml --base $base --passes 2 --free cpu.llc_residency
     grep -E "^cpu\.|^cpu_attention" $W/calibrate-A.txt >> "$S"; pack all
     step fit 120 $bin validate measure --preset default --role fit --passes 2 --out $W/fit.csv; pack all
     step holdout 130 $bin validate measure --preset default --role holdout --passes 5 --out $W/holdout.csv
     uptime >> "$S"; pack all ;;
esac
