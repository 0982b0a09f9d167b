#!/usr/bin/env python3
"""Converts hgca_cuda_bench JSON lines (docs/device-runs/*/cuda_bench.jsonl) into a measurements table for
`hgca calibrate --from-measurements` (docs/CALIBRATION.md).

Kept: the decode attention rows with the kernel's automatic split count (the first row of each
(dtype, batch, window) shape, before --tune's sweep of configurations: what the hybrid runner launches), as
gpu_attention rows, and the merge rows as gpu_merge rows (rows = batch x q_heads with q_heads 32).

  /usr/bin/python3 scripts/device/bench_to_measurements.py docs/device-runs/2026-11-23-run3/cuda_bench.jsonl > out.csv
"""
import json
import sys


def main(paths):
    out = ["primitive,batch,q_heads,kv_heads,kv_len,head_dim,dtype,time_s,note"]
    for path in paths:
        seen = set()
        out.insert(0, "# from %s (hgca_cuda_bench, our decode attention kernel, median of 50 after warm-up)" % path)
        for line in open(path):
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if r.get("bench") == "decode_attention" and "time_us" in r:
                key = (r["dtype"], r["batch"], r["window"])
                if key in seen:
                    continue  # --tune's sweep: other split counts and CTA shapes of a shape already taken
                seen.add(key)
                out.append("gpu_attention,%d,%d,%d,%d,%d,%s,%.6g,splits=%d ctas=%d" % (
                    r["batch"], r["q_heads"], r["kv_heads"], r["window"], r["head_dim"], r["dtype"],
                    r["time_us"] * 1e-6, r["splits"], r["ctas"]))
            elif r.get("bench") == "merge":
                q_heads = 32
                out.append("gpu_merge,%d,%d,,,%d,,%.6g,rows=%d" % (r["rows"] // q_heads, q_heads, r["head_dim"],
                                                                 r["time_us"] * 1e-6, r["rows"]))
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bench_to_measurements.py cuda_bench.jsonl... > measurements.csv")
    main(sys.argv[1:])
