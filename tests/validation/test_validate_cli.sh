#!/usr/bin/env bash
# hgca validate end to end, CPU only: predict on a hand-written measured table writes the table, the CSV and
# the HDF5; bad input fails with one line and no output; measure without a GPU says so (exit 2).
set -u
hgca=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$hgca" validate predict --measured "$src/tests/validation/data/measured_small.csv" --hw device-h100 \
  --out "$tmp/v.h5" --csv "$tmp/v.csv" --experiments "$tmp/exp" >"$tmp/out.txt" 2>"$tmp/err.txt" \
  || fail "predict exited $?: $(cat "$tmp/err.txt")"
[ -s "$tmp/v.h5" ] || fail "no HDF5 written"
[ "$(wc -l <"$tmp/v.csv")" -eq 5 ] || fail "CSV should have a header and 4 rows"
grep -q '^summary attention   fit ' "$tmp/out.txt" || fail "no attention fit summary: $(cat "$tmp/out.txt")"
grep -q '^summary decode-step holdout' "$tmp/out.txt" || fail "no decode-step summary"
[ -s "$tmp/exp/point-3.yaml" ] || fail "no experiment YAML for point 3"
# The written experiment runs as it is; its second step is the prediction printed for the row.
"$hgca" run "$tmp/exp/point-0.yaml" -o "$tmp/p0.h5" >/dev/null 2>&1 || fail "hgca run on the written experiment failed"

# Bad input: one line naming file, line and column; exit 2; no output file.
sed 's/^0,fit,/0,training,/' "$src/tests/validation/data/measured_small.csv" >"$tmp/bad.csv"
"$hgca" validate predict --measured "$tmp/bad.csv" --hw device-h100 --out "$tmp/bad.h5" 2>"$tmp/err.txt" >/dev/null
rc=$?
[ $rc -eq 2 ] || fail "bad role: exit $rc, expected 2"
[ "$(wc -l <"$tmp/err.txt")" -eq 1 ] || fail "bad role: expected one line, got: $(cat "$tmp/err.txt")"
grep -q "bad.csv:3: column 'role'" "$tmp/err.txt" || fail "bad role message: $(cat "$tmp/err.txt")"
[ ! -e "$tmp/bad.h5" ] || fail "bad input left an output file"
"$hgca" validate predict --measured "$tmp/missing.csv" --hw device-h100 2>/dev/null >/dev/null
[ $? -eq 2 ] || fail "missing table should exit 2"
"$hgca" validate predict --measured "$src/tests/validation/data/measured_small.csv" --hw no-such-profile 2>/dev/null >/dev/null
[ $? -eq 2 ] || fail "unknown profile should exit 2"

# Per-phase predictions: the phase table, the phase summary (row 0 measured its phases), the CSV and HDF5 columns.
"$hgca" validate predict --measured "$src/tests/validation/data/measured_small.csv" --hw device-h100 --phases \
  --csv "$tmp/ph.csv" >"$tmp/ph.txt" 2>&1 || fail "predict --phases failed: $(cat "$tmp/ph.txt")"
grep -q '^phase attention   cpu_attention n=1 ' "$tmp/ph.txt" || fail "no cpu_attention phase summary: $(cat "$tmp/ph.txt")"
head -1 "$tmp/ph.csv" | grep -q ',measured_merge_ms,predicted_merge_ms,merge_error$' || fail "CSV lacks the phase columns"
if command -v h5ls >/dev/null 2>&1; then
  h5ls "$tmp/v.h5/rows" | grep -q '^predicted_cpu_attention_ms' || fail "HDF5 lacks predicted_cpu_attention_ms"
fi

# A table that recorded its passes: predict says how each pass sat against its rows (device run 10's fit table,
# first 6 rows: its first pass ran slower on every one of them, so the line warns).
head -n 8 "$src/docs/device-runs/2026-12-05-run10/points/fit.csv" > "$tmp/passes.csv"
"$hgca" validate predict --measured "$tmp/passes.csv" --hw device-h100 >"$tmp/passes.txt" 2>&1 || fail "predict on passes failed: $(cat "$tmp/passes.txt")"
grep -q "^measured passes against each row's median over its passes (6 rows): pass 1 +[0-9.]* %, pass 2 -[0-9.]* %; a whole pass 5 % or more off" \
  "$tmp/passes.txt" || fail "no pass drift line: $(cat "$tmp/passes.txt")"
grep -q "^measured passes" "$tmp/ph.txt" && fail "a table without passes printed a pass drift line"

# validate fit: host parameters from the fit rows; the profile it writes loads and predicts.
"$hgca" validate fit --measured "$src/tests/validation/data/measured_small.csv" --hw device-h100 --params sync \
  --out "$tmp/fit.yaml" --jobs 2 >"$tmp/fit.txt" 2>&1 || fail "fit failed: $(cat "$tmp/fit.txt")"
grep -q '^host.sync ' "$tmp/fit.txt" || fail "fit prints no host.sync"
grep -q '^# host.sync fitted by hgca validate fit on the 2 role=fit rows' "$tmp/fit.yaml" || fail "fitted profile lacks its comment"
"$hgca" validate predict --measured "$src/tests/validation/data/measured_small.csv" --hw "$tmp/fit.yaml" >/dev/null 2>&1 \
  || fail "the fitted profile does not load"
"$hgca" validate fit --measured "$src/tests/validation/data/measured_small.csv" --hw device-h100 --params latency \
  --out "$tmp/bad.yaml" 2>"$tmp/err.txt" >/dev/null
[ $? -eq 2 ] || fail "fit with an unknown parameter should exit 2"
[ ! -e "$tmp/bad.yaml" ] || fail "a failed fit wrote a profile"

# The grid without a GPU.
"$hgca" validate measure --preset quick --dry-run >"$tmp/grid.txt" || fail "dry run failed"
[ "$(grep -vc "^#" "$tmp/grid.txt")" -eq 6 ] || fail "quick preset should list 5 points"
"$hgca" validate measure --preset nope --dry-run 2>"$tmp/err.txt" >/dev/null
[ $? -eq 2 ] || fail "unknown preset should exit 2"
# --role keeps one role's points: fit and holdout split the default grid (86 points) between them.
nfit=$("$hgca" validate measure --preset default --role fit --dry-run | grep -vc "^#")
nhold=$("$hgca" validate measure --preset default --role holdout --dry-run | grep -vc "^#")
[ $((nfit + nhold)) -eq $((86 + 2)) ] || fail "fit ($nfit) + holdout ($nhold) listings should hold the 86 points"
"$hgca" validate measure --preset default --role holdout --dry-run | grep -v "^#" | tail -n +2 | grep -qv holdout \
  && fail "--role holdout listed a fit point"
"$hgca" validate measure --preset quick --role training --dry-run 2>"$tmp/err.txt" >/dev/null
[ $? -eq 2 ] || fail "an unknown role should exit 2"
grep -q "expected fit or holdout" "$tmp/err.txt" || fail "unknown role: $(cat "$tmp/err.txt")"

for bad in -1 5000 nan; do
  "$hgca" validate measure --preset quick --out "$tmp/m.csv" --settle-s $bad 2>"$tmp/err.txt" >/dev/null
  [ $? -eq 2 ] || fail "--settle-s $bad should exit 2"
  grep -q "settle-s must be 0 to 3600" "$tmp/err.txt" || fail "--settle-s $bad: $(cat "$tmp/err.txt")"
done

# Measuring needs a GPU: without one (or without CUDA in the build), one line and exit 2.
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  "$hgca" validate measure --preset quick --out "$tmp/m.csv" 2>"$tmp/err.txt" >/dev/null
  rc=$?
  [ $rc -eq 2 ] || fail "measure without a GPU: exit $rc, expected 2"
  [ "$(wc -l <"$tmp/err.txt")" -eq 1 ] || fail "measure without a GPU: expected one line: $(cat "$tmp/err.txt")"
  [ ! -e "$tmp/m.csv" ] || fail "measure without a GPU wrote a file"
fi
echo "validation cli: ok"
