#!/usr/bin/env bash
# Runs the HGCA paper suite (docs/PAPER.md) into results/hgca-paper/ (or $1): one HDF5 + CSV per experiment
# and a Perfetto timeline of exp0. Needs build/bin/hgca (or $HGCA); about 30 s on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hgca="${HGCA:-$root/build/bin/hgca}"
out="${1:-$root/results/hgca-paper}"
jobs="${JOBS:-2}"
mkdir -p "$out"
"$hgca" run "$here/exp0-timeline.yaml" -o "$out/exp0-timeline.h5" --timeline "$out/exp0-timeline.json"
for e in exp1-throughput exp2-attention-layer exp3-max-batch exp4-long-generation exp5-sensitivity; do
  "$hgca" run "$here/$e.yaml" -o "$out/$e.h5" --jobs "$jobs"
done
# Quality side of exp5: the mechanism replayed on the shipped trace (skipped when the trace is not there).
if [ -f "${TRACE:-$root/traces/data/tinylm-code-8l-4k.h5}" ]; then HGCA="$hgca" "$here/exp5_quality.sh" "$out"; fi
echo "wrote $out"
