#!/usr/bin/env bash
# Device run 3, part B: CPU kernel bench (group-task A/B), hybrid step at the issue's points, GPU window bench
# and torch SDPA on the same shapes (the H200 had not been benchmarked for issue 4).
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/wb; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin
S=$OUT/summary-b.txt
timeout 150 "$bin/hgca_kernel_bench" --isa=avx512 --threads=16 --batch=16 --context=32768 --reps=5 --group-tasks=both --only=sparse,dense > "$W/kernel_bench.jsonl" 2>> "$S"
python3 - "$W/kernel_bench.jsonl" <<'PY' | tee -a "$S"
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get("bench") in ("sparse","dense"): print("%-6s %-9s %.2f %-11s %-8s %-7s %6.1f GB/s (best %6.1f)"%(r["bench"],r["group_tasks"],r["fraction"],r["selection"],r["granularity"],r["partition"],r["gbps"],r["gbps_best"]))
PY
: > "$W/hybrid.jsonl"
hy() { timeout 60 "$bin/hgca" bench hybrid --json --q-heads 32 --kv-heads 8 --head-dim 128 --threads 16 --iters 30 --warmup 5 "$@" >> "$W/hybrid.jsonl" 2>> "$S" || echo "hybrid $* FAILED" | tee -a "$S"; }
for f in 0.01 0.02 0.05 0.1; do hy --batch 16 --context 32768 --window 4096 --cpu-fraction $f; done
hy --batch 16 --context 32768 --window 4096 --cpu-fraction 0.05 --cpu-task head
python3 - "$W/hybrid.jsonl" <<'PY' | tee -a "$S"
import json,sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        r=json.loads(l); print("frac %.3f task %-8s: gpu %.3f ms, cpu %.3f ms (%.1f GB/s), total %.3f ms, overhead %.1f%%, err %.1e" % (r["selected_per_head"]/r["pool_rows"], r["cpu_task"], r["gpu_window_ms"], r["cpu_attention_ms"], r["cpu_gbs"], r["total_ms"], 100*r["overhead_fraction"], r["max_rel_error"]))
PY
timeout 150 "$bin/hgca_cuda_bench" > "$W/cuda_bench.jsonl" 2>> "$S" || echo "cuda bench rc=$?" | tee -a "$S"
PYTHONUNBUFFERED=1 timeout 120 python3 scripts/device/sdpa_bench.py > "$W/sdpa.jsonl" 2>> "$S" || echo "sdpa rc=$?" | tee -a "$S"
python3 - "$W" <<'PY' | tee -a "$S"
import json, sys, os
w = sys.argv[1]
rows = lambda n: [json.loads(l) for l in open(os.path.join(w, n)) if l.startswith("{")] if os.path.exists(os.path.join(w, n)) else []
cb = rows("cuda_bench.jsonl")
for r in cb:
    if r.get("bench") == "hbm": print("HBM: copy %.0f GB/s (read+write), read-only %.0f GB/s" % (r["copy_gbs_read_plus_write"], r["read_gbs"]))
sd = {(r["dtype"], r["batch"], r["window"], r["backend"]): r.get("gbs") for r in rows("sdpa.jsonl") if r.get("bench") == "sdpa"}
for r in cb:
    if r.get("bench") == "decode_attention" and "gbs" in r:
        k = (r["dtype"], r["batch"], r["window"])
        print("%s b%d w%d splits %s: %.1f us %.0f GB/s (%.2f of read ceiling) flash %s cudnn %s" % (r["dtype"], r["batch"], r["window"], r.get("splits"), r["time_us"], r["gbs"], r.get("of_read_ceiling", 0), sd.get(k + ("flash",)), sd.get(k + ("cudnn",))))
PY
tar -C $W -czf $OUT/run3b.tgz .
