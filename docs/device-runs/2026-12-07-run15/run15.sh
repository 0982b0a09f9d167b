#!/usr/bin/env bash
# Device run 15 (2026-12-06): does a small CPU step find the cache?
# Run 13: the runner's small steps (64 rows per head) on pools that fit the cache ran at the uncached cost;
# run 14: reading the pool first did not change that. Two probes, one machine:
#   run15.sh 1: the hybrid runner's GPU tests (the copies test and for_each_block refactor of 0b86041 and
#               ac06fdd had not run on a GPU); settle; the runner's worst small step (batch 4, 16 q / 4 KV
#               heads, head_dim 64, 64 rows per head, 4 threads, kv_group) on a 32 MiB pool and on a 511 MiB
#               one, 200 steps each (a long run's
#               steady state), with and without --same-lists (the same rows every step: all cached), and on
#               32 MiB with spinning workers and with 4 KB pages, and on both with the CPU phase's queries and
#               result in pageable buffers instead of pinned ones (--pageable-cpu-io); then
#               calibrate A with the cache residency free (the LLC sweep has 64-row steps beside 256-row ones)
#   run15.sh 2: fit points (2 passes), holdout points (3 passes)
#   run15.sh probes: call 1 without the calibration (~4 min); run15.sh p: the GPU tests and four of call 1's
#               probes alone (~2 min), for a short lease
# If the microbenchmark's 64-row LLC rows find the cache and the runner's 200-step runs do not, the runner's
# surroundings lose it; if neither does, the model's cache term needs the step's size. Offline:
# analysis.validation_residuals on the predictions, VALIDATION.md "Run 13" and "Run 14" for the method.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w15; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary.txt
base=device-h100; nvidia-smi -L | grep -q H200 && base=device-h200
{ echo "== run 15 call $1"; date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
pack() { cp "$S" "$OUT/"; tar -C $W -czf $OUT/run15.tgz .; }
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
small() {  # name, context, window, worker spin (us), extra options...
  local name=$1 ctx=$2 win=$3 spin=$4; shift 4
  step $name 60 $bin bench hybrid --batch 4 --q-heads 16 --kv-heads 4 --head-dim 64 --context $ctx --window $win \
    --cpu-select 64 --threads 4 --cpu-task kv_group --worker-spin-us $spin --iters 200 --warmup 20 --json "$@"
  cat $W/$name.txt >> "$S"
}
case $1 in
  1) step hybrid-tests 60 .devbuild/bin/hgca_hybrid_tests; tail -3 $W/hybrid-tests.txt >> "$S"; pack
     sleep 40
     small small-32MiB 16384 8192 0; small small-32MiB-same 16384 8192 0 --same-lists
     small small-511MiB 131072 256 0; small small-511MiB-same 131072 256 0 --same-lists
     small small-32MiB-spin 16384 8192 200; small small-32MiB-base 16384 8192 0 --base-pages
     small small-32MiB-pageable 16384 8192 0 --pageable-cpu-io; small small-511MiB-pageable 131072 256 0 --pageable-cpu-io; pack
     step calibrate-A 280 $bin calibrate --out $W/micro-A.yaml --base $base --passes 3 --free cpu.llc_residency
     grep -E "^cpu\." $W/calibrate-A.txt >> "$S"; pack ;;
  probes) step hybrid-tests 60 .devbuild/bin/hgca_hybrid_tests; tail -3 $W/hybrid-tests.txt >> "$S"; pack
     small small-32MiB 16384 8192 0; small small-32MiB-same 16384 8192 0 --same-lists
     small small-511MiB 131072 256 0; small small-511MiB-same 131072 256 0 --same-lists
     small small-32MiB-spin 16384 8192 200; small small-32MiB-base 16384 8192 0 --base-pages
     small small-32MiB-pageable 16384 8192 0 --pageable-cpu-io; small small-511MiB-pageable 131072 256 0 --pageable-cpu-io; pack ;;
  p) step hybrid-tests 60 .devbuild/bin/hgca_hybrid_tests; tail -3 $W/hybrid-tests.txt >> "$S"
     small small-32MiB 16384 8192 0; small small-511MiB 131072 256 0
     small small-32MiB-same 16384 8192 0 --same-lists; small small-32MiB-pageable 16384 8192 0 --pageable-cpu-io; pack ;;
  2) step fit 200 $bin validate measure --preset default --role fit --passes 2 --out $W/fit.csv; pack
     step holdout 150 $bin validate measure --preset default --role holdout --passes 3 --out $W/holdout.csv; pack ;;
esac
