"""Adds the pass_ms column (the median step of each pass) to a measured table written before `hgca validate
measure` recorded it, from that run's progress log (its stdout: one line per point and pass, the median in
ms to 1 us). Run 9's points/*.csv were rewritten this way; the originals are *.orig.csv.

    /usr/bin/python3 docs/device-runs/2026-12-05-run9/add_pass_ms.py TABLE.csv LOG.txt > OUT.csv
"""
import csv
import re
import sys

table, log = sys.argv[1], sys.argv[2]
passes = {}
for line in open(log):
    m = re.match(r"pass (\d+)/\d+ point\s+(\d+)/\d+ .*\s([\d.]+) ms", line)
    if m:
        passes.setdefault(m.group(2), {})[int(m.group(1))] = m.group(3)
lines = open(table).read().splitlines()
comments = [l for l in lines if l.startswith("#")]
rows = list(csv.DictReader(l for l in lines if not l.startswith("#")))
columns = list(rows[0].keys())
if "pass_ms" not in columns:
    columns.insert(columns.index("merge_ms") + 1, "pass_ms")
out = csv.DictWriter(sys.stdout, columns, lineterminator="\n")
for c in comments:
    print(c + " (pass_ms added from the progress log, to 1 us)")
out.writeheader()
for r in rows:
    p = passes.get(r["id"])
    if not p:
        sys.exit(f"{log}: no pass lines for point {r['id']}")
    r["pass_ms"] = " ".join(p[k] for k in sorted(p))
    out.writerow(r)
