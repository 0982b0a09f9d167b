#!/usr/bin/env bash
# Device run 5 (2026-12-04): smoke test of cuBLAS loaded on first use (dlopen) instead of linked.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w; mkdir -p $W
root=$PWD; dir=$root/.devbuild
. scripts/device/devbuild_env.sh
S=$OUT/summary.txt
ldd $bin/hgca | grep -ci cublas | sed 's/^/cublas libraries linked into hgca: /' | tee -a "$S"
timeout 60 $bin/calibration_microbench_tests > $W/mb.log 2>&1; echo "calibration_microbench_tests rc=$?" | tee -a "$S"; grep -E "PASSED|FAILED|SKIPPED" $W/mb.log | head -3 | tee -a "$S"
timeout 90 $bin/hgca calibrate --out $W/q.yaml --base device-h200 --quick > $W/cq.txt 2> $W/cq.log; echo "calibrate --quick rc=$?" | tee -a "$S"; grep -c "^gpu_gemm" $W/q.measurements.csv | sed 's/^/gemm rows: /' | tee -a "$S"; grep "^gpu_gemm" $W/q.measurements.csv | head -2 | tee -a "$S"
timeout 90 $bin/hgca validate measure --preset quick --out $W/vq.csv > $W/vq.log 2>&1; echo "validate measure quick rc=$?" | tee -a "$S"; tail -3 $W/vq.log | tee -a "$S"
tar -C $W -czf $OUT/run5.tgz .
