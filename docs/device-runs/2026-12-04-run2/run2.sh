#!/usr/bin/env bash
# Device run 2 (2026-12-04): smoke of everything GPU-side after session 3's changes.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w; mkdir -p $W
tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin
S=$OUT/summary.txt
: > "$W/tests.log"
for t in hgca_cuda_tests hgca_hybrid_tests hgca_kernels_tests hgca_trace_kernels_tests calibration_microbench_tests; do
  [ -x "$bin/$t" ] || { echo "$t missing" | tee -a "$S"; continue; }
  echo "---- $t" >> "$W/tests.log"; timeout 120 "$bin/$t" >> "$W/tests.log" 2>&1; echo "$t rc=$?" | tee -a "$S"
done
for tr in traces/data/*.h5; do case $tr in *profile*) continue;; esac
  HGCA_CHECK_TRACE=$tr timeout 120 "$bin/hgca_trace_kernels_tests" > $W/t.log 2>&1; echo "trace check $tr rc=$?" | tee -a "$S"; grep -E "^\[ worst \]" $W/t.log | tee -a "$S"; cat $W/t.log >> $W/tests.log; done
grep -E "FAILED  \]" "$W/tests.log" | head | tee -a "$S"
echo "== calibrate quick" | tee -a "$S"
( time timeout 200 "$bin/hgca" calibrate --out $W/quick.yaml --base device-h200 --quick > $W/cal-quick.txt 2> $W/cal-quick.log ) 2>> "$S"; echo "rc=$?" | tee -a "$S"
tail -3 $W/cal-quick.log | tee -a "$S"; sed -n '/^Error on the fitted rows/,/^$/p' $W/cal-quick.txt | tee -a "$S"
echo "== calibrate full A" | tee -a "$S"
( time timeout 300 "$bin/hgca" calibrate --out $W/device-h200-calibrated-A.yaml --base device-h200 > $W/calibrate-A.txt 2> $W/calibrate-A.log ) 2>> "$S"; echo "rc=$?" | tee -a "$S"
tail -3 $W/calibrate-A.log | tee -a "$S"; sed -n '/^Error on the fitted rows/,/^$/p' $W/calibrate-A.txt | tee -a "$S"
grep -E "^(gpu|pcie|cpu)\." $W/calibrate-A.txt | cut -c1-110 | tee -a "$S"
tar -C $W -czf $OUT/cal.tgz .
echo "== validate quick" | tee -a "$S"
( time timeout 200 "$bin/hgca" validate measure --preset quick --out $W/vq.csv > $W/val-quick.txt 2>&1 ) 2>> "$S"; echo "rc=$?" | tee -a "$S"; tail -5 $W/val-quick.txt | tee -a "$S"
timeout 60 "$bin/hgca" validate predict --measured $W/vq.csv --hw device-h200 --out $W/vq.h5 > $W/val-pred.txt 2>&1; echo "predict rc=$?" | tee -a "$S"; tail -25 $W/val-pred.txt | tee -a "$S"
echo "== kernel bench" | tee -a "$S"
timeout 200 "$bin/hgca_kernel_bench" --isa=avx512 --threads=16 --batch=16 --context=32768 --reps=5 --group-tasks=both --only=sparse > "$W/kernel_bench.jsonl" 2>> "$S"
python3 - "$W/kernel_bench.jsonl" <<'PY' | tee -a "$S"
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get("bench")=="sparse": print("%-9s %.2f %-11s %-8s %-7s %6.1f GB/s (best %6.1f)"%(r["group_tasks"],r["fraction"],r["selection"],r["granularity"],r["partition"],r["gbps"],r["gbps_best"]))
PY
: > "$W/hybrid.jsonl"
hy() { timeout 60 "$bin/hgca" bench hybrid --json --q-heads 32 --kv-heads 8 --head-dim 128 --threads 16 --iters 30 --warmup 5 "$@" >> "$W/hybrid.jsonl" 2>> "$S" || echo "hybrid $* FAILED" | tee -a "$S"; }
for f in 0.01 0.02 0.05 0.1; do hy --batch 16 --context 32768 --window 4096 --cpu-fraction $f; done
python3 - "$W/hybrid.jsonl" <<'PY' | tee -a "$S"
import json,sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        r=json.loads(l); print("frac %.2f task %s: gpu %.3f ms, cpu %.3f ms (%.1f GB/s), total %.3f ms, overhead %.1f%%, err %.1e" % (r["selected_per_head"]/r["pool_rows"], r["cpu_task"], r["gpu_window_ms"], r["cpu_attention_ms"], r["cpu_gbs"], r["total_ms"], 100*r["overhead_fraction"], r["max_rel_error"]))
PY
tar -C $W -czf $OUT/run2.tgz .
