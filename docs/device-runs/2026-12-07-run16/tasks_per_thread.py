#!/usr/bin/env python3
"""The attention-step errors of `hgca validate predict --csv` tables grouped by CPU tasks per thread.

usage: tasks_per_thread.py PREDICTED.csv [more ...]
Tasks as the CPU kernels form them: per query head for `head`, per KV group for `kv_group` unless the group's
random lists barely overlap (listed < 1.5 x distinct rows: then per query head, kernels/cpu/sparse_attention.cpp).
Prints the median CPU-phase and step error per band of tasks per thread, for all points and for CPU phases over
0.15 ms."""
import csv
import sys

import numpy as np

BANDS = [(0, 1.01), (1.01, 2.01), (2.01, 4.01), (4.01, float("inf"))]

for path in sys.argv[1:]:
    print("==", path)
    points = []
    for r in csv.DictReader(open(path)):
        if r["kind"] != "attention" or not r["cpu_attention_error"]:
            continue
        b, q, kv = int(r["batch"]), int(r["q_heads"]), int(r["kv_heads"])
        n, sel, threads = int(r["context"]) - int(r["window"]), int(r["cpu_select"]), int(r["threads"])
        group = q // kv
        if r["cpu_task"] == "head":
            tasks = b * q
        else:
            distinct = n * (1 - (1 - sel / n) ** group)
            tasks = b * q if group * sel < 1.5 * distinct else b * kv
        points.append((tasks / threads, float(r["cpu_attention_error"]), float(r["error"]),
                       float(r["measured_cpu_attention_ms"])))
    for label, keep in (("all points", lambda p: True), ("CPU phase > 0.15 ms", lambda p: p[3] > 0.15)):
        print(f"  {label}:")
        for lo, hi in BANDS:
            band = [p for p in points if keep(p) and lo < p[0] <= hi]
            if band:
                print(f"    tasks per thread in ({lo:g}, {hi:g}]: n={len(band):3d}  CPU phase error median "
                      f"{np.median([p[1] for p in band]) * 100:+5.1f} %  step error median "
                      f"{np.median([p[2] for p in band]) * 100:+5.1f} %")
