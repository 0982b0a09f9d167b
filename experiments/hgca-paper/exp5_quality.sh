#!/usr/bin/env bash
# Paper experiment 5, quality side: HGCA as published (`hgca replay --policy paper:...`, docs/REPLAY.md) on a
# real attention trace, one parameter at a time around the authors' defaults (alpha 0.5, beta 0.5, keep_min 10,
# head_groups 4, block 64, 16 window blocks, 2 recall blocks). Writes exp5-quality.tsv (and prints it as a
# markdown table): mass recovered, relative L2 error, the mean sparse-set size and its share of the CPU-only
# tokens, the set size at the first and last decode step, and the oracle's mass at the same per-head budget.
# usage: exp5_quality.sh [OUT_DIR] (default results/hgca-paper); TRACE=... picks the trace (default the shipped
# traces/data/tinylm-code-8l-4k.h5), HGCA the binary (default build/bin/hgca), THREADS (default 2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hgca="${HGCA:-$root/build/bin/hgca}"
trace="${TRACE:-$root/traces/data/tinylm-code-8l-4k.h5}"
out="${1:-$root/results/hgca-paper}"
threads="${THREADS:-2}"
python=/usr/bin/python3
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# label|spec options (empty: the defaults)
grid=(
  "defaults|"
  "alpha=0.1|alpha=0.1" "alpha=0.9|alpha=0.9"
  "beta=0.25|beta=0.25" "beta=1|beta=1" "beta=2|beta=2"
  "keep_min=0|keep_min=0" "keep_min=64|keep_min=64"
  "head_groups=1|head_groups=1" "head_groups=2|head_groups=2"
  "block=32,gpu_blocks=32|block=32,gpu_blocks=32" "block=128,gpu_blocks=8|block=128,gpu_blocks=8"
  "gpu_blocks=4|gpu_blocks=4" "gpu_blocks=8|gpu_blocks=8" "gpu_blocks=24|gpu_blocks=24"
  "recall_blocks=0|recall_blocks=0"
  "scope=kv-head|scope=kv-head"
)
i=0
for row in "${grid[@]}"; do
  label=${row%%|*}; opts=${row#*|}
  spec=paper${opts:+:$opts}
  "$hgca" replay "$trace" --policy "$spec" --threads "$threads" --json >"$tmp/$i.json"
  printf '%s\t%s\n' "$label" "$tmp/$i.json" >>"$tmp/index"
  i=$((i + 1))
done
"$python" - "$tmp/index" "$out/exp5-quality.tsv" <<'PY'
import json, os, sys
rows = []
for line in open(sys.argv[1]):
    label, path = line.rstrip("\n").split("\t")
    d = json.load(open(path)); o = d["overall"]; p = d["paper"]["overall"]
    rows.append([label, f'{o["mass_mean"]:.4f}', f'{o["rel_l2_mean"]:.4f}', f'{o["selected_mean"]:.1f}',
                 f'{100 * o["selected_fraction"]:.1f}', f'{p["set_first"]:.1f}', f'{p["set_last"]:.1f}',
                 f'{p["oracle_mass_mean"]:.4f}', f'{p["oracle_rel_l2_mean"]:.4f}', str(d["window"])])
head = ["varied", "mass", "rel_l2", "set_mean", "set%", "set_first", "set_last", "oracle_mass", "oracle_rel_l2", "window"]
tmp = sys.argv[2] + ".tmp"
with open(tmp, "w") as f:
    f.write("\t".join(head) + "\n")
    for r in rows: f.write("\t".join(r) + "\n")
os.replace(tmp, sys.argv[2])
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in rows: print("| " + " | ".join(r) + " |")
PY
echo "wrote $out/exp5-quality.tsv (trace $trace)"
