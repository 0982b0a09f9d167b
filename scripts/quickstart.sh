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

# Trace-driven part of the embedded defaults: replay the shipped real trace (tinylm-code-8l, 4K tokens of
# Python) with a per-head top-k policy, report how close hybrid attention stays to exact attention, and run
# the simulator with the per-head budgets that replay measured.
echo
build/bin/hgca replay traces/data/tinylm-code-8l-4k.h5 --policy topk:frac=0.02 --window 1024 --sinks 4 \
  --threads "$jobs" -o results/quickstart/replay-topk2.h5 --profile results/quickstart/topk2.profile.h5 | tail -4
build/bin/hgca run experiments/trace-driven.yaml -o results/quickstart/trace-driven.h5 --jobs "$jobs" --resume \
  --set "system.selection.path=$PWD/results/quickstart/topk2.profile.h5"
# Where each strategy stops fitting (one of the figures the README shows).
build/bin/hgca run experiments/capacity.yaml -o results/quickstart/capacity.h5 --jobs "$jobs" --resume -q
"$HGCA_PYTHON" -m analysis.plot results/quickstart/capacity.h5 --out results/quickstart
echo "figures and results: results/quickstart/"
