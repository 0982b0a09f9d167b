#!/usr/bin/env bash
# Device run 7, call 1 (2026-12-05): what makes the runner's measurements drift between calls, and what the
# step's tail costs after the GPU waited.
#   1. hgca bench wake: the tail (H2D, merge, sync) after tau of idle or of CPU load.
#   2. The holdout points measured twice (two processes, one pass each) under four runner modes: workers
#      parked (0) or spinning 1 ms between steps, the pool on 4 KB pages or transparent huge pages. Run 6's
#      runner was "spin 0, 4 KB pages"; the repeatability between the two measurements of a mode is what
#      decides which mode the calibration uses.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
S=$OUT/probe-summary.txt
{ date -u; nvidia-smi -L; lscpu | grep -E "Model name|^CPU\(s\)|L3|Thread"; grep -H . /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/defrag; } | tee -a "$S"
timeout 60 $bin bench wake --reps 40 | tee $OUT/wake.txt
for mode in "0 base" "1000 base" "0 huge" "1000 huge"; do
  set -- $mode
  flags="--worker-spin-us $1"; [ "$2" = base ] && flags="$flags --base-pages"
  for k in 1 2; do
    s0=$(date +%s)
    timeout 70 $bin validate measure --preset default --role holdout --passes 1 $flags --out $OUT/holdout-spin$1-$2-$k.csv > $OUT/holdout-spin$1-$2-$k.log 2>&1
    echo "holdout spin=$1 pages=$2 #$k: rc=$? in $(( $(date +%s) - s0 )) s; AnonHugePages $(grep AnonHugePages /proc/meminfo | awk '{print $2}') kB" | tee -a "$S"
  done
done
