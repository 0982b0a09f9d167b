"""Hardware what-ifs: decode throughput as one hardware figure changes (PCIe bandwidth, CPU cores, GPU memory),
or, across whole hardware profiles, one bar group per profile.

A hardware parameter is a what-if axis when it is the only one of them that varies; when several vary
together (different named profiles), the figure compares the profiles instead.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis import style
from analysis.configs import configurations, varying
from analysis.figures import axes as ax_util
from analysis.figures.throughput import Y_LABEL, throughput_against
from analysis.results_file import Results

AXES = (
    ("hardware.pcie.h2d.bandwidth", "PCIe bandwidth per direction (GB/s)", 1e9),
    ("hardware.cpu.cores", "CPU cores", 1.0),
    ("hardware.gpu.memory", "GPU memory (GiB)", 1024.0 ** 3),
)
HARDWARE_FIELDS = tuple(name for name, _, _ in AXES) + ("hardware.gpu.hbm_bandwidth", "hardware.cpu.memory")


def whatif_axis(results: Results):
    configs = configurations(results)
    moving = varying(configs, HARDWARE_FIELDS)
    for name, label, scale in AXES:
        if moving == [name] or (name == "hardware.pcie.h2d.bandwidth" and set(moving) <= {
                name, "hardware.pcie.d2h.bandwidth", "hardware.pcie.duplex_bandwidth"} and name in moving):
            return name, label, scale
    return None


def hardware_whatif(results: Results) -> Figure | None:
    axis = whatif_axis(results)
    configs = configurations(results)
    panel = "context" if len(varying(configs, ["context"])) else "batch"
    if axis is not None:
        name, label, scale = axis
        others = tuple(f for f in results.parameters if f.startswith("hardware.") and f != name)
        return throughput_against(results, x_field=name, panel_field=panel, x_label=label, x_scale=scale,
                                  ignore=("hardware",) + others)
    if varying(configs, ["hardware"]):
        return _profiles(configs, panel)
    return None


def _profiles(configs, panel_field: str) -> Figure:
    """Grouped bars: one group per hardware profile, one bar per strategy, one panel per context/batch."""
    panels: dict = {}
    for c in configs:
        panels.setdefault(c[panel_field], []).append(c)
    with style.context():
        figure, axes = ax_util.new_figure(len(panels), sharey=False)
        for ax, (panel, members) in zip(axes, sorted(panels.items())):
            profiles = list(dict.fromkeys(c["hardware"] for c in members))
            strategies = sorted({c["strategy"] for c in members}, key=style.strategy_rank)
            width = 0.8 / len(strategies)
            for s, strategy in enumerate(strategies):
                xs, ys, errors = [], [], []
                for p, profile in enumerate(profiles):
                    found = [c for c in members if c["hardware"] == profile and c["strategy"] == strategy
                             and c.feasible]
                    if found:
                        xs.append(p + (s - (len(strategies) - 1) / 2) * width)
                        ys.append(found[0].mean["tokens_per_s"])
                        errors.append(found[0].std["tokens_per_s"])
                ax.bar(xs, ys, width, color=style.strategy_color(strategy), label=strategy,
                       yerr=errors if any(e > 0 for e in errors) else None)
            ax.set_xticks(range(len(profiles)))
            ax.set_xticklabels(profiles, rotation=20, ha="right")
            ax.set_yscale("log")
            ax.set_ylabel(Y_LABEL)
            ax.grid(axis="x", visible=False)
            ax.set_title(ax_util.panel_title(panel_field, panel))
        ax_util.add_legend(figure, axes)
    return figure
