#!/usr/bin/env bash
# hgca trace synth / stats / fit end to end: a hand-written model synthesizes a valid trace, the same seed
# gives the same trace, fit writes a model that synthesizes again; bad inputs fail with one line, exit 2 and
# no output file.
set -u
HGCA=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

cat > "$dir/model.yaml" <<'YAML'
format: hgca-attention-model
version: 1
shape: {layers: 1, q_heads: 2, kv_heads: 1, head_dim: 64, softmax_scale: 0.125}
sinks: 4
window: 256
heads:
  - {layer: 0, head: 0, trend: [0, -1, -2, -3, -4, -5, -6, -7], tail_slope: -1, sink_logit: 2,
     noise: {sigma: 1, step_correlation: 0.5}, spikes: {density: 0, logit: 0}}
  - {layer: 0, head: 1, trend: [0, -0.2, -0.4, -0.6], tail_slope: -0.2, sink_logit: 0,
     noise: {sigma: 0.5, step_correlation: 0.9}, spikes: {density: 0.01, logit: 6}}
YAML

"$HGCA" trace synth "$dir/model.yaml" --length 4096 --decode-steps 8 --seed 5 -o "$dir/a.h5" > /dev/null || fail "synth a"
"$HGCA" trace synth "$dir/model.yaml" --length 4096 --decode-steps 8 --seed 5 -o "$dir/b.h5" --threads 1 > /dev/null || fail "synth b"
"$HGCA" trace synth "$dir/model.yaml" --length 4096 --decode-steps 8 --seed 6 -o "$dir/c.h5" > /dev/null || fail "synth c"
"$HGCA" trace info "$dir/a.h5" > /dev/null || fail "trace info rejects the synthetic trace"
"$HGCA" trace stats "$dir/a.h5" --window 256 --json > "$dir/a.json" || fail "stats a"
"$HGCA" trace stats "$dir/b.h5" --window 256 --json > "$dir/b.json" || fail "stats b"
"$HGCA" trace stats "$dir/c.h5" --window 256 --json > "$dir/c.json" || fail "stats c"
# Same seed: same statistics (line 1 names the file; one line per head follows).
tail -n +2 "$dir/a.json" > "$dir/a.heads"
tail -n +2 "$dir/b.json" > "$dir/b.heads"
tail -n +2 "$dir/c.json" > "$dir/c.heads"
cmp -s "$dir/a.heads" "$dir/b.heads" || fail "same seed, different statistics"
cmp -s "$dir/a.heads" "$dir/c.heads" && fail "different seeds, identical statistics"
"$HGCA" trace stats "$dir/a.h5" --window 256 | grep -q "^layer head" || fail "stats table header"

"$HGCA" trace fit "$dir/a.h5" -o "$dir/fit.json" --window 256 --eval-steps 2 --threads 2 > "$dir/fit.out" || fail "fit"
grep -q '"format": "hgca-attention-model"' "$dir/fit.json" || fail "fit.json is not a model"
grep -q "mean |error|" "$dir/fit.out" || fail "fit prints its quality"
"$HGCA" trace synth "$dir/fit.json" --length 8192 --decode-steps 4 -o "$dir/d.h5" --dtype bfloat16 > /dev/null ||
  fail "synth from a fitted model"

# Bad inputs: exit 2, exactly one line on stderr naming the problem, no output file.
expect_bad() {  # expect_bad OUTPUT PATTERN -- command...
  local out=$1 pattern=$2
  shift 3
  "$@" > /dev/null 2> "$dir/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "exit $rc (want 2): $*"
  [ "$(wc -l < "$dir/err")" -eq 1 ] || fail "not one line: $(cat "$dir/err")"
  grep -q -- "$pattern" "$dir/err" || fail "message lacks '$pattern': $(cat "$dir/err")"
  [ -e "$out" ] && fail "left $out behind: $*"
  ls -a "$dir" | grep -q '\.tmp' && fail "left a temporary behind: $*"
}
expect_bad "$dir/x.h5" "no such model file" -- "$HGCA" trace synth "$dir/none.yaml" --length 4096 --decode-steps 8 -o "$dir/x.h5"
expect_bad "$dir/x.h5" "shorter than the model's window" -- "$HGCA" trace synth "$dir/model.yaml" --length 128 --decode-steps 8 -o "$dir/x.h5"
expect_bad "$dir/x.h5" "must exceed --decode-steps" -- "$HGCA" trace synth "$dir/model.yaml" --length 4096 --decode-steps 4096 -o "$dir/x.h5"
expect_bad "$dir/x.h5" "missing --length" -- "$HGCA" trace synth "$dir/model.yaml" --decode-steps 8 -o "$dir/x.h5"
expect_bad "$dir/x.h5" "dtype" -- "$HGCA" trace synth "$dir/model.yaml" --length 4096 --decode-steps 8 --dtype int8 -o "$dir/x.h5"
sed 's/sinks: 4/sinkz: 4/' "$dir/model.yaml" > "$dir/unknown.yaml"
expect_bad "$dir/x.h5" "sinkz: unknown key" -- "$HGCA" trace synth "$dir/unknown.yaml" --length 4096 --decode-steps 8 -o "$dir/x.h5"
sed 's/sigma: 0.5, //' "$dir/model.yaml" > "$dir/missing.yaml"
expect_bad "$dir/x.h5" "heads\[1\].noise.sigma: missing" -- "$HGCA" trace synth "$dir/missing.yaml" --length 4096 --decode-steps 8 -o "$dir/x.h5"
sed 's/sigma: 0.5/sigma: .nan/' "$dir/model.yaml" > "$dir/nan.yaml"
expect_bad "$dir/x.h5" "heads\[1\].noise.sigma" -- "$HGCA" trace synth "$dir/nan.yaml" --length 4096 --decode-steps 8 -o "$dir/x.h5"
expect_bad "$dir/x.yaml" "window 9000 is longer" -- "$HGCA" trace fit "$dir/a.h5" --window 9000 -o "$dir/x.yaml"
expect_bad "$dir/x.yaml" "none.h5" -- "$HGCA" trace fit "$dir/none.h5" -o "$dir/x.yaml"
expect_bad "$dir/x.yaml" "needs a trace file" -- "$HGCA" trace fit "$dir/a.h5"
expect_bad "$dir/x.yaml" "none.h5" -- "$HGCA" trace stats "$dir/none.h5"
expect_bad "$dir/x.yaml" "window 5000 is longer" -- "$HGCA" trace stats "$dir/a.h5" --window 5000
printf 'not an hdf5 file' > "$dir/junk.h5"
expect_bad "$dir/x.yaml" "junk.h5" -- "$HGCA" trace stats "$dir/junk.h5"

if [ $fails -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all synth CLI checks passed"
