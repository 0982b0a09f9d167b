#!/usr/bin/env python3
"""Run 16 call 3: the runner's CPU phase by pick gap, tasks per thread and page size, against the model.

    probe.py PROBE.jsonl HGCA PROFILE.yaml

PROBE.jsonl: the `hgca bench hybrid --json` lines of run16.sh 3 (20 per call; calls append). Each line becomes an attention point of
`hgca validate predict`'s measured table (role holdout), predicted with PROFILE by the HGCA binary, and the
script prints, per line: the CPU phase measured and predicted, the nanoseconds a thread spends per row read
(K and V of one picked token), the gap between one head's picks, the tasks per thread, and the error.
The question (docs/VALIDATION.md, "the CPU rows by batch"): does the per-row cost follow the gap between picks
(page walks: then 4 KB pages change it most where picks are far apart), or the number of tasks per thread?
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

COLUMNS = ["id", "role", "kind", "model", "layers", "batch", "q_heads", "kv_heads", "head_dim", "context",
           "window", "budget", "cpu_select", "threads", "cpu_task", "warmup", "reps", "total_ms",
           "gpu_window_ms", "d2h_query_ms", "cpu_attention_ms", "h2d_result_ms", "merge_ms"]


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    probe, hgca, profile = argv[1:]
    rows = []
    with open(probe) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"{probe}:{n}: not a JSON object ({e})")
    if not rows:
        sys.exit(f"{probe}: no rows")
    # Which lines ran on 4 KB pages is not in the JSON: each call of run16.sh 3 appends 20 lines, the huge-page
    # half first (8), then the 4 KB half (8), then 4 on huge pages at head_dim 128.
    if len(rows) % 20:
        sys.exit(f"{probe}: {len(rows)} rows, not whole calls of run16.sh 3 (20 rows each)")
    pages = ["4 KB" if 8 <= i % 20 < 16 else "huge" for i in range(len(rows))]
    with tempfile.TemporaryDirectory() as tmp:
        measured, predicted = os.path.join(tmp, "m.csv"), os.path.join(tmp, "p.csv")
        with open(measured, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            for i, r in enumerate(rows):
                w.writerow([i, "holdout", "attention", "", 1, r["batch"], r["q_heads"], r["kv_heads"], r["head_dim"],
                            r["context"], r["window"], "", r["selected_per_head"], r["threads"],
                            r["cpu_task"], r["warmup"], r["iters"], r["total_ms"],
                            r["gpu_window_ms"], r["d2h_query_ms"], r["cpu_attention_ms"], r["h2d_result_ms"],
                            r["merge_ms"]])
        subprocess.run([hgca, "validate", "predict", "--measured", measured, "--hw", profile, "--csv", predicted],
                       check=True, stdout=subprocess.DEVNULL)
        with open(predicted) as f:
            pred = {int(p["id"]): p for p in csv.DictReader(f)}
    print(f"{'call':>4} {'pages':>5} {'hd':>3} {'batch':>5} {'rows/head':>9} {'thr':>3} {'tasks/thr':>9} {'gap KiB':>7} "
          f"{'cpu ms':>8} {'pred ms':>8} {'error':>7} {'ns/row':>7} {'pred ns/row':>11}")
    for i, r in enumerate(rows):
        p = pred[i]
        heads = r["batch"] * r["q_heads"]
        rows_read = heads * r["selected_per_head"]
        tasks = heads if r["cpu_task"] == "head" else r["batch"] * r["kv_heads"]
        gap = r["pool_rows"] * r["head_dim"] * 2 / r["selected_per_head"] / 1024  # bytes of keys between picks
        meas = float(p["measured_cpu_attention_ms"])
        est = float(p["predicted_cpu_attention_ms"])
        per_row = lambda ms: ms * 1e6 * r["threads"] / rows_read
        print(f"{i // 20 + 1:>4} {pages[i]:>5} {r['head_dim']:>3} {r['batch']:>5} {r['selected_per_head']:>9} {r['threads']:>3} "
              f"{tasks / r['threads']:>9.1f} {gap:>7.1f} {meas:>8.3f} {est:>8.3f} {100 * (est / meas - 1):>+6.1f}% "
              f"{per_row(meas):>7.1f} {per_row(est):>11.1f}")


if __name__ == "__main__":
    main(sys.argv)
