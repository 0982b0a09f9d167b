#!/usr/bin/env bash
# hgca trace info on the shipped traces (valid, outputs recomputed within tolerance, JSON parses) and on bad
# files: exit 2 with one line on stderr naming the file and the problem, nothing on stdout.
set -euo pipefail
hgca="$1"
src="$2"
python="${HGCA_PYTHON:-/usr/bin/python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for trace in "$src/traces/data/tinylm-code-8l-1k.h5" "$src/traces/data/tinylm-code-8l-4k.h5"; do
  [[ -f "$trace" ]] || fail "shipped trace $trace is missing"
  "$hgca" trace info "$trace" --step-stride 16 > "$tmp/out.txt" || fail "trace info $trace exited $?"
  grep -q "model         tinylm-code-8l: 8 layers, 4 query heads, 2 KV heads (group 2), head_dim 64" "$tmp/out.txt" \
    || fail "metadata line missing: $(cat "$tmp/out.txt")"
  grep -q "outputs     ok: " "$tmp/out.txt" || fail "outputs not ok: $(cat "$tmp/out.txt")"
  grep -Eq "prompt queries 256 at positions [0-9]+\.\.[0-9]+ \(the last 256 of the prompt\)" "$tmp/out.txt" \
    || fail "prompt queries line missing: $(cat "$tmp/out.txt")"
  "$hgca" trace info "$trace" --json --no-verify > "$tmp/out.json" || fail "--json exited $?"
  "$python" - "$tmp/out.json" <<'PY' || fail "JSON of $trace"
import json, sys
info = json.load(open(sys.argv[1]))
assert info["valid"] and info["storage_dtype"] == "float16" and info["has_outputs"], info
assert info["outputs_check"] is None
assert [d["name"] for d in info["datasets"]] == ["/keys", "/values", "/queries", "/outputs", "/prompt_queries",
                                                "/tokens", "/positions", "/prompt_query_positions"]
assert info["num_positions"] == info["prompt_length"] + info["decode_steps"] == info["num_tokens"]
assert info["format_version"] == 2 and info["num_prompt_queries"] == 256
assert info["prompt_query_positions"] == list(range(info["prompt_length"] - 256, info["prompt_length"]))
PY
done

expect_bad() {  # expect_bad FILE TEXT: exit 2, stdout empty, one stderr line containing TEXT
  set +e
  "$hgca" trace info "$1" > "$tmp/stdout" 2> "$tmp/stderr"
  local rc=$?
  set -e
  [[ $rc -eq 2 ]] || fail "$1: exit $rc, expected 2"
  [[ ! -s "$tmp/stdout" ]] || fail "$1: printed to stdout: $(cat "$tmp/stdout")"
  [[ $(wc -l < "$tmp/stderr") -eq 1 ]] || fail "$1: stderr is not one line: $(cat "$tmp/stderr")"
  grep -qF -- "$2" "$tmp/stderr" || fail "$1: stderr lacks '$2': $(cat "$tmp/stderr")"
}
expect_bad "$tmp/absent.h5" "trace $tmp/absent.h5: no such file"
echo "not hdf5" > "$tmp/text.h5"
expect_bad "$tmp/text.h5" "not an HDF5 file"
head -c 100000 "$src/traces/data/tinylm-code-8l-1k.h5" > "$tmp/cut.h5"
expect_bad "$tmp/cut.h5" "truncated"
# Stored outputs that disagree with the recomputed attention.
cp "$src/traces/data/tinylm-code-8l-1k.h5" "$tmp/bad.h5"
chmod u+w "$tmp/bad.h5"
"$python" - "$tmp/bad.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f["outputs"][5, 1, 7] = -f["outputs"][5, 1, 7]
PY
set +e
"$hgca" trace info "$tmp/bad.h5" --step-stride 7 > "$tmp/stdout" 2> "$tmp/stderr"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "corrupted outputs: exit $rc, expected 2"
grep -q "outputs     MISMATCH" "$tmp/stdout" || fail "no MISMATCH line: $(cat "$tmp/stdout")"
grep -q "at layer 5 head 1 step 7" "$tmp/stderr" || fail "stderr: $(cat "$tmp/stderr")"
"$hgca" trace info --step-stride 0 "$tmp/bad.h5" 2> "$tmp/stderr" && fail "--step-stride 0 accepted"
grep -q "step-stride must be >= 1" "$tmp/stderr" || fail "stderr: $(cat "$tmp/stderr")"
# Prompt query positions that are not ascending, and a prompt query that is not finite.
cp "$src/traces/data/tinylm-code-8l-1k.h5" "$tmp/pq.h5"
chmod u+w "$tmp/pq.h5"
"$python" - "$tmp/pq.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f["prompt_query_positions"][10] = f["prompt_query_positions"][9]
PY
expect_bad "$tmp/pq.h5" "dataset '/prompt_query_positions' holds"
cp "$src/traces/data/tinylm-code-8l-1k.h5" "$tmp/pq.h5"
"$python" - "$tmp/pq.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f["prompt_queries"][2, 3, 5, 6] = float("nan")
PY
expect_bad "$tmp/pq.h5" "dataset '/prompt_queries' layer 2 query head 3 prompt query 5"
echo "trace info CLI: ok"
