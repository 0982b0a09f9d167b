#!/usr/bin/env bash
# Device run 3 (2026-12-04), part A: GPU tests, two calibrations (A, B) and the validation measurement, all
# on one machine, so the held-out validation is predicted by profiles of the machine that measured it.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin
S=$OUT/summary.txt
{ date -u; nvidia-smi -L; lscpu | grep -E "Model name|^CPU\(s\)"; } | tee -a "$S"
: > "$W/tests.log"
for t in hgca_cuda_tests hgca_hybrid_tests hgca_kernels_tests hgca_trace_kernels_tests calibration_microbench_tests; do
  echo "---- $t" >> "$W/tests.log"; timeout 120 "$bin/$t" >> "$W/tests.log" 2>&1; echo "$t rc=$?" | tee -a "$S"
done
for run in A B; do
  echo "== calibrate $run" | tee -a "$S"
  s0=$(date +%s)
  timeout 200 "$bin/hgca" calibrate --out $W/device-h200-calibrated-$run.yaml --base device-h200 > $W/calibrate-$run.txt 2> $W/calibrate-$run.log
  echo "rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
  sed -n '/^Error on the fitted rows/,/^$/p' $W/calibrate-$run.txt | tee -a "$S"
done
echo "== validate measure (default)" | tee -a "$S"
s0=$(date +%s)
timeout 300 "$bin/hgca" validate measure --preset default --out $W/measured.csv > $W/measure.log 2>&1
echo "rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"; tail -2 $W/measure.log | tee -a "$S"
for run in A B; do
  timeout 60 "$bin/hgca" validate predict --measured $W/measured.csv --hw $W/device-h200-calibrated-$run.yaml --out $W/validation-$run.h5 > $W/predict-$run.txt 2>&1
  grep summary $W/predict-$run.txt | tee -a "$S"
done
tar -C $W -czf $OUT/run3a.tgz .
