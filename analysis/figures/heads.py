"""Per-head selection budgets: which share of its CPU-resident entries each (layer, head) selects.

Left: the budgets of one run as a layer x head map (log colour scale). Right: their distribution over heads
(cumulative share of heads at or below a budget), one line per distinct selection setting in the results,
labelled by the selection parameters that differ (e.g. sigma). Runs of the same setting that differ only in
seed are pooled.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from analysis import style
from analysis.configs import configurations, describe_value, varying
from analysis.results_file import Results

SELECTION_PREFIX = "system.selection"


def selection_groups(results: Results) -> list[tuple[str, np.ndarray]]:
    """[(label, all per-head fractions pooled over the group's runs)] in order of first appearance."""
    configs = [c for c in configurations(results) if any(i in results.head_selection for i in c.indices)]
    if not configs:
        return []
    fields = [f for f in configs[0].fields if f.startswith(SELECTION_PREFIX)]
    differing = varying(configs, fields)
    groups: dict[tuple, list[np.ndarray]] = {}
    for c in configs:
        key = tuple(c[f] for f in differing)
        groups.setdefault(key, []).extend(results.head_selection[i].ravel() for i in c.indices
                                          if i in results.head_selection)
    labelled = []
    for key, arrays in groups.items():
        label = ", ".join(describe_value(f, v) for f, v in zip(differing, key)) or "per-head budget"
        # The same run may appear in several configurations (e.g. contexts): pool each run once.
        labelled.append((label, np.concatenate(arrays)))
    return labelled


def head_selection(results: Results) -> Figure | None:
    groups = selection_groups(results)
    if not groups:
        return None
    first = results.head_selection[min(results.head_selection)]
    with style.context():
        width, height = style.PANEL_SIZE
        figure = Figure(figsize=(2 * width, height), constrained_layout=True)
        heat, cdf = figure.subplots(1, 2)
        positive = first[first > 0]
        norm = LogNorm(vmin=max(positive.min(), 1e-4), vmax=max(first.max(), 1e-3)) if positive.size else None
        image = heat.imshow(np.clip(first, 1e-4, None), aspect="auto", origin="lower", cmap="viridis", norm=norm,
                            interpolation="nearest")
        figure.colorbar(image, ax=heat, label="Selected share of CPU entries")
        heat.set_xlabel("Query head")
        heat.set_ylabel("Layer")
        heat.set_title(f"{groups[0][0]} (one run)")
        heat.grid(False)
        colours = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.85, len(groups)))
        for (label, values), colour in zip(groups, colours):
            xs = np.sort(values) * 100
            ys = np.arange(1, len(xs) + 1) / len(xs)
            cdf.step(xs, ys, where="post", color=colour, label=label)
        cdf.set_xscale("log")
        cdf.set_ylim(0, 1.02)
        cdf.set_xlabel("Selected share of CPU-resident entries (%)")
        cdf.set_ylabel("Share of heads at or below")
        if len(groups) > 1 or groups[0][0] != "per-head budget":
            cdf.legend(loc="lower right")
    return figure
