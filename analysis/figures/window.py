"""Window-size sensitivity: decode throughput against the GPU window, one panel per context."""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis.figures.throughput import throughput_against
from analysis.results_file import Results


def window_sensitivity(results: Results) -> Figure | None:
    """Tokens/s against the GPU window (log2) for the strategies that have one (window > 0)."""
    return throughput_against(results, x_field="window", panel_field="context", x_label="GPU window (tokens)",
                              keep=lambda c: c["window"] > 0, x_tokens=True)
