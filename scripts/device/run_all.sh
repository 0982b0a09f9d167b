#!/usr/bin/env bash
# The whole device run in one call, from the repository root on the device machine:
#   GPU tests, hybrid tests and the CPU kernel tests; hgca_cuda_bench (with --tune); PyTorch SDPA on the same
#   shapes; the CPU kernel bench on all cores; `hgca bench hybrid` at the issue's operating points.
# Logs go to $OUT (at most 8 files come back): machine.txt tests.log cuda_bench.jsonl sdpa.jsonl
# kernel_bench.jsonl hybrid.jsonl summary.txt.
#
#   scripts/device/run_all.sh [PACKED_DIR]     default .devbuild (scripts/device/pack.sh makes it)
# Environment: OUT (default /tmp/hgca-device), QUICK=1 for a short smoke run.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/.devbuild}
. "$root/scripts/device/devbuild_env.sh"
OUT=${OUT:-/tmp/hgca-device}
mkdir -p "$OUT"
status=0
note() { echo "== $*" | tee -a "$OUT/summary.txt"; }

{ date -u; nvidia-smi; nvidia-smi -q | grep -iE "clocks|MHz|Power Limit|Persistence|Link (Gen|Width)" | head -40;
  lscpu; free -g; uname -a; } > "$OUT/machine.txt" 2>&1

note "tests"
: > "$OUT/tests.log"
for t in hgca_cuda_tests hgca_hybrid_tests hgca_kernels_tests; do
  echo "---- $t" >> "$OUT/tests.log"
  if "$bin/$t" > /tmp/hgca-test.log 2>&1; then note "$t: passed"; else note "$t: FAILED"; status=1; fi
  cat /tmp/hgca-test.log >> "$OUT/tests.log"
  grep -E "tests? from .* ran|^\[  (PASSED|FAILED|SKIPPED)  \] [0-9]+ test" /tmp/hgca-test.log | sed 's/^/   /' >> "$OUT/summary.txt"
done
grep -E "^\[ worst \]|FAILED  \]" "$OUT/tests.log" | head -20 | tee -a "$OUT/summary.txt"

if [ "${QUICK:-0}" = 1 ]; then cb="--quick"; else cb="--tune"; fi
note "hgca_cuda_bench $cb"
"$bin/hgca_cuda_bench" $cb > "$OUT/cuda_bench.jsonl" 2>> "$OUT/summary.txt" || { note "cuda bench FAILED"; status=1; }

note "torch sdpa"
PYTHONUNBUFFERED=1 python3 "$root/scripts/device/sdpa_bench.py" ${QUICK:+--shapes 16x4096,64x4096} \
  > "$OUT/sdpa.jsonl" 2>> "$OUT/summary.txt" || { note "sdpa FAILED"; status=1; }

note "hgca_kernel_bench (CPU, 16 cores)"
"$bin/hgca_kernel_bench" --isa=avx512 --threads=1,4,8,16 --batch=16 --context=32768 --reps=5 \
  > "$OUT/kernel_bench.jsonl" 2>> "$OUT/summary.txt" || { note "kernel bench FAILED"; status=1; }

note "hgca bench hybrid"
: > "$OUT/hybrid.jsonl"
# The issue's operating point: Llama-3.1-8B attention, batch 16, 32K context, 4K window, 16 threads.
hy() { "$bin/hgca" bench hybrid --json --q-heads 32 --kv-heads 8 --head-dim 128 --threads 16 --iters 30 \
         --warmup 5 "$@" >> "$OUT/hybrid.jsonl" 2>> "$OUT/summary.txt" || { note "hybrid $* FAILED"; status=1; }; }
for f in 0.01 0.02 0.05 0.1; do hy --batch 16 --context 32768 --window 4096 --cpu-fraction $f; done
hy --batch 16 --context 32768 --window 4096 --cpu-fraction 0.05 --dtype bf16
hy --batch 16 --context 32768 --window 4096 --cpu-fraction 0.05 --cpu-task head
hy --batch 16 --context 32768 --window 4096 --cpu-fraction 0.01 --select topk
hy --batch 16 --context 32768 --window 4096 --cpu-select 64
hy --batch 16 --context 32768 --window 4096 --cpu-fraction 0.01 --same-lists   # rows stay in L3: the cache, not DRAM
hy --batch 16 --context 8192 --window 4096 --cpu-fraction 1.0 --check-heads 0   # everything: full attention

python3 - "$OUT" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys, os
out = sys.argv[1]
def rows(name):
    p = os.path.join(out, name)
    return [json.loads(l) for l in open(p) if l.startswith("{")] if os.path.exists(p) else []
cb = rows("cuda_bench.jsonl")
hbm = [r for r in cb if r.get("bench") == "hbm"]
if hbm: print("HBM: copy %.0f GB/s (read+write), read-only %.0f GB/s" % (hbm[0]["copy_gbs_read_plus_write"], hbm[0]["read_gbs"]))
sd = {(r["dtype"], r["batch"], r["window"], r["backend"]): r.get("gbs") for r in rows("sdpa.jsonl") if r.get("bench") == "sdpa"}
print("%-5s %5s %6s %6s %9s %9s %7s %7s %7s" % ("dtype", "batch", "window", "splits", "ours_us", "ours_GB/s", "of_read", "flash", "cudnn"))
for r in cb:
    if r.get("bench") == "decode_attention" and r.get("warps") == 4 and r.get("unroll") == 4 and "time_us" in r:
        k = (r["dtype"], r["batch"], r["window"])
        print("%-5s %5d %6d %6d %9.1f %9.0f %7.2f %7s %7s" % (r["dtype"], r["batch"], r["window"], r["splits"], r["time_us"], r["gbs"],
              r["of_read_ceiling"], sd.get(k + ("flash",)), sd.get(k + ("cudnn",))))
best = {}
for r in cb:
    if r.get("bench") == "decode_attention" and "gbs" in r:
        k = (r["dtype"], r["batch"], r["window"])
        if k not in best or r["gbs"] > best[k]["gbs"]: best[k] = r
print("best configuration per shape:")
for k, r in sorted(best.items()):
    print("  %s %dx%d: %.0f GB/s (%.2f of read) splits=%d warps=%d unroll=%d" % (k + (r["gbs"], r["of_read_ceiling"], r["splits"], r["warps"], r["unroll"])))
for r in rows("hybrid.jsonl"):
    print("hybrid %s ctx=%d sel=%s/%d fresh=%s task=%s: gpu %.3f ms cpu %.3f+%.3f ms total %.3f ms overhead %.3f ms (%.1f%%) cpu %.1f GB/s err %.2g" % (
        r["dtype"], r["context"], r["selection"], r["selected_per_head"], r.get("fresh_lists_each_step"), r["cpu_task"], r["gpu_window_ms"], r["cpu_select_ms"],
        r["cpu_attention_ms"], r["total_ms"], r["overhead_ms"], 100 * r["overhead_fraction"], r["cpu_gbs"], r["max_rel_error"]))
kb = [r for r in rows("kernel_bench.jsonl") if r.get("threads") == 16]
for r in kb:
    print("cpu 16 threads %-6s %s frac=%.2f %-11s %-8s %-7s %.1f GB/s (best %.1f)" % (r["bench"], r["kv"], r["fraction"], r["selection"],
          r["granularity"], r["partition"], r["gbps"], r["gbps_best"]))
PY
exit $status
