#!/usr/bin/env bash
# usage: test_calibrate_cli.sh HGCA_BINARY SOURCE_DIR
# hgca calibrate end to end: a fitted profile is written, stamped, and runs in an experiment; bad tables and
# bad arguments fail with one line and leave no file; every new shipped config passes `hgca config check`.
set -uo pipefail
hgca=$1; src=$(cd "$2" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; passes=0
ok()   { passes=$((passes+1)); }
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
data="$src/tests/calibration/data"
export SOURCE_DATE_EPOCH=1767225600  # 2026-01-01T00:00:00Z: the stamp is reproducible

# Fit the device machine's measurements, predict the held-out ones.
if SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH "$hgca" calibrate --from-measurements "$data/device-h100-fit.csv" --base device-h100 \
     --check "$data/device-h100-holdout.csv" --out "$tmp/hw/dev-fit.yaml" >"$tmp/out" 2>"$tmp/err"; then ok
else fail "calibrate: $(cat "$tmp/err")"; fi
[ -s "$tmp/hw/dev-fit.yaml" ] && ok || fail "no profile written"
grep -q '^name: dev-fit$' "$tmp/hw/dev-fit.yaml" && ok || fail "name is not the --out stem"
grep -q '^calibrated: false$' "$tmp/hw/dev-fit.yaml" && ok || fail "calibrated should be false (parameters kept from base)"
grep -q '2026-01-01T00:00:00Z' "$tmp/hw/dev-fit.yaml" && ok || fail "date stamp missing"
grep -q 'device-h100-fit.csv' "$tmp/hw/dev-fit.yaml" && ok || fail "measurement file not named in the profile"
grep -q '^# pcie.h2d.latency' "$tmp/hw/dev-fit.yaml" && ok || fail "fit report not in the comments"
grep -q '^# Fit: soft-L1 loss (outlier scale 10 %)' "$tmp/hw/dev-fit.yaml" && ok || fail "the header does not name the fit's loss"
grep -q 'Prediction of .*device-h100-holdout.csv' "$tmp/out" && ok || fail "no --check report: $(cat "$tmp/out")"
cat > "$tmp/exp.yaml" <<YAML
hardware: $tmp/hw/dev-fit.yaml
model: llama-3.1-8b
workload: {batch: 2, prompt: 8192, decode: 2}
system: {strategy: hgca, window: 1024}
YAML
"$hgca" run "$tmp/exp.yaml" -q -o "$tmp/r.h5" 2>"$tmp/err" && ok || fail "run with the fitted profile: $(cat "$tmp/err")"
# Without --out: the report only, nothing written.
"$hgca" calibrate --from-measurements "$data/device-h100-fit.csv" --base device-h100 >"$tmp/out" 2>&1 \
  && grep -q 'No --out given' "$tmp/out" && ok || fail "report-only mode"

# Bad input: exit 2, one line naming file, line and column, no output file.
expect_error() {  # name, expected text, command...
  local name=$1 want=$2; shift 2
  rm -f "$tmp/bad.yaml"
  "$@" >/dev/null 2>"$tmp/err"; local rc=$?
  [ $rc -eq 2 ] || { fail "$name: exit $rc, expected 2 ($(cat "$tmp/err"))"; return; }
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || { fail "$name: error is not one line: $(cat "$tmp/err")"; return; }
  grep -qF -- "$want" "$tmp/err" || { fail "$name: '$want' not in: $(cat "$tmp/err")"; return; }
  [ ! -e "$tmp/bad.yaml" ] || { fail "$name: output written"; return; }
  ok
}
cal() { "$hgca" calibrate --base device-h100 --out "$tmp/bad.yaml" --from-measurements "$@"; }
printf 'primitive,direction,bytes\npcie_copy,h2d,256\n' > "$tmp/m1.csv"
expect_error "missing column" "$tmp/m1.csv:1: missing column 'time_s'" cal "$tmp/m1.csv"
printf 'primitive,direction,bytes,time_s\npcie_copy,h2d,256,4e-6\ngpu_attn,h2d,256,4e-6\n' > "$tmp/m2.csv"
expect_error "unknown primitive" "$tmp/m2.csv:3: column 'primitive' (field 1): unknown primitive 'gpu_attn'" cal "$tmp/m2.csv"
printf 'primitive,direction,bytes,time_s\npcie_copy,h2d,lots,4e-6\n' > "$tmp/m3.csv"
expect_error "non-numeric" "$tmp/m3.csv:2: column 'bytes' (field 3): 'lots' is not a number" cal "$tmp/m3.csv"
printf 'primitive,direction,bytes,time_s\npcie_copy,h2d,256,-4e-6\n' > "$tmp/m4.csv"
expect_error "negative time" "$tmp/m4.csv:2: column 'time_s' (field 4): '-4e-6' is negative" cal "$tmp/m4.csv"
printf 'primitive,direction,bytes,time_s\npcie_copy,h2d,256,NaN\n' > "$tmp/m5.csv"
expect_error "NaN" "$tmp/m5.csv:2: column 'time_s' (field 4): 'NaN' is not" cal "$tmp/m5.csv"
: > "$tmp/m6.csv"
expect_error "empty" "$tmp/m6.csv: empty table" cal "$tmp/m6.csv"
expect_error "missing file" "$tmp/none.csv: cannot open measurements file" cal "$tmp/none.csv"
expect_error "unknown base" "unknown hardware profile 'no-such-box'" \
  "$hgca" calibrate --from-measurements "$data/device-h100-fit.csv" --base no-such-box --out "$tmp/bad.yaml"
expect_error "no base" "missing --base" "$hgca" calibrate --from-measurements "$data/device-h100-fit.csv" --out "$tmp/bad.yaml"
expect_error "no measurements" "--from-measurements" "$hgca" calibrate --base device-h100 --out "$tmp/bad.yaml"
expect_error "--settle-s with --from-measurements" "belong to the microbenchmark mode" cal "$data/device-h100-fit.csv" --settle-s 10
expect_error "--hold typo" "--hold cpu.wakup: not a fitted parameter" cal "$data/device-h100-fit.csv" --hold cpu.wakup
expect_error "--free of a free key" "--free cpu.wakeup: not held by default; expected one of: cpu.flops_per_core" \
  cal "$data/device-h100-fit.csv" --free cpu.wakeup
expect_error "negative --outlier-scale" "--outlier-scale must be a finite number >= 0" \
  cal "$data/device-h100-fit.csv" --outlier-scale -0.1
expect_error "NaN --outlier-scale" "--outlier-scale must be a finite number >= 0" cal "$data/device-h100-fit.csv" --outlier-scale nan
# cpu.flops_per_core is held unless --free releases it, and the report says which.
"$hgca" calibrate --from-measurements "$data/device-h100-fit.csv" --base device-h100 >"$tmp/out" 2>&1
grep -q '^cpu.flops_per_core .*held at its base value by default (--free cpu.flops_per_core fits it)' "$tmp/out" && ok \
  || fail "flops_per_core not held by default: $(grep flops_per_core "$tmp/out")"
"$hgca" calibrate --from-measurements "$data/device-h100-fit.csv" --base device-h100 --free cpu.flops_per_core >"$tmp/out" 2>&1
grep '^cpu.flops_per_core' "$tmp/out" | grep -qv 'by default' && ok || fail "--free did not release flops_per_core"
# The CPU part is solved from the grid of starts, listed in the report and the profile's header, unless
# --one-start; that table's rows (3 streaming/gather rows here) move neither row cost nor cache, so every start
# ties and the first (the base's values) is kept.
"$hgca" calibrate --from-measurements "$data/device-h100-fit.csv" --base device-h100 --out "$tmp/hw/starts.yaml" >"$tmp/out" 2>&1
grep -q '^CPU part solved from 6 starts' "$tmp/out" && ok || fail "no start table: $(cat "$tmp/out")"
[ "$(grep -A2 '^CPU part solved' "$tmp/out" | tail -1 | awk '{print $NF}')" = kept ] && ok || fail "a tie did not keep the first start"
grep -q '^# CPU part solved from 6 starts' "$tmp/hw/starts.yaml" && ok || fail "no start table in the profile's header"
"$hgca" calibrate --from-measurements "$data/device-h100-fit.csv" --base device-h100 --one-start >"$tmp/out" 2>&1
grep -q 'CPU part solved' "$tmp/out" && fail "--one-start still tried several starts" || ok
# A failed run leaves an existing profile untouched.
echo "keep me" > "$tmp/bad.yaml"
cal "$tmp/m4.csv" >/dev/null 2>&1; [ "$(cat "$tmp/bad.yaml")" = "keep me" ] && ok || fail "existing file changed by a failed run"

# Every shipped config passes `hgca config check` in a small experiment.
for m in opt-1.3b opt-6.7b opt-13b opt-30b opt-66b vicuna-7b-v1.5-16k vicuna-13b-v1.5-16k llama-2-13b pythia-12b; do
  printf 'hardware: device-h100\nmodel: %s\nworkload: {batch: 1, prompt: 2048, decode: 4}\nsystem: {strategy: hgca, window: 512}\n' "$m" > "$tmp/m.yaml"
  "$hgca" config check "$tmp/m.yaml" >/dev/null 2>"$tmp/err" && ok || fail "config check model $m: $(cat "$tmp/err")"
done
for hw in a6000-xeon6430 a100-pcie-xeon6430 rtx4090-xeon6430 h100-xeon8470; do
  printf 'hardware: %s\nmodel: llama-2-13b\nworkload: {batch: 1, prompt: 2048, decode: 4}\nsystem: {strategy: hgca, window: 512}\n' "$hw" > "$tmp/h.yaml"
  "$hgca" config check "$tmp/h.yaml" >/dev/null 2>"$tmp/err" && ok || fail "config check hardware $hw: $(cat "$tmp/err")"
done

echo "calibrate CLI: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
