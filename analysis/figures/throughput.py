"""Decode throughput against context length, batch size or any parameter, one line per strategy (variant)."""

from __future__ import annotations

from typing import Callable

from matplotlib.figure import Figure

from analysis import style
from analysis.configs import Config, configurations, series_by_panel, varying
from analysis.figures import axes as ax_util
from analysis.results_file import Results

Y_LABEL = "Decode throughput (tokens/s)"


def _panel_field(configs: list[Config], preferred: str) -> str:
    """`preferred` (batch or context), unless it has one value and the hardware or model varies: then one
    panel per hardware profile (or model), so that strategies are not multiplied into variants."""
    if len(varying(configs, [preferred])) == 0:
        for field in ("hardware", "model"):
            if varying(configs, [field]):
                return field
    return preferred


def throughput_vs_context(results: Results) -> Figure | None:
    """Tokens/s against context (log2), one panel per batch size (or hardware profile)."""
    panel = _panel_field(configurations(results), "batch")
    return throughput_against(results, x_field="context", panel_field=panel, x_label="Context length (tokens)",
                              x_tokens=True)


def throughput_vs_batch(results: Results) -> Figure | None:
    """Tokens/s against batch size (log2), one panel per context (or hardware profile)."""
    panel = _panel_field(configurations(results), "context")
    return throughput_against(results, x_field="batch", panel_field=panel, x_label="Batch size (sequences)")


def throughput_against(results: Results, x_field: str, panel_field: str, x_label: str, x_tokens: bool = False,
                       keep: Callable[[Config], bool] | None = None, x_scale: float = 1.0,
                       log_x: bool = True, ignore: tuple = ()) -> Figure | None:
    """Tokens/s against `x_field` (an identity field or a parameter; divided by `x_scale` for display), one
    panel per value of `panel_field`, one line per strategy variant; only configurations `keep` accepts."""
    configs = [c for c in configurations(results) if keep is None or keep(c)]
    if not configs or not configs[0].has(x_field):
        return None
    panels = series_by_panel(configs, x_field, panel_field, ignore)
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
                xs = [c[x_field] / x_scale for c in points]
                ys = [c.mean["tokens_per_s"] for c in points]
                errors = [c.std["tokens_per_s"] for c in points]
                ax.plot(xs, ys, color=color, marker=style.strategy_marker(series.strategy),
                        linestyle=style.line_style(series.variant), label=series.label)
                if any(e > 0 for e in errors):
                    ax.errorbar(xs, ys, yerr=errors, fmt="none", ecolor=color, label="_nolegend_")
                last = series.last_feasible_before_infeasible(x_field)
                if last is not None:
                    ax_util.last_feasible_marker(ax, last[x_field] / x_scale, last.mean["tokens_per_s"], color,
                                                 series.label)
                    any_marker = True
                xs_all += xs
                ys_all += ys
            if log_x:
                ax_util.log2_x(ax, xs_all, tokens=x_tokens)
            ax_util.auto_y_scale(ax, ys_all)
            ax.set_xlabel(x_label)
            ax.set_ylabel(Y_LABEL)
            if len(panels) > 1:
                ax.set_title(ax_util.panel_title(panel_field, panel))
        ax_util.add_legend(figure, axes, [ax_util.last_feasible_legend_handle()] if any_marker else None)
    return figure
