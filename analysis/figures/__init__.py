"""The figures, by output name. Each function takes Results and returns a matplotlib Figure, or None when
the results lack what that figure needs (e.g. a single context for throughput_vs_context)."""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis.figures.breakdown import step_breakdown
from analysis.figures.latency import step_latency
from analysis.figures.throughput import throughput_vs_batch, throughput_vs_context
from analysis.results_file import Results

FIGURES = {
    "throughput_vs_context": throughput_vs_context,
    "throughput_vs_batch": throughput_vs_batch,
    "step_breakdown": step_breakdown,
    "step_latency": step_latency,
}


def make_figures(results: Results) -> dict[str, Figure]:
    """Every figure the results support, in FIGURES order."""
    figures = {}
    for name, build in FIGURES.items():
        figure = build(results)
        if figure is not None:
            figures[name] = figure
    return figures
