#!/usr/bin/env bash
# usage: test_replay_shipped.sh HGCA_BINARY SOURCE_DIR
# `hgca replay` on the shipped tinylm-code-8l 1K trace; skipped (exit 77) when the file is not there.
set -uo pipefail
hgca=$1; trace=$2/traces/data/tinylm-code-8l-1k.h5
python=${HGCA_PYTHON:-/usr/bin/python3}
if [ ! -s "$trace" ]; then
  echo "SKIP: $trace is not there (captured traces are added by the trace-capture step)"
  exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$hgca" replay "$trace" --policy topk:frac=0.05 --window 256 --sinks 4 --json --threads 2 >"$tmp/k.json" || exit 1
"$hgca" replay "$trace" --policy random:frac=0.05,seed=1 --window 256 --sinks 4 --json --threads 2 >"$tmp/r.json" || exit 1
"$python" - "$tmp/k.json" "$tmp/r.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
assert k["model"].startswith("tinylm"), k["model"]
assert k["layers"] == 8 and k["q_heads"] == 4 and k["kv_heads"] == 2 and k["head_dim"] == 64, k
ko, ro = k["overall"], r["overall"]
# The same budget spent on the highest-scoring entries recovers more attention mass than spent at random.
assert ko["mass_mean"] > ro["mass_mean"], (ko["mass_mean"], ro["mass_mean"])
assert ko["rel_l2_mean"] < ro["rel_l2_mean"], (ko["rel_l2_mean"], ro["rel_l2_mean"])
assert abs(ko["selected_fraction"] - ro["selected_fraction"]) < 1e-3
print("shipped trace: top-k mass %.4f rel_l2 %.4f; random mass %.4f rel_l2 %.4f; %.2f GB/s"
      % (ko["mass_mean"], ko["rel_l2_mean"], ro["mass_mean"], ro["rel_l2_mean"], k["speed"]["kv_bytes_per_s"] / 1e9))
PY
