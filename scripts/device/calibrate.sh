#!/usr/bin/env bash
# Calibration of the device machine, twice, and the reproducibility check (issue 5: two calibrations on the
# same machine predict within 3 %). From the repository root on the device, with build-devpack carried:
#
#   OUT=$OUT bash scripts/device/calibrate.sh [PACKED_DIR]     (QUICK=1: the tiny grid, a smoke test)
#   BASE: the base profile (default device-h200, the machine lent since 2026-12; device-h100 before)
#
# Writes under $OUT: $BASE-calibrated-{A,B}.yaml, their .measurements.csv and .calibration.h5, the
# reports calibrate-{A,B}.txt, reproducibility.txt (run B's rows predicted with run A's profile and A's rows
# with B's), and summary-calibrate.txt.
# This is the first stage only (the microbenchmarks). The device machine's calibration adds a second stage, the
# CPU and host terms fitted on the runner's fit points (hgca validate measure --role fit, then hgca validate fit):
# docs/device-runs/2026-12-04-run6/run6.sh and analyze.sh, docs/VALIDATION.md (Results).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/.devbuild}
. "$root/scripts/device/devbuild_env.sh"
OUT=${OUT:-/tmp/hgca-device}
mkdir -p "$OUT"
hgca=$bin/hgca
BASE=${BASE:-device-h200}
quick=""
[ "${QUICK:-0}" = 1 ] && quick="--quick"
status=0
sum=$OUT/summary-calibrate.txt
: > "$sum"
cd "$root"
for run in A B; do
  start=$(date +%s)
  if "$hgca" calibrate --out "$OUT/$BASE-calibrated-$run.yaml" --base "$BASE" $quick \
       > "$OUT/calibrate-$run.txt" 2> "$OUT/calibrate-$run.log"; then
    echo "run $run: done in $(( $(date +%s) - start )) s" | tee -a "$sum"
  else
    echo "run $run: FAILED (see calibrate-$run.log)" | tee -a "$sum"; tail -5 "$OUT/calibrate-$run.log" | tee -a "$sum"; status=1
  fi
done
# The profile of run A predicting run B's measurements (and the other way round), without fitting to them.
if [ $status = 0 ]; then
  {
    "$hgca" calibrate --from-measurements "$OUT/$BASE-calibrated-A.measurements.csv" --base "$BASE" \
      --check "$OUT/$BASE-calibrated-B.measurements.csv" --rows
    echo; echo "---- the other way round"
    "$hgca" calibrate --from-measurements "$OUT/$BASE-calibrated-B.measurements.csv" --base "$BASE" \
      --check "$OUT/$BASE-calibrated-A.measurements.csv"
  } > "$OUT/reproducibility.txt" 2>&1 || status=1
  echo "== fit of run A (error on its own rows):" | tee -a "$sum"
  sed -n '/^Error on the fitted rows/,/^$/p' "$OUT/calibrate-A.txt" | tee -a "$sum"
  echo "== run B predicted by run A's profile (goal: within 3 %):" | tee -a "$sum"
  sed -n '/^Prediction of/,/^$/p' "$OUT/reproducibility.txt" | head -12 | tee -a "$sum"
  echo "== parameters of A and B:" | tee -a "$sum"
  paste -d'|' <(grep -E "^(gpu|pcie|cpu)\." "$OUT/calibrate-A.txt" | cut -c1-60) \
              <(grep -E "^(gpu|pcie|cpu)\." "$OUT/calibrate-B.txt" | cut -c41-60) | tee -a "$sum"
  grep -A7 "^machine:" "$OUT/$BASE-calibrated-A.yaml" | tee -a "$sum"
fi
exit $status
