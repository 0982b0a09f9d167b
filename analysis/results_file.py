"""Reads the /summary table of an hgca results file (written by sim/results/hdf5_write.cpp).

Everything else in this package works on the `Results` returned by `load`, never on h5py objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import h5py
import numpy as np

FORMAT_NAME = "hgca-results"
FORMAT_VERSION = 1

# Columns the figures and summaries rely on; a file without one of them is rejected up front.
REQUIRED_COLUMNS = (
    "experiment", "point_label", "strategy", "hardware", "model", "batch", "context", "decode", "window",
    "seed", "feasible", "infeasible_reason", "tokens_per_s", "step_p50_s", "step_p99_s", "decode_s",
    "gpu_share", "h2d_share", "d2h_share", "cpu_share",
)


class ResultsFileError(Exception):
    """A results file that is missing or unreadable; the message is one line naming the file."""


@dataclass(frozen=True)
class Results:
    path: str
    tool_version: str
    created: str
    columns: dict[str, np.ndarray]  # one entry per run in each; strings as str, `feasible` as bool
    units: dict[str, str] = field(default_factory=dict)
    description: str = ""           # the experiment's description (root attribute, optional)
    figures: tuple = ()             # figure names the suite declares (root attribute `figures`, optional)
    # /parameters: configuration values by key path ("hardware.cpu.cores"), one per run, SI units (optional)
    parameters: dict[str, np.ndarray] = field(default_factory=dict)
    parameter_units: dict[str, str] = field(default_factory=dict)
    # /runs/NNNN/head_selection_fraction by run index: [layers, heads] selected fractions (optional)
    head_selection: dict[int, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns["strategy"])

    def rows(self) -> list[dict]:
        """One dict per run, in run order, with plain Python values."""
        plain = {name: values.tolist() for name, values in self.columns.items()}  # numpy scalars -> Python
        return [{name: values[i] for name, values in plain.items()} for i in range(len(self))]


def _string_attribute(obj, name: str, where: str, path: str) -> str:
    if name not in obj.attrs:
        raise ResultsFileError(f"{path}: not an hgca results file ({where} attribute '{name}' is missing)")
    value = obj.attrs[name]
    return value.decode() if isinstance(value, bytes) else str(value)


def _optional_string(obj, name: str) -> str:
    value = obj.attrs.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _optional_strings(obj, name: str) -> list[str]:
    if name not in obj.attrs:
        return []
    values = np.atleast_1d(obj.attrs[name])
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _read_parameters(f, path: str, runs: int) -> tuple[dict, dict]:
    if "parameters" not in f:
        return {}, {}
    group = f["parameters"]
    parameters, units = {}, {}
    for name in _optional_strings(group, "columns") or list(group):
        if name not in group:
            raise ResultsFileError(f"{path}: /parameters/{name} is missing")
        dataset = group[name]
        if h5py.check_string_dtype(dataset.dtype) is not None:
            values = np.array(dataset.asstr()[()], dtype=object)
        else:
            values = np.asarray(dataset[()], dtype=float)
        if len(values) != runs:
            raise ResultsFileError(f"{path}: /parameters/{name} has {len(values)} values for {runs} runs")
        parameters[name] = values
        units[name] = str(dataset.attrs.get("unit", ""))
    return parameters, units


def _read_head_selection(f, path: str) -> dict[int, np.ndarray]:
    selections = {}
    if "runs" not in f:
        return selections
    for name, group in f["runs"].items():
        if isinstance(group, h5py.Group) and "head_selection_fraction" in group:
            data = np.asarray(group["head_selection_fraction"][()], dtype=float)
            if data.ndim != 2:
                raise ResultsFileError(f"{path}: /runs/{name}/head_selection_fraction is not two-dimensional")
            selections[int(name)] = data
    return selections


def load(path: str) -> Results:
    """Reads the summary table of `path`; raises ResultsFileError with a one-line message on any problem."""
    if not os.path.exists(path):
        raise ResultsFileError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ResultsFileError(f"{path}: is a directory, expected an HDF5 results file")
    if not h5py.is_hdf5(path):
        raise ResultsFileError(f"{path}: not an HDF5 file")
    try:
        with h5py.File(path, "r") as f:
            fmt = _string_attribute(f, "format", "root", path)
            if fmt != FORMAT_NAME:
                raise ResultsFileError(
                    f"{path}: not an hgca results file (root attribute 'format' is '{fmt}', "
                    f"expected '{FORMAT_NAME}')")
            version = int(f.attrs.get("format_version", -1))
            if version != FORMAT_VERSION:
                raise ResultsFileError(
                    f"{path}: format_version {version} is not supported (this reader reads {FORMAT_VERSION})")
            if "summary" not in f or not isinstance(f["summary"], h5py.Group):
                raise ResultsFileError(f"{path}: group /summary is missing")
            summary = f["summary"]
            columns, units = {}, {}
            for name in summary:
                dataset = summary[name]
                if h5py.check_string_dtype(dataset.dtype) is not None:
                    values = np.array(dataset.asstr()[()], dtype=object)
                else:
                    values = dataset[()]
                columns[name] = values
                units[name] = str(dataset.attrs.get("unit", ""))
            missing = [name for name in REQUIRED_COLUMNS if name not in columns]
            if missing:
                raise ResultsFileError(f"{path}: /summary/{missing[0]} is missing")
            lengths = {len(values) for values in columns.values()}
            if len(lengths) > 1:
                raise ResultsFileError(f"{path}: /summary columns differ in length ({sorted(lengths)})")
            columns["feasible"] = columns["feasible"].astype(bool)
            parameters, parameter_units = _read_parameters(f, path, len(columns["strategy"]))
            return Results(path=path, tool_version=_string_attribute(f, "tool_version", "root", path),
                           created=_string_attribute(f, "created", "root", path), columns=columns, units=units,
                           description=_optional_string(f, "description"),
                           figures=tuple(_optional_strings(f, "figures")), parameters=parameters,
                           parameter_units=parameter_units, head_selection=_read_head_selection(f, path))
    except ResultsFileError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise ResultsFileError(f"{path}: cannot read ({error})") from error
