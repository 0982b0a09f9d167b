#!/usr/bin/env bash
# Device run 8 (2026-12-05), one call per calibration: RUN=A, then RUN=B in the same lease.
# What changed since run 7: the microbenchmarks measure the last-level cache (bench_llc: the runner's CPU step
# over pools of 16 MiB to 2 GiB) and `hgca calibrate` fits cpu.llc_bytes and cpu.llc_bandwidth_factor from
# them, instead of the second stage guessing them from the runner's points. Runner mode as run 7 chose:
# workers parked (spin 0), pool on huge pages. Steps: a throwaway quick grid (the first process on a fresh
# machine measures far off), the microbenchmarks (3 passes), the fit points (2 passes), the holdout points
# (2 passes). Everything goes back as one tarball (only 8 files come back from a call).
set -u
RUN=${RUN:-A}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w8; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary-$RUN.txt
{ date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; } | tee -a "$S"
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
step warmup-$RUN 60 $bin validate measure --preset quick --passes 1 --out $W/warmup-$RUN.csv
step calibrate-$RUN 220 $bin calibrate --out $W/micro-$RUN.yaml --base device-h100 --passes 3
sed -n '/^Error on the fitted rows/,/^$/p' $W/calibrate-$RUN.txt >> "$S"
grep -E "^cpu\.(llc|gather|row_cost|bandwidth)" $W/calibrate-$RUN.txt >> "$S"
step fit-$RUN 200 $bin validate measure --preset default --role fit --passes 2 --out $W/fit-$RUN.csv
step holdout-$RUN 100 $bin validate measure --preset default --role holdout --passes 2 --out $W/holdout-$RUN.csv
cp "$S" "$OUT/"
tar -C $W -czf $OUT/run8-$RUN.tgz .
