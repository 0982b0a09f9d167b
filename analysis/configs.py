"""Configurations (runs that differ only in seed, averaged) and series (configurations along one axis).

A configuration is identified by IDENTITY plus the configuration parameters of the results file (/parameters:
`hardware.cpu.cores`, `system.selection.fraction`, ...); its runs differ only in `seed` (and `point_label`,
which often names the seed). Figures are means over those runs with the sample standard deviation as error bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from analysis.results_file import Results
from analysis.style import strategy_rank

IDENTITY = ("experiment", "strategy", "hardware", "model", "batch", "context", "decode", "window")
# Parameters computed from a run's seed-dependent draws: they describe a configuration but do not identify it.
DERIVED_PARAMETERS = ("selection.mean_fraction",)
FIGURES = ("tokens_per_s", "step_p50_s", "step_p99_s", "decode_s", "gpu_share", "h2d_share", "d2h_share",
           "cpu_share")


@dataclass(frozen=True)
class Config:
    key: tuple                # values of the identity fields (IDENTITY, then the file's parameters), in order
    feasible: bool            # every run of the configuration was feasible
    runs: int                 # how many runs (seeds) it averages
    mean: dict[str, float]    # FIGURES (and derived parameters) -> mean over runs (feasible configurations only)
    std: dict[str, float]     # FIGURES -> sample standard deviation (0 for a single run)
    reason: str               # first infeasibility reason, "" when feasible
    fields: tuple = IDENTITY  # names of the key's entries
    indices: tuple = ()       # the runs it averages (indices into the results file)

    def __getitem__(self, name: str):
        return self.key[self.fields.index(name)]

    def has(self, name: str) -> bool:
        return name in self.fields


def parameter_fields(results: Results) -> tuple:
    return tuple(name for name in results.parameters if name not in DERIVED_PARAMETERS)


def configurations(results: Results) -> list[Config]:
    """All configurations, in order of their first run."""
    fields = IDENTITY + parameter_fields(results)
    plain = {name: values.tolist() for name, values in results.parameters.items()}
    groups: dict[tuple, list[tuple[int, dict]]] = {}
    for index, row in enumerate(results.rows()):
        row.update({name: values[index] for name, values in plain.items()})
        groups.setdefault(tuple(row[name] for name in fields), []).append((index, row))
    configs = []
    for key, members in groups.items():
        rows = [row for _, row in members]
        feasible = all(row["feasible"] for row in rows)
        mean, std = {}, {}
        if feasible:
            for name in FIGURES + tuple(n for n in DERIVED_PARAMETERS if n in plain):
                values = np.array([row[name] for row in rows], dtype=float)
                mean[name] = float(values.mean())
                std[name] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        reason = next((row["infeasible_reason"] for row in rows if not row["feasible"]), "")
        configs.append(Config(key, feasible, len(rows), mean, std, reason, fields,
                              tuple(index for index, _ in members)))
    return configs


def varying(configs: Iterable[Config], names: Iterable[str]) -> list[str]:
    """The names among `names` whose value differs between the configurations."""
    configs = list(configs)
    return [n for n in names if configs and configs[0].has(n) and len({_hashable(c[n]) for c in configs}) > 1]


def _hashable(value):
    # NaN != NaN: map every NaN to one value so "not applicable" counts once.
    return "nan" if isinstance(value, float) and value != value else value


@dataclass(frozen=True)
class Series:
    strategy: str
    label: str                # strategy, plus the fields that tell its variants apart ("hgca, window 4096")
    variant: int              # index among the series of the same strategy (picks the line style)
    points: list[Config]      # sorted by the x field, feasible and infeasible

    def feasible(self) -> list[Config]:
        return [c for c in self.points if c.feasible]

    def last_feasible_before_infeasible(self, x_field: str) -> Config | None:
        """The feasible point with the largest x when some larger x was infeasible: where the strategy stops."""
        feasible = self.feasible()
        if not feasible:
            return None
        last = max(feasible, key=lambda c: c[x_field])
        beyond = any(not c.feasible and c[x_field] > last[x_field] for c in self.points)
        return last if beyond else None


def _describe(field: str, value) -> str:
    if field == "experiment":
        return str(value)
    return f"{field} {value}" if field in IDENTITY else describe_value(field, value)


def short_name(field: str) -> str:
    """The last part of a key path, as figure text: "hardware.cpu.cores" -> "cores"."""
    parts = field.split(".")
    if parts[-1] in ("bandwidth", "memory") and len(parts) >= 2:
        return " ".join(parts[-2:])
    return parts[-1].replace("_", " ")


def describe_value(field: str, value) -> str:
    """A parameter value as legends write it: "cores 32", "h2d bandwidth 64 GB/s", "fraction 1%"."""
    from analysis.style import format_quantity  # style imports nothing from here
    return f"{short_name(field)} {format_quantity(field, value)}"


def _adds_distinction(configs: list[Config], parameter: str, base: list[str]) -> bool:
    """Whether `parameter` tells apart configurations that the fields in `base` do not; a parameter that only
    follows another field (the PCIe bandwidth of each named hardware profile) does not."""
    seen: dict[tuple, set] = {}
    for c in configs:
        seen.setdefault(tuple(c[f] for f in base), set()).add(_hashable(c[parameter]))
    return any(len(values) > 1 for values in seen.values())


def series_by_panel(configs: Iterable[Config], x_field: str, panel_field: str, ignore: Iterable[str] = ()) -> dict:
    """{panel value: [Series]} with one series per strategy variant; panels and series in a stable order.

    The fields that are neither the strategy, x nor panel tell variants apart; a series label names only
    those that vary among the configurations of its strategy."""
    configs = list(configs)
    fields = configs[0].fields if configs else IDENTITY
    other = [f for f in fields if f not in ("strategy", x_field, panel_field, *ignore)]
    varying: dict[str, list[str]] = {}
    for strategy in {c["strategy"] for c in configs}:
        mine = [c for c in configs if c["strategy"] == strategy]
        # Judged on feasible configurations: an infeasible run may not report every parameter (e.g. its
        # window), and must still join its strategy's line to mark where that line ends.
        judged = [c for c in mine if c.feasible] or mine
        moving = [f for f in other if len({_hashable(c[f]) for c in judged}) > 1]
        base = [f for f in moving if f in IDENTITY] + [x_field, panel_field]
        varying[strategy] = [f for f in moving if f in IDENTITY or _adds_distinction(judged, f, base)]

    panels: dict = {}
    for c in configs:
        variant_key = tuple(c[f] for f in varying[c["strategy"]])
        panels.setdefault(c[panel_field], {}).setdefault((c["strategy"], variant_key), []).append(c)

    result = {}
    for panel in sorted(panels):
        series = []
        for (strategy, variant_key), points in panels[panel].items():
            label = ", ".join([strategy] + [_describe(f, v) for f, v in zip(varying[strategy], variant_key)])
            series.append((strategy, variant_key, label, sorted(points, key=lambda c: c[x_field])))
        series.sort(key=lambda s: (strategy_rank(s[0]), s[0], s[1]))
        variants: dict[str, int] = {}
        result[panel] = []
        for strategy, _, label, points in series:
            index = variants.get(strategy, 0)
            variants[strategy] = index + 1
            result[panel].append(Series(strategy, label, index, points))
    return result
