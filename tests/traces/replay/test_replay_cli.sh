#!/usr/bin/env bash
# usage: test_replay_cli.sh HGCA_BINARY WRITE_RANDOM_TRACE_BINARY
# `hgca replay` end to end on a small written trace: outputs, JSON, thread independence, bad input.
set -uo pipefail
hgca=$1; writer=$2
python=${HGCA_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; passes=0
ok()   { passes=$((passes+1)); }
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

"$writer" "$tmp/t.h5" || { echo "FAIL: cannot write the test trace"; exit 1; }
"$writer" "$tmp/t16.h5" float16 || { echo "FAIL: cannot write the fp16 test trace"; exit 1; }

# Tables, results file and profile.
if "$hgca" replay "$tmp/t.h5" --policy topk:k=8 --window 16 --sinks 2 -o "$tmp/out.h5" --profile "$tmp/prof.h5" \
     --threads 1 >"$tmp/table.txt" 2>"$tmp/err"; then
  grep -qE '^ +all +all ' "$tmp/table.txt" && grep -q 'GB/s' "$tmp/table.txt" && ok || fail "table: $(cat "$tmp/table.txt")"
  [ -s "$tmp/out.h5" ] && [ -s "$tmp/prof.h5" ] && ok || fail "output files missing"
else
  fail "replay: $(cat "$tmp/err")"
fi

# JSON: one object; figures in range; the same whatever --threads (speed and thread count aside).
check_json='
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
o = a["overall"]
assert a["policy"] == "block:size=8,k=2", a["policy"]
assert 0 <= o["mass_min"] <= o["mass_mean"] <= 1, o
assert -1 <= o["cosine_min"] <= o["cosine_mean"] <= 1, o
assert o["rel_l2_mean"] >= 0 and o["selected_fraction"] > 0, o
assert len(a["per_layer"]) == 2 and len(a["per_head"]) == 8
assert a["speed"]["kv_bytes_per_s"] > 0
for d in (a, b): d.pop("speed"); d.pop("threads")
assert a == b, "results differ between thread counts"
'
"$hgca" replay "$tmp/t.h5" --policy block:size=8,k=2 --window 16 --json --threads 1 >"$tmp/a.json" 2>"$tmp/err" \
  && "$hgca" replay "$tmp/t.h5" --policy block:size=8,k=2 --window 16 --json --threads 2 >"$tmp/b.json" 2>>"$tmp/err" \
  && "$python" -c "$check_json" "$tmp/a.json" "$tmp/b.json" && ok || fail "json: $(cat "$tmp/err")"

# Shared KV-group selection and a 16-bit trace.
"$hgca" replay "$tmp/t16.h5" --policy topp:p=0.9 --window 16 --shared-kv --json >"$tmp/s.json" 2>"$tmp/err" \
  && "$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["shared_kv"] and d["policy"]=="topp:p=0.9,share=sum"' "$tmp/s.json" \
  && ok || fail "shared/fp16: $(cat "$tmp/err")"

# Bad input: exit 2, one line naming what is wrong, no output file.
expect_error() {  # name, expected text, args...
  local name=$1 want=$2; shift 2
  rm -f "$tmp/bad.h5" "$tmp/badp.h5"
  "$hgca" replay "$@" -o "$tmp/bad.h5" --profile "$tmp/badp.h5" >/dev/null 2>"$tmp/err"
  local rc=$?
  [ $rc -eq 2 ] || { fail "$name: exit $rc, expected 2 ($(cat "$tmp/err"))"; return; }
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || { fail "$name: error is not one line: $(cat "$tmp/err")"; return; }
  grep -qF -- "$want" "$tmp/err" || { fail "$name: '$want' not in: $(cat "$tmp/err")"; return; }
  [ ! -e "$tmp/bad.h5" ] && [ ! -e "$tmp/badp.h5" ] || { fail "$name: output written"; return; }
  ok
}
expect_error bad-spec 'policy "topk:kk=3": unknown key "kk"' "$tmp/t.h5" --policy topk:kk=3 --window 16
expect_error unknown-policy 'unknown policy "magic"' "$tmp/t.h5" --policy magic --window 16
expect_error window-too-large "--window 128 (+ --sinks 0) covers the whole context: the trace has 128 positions" \
  "$tmp/t.h5" --policy topk:k=8 --window 128
expect_error sinks-beyond-prompt "--sinks 500 exceeds the prompt" "$tmp/t.h5" --policy topk:k=8 --window 16 --sinks 500
expect_error missing-file "$tmp/nope.h5" "$tmp/nope.h5" --policy topk:k=8 --window 16
printf 'not hdf5' > "$tmp/junk.h5"
expect_error not-a-trace "$tmp/junk.h5" "$tmp/junk.h5" --policy topk:k=8 --window 16
expect_error no-policy "missing --policy" "$tmp/t.h5" --window 16
expect_error no-window "missing --window" "$tmp/t.h5" --policy topk:k=8
expect_error bad-number "--window" "$tmp/t.h5" --policy topk:k=8 --window lots
# The paper policy (HGCA as published): window from its spec, no prompt queries in this trace so the
# first-decode fallback; growth and oracle in the JSON, the same whatever --threads; its profile drives
# `hgca run` with the paper preset.
paper=paper:block=8,gpu_blocks=4,recall_blocks=1,keep_min=2,head_groups=2,prompt=first-decode
check_paper='
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
p = a["paper"]
assert a["policy"].startswith("paper:alpha=0.5,beta=0.5,keep_min=2,head_groups=2,block=8,gpu_blocks=4"), a["policy"]
assert a["window"] == 32 and p["prompt"] == "first-decode" and p["scope"] == "q-head", p
assert len(p["per_head"]) == 8 and len(p["per_layer"]) == 2 and len(p["per_step"]) == 8
assert all(s["oracle_mass_mean"] >= s["mass_mean"] - 1e-6 for s in p["per_step"]), p["per_step"]
assert all(x["set_mean"] <= y["set_mean"] for x, y in zip(p["per_step"], p["per_step"][1:])), p["per_step"]
assert p["overall"]["set_last"] >= p["overall"]["set_first"] >= 2, p["overall"]
assert p["overall"]["oracle_mass_mean"] >= a["overall"]["mass_mean"] - 1e-6, (p["overall"], a["overall"])
for d in (a, b): d.pop("speed"); d.pop("threads")
assert a == b, "paper results differ between thread counts"
'
"$hgca" replay "$tmp/t.h5" --policy "$paper" --json --threads 1 -o "$tmp/paper.h5" --profile "$tmp/paperp.h5" \
    >"$tmp/pa.json" 2>"$tmp/err" \
  && "$hgca" replay "$tmp/t.h5" --policy "$paper" --json --threads 2 >"$tmp/pb.json" 2>>"$tmp/err" \
  && "$python" -c "$check_paper" "$tmp/pa.json" "$tmp/pb.json" && ok || fail "paper json: $(cat "$tmp/err")"
"$hgca" replay "$tmp/t.h5" --policy "$paper" >"$tmp/paper.txt" 2>"$tmp/err" \
  && grep -q 'set@last' "$tmp/paper.txt" && grep -q 'mass_orcl' "$tmp/paper.txt" && ok || fail "paper table: $(cat "$tmp/err")"
cat >"$tmp/paper-run.yaml" <<YAML
hardware: device-h100
model: tinylm-code-8l
workload: {batch: 1, prompt: 2048, decode: 16}
system:
  strategy: hgca
  preset: paper
  selection: {source: profile, path: $tmp/paperp.h5}
YAML
"$hgca" run "$tmp/paper-run.yaml" -o "$tmp/paper-run.h5" >"$tmp/run.txt" 2>"$tmp/err" && grep -q ' ok' "$tmp/run.txt" \
  && ok || fail "hgca run with the paper profile: $(cat "$tmp/err") $(cat "$tmp/run.txt")"
expect_error paper-no-prompt-queries "stores no prompt queries" "$tmp/t.h5" --policy paper:block=8,gpu_blocks=4
expect_error paper-window "--window 16 does not apply to policy paper" "$tmp/t.h5" --policy "$paper" --window 16
expect_error paper-bad-key 'unknown key "k" for paper' "$tmp/t.h5" --policy paper:k=3

# An output that cannot be written: exit 1.
"$hgca" replay "$tmp/t.h5" --policy topk:k=8 --window 16 -o "$tmp/t.h5/x.h5" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "cannot write" "$tmp/err" && ok || fail "unwritable output: $(cat "$tmp/err")"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
