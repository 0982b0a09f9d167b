"""Decode throughput against context length or batch size, one line per strategy (variant)."""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis import style
from analysis.configs import configurations, series_by_panel
from analysis.figures import axes as ax_util
from analysis.results_file import Results

Y_LABEL = "Decode throughput (tokens/s)"


def throughput_vs_context(results: Results) -> Figure | None:
    """Tokens/s against context (log2), one panel per batch size."""
    return _throughput(results, x_field="context", panel_field="batch", x_label="Context length (tokens)")


def throughput_vs_batch(results: Results) -> Figure | None:
    """Tokens/s against batch size (log2), one panel per context."""
    return _throughput(results, x_field="batch", panel_field="context", x_label="Batch size (sequences)")


def _throughput(results: Results, x_field: str, panel_field: str, x_label: str) -> Figure | None:
    configs = configurations(results)
    panels = series_by_panel(configs, x_field, panel_field)
    # A panel needs two feasible x values to show a trend; infeasible points are omitted, not drawn at 0.
    panels = {p: s for p, s in panels.items() if len({c[x_field] for x in s for c in x.feasible()}) >= 2}
    if not panels:
        return None
    with style.context():
        figure, axes = ax_util.new_figure(len(panels))
        any_marker = False
        for ax, (panel, series_list) in zip(axes, panels.items()):
            xs_all, ys_all = [], []
            for series in series_list:
                points = series.feasible()
                if not points:
                    continue
                color = style.strategy_color(series.strategy)
                xs = [c[x_field] for c in points]
                ys = [c.mean["tokens_per_s"] for c in points]
                errors = [c.std["tokens_per_s"] for c in points]
                ax.plot(xs, ys, color=color, marker=style.strategy_marker(series.strategy),
                        linestyle=style.line_style(series.variant), label=series.label)
                if any(e > 0 for e in errors):
                    ax.errorbar(xs, ys, yerr=errors, fmt="none", ecolor=color, label="_nolegend_")
                last = series.last_feasible_before_infeasible(x_field)
                if last is not None:
                    ax_util.last_feasible_marker(ax, last[x_field], last.mean["tokens_per_s"], color, series.label)
                    any_marker = True
                xs_all += xs
                ys_all += ys
            ax_util.log2_x(ax, xs_all, tokens=x_field == "context")
            ax_util.auto_y_scale(ax, ys_all)
            ax.set_xlabel(x_label)
            ax.set_ylabel(Y_LABEL)
            if len(panels) > 1:
                ax.set_title(ax_util.panel_title(panel_field, panel))
        ax_util.add_legend(figure, axes, [ax_util.last_feasible_legend_handle()] if any_marker else None)
    return figure
