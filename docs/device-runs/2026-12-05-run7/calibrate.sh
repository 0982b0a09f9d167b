#!/usr/bin/env bash
# Device run 7, calls 2 and 3 (2026-12-05): RUN=A [MODE=auto] then RUN=B MODE=<A's>.
# Call 2 first measures the holdout points twice with workers spinning 1 ms (call 1 lost those files) and
# picks the runner mode whose two measurements agree better: spin 1000 or 0, pool on huge pages (call 1:
# huge pages agree within 6.3 % median, 4 KB pages far worse). Then one two-stage calibration in that mode:
# the microbenchmarks (3 passes) and the fit points (2 passes) for validate fit, and the holdout points (2 passes).
set -u
RUN=${RUN:-A}; MODE=${MODE:-auto}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; W=/tmp/w7; mkdir -p $W
[ -d .devbuild ] || tar -xJf build-devpack/devbuild.tar.xz
export LD_LIBRARY_PATH=$PWD/.devbuild/lib:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib
bin=.devbuild/bin/hgca
D=docs/device-runs/2026-12-05-run7
S=$W/summary-$RUN.txt
{ date -u; nvidia-smi -L; } | tee -a "$S"
step() {  # name, timeout, command...
  local name=$1 t=$2; shift 2
  local s0=$(date +%s)
  timeout "$t" "$@" > "$W/$name.txt" 2> "$W/$name.log"
  echo "$name: rc=$? in $(( $(date +%s) - s0 )) s" | tee -a "$S"
}
# A fresh machine measured its first process far off (call 1: the first holdout run, 4 KB pages, was 30-300 % slow
# on a third of the points): one throwaway quick grid first.
step warmup-$RUN 60 $bin validate measure --preset quick --passes 1 --out $W/warmup-$RUN.csv
if [ "$MODE" = auto ]; then
  for k in 1 2; do step holdout-spin1000-huge-$k 70 $bin validate measure --preset default --role holdout --passes 1 --out $W/holdout-spin1000-huge-$k.csv; done
  MODE=$(/usr/bin/python3 - "$W" "$D/call1" 2>>"$S" <<'PY'
import csv, statistics, sys
def load(f): return {x['id']: float(x['total_ms']) for x in csv.DictReader(l for l in open(f) if not l.startswith('#'))}
def rep(a, b):
    A, B = load(a), load(b)
    return statistics.median(abs(A[k] - B[k]) / min(A[k], B[k]) for k in A if k in B)
w, c = sys.argv[1], sys.argv[2]
spin = rep(f"{w}/holdout-spin1000-huge-1.csv", f"{w}/holdout-spin1000-huge-2.csv")
park = rep(f"{c}/holdout-spin0-huge-1.csv", f"{c}/holdout-spin0-huge-2.csv")
print(f"repeatability spin1000 {spin:.4f} spin0 {park:.4f}", file=sys.stderr)
print(1000 if spin <= park else 0)
PY
  )
fi
echo "mode: workers spin $MODE us, huge pages" | tee -a "$S"
step calibrate-$RUN 200 $bin calibrate --out $W/micro-$RUN.yaml --base device-h100 --passes 3 --worker-spin-us $MODE
sed -n '/^Error on the fitted rows/,/^$/p' $W/calibrate-$RUN.txt >> "$S"
step fit-$RUN 260 $bin validate measure --preset default --role fit --passes 2 --worker-spin-us $MODE --out $W/fit-$RUN.csv
step holdout-$RUN 100 $bin validate measure --preset default --role holdout --passes 2 --worker-spin-us $MODE --out $W/holdout-$RUN.csv
cp "$S" "$OUT/"
tar -C $W -czf $OUT/run7-$RUN.tgz .
