#!/usr/bin/env bash
# Device run 1 (2026-12-04): do the binaries run on this machine; GPU tests incl. the shipped-trace check;
# CPU sparse kernel row-order A/B on 16 cores; hybrid step at the issue's operating points.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin
S=$OUT/summary.txt
{ date -u; nvidia-smi; nvidia-smi -q | grep -iE "Link (Gen|Width)|Max Clocks|Product Name|Driver|CUDA" | head -20; lscpu | head -30; free -g; uname -a;
  ls /usr/local/cuda/lib64 2>&1 | grep -iE "cublas|cudart" ; find / -name "libcublas.so*" -not -path "*/proc/*" 2>/dev/null | head;
  python3 -c "import torch;print('torch', torch.__version__, torch.version.cuda)"; } > "$OUT/machine.txt" 2>&1
: > "$OUT/tests.log"
for t in hgca_cuda_tests hgca_hybrid_tests hgca_kernels_tests hgca_trace_kernels_tests; do
  echo "---- $t" >> "$OUT/tests.log"; "$bin/$t" >> "$OUT/tests.log" 2>&1; echo "$t rc=$?" | tee -a "$S"
done
big=$(ls -S traces/data/*.h5 | grep -v profile | head -1)
echo "---- trace check on $big" >> "$OUT/tests.log"
HGCA_CHECK_TRACE=$big "$bin/hgca_trace_kernels_tests" >> "$OUT/tests.log" 2>&1; echo "trace check $big rc=$?" | tee -a "$S"
grep -E "^\[ worst \]|FAILED  \]|SKIPPED \] [0-9]|PASSED  \] [0-9]" "$OUT/tests.log" | tee -a "$S"
"$bin/hgca_kernel_bench" --isa=avx512 --threads=16 --batch=16 --context=32768 --reps=5 --row-order=both --only=sparse,dense > "$OUT/kernel_bench.jsonl" 2>> "$S"
python3 - "$OUT/kernel_bench.jsonl" <<'PY' | tee -a "$S"
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get("bench") in ("sparse","dense"): print("%-6s %-18s %.2f %-11s %-8s %-7s %6.1f GB/s (best %6.1f)"%(r["bench"],r["row_order"],r["fraction"],r["selection"],r["granularity"],r["partition"],r["gbps"],r["gbps_best"]))
PY
: > "$OUT/hybrid.jsonl"
hy() { "$bin/hgca" bench hybrid --json --q-heads 32 --kv-heads 8 --head-dim 128 --threads 16 --iters 30 --warmup 5 "$@" >> "$OUT/hybrid.jsonl" 2>> "$S" || echo "hybrid $* FAILED" | tee -a "$S"; }
for f in 0.01 0.02 0.05 0.1 0.3; do hy --batch 16 --context 32768 --window 4096 --cpu-fraction $f; done
hy --batch 16 --context 32768 --window 4096 --cpu-fraction 0.05 --cpu-task head
python3 - "$OUT/hybrid.jsonl" <<'PY' | tee -a "$S"
import json,sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        r=json.loads(l); print({k:r[k] for k in r if not isinstance(r[k],(dict,list))})
PY
