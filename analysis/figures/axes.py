"""Panel grids, axes scales and legends shared by the figures."""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from analysis import style

MAX_COLUMNS = 3
LOG_Y_RANGE = 20.0  # a y axis spanning more than this factor is drawn logarithmic


def new_figure(panels: int, sharey: bool = False) -> tuple[Figure, list]:
    columns = min(panels, MAX_COLUMNS)
    rows = math.ceil(panels / columns)
    width, height = style.PANEL_SIZE
    figure = Figure(figsize=(width * columns, height * rows), constrained_layout=True)
    grid = figure.subplots(rows, columns, squeeze=False, sharey=sharey)
    axes = [ax for row in grid for ax in row]
    for ax in axes[panels:]:
        ax.set_visible(False)
    return figure, axes[:panels]


def log2_x(ax, values, tokens: bool) -> None:
    """Log2 x axis with a tick at every value present (token counts as 4K, 1M, ...)."""
    ticks = sorted(set(values))
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _: style.tokens_label(v) if tokens else (f"{int(round(v))}" if abs(v - round(v)) < 1e-9
                                                           else f"{v:g}")))
    if len(ticks) == 1:
        ax.set_xlim(ticks[0] / 2, ticks[0] * 2)


def auto_y_scale(ax, values) -> None:
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > LOG_Y_RANGE:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)


def last_feasible_marker(ax, x: float, y: float, color: str, series_label: str) -> None:
    """An open ring around the last feasible point of a strategy that becomes infeasible after it."""
    ax.plot([x], [y], linestyle="none", marker="o", markersize=11, markerfacecolor="none",
            markeredgecolor=color, markeredgewidth=1.2, label="_last feasible", gid=f"last-feasible:{series_label}")


LAST_FEASIBLE_LEGEND = "last feasible point"


def add_legend(figure: Figure, axes: list, extra_handles: list | None = None) -> None:
    """One legend for the figure: inside a single panel, below the grid for several."""
    handles, labels = {}, []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    all_handles = [handles[label] for label in labels] + list(extra_handles or [])
    all_labels = labels + [h.get_label() for h in (extra_handles or [])]
    if not all_handles:
        return
    if len(axes) == 1:
        axes[0].legend(all_handles, all_labels, loc="best")
    else:
        figure.legend(all_handles, all_labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncol=min(len(all_labels), 4))


def last_feasible_legend_handle() -> Line2D:
    return Line2D([], [], linestyle="none", marker="o", markersize=11, markerfacecolor="none",
                  markeredgecolor="#555555", markeredgewidth=1.2, label=LAST_FEASIBLE_LEGEND)


def panel_title(field: str, value) -> str:
    if field == "context":
        return f"context {style.tokens_label(value)}"
    if field in ("hardware", "model"):
        return str(value)
    return f"{field} {value}"
