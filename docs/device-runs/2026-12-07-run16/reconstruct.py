#!/usr/bin/env python3
"""Run 16's measured tables, rebuilt from `hgca validate measure`'s progress lines.

    reconstruct.py PROGRESS.txt LAYOUT.csv OUT.csv

In run 16 both `validate measure` calls ran out of their timeouts a few points short of their last pass, so
neither wrote its table (it is written once, at the end). Their progress lines (one per point and pass:
`pass i/n point ID/N kind role b= ctx= win= sel= t= task  MS ms`) still hold each pass's median step time.
LAYOUT.csv is an earlier measured table of the same preset (the same point ids: run 15's), which supplies each
point's full description; its times are dropped. Each row of OUT.csv gets:
- pass_ms: this run's pass medians, in pass order (a point the timeout cut off has one pass fewer);
- total_ms: the median of those pass medians. (The command's own total_ms is the median of all timed steps of
  all passes pooled; with equal steps per pass the two differ by how skewed the steps within a pass are.)
- no phase times, p10 or p90: the progress lines do not carry them.
The id, b, ctx, win, sel, t and task of every line are checked against LAYOUT's row.
"""
import csv
import re
import statistics
import sys

LINE = re.compile(r"pass\s+(\d+)/(\d+)\s+point\s+(\d+)/\d+\s+(\S+)\s+(\S+)\s+b=(\d+)\s+ctx=(\d+)\s+win=(\d+)\s+"
                  r"sel=(\d+)\s+t=(\d+)\s+(\S+)\s+([0-9.]+) ms")
DROPPED = ["total_p10_ms", "total_p90_ms", "gpu_window_ms", "d2h_query_ms", "cpu_attention_ms", "h2d_result_ms",
           "merge_ms"]


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    progress, layout, out = argv[1:]
    with open(layout) as f:
        lines = [l for l in f if not l.startswith("#")]
    reader = csv.DictReader(lines)
    rows = {int(r["id"]): r for r in reader}
    header = list(reader.fieldnames)
    passes, declared = {}, 0
    with open(progress) as f:
        for n, text in enumerate(f, 1):
            m = LINE.search(text)
            if not m:
                continue
            p, declared = int(m[1]), int(m[2])
            pid = int(m[3])
            if pid not in rows:
                sys.exit(f"{progress}:{n}: point {pid} is not in {layout}")
            r = rows[pid]
            for key, value in zip(("kind", "role", "batch", "context", "window", "cpu_select", "threads", "cpu_task"),
                                  m.groups()[3:11]):
                if r[key] != value:
                    sys.exit(f"{progress}:{n}: point {pid}: {key} is {value} here and {r[key]} in {layout}")
            passes.setdefault(pid, []).append((p, float(m[12])))
    if not passes:
        sys.exit(f"{progress}: no progress lines")
    with open(out, "w", newline="") as f:
        f.write(f"# rebuilt by reconstruct.py from {progress.split('/')[-1]} ({declared} passes declared; the table "
                "itself was never written): total_ms is the median of the pass medians, no phase times\n")
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        for pid in sorted(passes):
            ms = [v for _, v in sorted(passes[pid])]
            r = dict(rows[pid])
            for key in DROPPED:
                if key in r:
                    r[key] = ""
            r["total_ms"] = repr(statistics.median(ms))
            r["pass_ms"] = " ".join(repr(v) for v in ms)
            r["date"] = "2026-12-07"
            w.writerow(r)
    short = sum(1 for v in passes.values() if len(v) < declared)
    print(f"{out}: {len(passes)} points, {short} with fewer than {declared} passes", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
