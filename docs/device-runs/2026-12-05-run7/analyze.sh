#!/usr/bin/env bash
# Run 7's offline half (run 8's too: D=docs/device-runs/2026-12-05-run8), from the repository root:
#   bash docs/device-runs/2026-12-05-run7/analyze.sh PARAMS [PHASE_WEIGHT]
# RUNS="A" analyses one call alone (no A-vs-B part).
# Stage 2 of each calibration (validate fit of micro-R.yaml on fit-R.csv), then every profile on every run's
# table, A vs B predictions, and run A's measurements against run B's. HGCA names the binary, T the scratch folder.
# AFTER_CPU="37.5 us,6.5 ms" fixes host.after_cpu_max and host.after_cpu_time in both base profiles first (the
# values fitted to hgca bench wake, call1/wake.txt) instead of leaving the term at 0.
set -eu
D=${D:-docs/device-runs/2026-12-05-run7}; RUNS=${RUNS:-A B}; P=$1; W=${2:-1}; H=${HGCA:-build/bin/hgca}; T=${T:-/tmp/a7}; mkdir -p $T
fit() {
  local r=$1; local base=$D/$r/micro-$r.yaml
  if [ -n "${AFTER_CPU:-}" ]; then
    sed "s/^host:\$/host:\n  after_cpu_max: ${AFTER_CPU%%,*}\n  after_cpu_time: ${AFTER_CPU#*,}/" $base > $T/base-$r.yaml
    base=$T/base-$r.yaml
  fi
  $H validate fit --measured $D/$r/fit-$r.csv --hw $base --out $T/cal-$r.yaml --params $P --phase-weight $W --jobs 1 > $T/fit-$r.txt
  { grep -v "^#" $D/$r/fit-$r.csv; grep -v "^#\|^id," $D/$r/holdout-$r.csv; } > $T/measured-$r.csv
}
for r in $RUNS; do fit $r & done; wait
for r in $RUNS; do grep -E "^(cpu|host|pcie|gpu)\.|objective" $T/fit-$r.txt | sed "s/^/$r /"; done
for r in $RUNS; do for m in $RUNS; do
  echo "== profile $r on run $m's table"
  $H validate predict --measured $T/measured-$m.csv --hw $T/cal-$r.yaml --csv $T/pred-$r-on-$m.csv | grep -E "^summary.*(fit|holdout)|^phase attention   cpu"
done; done
[ "$RUNS" = "A B" ] || exit 0
/usr/bin/python3 - $T <<'PY'
import csv,sys,numpy as np
T=sys.argv[1]
def load(p): return {r['id']:r for r in csv.DictReader(l for l in open(p) if not l.startswith('#'))}
for m in 'AB':
  a=load(f'{T}/pred-A-on-{m}.csv'); b=load(f'{T}/pred-B-on-{m}.csv')
  d=[abs(float(a[k]['predicted_ms'])/float(b[k]['predicted_ms'])-1) for k in a if a[k]['predicted_ms'] and b[k]['predicted_ms']]
  print(f"A vs B predictions on run {m}'s rows: median {np.median(d)*100:.1f}% p90 {np.percentile(d,90)*100:.1f}% max {max(d)*100:.1f}% (n={len(d)})")
ha=load(f'{T}/measured-A.csv'); hb=load(f'{T}/measured-B.csv')
for role in ['fit','holdout']:
  d=[float(hb[k]['total_ms'])/float(ha[k]['total_ms'])-1 for k in ha if k in hb and ha[k]['role']==role]
  print(f"measured run B / run A - 1, {role} rows: median {np.median(d)*100:+.1f}%, median |.| {np.median(np.abs(d))*100:.1f}% p90 |.| {np.percentile(np.abs(d),90)*100:.1f}% (n={len(d)})")
PY
