#!/usr/bin/env bash
# The main job on the embedded defaults: install what is missing, build, run the quickstart experiment,
# print the table and a summary, and write the figures to results/quickstart/ (the ones the suite declares:
# throughput against context, step breakdown, step latency, and the timeline of one decode step).
# Interrupted, it picks up where it stopped (--resume reuses the finished points of results/quickstart/*.journal).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" --target hgca
mkdir -p results/quickstart
build/bin/hgca run experiments/quickstart.yaml -o results/quickstart/quickstart.h5 \
  --timeline results/quickstart/timeline.json --jobs "$jobs" --resume
echo
"$HGCA_PYTHON" -m analysis.summary results/quickstart/quickstart.h5
"$HGCA_PYTHON" -m analysis.plot results/quickstart/quickstart.h5 --out results/quickstart \
  --timeline results/quickstart/timeline.json
