"""Writes results files with h5py in exactly the layout of sim/results/hdf5_write.cpp (docs/RESULTS.md).

The field list below is written out independently of the C++ table; test_layout compares a file written
here with one written by the C++ writer, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import h5py
import numpy as np

GiB = 1024.0 ** 3

# (name, type, unit) in the C++ table's order; derived fields are computed in `_derived`.
FIELDS = [
    ("experiment", "string", ""), ("point_label", "string", ""), ("strategy", "string", ""),
    ("hardware", "string", ""), ("model", "string", ""), ("batch", "int64", ""), ("context", "int64", "tokens"),
    ("decode", "int64", "tokens"), ("window", "int64", "tokens"), ("seed", "uint64", ""),
    ("resolved_yaml", "string", ""), ("feasible", "bool", ""), ("infeasible_reason", "string", ""),
    ("prefill_s", "float64", "s"), ("decode_s", "float64", "s"), ("tokens_per_s", "float64", "tokens/s"),
    ("step_p50_s", "float64", "s"), ("step_p99_s", "float64", "s"), ("step_mean_s", "float64", "s"),
    ("busy_gpu_s", "float64", "s"), ("busy_h2d_s", "float64", "s"), ("busy_d2h_s", "float64", "s"),
    ("busy_cpu_core_s", "float64", "s"), ("busy_host_s", "float64", "s"), ("cpu_cores_used", "int64", ""),
    ("cpu_imbalance", "float64", "1"),
] + [(f"{where}_mem_{part}_bytes", "float64", "bytes") for where in ("gpu", "cpu")
     for part in ("weights", "kv", "activations", "staging", "metadata")] + [
    ("gpu_capacity_bytes", "float64", "bytes"), ("cpu_capacity_bytes", "float64", "bytes"),
    ("events", "uint64", ""), ("wall_s", "float64", "s"),
    ("gpu_mem_total_bytes", "float64", "bytes"), ("cpu_mem_total_bytes", "float64", "bytes"),
    ("gpu_share", "float64", "1"), ("h2d_share", "float64", "1"), ("d2h_share", "float64", "1"),
    ("cpu_share", "float64", "1"),
]
DERIVED = {"gpu_mem_total_bytes", "cpu_mem_total_bytes", "gpu_share", "h2d_share", "d2h_share", "cpu_share"}
NOT_TABULAR = {"resolved_yaml"}

_DTYPES = {
    "string": h5py.string_dtype("utf-8"),
    "int64": np.dtype("<i8"),
    "uint64": np.dtype("<u8"),
    "float64": np.dtype("<f8"),
    "bool": np.dtype("u1"),
}


def make_run(strategy="hgca", batch=1, context=4096, tokens_per_s=100.0, feasible=True, seed=0, window=1024,
             **overrides) -> dict:
    """A run as a dict of every stored field. Figures follow tokens_per_s: decode_s = decode*batch/tok/s,
    steps all equal (p99 = 1.5 x p50), busy shares GPU 50 %, H2D 25 %, D2H 10 %, CPU 75 % of 4 cores."""
    decode = overrides.pop("decode", 4)
    run = {name: ("" if kind == "string" else 0) for name, kind, _ in FIELDS if name not in DERIVED}
    run.update(experiment="fixture", strategy=strategy, hardware="h100", model="llama", batch=batch,
               context=context, decode=decode, window=window, seed=seed, feasible=feasible,
               resolved_yaml=f"system:\n  strategy: {strategy}\n", cpu_imbalance=1.0, cpu_cores_used=4,
               gpu_capacity_bytes=78 * GiB, cpu_capacity_bytes=512 * GiB)
    if feasible:
        decode_s = decode * batch / tokens_per_s
        run.update(tokens_per_s=tokens_per_s, decode_s=decode_s, step_p50_s=decode_s / decode,
                   step_p99_s=1.5 * decode_s / decode, step_mean_s=decode_s / decode, busy_gpu_s=0.5 * decode_s,
                   busy_h2d_s=0.25 * decode_s, busy_d2h_s=0.1 * decode_s, busy_cpu_core_s=0.75 * decode_s * 4,
                   gpu_mem_weights_bytes=10 * GiB, gpu_mem_kv_bytes=5 * GiB, cpu_mem_kv_bytes=40 * GiB,
                   step_latency_s=[decode_s / decode] * decode)
    else:
        run.update(infeasible_reason="GPU memory: KV does not fit", step_latency_s=[])
    run.update(overrides)
    return run


def _derived(run: dict) -> dict:
    decode_s = run["decode_s"]
    total = {where: sum(run[f"{where}_mem_{p}_bytes"] for p in ("weights", "kv", "activations", "staging", "metadata"))
             for where in ("gpu", "cpu")}
    cores = run["cpu_cores_used"]
    return {
        "gpu_mem_total_bytes": total["gpu"],
        "cpu_mem_total_bytes": total["cpu"],
        "gpu_share": run["busy_gpu_s"] / decode_s if decode_s > 0 else 0.0,
        "h2d_share": run["busy_h2d_s"] / decode_s if decode_s > 0 else 0.0,
        "d2h_share": run["busy_d2h_s"] / decode_s if decode_s > 0 else 0.0,
        "cpu_share": run["busy_cpu_core_s"] / (decode_s * cores) if decode_s > 0 and cores > 0 else 0.0,
    }


def _value(kind: str, value):
    return str(value) if kind == "string" else np.array(value, dtype=_DTYPES[kind])[()]


def write_results(path, runs: list[dict], tool_version: str = "fixture", description: str = "",
                  figures: tuple = ()) -> None:
    """Runs may carry `parameters` ({key: number or str}, written to /parameters as sim/sweep does) and
    `head_selection` (a [layers, heads] array)."""
    runs = [dict(run, **_derived(run)) for run in runs]
    string = _DTYPES["string"]
    with h5py.File(path, "w") as f:
        if description:
            f.attrs.create("description", description, dtype=string)
        if figures:
            f.attrs.create("figures", list(figures), dtype=string)
        f.attrs.create("format", "hgca-results", dtype=string)
        f.attrs.create("format_version", np.int64(1))
        f.attrs.create("tool_version", tool_version, dtype=string)
        f.attrs.create("created", "2025-01-01T00:00:00Z", dtype=string)
        width = max(4, len(str(max(len(runs) - 1, 0))))
        group_of_runs = f.create_group("runs")
        for index, run in enumerate(runs):
            group = group_of_runs.create_group(str(index).zfill(width))
            for name, kind, _ in FIELDS:
                group.attrs.create(name, _value(kind, run[name]), dtype=_DTYPES[kind])
            steps = group.create_dataset("step_latency_s", data=np.array(run["step_latency_s"], dtype="<f8"),
                                         shape=(len(run["step_latency_s"]),))
            steps.attrs.create("unit", "s", dtype=string)
            if run.get("head_selection") is not None:
                heads = group.create_dataset("head_selection_fraction",
                                             data=np.asarray(run["head_selection"], dtype="<f8"))
                heads.attrs.create("unit", "1", dtype=string)
        summary = f.create_group("summary")
        names = []
        for name, kind, unit in FIELDS:
            if name in NOT_TABULAR:
                continue
            values = [_value(kind, run[name]) for run in runs]
            column = summary.create_dataset(name, shape=(len(runs),), dtype=_DTYPES[kind])
            if runs:
                column[...] = np.array(values, dtype=object if kind == "string" else _DTYPES[kind])
            column.attrs.create("unit", unit, dtype=string)
            names.append(name)
        summary.attrs.create("columns", names, dtype=string)
        keys = list(dict.fromkeys(k for run in runs for k in run.get("parameters", {})))
        if keys:
            group = f.create_group("parameters")
            for key in keys:
                values = [run.get("parameters", {}).get(key, float("nan")) for run in runs]
                if any(isinstance(v, str) for v in values):
                    group.create_dataset(key, data=np.array(values, dtype=object), dtype=string)
                else:
                    group.create_dataset(key, data=np.array(values, dtype="<f8"))
                group[key].attrs.create("unit", "", dtype=string)
            group.attrs.create("columns", keys, dtype=string)
