#!/usr/bin/env bash
# Device run 6 (2026-12-04), one call per calibration (RUN=A, then RUN=B in a second call on the same lease):
# the microbenchmarks (hgca calibrate, 3 interleaved passes), the validation grid's fit points (what a
# calibration fits its CPU and host terms on, offline, with hgca validate fit) and its holdout points (what only
# validation measures; measured in both calls, so their repeatability is measured too).
set -u
RUN=${RUN:-A}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin
S=$OUT/summary-$RUN.txt
{ date -u; nvidia-smi -L; lscpu | grep -E "Model name|^CPU\(s\)|L3"; } | tee -a "$S"
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
step calibrate-$RUN 240 "$bin/hgca" calibrate --out $W/micro-$RUN.yaml --base device-h200 --passes 3
sed -n '/^Error on the fitted rows/,/^$/p' $W/calibrate-$RUN.txt | tee -a "$S"
step fit-$RUN 200 "$bin/hgca" validate measure --preset default --role fit --out $W/fit-$RUN.csv
step holdout-$RUN 120 "$bin/hgca" validate measure --preset default --role holdout --out $W/holdout-$RUN.csv
tail -1 $W/holdout-$RUN.txt | tee -a "$S"
cp $W/micro-$RUN.yaml $W/micro-$RUN.measurements.csv $W/fit-$RUN.csv $W/holdout-$RUN.csv $W/calibrate-$RUN.txt "$OUT/" 2>/dev/null
tar -C $W -czf $OUT/run6-$RUN.tgz .
