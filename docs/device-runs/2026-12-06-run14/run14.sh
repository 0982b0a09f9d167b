#!/usr/bin/env bash
# Device run 14 (2026-12-06): the runner now reads each point's CPU pool into the cache before its first step,
# and a decode step's layers read distinct pool copies (commit "hybrid runner: read the CPU pool ..."). Run 13
# found small-pool attention steps measured as slow as uncached ones and decode-step CPU phases 20-50 % under
# the simulator's (one pool shared by 32 layers). Same host for everything:
#   run14.sh 1: the hybrid runner's GPU tests, settle, calibrate A (3 passes), fit points, holdout points (warm)
#   run14.sh 2: holdout points with --cold-pool (the old runner's cache state), calibrate B (3 passes)
# The tarball is rewritten after every step. Offline: docs/VALIDATION.md "Run 14".
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w14; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary.txt
base=device-h100; nvidia-smi -L | grep -q H200 && base=device-h200
{ echo "== run 14 call $1"; date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
pack() { cp "$S" "$OUT/"; tar -C $W -czf $OUT/run14.tgz .; }
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
calibrate() {
  step calibrate-$1 260 $bin calibrate --out $W/micro-$1.yaml --base $base --passes 3
  grep -E "^cpu\." $W/calibrate-$1.txt >> "$S"
  pack
}
points() {  # role, passes, name, timeout, extra options...
  local role=$1 passes=$2 name=$3 t=$4; shift 4
  step $name $t $bin validate measure --preset default --role $role --passes $passes --out $W/$name.csv "$@"; pack
}
case $1 in
  1) step hybrid-tests 60 .devbuild/bin/hgca_hybrid_tests; tail -3 $W/hybrid-tests.txt >> "$S"; pack
     sleep 30; calibrate A; points fit 2 fit 200; points holdout 3 holdout 150 ;;
  2) points holdout 3 holdout-cold 150 --cold-pool; calibrate B ;;
esac
