#!/usr/bin/env bash
# The simulator against the real hybrid runner, in one call from the repository root on the device machine
# (docs/VALIDATION.md):
#   1. hgca validate measure --preset default   (the runner: ~86 points, about 4 minutes)
#   2. hgca validate predict on configs/hw/device-h200.yaml, and on a second profile when given (the
#      calibrated one), each with its table, CSV and HDF5
#   3. the predicted-vs-measured plot, when python3 with h5py and matplotlib is there
# Output in $OUT: measured.csv measure.log predict-device-h200.{txt,csv} validation.h5
#   [predict-<profile>.{txt,csv} validation-<profile>.h5] [validation_scatter*.png] summary.txt
#
#   scripts/device/validate.sh [CALIBRATED_PROFILE.yaml]
# Environment: OUT (default /tmp/hgca-validate), DEVBUILD (default .devbuild, made by scripts/device/pack.sh;
# a build tree's bin/ works too), PRESET (default default; quick for a smoke run).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dir=${DEVBUILD:-$root/.devbuild}
. "$root/scripts/device/devbuild_env.sh"
OUT=${OUT:-/tmp/hgca-validate}
mkdir -p "$OUT"
hgca=$bin/hgca
status=0
note() { echo "== $*" | tee -a "$OUT/summary.txt"; }
: > "$OUT/summary.txt"

note "measure (preset ${PRESET:-default})"
if ! "$hgca" validate measure --preset "${PRESET:-default}" --out "$OUT/measured.csv" > "$OUT/measure.log" 2>&1; then
  note "measure FAILED: $(tail -1 "$OUT/measure.log")"
  exit 1
fi
tail -1 "$OUT/measure.log" | tee -a "$OUT/summary.txt"

predict() {  # profile, suffix
  local profile=$1 suffix=$2
  note "predict on $profile"
  if "$hgca" validate predict --measured "$OUT/measured.csv" --hw "$profile" --out "$OUT/validation$suffix.h5" \
       --csv "$OUT/predict$suffix.csv" > "$OUT/predict$suffix.txt" 2>&1; then
    grep '^summary' "$OUT/predict$suffix.txt" | tee -a "$OUT/summary.txt"
  else
    note "predict on $profile FAILED: $(tail -1 "$OUT/predict$suffix.txt")"
    status=1
    return
  fi
  if /usr/bin/env python3 -c "import h5py, matplotlib" 2>/dev/null; then
    local figs=$OUT/figs$suffix
    if python3 -m analysis.validation_plot "$OUT/validation$suffix.h5" --out "$figs" --formats png >/dev/null 2>&1; then
      cp "$figs/validation_scatter.png" "$OUT/validation_scatter$suffix.png"
      rm -rf "$figs"
    else
      note "plot FAILED (not fatal)"
    fi
  fi
}
predict configs/hw/device-h200.yaml ""
if [ $# -ge 1 ]; then
  predict "$1" "-$(basename "$1" .yaml)"
fi
exit $status
