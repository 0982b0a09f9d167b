"""How busy each resource (GPU compute, PCIe H2D, PCIe D2H, CPU cores) is during decoding, per strategy.

Grouped bars, not stacked: the resources work concurrently, so their shares overlap and need not sum to
100 %. With few configurations every one gets its own group; otherwise each batch size gets a panel at the
largest context where every strategy shown was feasible (or, failing that, where the most were).
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis import style
from analysis.configs import IDENTITY, Config, configurations, series_by_panel
from analysis.figures import axes as ax_util
from analysis.results_file import Results

FEW_CONFIGURATIONS = 6
Y_LABEL = "Busy share of decode time (%)"


def _per_configuration_groups(configs: list[Config]) -> list[tuple[str, str, Config]]:
    varying = [f for f in IDENTITY if f != "strategy" and len({c[f] for c in configs}) > 1]

    def describe(c: Config, field: str) -> str:
        return f"ctx {style.tokens_label(c[field])}" if field == "context" else f"{field} {c[field]}"

    return [("\n".join([c["strategy"]] + [describe(c, f) for f in varying]), c["strategy"], c) for c in configs]


def _largest_shared_context(series_list) -> tuple[int, list[tuple[str, str, Config]]]:
    """The context to compare at, and the (label, strategy, configuration) of each series shown there."""
    feasible = {s.label: {c["context"]: c for c in s.feasible()} for s in series_list if s.feasible()}
    contexts = {ctx for by_context in feasible.values() for ctx in by_context}
    context = max(contexts, key=lambda ctx: (sum(ctx in by_ctx for by_ctx in feasible.values()), ctx))
    groups = [(s.label, s.strategy, feasible[s.label][context]) for s in series_list
              if s.label in feasible and context in feasible[s.label]]
    return context, groups


def step_breakdown(results: Results) -> Figure | None:
    configs = [c for c in configurations(results) if c.feasible and c.mean["decode_s"] > 0]
    if not configs:
        return None
    if len(configs) <= FEW_CONFIGURATIONS:
        panels = [("", _per_configuration_groups(configs))]
    else:
        panels = []
        for batch, series_list in series_by_panel(configs, "context", "batch").items():
            context, groups = _largest_shared_context(series_list)
            panels.append((f"batch {batch}, context {style.tokens_label(context)}", groups))

    with style.context():
        figure, axes = ax_util.new_figure(len(panels), sharey=True)
        width = 0.8 / len(style.RESOURCES)
        for ax, (title, groups) in zip(axes, panels):
            positions = range(len(groups))
            for r, (resource, (share_name, color, hatch)) in enumerate(style.RESOURCES.items()):
                offsets = [p + (r - (len(style.RESOURCES) - 1) / 2) * width for p in positions]
                heights = [c.mean[share_name] * 100 for _, _, c in groups]
                errors = [c.std[share_name] * 100 for _, _, c in groups]
                ax.bar(offsets, heights, width, color=color, hatch=hatch, edgecolor="white", linewidth=0.5,
                       label=resource, yerr=errors if any(e > 0 for e in errors) else None)
            ax.set_xticks(list(positions))
            ax.set_xticklabels([label for label, _, _ in groups], rotation=30 if len(groups) > 3 else 0,
                               ha="right" if len(groups) > 3 else "center")
            ax.set_ylim(0, 105)
            ax.set_ylabel(Y_LABEL)
            ax.grid(axis="x", visible=False)
            if title:
                ax.set_title(title)
        ax_util.add_legend(figure, axes)
    return figure
