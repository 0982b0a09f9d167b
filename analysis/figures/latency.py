"""Median and tail (p99) decode-step latency against context, one panel per batch size."""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis import style
from analysis.configs import configurations, series_by_panel
from analysis.figures import axes as ax_util
from analysis.results_file import Results

PERCENTILES = (("p50", "step_p50_s", "-"), ("p99", "step_p99_s", "--"))


def step_latency(results: Results) -> Figure | None:
    panels = series_by_panel(configurations(results), "context", "batch")
    panels = {p: s for p, s in panels.items() if len({c["context"] for x in s for c in x.feasible()}) >= 2}
    if not panels:
        return None
    with style.context():
        figure, axes = ax_util.new_figure(len(panels))
        for ax, (panel, series_list) in zip(axes, panels.items()):
            xs_all, ys_all = [], []
            for series in series_list:
                points = series.feasible()
                if not points:
                    continue
                color = style.strategy_color(series.strategy)
                xs = [c["context"] for c in points]
                for name, figure_name, linestyle in PERCENTILES:
                    ys = [c.mean[figure_name] * 1e3 for c in points]
                    errors = [c.std[figure_name] * 1e3 for c in points]
                    # p50 solid with filled markers, p99 dashed with open ones; colour says the strategy.
                    ax.plot(xs, ys, color=color, marker=style.strategy_marker(series.strategy),
                            markerfacecolor=color if name == "p50" else "none", linestyle=linestyle,
                            label=f"{series.label} {name}")
                    if any(e > 0 for e in errors):
                        ax.errorbar(xs, ys, yerr=errors, fmt="none", ecolor=color, label="_nolegend_")
                    ys_all += ys
                xs_all += xs
            ax_util.log2_x(ax, xs_all, tokens=True)
            ax_util.auto_y_scale(ax, ys_all)
            ax.set_xlabel("Context length (tokens)")
            ax.set_ylabel("Decode step latency (ms)")
            if len(panels) > 1:
                ax.set_title(ax_util.panel_title("batch", panel))
        ax_util.add_legend(figure, axes)
    return figure
