"""Sparsity budget against throughput, and (given trace-replay accuracy) the accuracy/throughput Pareto front.

The budget is the swept selection parameter: `system.selection.fraction`, `system.selection.top_k` or
`system.selection.median_fraction`, whichever varies (else the mean per-head fraction the run selected). Top
row: tokens/s against budget, one panel per context. With an accuracy table (analysis/accuracy.py): a second
row with accuracy against tokens/s, each point one budget, and the Pareto-optimal points joined.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from analysis import style
from analysis.accuracy import AccuracyTable
from analysis.configs import Config, configurations, short_name, varying
from analysis.figures import axes as ax_util
from analysis.results_file import Results

SELECTING = ("hgca", "fetch-topk")
BUDGET_FIELDS = ("system.selection.fraction", "system.selection.top_k", "system.selection.median_fraction")


def budget_field(configs: list[Config]) -> str | None:
    for name in BUDGET_FIELDS:
        if varying(configs, [name]):
            return name
    return None


def budget_of(c: Config, field: str | None) -> float:
    return c[field] if field else c.mean.get("selection.mean_fraction", float("nan"))


def pareto_front(points: list[tuple[float, float]], lower_is_better: bool) -> list[tuple[float, float]]:
    """The (throughput, accuracy) points no other point beats in both, sorted by throughput."""
    better = (lambda a, b: a <= b) if lower_is_better else (lambda a, b: a >= b)
    front = []
    for x, y in points:
        dominated = any(ox >= x and better(oy, y) and (ox, oy) != (x, y) for ox, oy in points)
        if not dominated:
            front.append((x, y))
    return sorted(set(front))


def sparsity_pareto(results: Results, accuracy: AccuracyTable | None = None) -> Figure | None:
    configs = [c for c in configurations(results) if c["strategy"] in SELECTING and c.feasible]
    field = budget_field(configs)
    # Without a swept budget, the mean per-head fraction the runs selected (absent from older files).
    configs = [c for c in configs if budget_of(c, field) == budget_of(c, field)]  # drops NaN: no budget
    by_context: dict = {}
    for c in configs:
        by_context.setdefault(c["context"], {}).setdefault(c["strategy"], []).append(c)
    by_context = {ctx: s for ctx, s in sorted(by_context.items())
                  if any(len({budget_of(c, field) for c in cs}) >= 2 for cs in s.values())}
    if not by_context:
        return None
    is_fraction = field is None or "fraction" in field
    x_label = ("Selected share of CPU-resident entries per head (%)" if is_fraction
               else f"Selected entries per head ({short_name(field)})")
    scale = 100.0 if is_fraction else 1.0
    with style.context():
        columns = len(by_context)
        figure, axes = ax_util.new_figure(columns * (2 if accuracy else 1))
        for ax, (context, strategies) in zip(axes[:columns], by_context.items()):
            xs_all = []
            for strategy in sorted(strategies, key=style.strategy_rank):
                points = sorted(strategies[strategy], key=lambda c: budget_of(c, field))
                xs = [budget_of(c, field) * scale for c in points]
                ys = [c.mean["tokens_per_s"] for c in points]
                errors = [c.std["tokens_per_s"] for c in points]
                color = style.strategy_color(strategy)
                ax.plot(xs, ys, color=color, marker=style.strategy_marker(strategy), label=strategy)
                if any(e > 0 for e in errors):
                    ax.errorbar(xs, ys, yerr=errors, fmt="none", ecolor=color, label="_nolegend_")
                xs_all += xs
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(FixedLocator(sorted(set(xs_all))))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_xlabel(x_label)
            ax.set_ylabel("Decode throughput (tokens/s)")
            ax.set_ylim(bottom=0)
            ax.set_title(f"context {style.tokens_label(context)}")
        if accuracy:
            for ax, (context, strategies) in zip(axes[columns:], by_context.items()):
                _accuracy_panel(ax, context, strategies, field, accuracy, scale)
        ax_util.add_legend(figure, axes)
    return figure


def _accuracy_panel(ax, context, strategies, field, accuracy: AccuracyTable, scale: float) -> None:
    for strategy in sorted(strategies, key=style.strategy_rank):
        points = []
        for c in strategies[strategy]:
            value = accuracy.lookup(budget_of(c, field), c["window"])
            if value is not None:
                points.append((c.mean["tokens_per_s"], value, budget_of(c, field)))
        if not points:
            continue
        color = style.strategy_color(strategy)
        ax.plot([p[0] for p in points], [p[1] for p in points], linestyle="none", color=color,
                marker=style.strategy_marker(strategy), label=f"{strategy} (each point a budget)")
        for x, y, budget in points:
            ax.annotate(f"{budget * scale:g}", (x, y), textcoords="offset points", xytext=(3, 3), fontsize=6)
        front = pareto_front([(p[0], p[1]) for p in points], accuracy.lower_is_better)
        ax.plot([p[0] for p in front], [p[1] for p in front], color=color, linewidth=0.9, linestyle="--",
                label=f"{strategy} Pareto front", gid=f"pareto:{strategy}")
    ax.set_xlabel("Decode throughput (tokens/s)")
    direction = "lower is better" if accuracy.lower_is_better else "higher is better"
    ax.set_ylabel(f"{accuracy.metric} ({direction})")
    ax.set_title(f"context {style.tokens_label(context)}: accuracy from replay")
