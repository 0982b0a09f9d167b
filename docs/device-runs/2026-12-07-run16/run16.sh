#!/usr/bin/env bash
# Device run 16 (2026-12-07): how much of the attention p90 is the runner's own repeatability?
# Run 15's own holdout missed by 13.9 % at the p90 while its points' passes, minutes apart in one call, spread
# by 6.7 % at the median and 16 % at the p90 (max / min pass). Here everything comes from one lease, with more
# passes, so that the error against the median of passes can be set beside the passes' own spread:
#   run16.sh 1: calibrate A (it settles a fresh machine itself) with the cache residency free (the fit on all 16 cores, --jobs 0)
#   run16.sh 2: fit points (3 passes), holdout points (5 passes)
#   run16.sh 4: every point (fit and holdout interleaved in each pass, so a second stage fitted to the fit rows
#     sees the machine as the holdout rows do), 4 passes; the table keeps the passes done if the call is cut short
#   run16.sh all: the two in one call, shorter (calibration and fit points with 2 passes each)
#   run16.sh 3: the CPU per-row cost by batch (VALIDATION.md, "the CPU rows by batch"): the runner's CPU phase
#     (hgca bench hybrid, 16 query / 4 KV heads, head_dim 64, a 2 GiB pool, per-head tasks) in a 2 x 2 design
#     that separates the gap between picked rows from the number and length of the tasks:
#       A batch 1,  4096 rows per head: picks 64 KiB apart, 16 long tasks      (the microbenchmarks' batch-1 row)
#       B batch 16, 4096 rows per head: picks  4 KiB apart, 256 tasks           (their batch-16 row)
#       C batch 1, 65536 rows per head: picks  4 KiB apart, 16 very long tasks
#       D batch 16,  256 rows per head: picks 64 KiB apart, 256 short tasks
#     each on transparent huge pages and on 4 KB pages (where every pick walks the page table), at 4 and 15
#     threads (15: the validation grid's, a core left to the host thread); and A-D at head_dim 128 (32 / 8
#     heads) on huge pages, 15 threads. Workers park at once (spin 0), as in hgca validate measure, so that
#     probe.py can predict the rows as the validation's points are predicted.
# What ran (2026-12-07 07:46-07:58 UTC, one H100 lease, 300 MiB L3 host): `all`, then `3` twice. All three steps
# of `all` hit their timeouts: the calibration measured its rows and was cut off in its fit (fitted offline
# afterwards, A/calibrate-offline-A.txt), and the two `validate measure` calls one point short of their last
# pass, before writing their tables (rebuilt by reconstruct.py from points/*.txt; measure now rewrites its
# table after every pass). A calibration on the device wants 400 s or more for measuring and fitting together.
# Run 17 (2026-12-07 13:27-13:41 UTC, one H100 lease, 300 MiB L3 host) ran `RUN=17 run16.sh 1`, `4`, `1` (files in
# docs/device-runs/2026-12-07-run17; the second calibration is B there).
# Offline: stage 2 (docs/device-runs/2026-12-05-run7/analyze.sh), then docs/device-runs/2026-12-07-run16/passes.py;
# call 3: docs/device-runs/2026-12-07-run16/probe.py.
set -u
RUN=${RUN:-16}  # the label of this run's files (run 17 ran calls 1, 4 and 1 again with RUN=17)
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w$RUN; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$W/summary.txt
base=device-h100; nvidia-smi -L | grep -q H200 && base=device-h200
{ echo "== run $RUN call $1"; date -u; nvidia-smi -L; lscpu | grep -E "Model name|L3"; uptime; } | tee -a "$S"
pack() { cp "$S" "$OUT/"; tar -C $W -czf $OUT/run$RUN-$1.tgz .; }
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
case $1 in
  1) step calibrate-A 480 $bin calibrate --out $W/micro-A.yaml --base $base --passes 3 --free cpu.llc_residency
     grep -E "^cpu\.|^cpu_attention" $W/calibrate-A.txt >> "$S"; uptime >> "$S"; pack 1 ;;
  2) step fit 260 $bin validate measure --preset default --role fit --passes 3 --out $W/fit.csv; pack 2
     step holdout 200 $bin validate measure --preset default --role holdout --passes 5 --out $W/holdout.csv
     uptime >> "$S"; pack 2 ;;
  3) P=$W/probe.jsonl; s0=$(date +%s)
     probe() {  # head_dim q_heads kv_heads batch context rows-per-head threads pages-flag
       timeout 60 $bin bench hybrid --head-dim $1 --q-heads $2 --kv-heads $3 --batch $4 --context $5 --window 256 \
         --cpu-select $6 --threads $7 $8 --cpu-task head --worker-spin-us 0 --iters 20 --warmup 3 --json >> $P 2>> $W/probe.log ||
         echo "probe $*: rc=$?" >> "$S"
     }
     for pages in "" --base-pages; do for t in 4 15; do
       probe 64 16 4 1 2097152 4096 $t "$pages"; probe 64 16 4 16 131072 4096 $t "$pages"
       probe 64 16 4 1 2097152 65536 $t "$pages"; probe 64 16 4 16 131072 256 $t "$pages"
     done; done
     probe 128 32 8 1 524288 4096 15 ""; probe 128 32 8 16 32768 4096 15 ""
     probe 128 32 8 1 524288 32768 15 ""; probe 128 32 8 16 32768 256 15 ""
     echo "probe: $(wc -l < $P) rows in $(( $(date +%s) - s0 )) s" | tee -a "$S"; uptime >> "$S"; pack 3 ;;
  4) step points 520 $bin validate measure --preset default --passes 4 --out $W/points.csv
     uptime >> "$S"; pack 4 ;;
  all) # one call (a short budget): the calibration with 2 passes, then the points
     step calibrate-A 220 $bin calibrate --out $W/micro-A.yaml --base $base --passes 2 --free cpu.llc_residency
     grep -E "^cpu\.|^cpu_attention" $W/calibrate-A.txt >> "$S"; pack all
     step fit 120 $bin validate measure --preset default --role fit --passes 2 --out $W/fit.csv; pack all
     step holdout 130 $bin validate measure --preset default --role holdout --passes 5 --out $W/holdout.csv
     uptime >> "$S"; pack all ;;
esac
