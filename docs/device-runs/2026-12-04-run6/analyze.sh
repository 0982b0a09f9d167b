#!/usr/bin/env bash
# Run 6's offline half, from the repository root: bash docs/device-runs/2026-12-04-run6/analyze.sh DIR PARAMS PHASE_WEIGHT
# (DIR holds micro-{A,B}.yaml, fit-{A,B}.csv, holdout-{A,B}.csv; HGCA names the binary, T the scratch folder)
set -eu
D=$1; P=$2; W=${3:-0}; H=${HGCA:-build/bin/hgca}; T=${T:-/tmp/a6}; mkdir -p $T
for r in A B; do
  $H validate fit --measured $D/fit-$r.csv --hw $D/micro-$r.yaml --out $T/cal-$r.yaml --params $P --phase-weight $W --jobs 2 > $T/fit-$r.txt
  grep -E "^(cpu|host|pcie|gpu)\.|objective" $T/fit-$r.txt | sed "s/^/$r /"
  # the validation table of run r: its fit points and its holdout points
  { cat $D/fit-$r.csv; grep -v "^id," $D/holdout-$r.csv; } > $T/measured-$r.csv
done
for r in A B; do for m in A B; do
  echo "== profile $r on run $m's table"
  $H validate predict --measured $T/measured-$m.csv --hw $T/cal-$r.yaml --csv $T/pred-$r-on-$m.csv | grep -E "^summary.*(fit|holdout)|^phase attention   cpu"
done; done
/usr/bin/python3 - $T <<'PY'
import csv,sys,numpy as np
T=sys.argv[1]
def load(p): return {r['id']:r for r in csv.DictReader(open(p))}
for m in 'AB':
  a=load(f'{T}/pred-A-on-{m}.csv'); b=load(f'{T}/pred-B-on-{m}.csv')
  d=[abs(float(a[k]['predicted_ms'])/float(b[k]['predicted_ms'])-1) for k in a if a[k]['predicted_ms'] and b[k]['predicted_ms']]
  print(f"A vs B predictions on run {m}'s rows: median {np.median(d)*100:.1f}% p90 {np.percentile(d,90)*100:.1f}% max {max(d)*100:.1f}% (n={len(d)})")
ha=load(f'{T}/measured-A.csv'); hb=load(f'{T}/measured-B.csv')
for role in ['fit','holdout']:
  d=[abs(float(ha[k]['total_ms'])/float(hb[k]['total_ms'])-1) for k in ha if k in hb and ha[k]['role']==role]
  print(f"measured run A vs run B, {role} rows: median {np.median(d)*100:.1f}% p90 {np.percentile(d,90)*100:.1f}% (n={len(d)})")
PY
