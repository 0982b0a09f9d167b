#!/usr/bin/env bash
# usage: test_cli.sh HGCA_BINARY SOURCE_DIR [PART]
# PART (default all): experiments, profiles-even, profiles-odd (every other hardware profile, so the
# 150 profile x model runs split over two ctest jobs) or inputs (the rest); ctest runs the parts in parallel.
set -uo pipefail
hgca=$1; src=$(cd "$2" && pwd); part=${3:-all}
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; passes=0
ok()   { passes=$((passes+1)); }
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
finish() { echo "cli ($part): $passes passed, $fails failed"; [ "$fails" -eq 0 ]; exit; }

# Every shipped experiment validates and runs (short decode so the suite stays fast; the bench-* sweeps are
# timing workloads of 1,000+ points, validated here and run by their own benchmark).
want experiments && for f in "$src"/experiments/*.yaml "$src"/experiments/*/*.yaml; do
  [ -e "$f" ] || continue
  "$hgca" config check "$f" >/dev/null 2>"$tmp/err" && ok || fail "config check $f: $(cat "$tmp/err")"
  case "$(basename "$f")" in bench-*) continue ;; esac
  "$hgca" run "$f" -q --jobs 2 --no-journal --set workload.decode=2 -o "$tmp/run.h5" 2>"$tmp/err" && [ -s "$tmp/run.h5" ] && [ -s "$tmp/run.csv" ] \
    && ok || fail "run $f: $(cat "$tmp/err")"
done
# Every shipped hardware profile and model runs in an experiment.
i=0
for hw in "$src"/configs/hw/*.yaml; do
  i=$((i+1))
  if [ $((i % 2)) -eq 0 ]; then want profiles-even || continue; else want profiles-odd || continue; fi
  for m in "$src"/configs/models/*.yaml; do
    cat > "$tmp/x.yaml" <<YAML
hardware: $hw
model: $m
workload: {batch: 2, prompt: 8192, decode: 2}
system: {strategy: hgca, window: 1024}
YAML
    "$hgca" run "$tmp/x.yaml" -q -o "$tmp/x.h5" 2>"$tmp/err" && ok || fail "run with $hw $m: $(cat "$tmp/err")"
  done
done

want inputs || finish

# --set and the timeline.
"$hgca" run "$src/experiments/quickstart.yaml" -q --set workload.decode=2 --set workload.batch=2 \
  --timeline "$tmp/t.json" -o "$tmp/q.h5" && grep -q '"traceEvents"' "$tmp/t.json" && ok || fail "timeline"

# Bad inputs: one-line error naming the file, non-zero exit, no output file.
expect_error() {  # name, expected text, command...
  local name=$1 want=$2; shift 2
  rm -f "$tmp/out.h5" "$tmp/out.csv"
  if "$@" >/dev/null 2>"$tmp/err"; then fail "$name: exit 0"; return; fi
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || { fail "$name: error is not one line: $(cat "$tmp/err")"; return; }
  grep -qF -- "$want" "$tmp/err" || { fail "$name: '$want' not in: $(cat "$tmp/err")"; return; }
  [ ! -e "$tmp/out.h5" ] && [ ! -e "$tmp/out.csv" ] || { fail "$name: output written"; return; }
  ok
}
printf 'hardware: device-h100\nmodel: llama-3.1-8b\nworkload: {batch: 1, prompt: 100, decode: 1\n' > "$tmp/malformed.yaml"
expect_error malformed "malformed.yaml" "$hgca" run "$tmp/malformed.yaml" -o "$tmp/out.h5"
printf 'hardware: device-h100\nmodel: llama-3.1-8b\nworkload: {batch: 1, prompt: 100, decode: 1}\nsystem: {strategy: hgca, windw: 10}\n' > "$tmp/unknown.yaml"
expect_error unknown-key "windw" "$hgca" run "$tmp/unknown.yaml" -o "$tmp/out.h5"
printf 'hardware: device-h100\nmodel: llama-3.1-8b\nworkload: {batch: 1, prompt: 100, decode: 1}\nsystem: {strategy: hgca, window: 4096}\n' > "$tmp/window.yaml"
expect_error window-too-large "system.window" "$hgca" run "$tmp/window.yaml" -o "$tmp/out.h5"
expect_error zero-cores "cpu.cores" "$hgca" run "$src/experiments/quickstart.yaml" --set hardware.cpu.cores=0 -o "$tmp/out.h5"
expect_error negative-bandwidth "bandwidth" "$hgca" run "$src/experiments/quickstart.yaml" --set "hardware.pcie.h2d.bandwidth=-5 GB/s" -o "$tmp/out.h5"
expect_error missing-file "nope.yaml" "$hgca" run "$tmp/nope.yaml" -o "$tmp/out.h5"
expect_error unknown-strategy "system.strategy" "$hgca" run "$src/experiments/quickstart.yaml" --set system.strategy=magic -o "$tmp/out.h5"
# Output into a place that cannot be written: error, non-zero.
"$hgca" run "$src/experiments/quickstart.yaml" -q --set workload.decode=1 -o /proc/nope/x.h5 2>/dev/null && fail "unwritable output accepted" || ok

# Same results whatever the thread count.
"$hgca" run "$src/experiments/quickstart.yaml" -q --set workload.decode=4 -o "$tmp/j1.h5" --jobs 1
"$hgca" run "$src/experiments/quickstart.yaml" -q --set workload.decode=4 -o "$tmp/j2.h5" --jobs 2
# wall_s is host time, the only column allowed to differ
col=$(head -1 "$tmp/j1.csv" | tr ',' '\n' | grep -n '^wall_s$' | cut -d: -f1)
cut -d, -f"$col" --complement "$tmp/j1.csv" > "$tmp/a"; cut -d, -f"$col" --complement "$tmp/j2.csv" > "$tmp/b"
cmp -s "$tmp/a" "$tmp/b" && ok || fail "results differ between --jobs 1 and --jobs 2"

# bench engine prints its figures.
"$hgca" bench engine --json --steps 2 --batch 2 | grep -q '"events_per_second"' && ok || fail "bench engine --json"

finish
