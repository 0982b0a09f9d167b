#!/usr/bin/python3
"""Markdown table comparing per-head statistics of traces (`hgca trace stats --json` outputs).

    compare_stats.py REAL.json SYNTH.json [MORE.json ...] [--labels real,synth,...]

The first file is the reference; every further file gets its columns next to it, and a last row gives the
mean absolute difference to the reference (window mass in absolute terms, frac90/frac99 as the mean of
|ln(ratio)| shown as a percentage, entropy in nats). Only the standard library is needed.
"""
import json
import math
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    return data, {(h["layer"], h["head"]): h for h in data["heads"]}


def main(argv):
    labels = None
    files = []
    i = 0
    while i < len(argv):
        if argv[i] == "--labels":
            labels = argv[i + 1].split(",")
            i += 2
        else:
            files.append(argv[i])
            i += 1
    if len(files) < 2:
        sys.exit("usage: compare_stats.py REAL.json SYNTH.json [MORE.json ...] [--labels a,b,...]")
    runs = [load(f) for f in files]
    labels = labels or [f"{d['positions'] // 1024}K" for d, _ in runs]
    keys = sorted(runs[0][1])
    cols = ["window", "f90", "f99", "H"]
    head = "| layer.head | " + " | ".join(f"{c} {l}" for c in cols for l in labels) + " |"
    print(head)
    print("|" + "---|" * (1 + len(cols) * len(labels)))
    err = [[0.0] * 4 for _ in labels]
    for k in keys:
        row = [f"{k[0]}.{k[1]}"]
        hs = [r[1][k] for r in runs]
        for c, field in enumerate(["window_mass", "frac90", "frac99", "entropy"]):
            for j, h in enumerate(hs):
                v = h[field]
                row.append(f"{v:.3f}" if field in ("window_mass", "entropy") else f"{v:.4f}")
                ref = hs[0][field]
                if field in ("frac90", "frac99"):
                    err[j][c] += abs(math.log(max(v, 1e-12) / max(ref, 1e-12)))
                else:
                    err[j][c] += abs(v - ref)
        print("| " + " | ".join(row) + " |")
    n = len(keys)
    row = ["mean abs diff"]
    for c in range(4):
        for j in range(len(labels)):
            e = err[j][c] / n
            row.append("" if j == 0 else (f"{100 * (math.exp(e) - 1):.0f}%" if c in (1, 2) else f"{e:.3f}"))
    print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
