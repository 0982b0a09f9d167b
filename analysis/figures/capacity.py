"""The largest batch that fits in memory at each context, per strategy: where each strategy stops.

Read from a batch x context grid of runs (feasibility is what matters; throughput is not used). A context at
which no tried batch fits is left out of the line; the legend says up to which batch the grid went.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis import style
from analysis.configs import configurations
from analysis.figures import axes as ax_util
from analysis.results_file import Results

Y_LABEL = "Largest batch that fits (sequences)"


def largest_batches(results: Results) -> dict:
    """{panel (hardware, model): {strategy: {context: largest feasible batch}}}; contexts where none fits are
    absent. Panels and strategies only where the grid has at least two batches and two contexts."""
    configs = configurations(results)
    grid: dict = {}
    for c in configs:
        panel = (c["hardware"], c["model"])
        by_context = grid.setdefault(panel, {}).setdefault(c["strategy"], {})
        by_context.setdefault(c["context"], []).append((c["batch"], c.feasible))
    out = {}
    for panel, strategies in grid.items():
        kept = {}
        for strategy, by_context in strategies.items():
            batches = {b for tried in by_context.values() for b, _ in tried}
            if len(batches) < 2 or len(by_context) < 2:
                continue
            kept[strategy] = {ctx: max(b for b, ok in tried if ok) for ctx, tried in by_context.items()
                              if any(ok for _, ok in tried)}
        if kept:
            out[panel] = kept
    return out


def capacity(results: Results) -> Figure | None:
    panels = largest_batches(results)
    if not panels:
        return None
    tried = max(int(b) for b in results.columns["batch"])
    with style.context():
        figure, axes = ax_util.new_figure(len(panels))
        for ax, ((hardware, model), strategies) in zip(axes, sorted(panels.items())):
            xs_all, ys_all = [], []
            for strategy in sorted(strategies, key=style.strategy_rank):
                points = sorted(strategies[strategy].items())
                if not points:
                    continue
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                ax.plot(xs, ys, color=style.strategy_color(strategy), marker=style.strategy_marker(strategy),
                        label=strategy)
                xs_all += xs
                ys_all += ys
            all_contexts = sorted({ctx for s in strategies.values() for ctx in s} |
                                  {int(c) for c in results.columns["context"]})
            ax_util.log2_x(ax, all_contexts, tokens=True)
            if ys_all:
                ax.set_yscale("log", base=2)
                ax.set_ylim(min(ys_all) / 1.5, tried * 1.5)
                ax.axhline(tried, color="#999999", linewidth=0.8, linestyle=":",
                           label=f"largest batch tried ({tried})")
            ax.set_xlabel("Context length (tokens)")
            ax.set_ylabel(Y_LABEL)
            if len(panels) > 1:
                ax.set_title(f"{hardware}, {model}")
        ax_util.add_legend(figure, axes)
    return figure
