"""One publication style for every figure: colour-blind-safe colours fixed per strategy, units on axes.

Colours are the Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008) plus its usual grey; each
strategy also has its own marker so figures survive greyscale printing.
"""

from __future__ import annotations

import contextlib
import zlib

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

# Display order (legends, bar groups) and the fixed look of each known strategy.
STRATEGIES = {
    "hgca": (OKABE_ITO["vermillion"], "o"),
    "gpu-full": (OKABE_ITO["blue"], "s"),
    "offload-fetch": (OKABE_ITO["orange"], "^"),
    "cpu-full": (OKABE_ITO["bluish_green"], "v"),
    "window-only": (OKABE_ITO["sky_blue"], "D"),
    "fetch-topk": (OKABE_ITO["reddish_purple"], "P"),
    "flexgen": (OKABE_ITO["black"], "X"),
    "h2o": (OKABE_ITO["yellow"], "<"),
    "infinigen": (OKABE_ITO["grey"], ">"),
}
_FALLBACK_MARKERS = ("h", "*", "p", "d", "8")

# Resources in the step breakdown: a second, separate set so they are never confused with strategies.
RESOURCES = {
    "GPU": ("gpu_share", "#332288", ""),
    "H2D": ("h2d_share", "#88CCEE", "//"),
    "D2H": ("d2h_share", "#44AA99", "\\\\"),
    "CPU": ("cpu_share", "#DDCC77", ".."),
}

LINE_STYLES = ("-", "--", "-.", ":")  # by variant index within a strategy

RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linestyle": ":",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.4,
    "lines.markersize": 4.5,
    "legend.frameon": False,
    "errorbar.capsize": 2.5,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,  # TrueType in PDFs: text stays editable and journals accept it
    "ps.fonttype": 42,
}

PANEL_SIZE = (3.4, 2.5)  # inches: one panel fits a single column


def strategy_rank(strategy: str) -> int:
    names = list(STRATEGIES)
    return names.index(strategy) if strategy in names else len(names)


def strategy_color(strategy: str) -> str:
    if strategy in STRATEGIES:
        return STRATEGIES[strategy][0]
    # Unknown names get a stable (hash-based, not order-based) colour so reruns look the same.
    greys = ("#444444", "#777777", "#AAAAAA")
    return greys[zlib.crc32(strategy.encode()) % len(greys)]


def strategy_marker(strategy: str) -> str:
    if strategy in STRATEGIES:
        return STRATEGIES[strategy][1]
    return _FALLBACK_MARKERS[zlib.crc32(strategy.encode()) % len(_FALLBACK_MARKERS)]


def line_style(variant: int) -> str:
    return LINE_STYLES[variant % len(LINE_STYLES)]


@contextlib.contextmanager
def context():
    """Applies the style to figures created (and saved) inside the block."""
    with matplotlib.rc_context(RC):
        yield


def tokens_label(value: float) -> str:
    """Token counts as axis labels: 4096 -> 4K, 1048576 -> 1M, 1000 -> 1000."""
    value = int(round(value))
    for size, suffix in ((1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)


def format_quantity(field: str, value) -> str:
    """A configuration value in the unit people write: "55 GB/s", "80 GiB", "1%", "32", "block-summary"."""
    if isinstance(value, str):
        return value
    if value != value:  # NaN: not applicable
        return "-"
    last = field.split(".")[-1]
    if "bandwidth" in last:
        return f"{value / 1e9:g} GB/s"
    if last == "memory":
        return f"{value / 1024 ** 3:g} GiB"
    if "fraction" in last:
        return f"{value * 100:g}%"
    if float(value).is_integer():
        return tokens_label(value) if last in ("context", "prompt", "window", "top_k") else str(int(value))
    return f"{value:g}"
