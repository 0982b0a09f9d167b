#!/usr/bin/env bash
# Device run 13 (2026-12-06): the LLC sweep now runs a head_dim-64 shape beside head_dim 128 (e708da0). Does the
# cache shorten a head_dim-64 row as much as a head_dim-128 one, and does the fitted model then predict the
# runner's small-pool head_dim-64 steps (docs/VALIDATION.md, "Where run 11's CPU phase misses")?
#   run13.sh 1: settle, calibrate A (3 passes), fit points (2 passes)
#   run13.sh 2: holdout points (3 passes), calibrate B (3 passes)
# Both calls on one warm machine; the tarball is rewritten after every step, so a call cut short still returns
# what it measured. Offline: docs/VALIDATION.md "Run 13".
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w13; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary.txt
base=device-h100; nvidia-smi -L | grep -q H200 && base=device-h200
{ echo "== run 13 call $1"; date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
pack() { cp "$S" "$OUT/"; tar -C $W -czf $OUT/run13.tgz .; }
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
calibrate() {
  step calibrate-$1 280 $bin calibrate --out $W/micro-$1.yaml --base $base --passes 3
  grep -E "^cpu\." $W/calibrate-$1.txt >> "$S"
  pack
}
points() {  # role, passes, name, timeout
  step $3 $4 $bin validate measure --preset default --role $1 --passes $2 --out $W/$3.csv; pack
}
case $1 in
  1) sleep 45; calibrate A; points fit 2 fit 200 ;;
  2) points holdout 3 holdout 180; calibrate B ;;
esac
