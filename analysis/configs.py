"""Configurations (runs that differ only in seed, averaged) and series (configurations along one axis).

A configuration is identified by IDENTITY; its runs differ only in `seed` (and `point_label`, which often
names the seed). Figures are means over those runs with the sample standard deviation as error bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from analysis.results_file import Results
from analysis.style import strategy_rank

IDENTITY = ("experiment", "strategy", "hardware", "model", "batch", "context", "decode", "window")
FIGURES = ("tokens_per_s", "step_p50_s", "step_p99_s", "decode_s", "gpu_share", "h2d_share", "d2h_share",
           "cpu_share")


@dataclass(frozen=True)
class Config:
    key: tuple                # values of IDENTITY, in that order
    feasible: bool            # every run of the configuration was feasible
    runs: int                 # how many runs (seeds) it averages
    mean: dict[str, float]    # FIGURES -> mean over runs (feasible configurations only)
    std: dict[str, float]     # FIGURES -> sample standard deviation (0 for a single run)
    reason: str               # first infeasibility reason, "" when feasible

    def __getitem__(self, name: str):
        return self.key[IDENTITY.index(name)]


def configurations(results: Results) -> list[Config]:
    """All configurations, in order of their first run."""
    groups: dict[tuple, list[dict]] = {}
    for row in results.rows():
        groups.setdefault(tuple(row[name] for name in IDENTITY), []).append(row)
    configs = []
    for key, rows in groups.items():
        feasible = all(row["feasible"] for row in rows)
        mean, std = {}, {}
        if feasible:
            for name in FIGURES:
                values = np.array([row[name] for row in rows], dtype=float)
                mean[name] = float(values.mean())
                std[name] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        reason = next((row["infeasible_reason"] for row in rows if not row["feasible"]), "")
        configs.append(Config(key, feasible, len(rows), mean, std, reason))
    return configs


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
    return f"{field} {value}" if field != "experiment" else str(value)


def series_by_panel(configs: Iterable[Config], x_field: str, panel_field: str) -> dict:
    """{panel value: [Series]} with one series per strategy variant; panels and series in a stable order.

    The fields that are neither the strategy, x nor panel tell variants apart; a series label names only
    those that vary among the configurations of its strategy."""
    configs = list(configs)
    other = [f for f in IDENTITY if f not in ("strategy", x_field, panel_field)]
    varying: dict[str, list[str]] = {}
    for strategy in {c["strategy"] for c in configs}:
        mine = [c for c in configs if c["strategy"] == strategy]
        # Judged on feasible configurations: an infeasible run may not report every parameter (e.g. its
        # window), and must still join its strategy's line to mark where that line ends.
        judged = [c for c in mine if c.feasible] or mine
        varying[strategy] = [f for f in other if len({c[f] for c in judged}) > 1]

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
