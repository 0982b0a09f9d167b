"""The figures, by output name. Each builder takes Results (and the optional extra inputs) and returns a
matplotlib Figure, or None when the results lack what that figure needs (e.g. a single context for
throughput_vs_context)."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from analysis.accuracy import AccuracyTable
from analysis.figures.breakdown import step_breakdown
from analysis.figures.capacity import capacity
from analysis.figures.heads import head_selection
from analysis.figures.latency import step_latency
from analysis.figures.sparsity import sparsity_pareto
from analysis.figures.throughput import throughput_vs_batch, throughput_vs_context
from analysis.figures.timeline import step_timeline
from analysis.figures.whatif import hardware_whatif
from analysis.figures.window import window_sensitivity
from analysis.results_file import Results


@dataclass(frozen=True)
class Inputs:
    """What some figures read besides the results file."""
    timeline: str | None = None              # Chrome-trace JSON from `hgca run --timeline` (step_timeline)
    accuracy: AccuracyTable | None = None    # accuracy by budget from trace replay (sparsity_pareto)


# name -> (builder, what it needs, said when a declared figure cannot be drawn)
FIGURES = {
    "throughput_vs_context": (lambda r, i: throughput_vs_context(r), "feasible runs at two or more contexts"),
    "throughput_vs_batch": (lambda r, i: throughput_vs_batch(r), "feasible runs at two or more batch sizes"),
    "step_breakdown": (lambda r, i: step_breakdown(r), "a feasible run"),
    "step_latency": (lambda r, i: step_latency(r), "feasible runs at two or more contexts"),
    "capacity": (lambda r, i: capacity(r), "a grid of two or more batch sizes and contexts"),
    "window_sensitivity": (lambda r, i: window_sensitivity(r), "feasible runs at two or more windows"),
    "sparsity_pareto": (lambda r, i: sparsity_pareto(r, i.accuracy),
                        "hgca or fetch-topk runs at two or more selection budgets"),
    "head_selection": (lambda r, i: head_selection(r), "runs with per-head selections (hgca, fetch-topk)"),
    "step_timeline": (lambda r, i: step_timeline(i.timeline) if i.timeline else None,
                      "a timeline: pass --timeline FILE.json (from hgca run --timeline)"),
    "hardware_whatif": (lambda r, i: hardware_whatif(r),
                        "runs that differ in one hardware figure (PCIe bandwidth, CPU cores, GPU memory) or profile"),
}


def make_figures(results: Results, inputs: Inputs | None = None, notes: list | None = None) -> dict[str, Figure]:
    """The figures the suite declares (results.figures), or every figure the results support when it declares
    none, in that order. Declared figures that are unknown or cannot be drawn are explained in `notes`."""
    inputs = inputs or Inputs()
    notes = notes if notes is not None else []
    declared = list(results.figures)
    for name in declared:
        if name not in FIGURES:
            notes.append(f"declared figure '{name}' is unknown (known: {', '.join(FIGURES)})")
    names = [n for n in declared if n in FIGURES] if declared else list(FIGURES)
    figures = {}
    for name in names:
        build, needs = FIGURES[name]
        figure = build(results, inputs)
        if figure is not None:
            figures[name] = figure
        elif declared:
            notes.append(f"declared figure '{name}' not drawn: it needs {needs}")
    return figures
