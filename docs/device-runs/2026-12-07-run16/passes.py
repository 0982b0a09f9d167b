#!/usr/bin/env python3
"""How far the simulator's attention-step errors stand above the runner's own repeatability.

usage: passes.py MEASURED.csv PREDICTED.csv [more PREDICTED.csv ...]
MEASURED: `hgca validate measure` rows (fit and holdout, with pass_ms); PREDICTED: `hgca validate predict --csv`
of the same rows. For each predicted table, per role: |error| against the measured median (the table's
total_ms, every repetition pooled), against the median of the passes' medians, and how far the prediction
falls outside the range the passes spanned (0 inside it); beside them the passes' own spread (max / min - 1)
each pass against the median of the others (what one pass alone would have scored, had it been the
prediction), and the median of the odd passes against that of the even ones (two halves of one measurement:
how well the runner repeats itself within the call, with half the passes each)."""
import csv
import sys

import numpy as np


def rows(path):
    return list(csv.DictReader(line for line in open(path) if not line.startswith("#")))


def stats(v):
    v = np.abs(np.asarray(v)) * 100
    return f"median {np.median(v):5.1f} %  p90 {np.percentile(v, 90):5.1f} %" if len(v) else "-"


measured = {r["id"]: r for r in rows(sys.argv[1])}
for path in sys.argv[2:]:
    print(f"== {path}")
    pred = [r for r in rows(path) if r["kind"] == "attention" and r["predicted_ms"]]
    for role in ("fit", "holdout"):
        pooled, of_passes, outside, spread, one_pass, halves = [], [], [], [], [], []
        for r in pred:
            if r["role"] != role:
                continue
            m = measured[r["id"]]
            passes = [float(x) for x in m["pass_ms"].split()]
            p = float(r["predicted_ms"])
            pooled.append(p / float(m["total_ms"]) - 1)
            mid = float(np.median(passes))
            of_passes.append(p / mid - 1)
            lo, hi = min(passes), max(passes)
            outside.append(0 if lo <= p <= hi else (p / hi - 1 if p > hi else p / lo - 1))
            spread.append(hi / lo - 1)
            if len(passes) >= 2:
                halves.append(float(np.median(passes[0::2])) / float(np.median(passes[1::2])) - 1)
            for i, x in enumerate(passes):
                others = passes[:i] + passes[i + 1:]
                if others:
                    one_pass.append(x / float(np.median(others)) - 1)
        n = len(pooled)
        print(f"{role:8s} n={n:3d} |error| vs pooled median: {stats(pooled)}")
        print(f"{'':14s}vs median of passes: {stats(of_passes)}")
        print(f"{'':14s}beyond the passes' range: {stats(outside)}  ({sum(1 for x in outside if x) } of {n} outside)")
        print(f"{'':14s}passes' spread (max/min-1): {stats(spread)}")
        print(f"{'':14s}one pass vs the others' median: {stats(one_pass)}")
        print(f"{'':14s}odd passes' median vs even passes': {stats(halves)}")
