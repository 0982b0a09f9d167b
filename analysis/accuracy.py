"""Accuracy of sparse attention at each sparsity budget, from trace replay, for the Pareto figure.

`hgca replay TRACE.h5 --policy SPEC --window W -o OUT.h5` measures how close sparse attention stays to dense
attention on real traces. The sparsity_pareto figure joins such results to simulated throughput by budget
(and window, when the accuracy table has one). It reads a table, from either

- a CSV file with a header line, or
- an HDF5 file whose `/summary` group (or root) holds one 1-D dataset per column,

with these columns: `budget` (or `fraction`): the share of CPU-resident entries each head selects, as in
`system.selection.fraction`; optional `window`: GPU window tokens; and one numeric metric column, chosen with
`--accuracy-metric NAME` or else the first numeric column that is not budget/window/seed. Metrics whose name
contains "error", "loss", "kl" or "divergence" are lower-is-better; others higher-is-better. Several rows
with the same budget and window (e.g. several traces) are averaged.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass

import numpy as np

BUDGET_COLUMNS = ("budget", "fraction", "budget_fraction")
NOT_METRICS = BUDGET_COLUMNS + ("window", "seed", "layer", "head", "top_k")
LOWER_IS_BETTER = ("error", "loss", "kl", "divergence")


class AccuracyFileError(Exception):
    """An accuracy table that is missing or unusable; the message is one line naming the file."""


@dataclass(frozen=True)
class AccuracyTable:
    path: str
    metric: str
    lower_is_better: bool
    budget: np.ndarray
    window: np.ndarray | None
    value: np.ndarray

    def lookup(self, budget: float, window: int | None) -> float | None:
        """Mean metric at this budget (and window, if the table has windows); None when absent."""
        match = np.isclose(self.budget, budget, rtol=1e-9, atol=0)
        if self.window is not None and window is not None:
            match &= self.window == window
        return float(self.value[match].mean()) if match.any() else None


def _columns_from_csv(path: str) -> dict[str, list]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise AccuracyFileError(f"{path}: no rows")
    return {name: [row[name] for row in rows] for name in rows[0]}


def _columns_from_hdf5(path: str) -> dict[str, list]:
    import h5py
    with h5py.File(path, "r") as f:
        group = f["summary"] if "summary" in f and isinstance(f["summary"], h5py.Group) else f
        columns = {}
        for name, obj in group.items():
            if isinstance(obj, h5py.Dataset) and obj.ndim == 1:
                is_text = h5py.check_string_dtype(obj.dtype) is not None
                columns[name] = list(obj.asstr()[()] if is_text else obj[()])
        return columns


REPLAY_METRICS = (("mass_recovered", "mass_mean"), ("cosine", "cosine_mean"), ("rel_l2_error", "rel_l2_mean"))


def _replay_row(path: str):
    """{column: value} of an `hgca replay` results file, or None when `path` is not one."""
    import h5py
    with h5py.File(path, "r") as f:
        fmt = f.attrs.get("format", "")
        if (fmt.decode() if isinstance(fmt, bytes) else str(fmt)) != "hgca-replay-results":
            return None
        policy = f.attrs.get("policy", "")
        policy = policy.decode() if isinstance(policy, bytes) else str(policy)
        match = re.search(r"(?:^|[:,])frac=([0-9.eE+-]+)", policy)
        summary = f["summary"]
        row = {"budget": float(match.group(1)) if match else float(np.mean(summary["selected_fraction"][()])),
               "window": int(f.attrs.get("window", -1))}
        for name, dataset in REPLAY_METRICS:
            if dataset in summary:
                row[name] = float(np.mean(summary[dataset][()]))
        return row


def load_accuracy(path, metric: str | None = None) -> AccuracyTable:
    """`path`: one table (CSV or HDF5), or a list of `hgca replay` results files (one budget each)."""
    paths = [path] if isinstance(path, str) else list(path)
    for p in paths:
        if not os.path.isfile(p):
            raise AccuracyFileError(f"{p}: no such file")
    try:
        rows = [] if paths[0].endswith(".csv") else [_replay_row(p) for p in paths]
        if rows and all(rows):
            path = ", ".join(paths)
            columns = {name: [row.get(name, float("nan")) for row in rows] for name in rows[0]}
        elif len(paths) > 1:
            raise AccuracyFileError(f"{paths[0]}: several accuracy files must all be hgca replay results")
        else:
            path = paths[0]
            columns = _columns_from_csv(path) if path.endswith(".csv") else _columns_from_hdf5(path)
    except AccuracyFileError:
        raise
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as error:
        raise AccuracyFileError(f"{path}: cannot read ({error})") from error

    def numeric(name):
        try:
            return np.array([float(v) for v in columns[name]], dtype=float)
        except (TypeError, ValueError):
            return None

    budget_name = next((n for n in BUDGET_COLUMNS if n in columns), None)
    if budget_name is None or numeric(budget_name) is None:
        raise AccuracyFileError(f"{path}: no numeric budget column (one of {', '.join(BUDGET_COLUMNS)})")
    if metric is None:
        metric = next((n for n in columns if n not in NOT_METRICS and numeric(n) is not None), None)
        if metric is None:
            raise AccuracyFileError(f"{path}: no numeric metric column besides {', '.join(NOT_METRICS)}")
    elif metric not in columns or numeric(metric) is None:
        raise AccuracyFileError(f"{path}: metric column '{metric}' is missing or not numeric")
    window = numeric("window") if "window" in columns else None
    return AccuracyTable(path=path, metric=metric,
                         lower_is_better=any(word in metric.lower() for word in LOWER_IS_BETTER),
                         budget=numeric(budget_name), window=window.astype(int) if window is not None else None,
                         value=numeric(metric))
