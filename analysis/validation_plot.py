"""Predicted against measured per-step time, from the HDF5 that `hgca validate predict --out` writes.

    /usr/bin/python3 -m analysis.validation_plot VALIDATION.h5 --out DIR [--formats png,pdf]

Draws DIR/validation_scatter.<format>: one panel per kind (attention step, whole decode step), log-log,
measured on x and predicted on y, the y = x line and a +-10% band; fit and holdout points in different
colours (Okabe-Ito) and markers; the median and p90 |error| of each role in the legend. Where the table
recorded each point's passes (`measured_standard_error`, from `hgca validate measure --passes`), a horizontal
bar of +-1 standard error shows how well the measurement itself is known. Rows the simulator
found infeasible (NaN prediction) are left out and counted on stderr. Exits 1 with a one-line error for a
missing or malformed file.
"""

from __future__ import annotations

import argparse
import os
import sys

import h5py
import numpy as np
from matplotlib.figure import Figure

from analysis import style
from analysis.plot import save_atomically

ROLES = {  # role -> (colour, marker, label)
    "fit": (style.OKABE_ITO["blue"], "o", "fit"),
    "holdout": (style.OKABE_ITO["vermillion"], "^", "holdout"),
}
KINDS = {"attention": "attention step", "decode-step": "whole decode step"}
BAND = 0.10


class ValidationFileError(Exception):
    """A missing or malformed validation file (one line)."""


def _strings(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def load_rows(path: str) -> dict[str, np.ndarray]:
    """The /rows columns the plot needs: kind, role (str arrays), measured_ms, predicted_ms, error, and
    measured_standard_error (relative; NaN for every row in a file written before it existed)."""
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") not in ("hgca-validation", b"hgca-validation"):
                raise ValidationFileError(f"{path}: not an hgca validation file (attribute format)")
            rows = f.get("rows")
            if rows is None:
                raise ValidationFileError(f"{path}: missing group /rows")
            out = {}
            for name in ("kind", "role", "measured_ms", "predicted_ms", "error"):
                if name not in rows:
                    raise ValidationFileError(f"{path}: missing dataset /rows/{name}")
                data = rows[name][()]
                out[name] = np.array(_strings(data)) if name in ("kind", "role") else np.asarray(data, dtype=float)
            n = out["measured_ms"].shape[0]
            se = rows["measured_standard_error"][()] if "measured_standard_error" in rows else np.full(n, np.nan)
            out["measured_standard_error"] = np.asarray(se, dtype=float)
            if out["measured_standard_error"].shape != (n,):
                raise ValidationFileError(f"{path}: /rows/measured_standard_error has {out['measured_standard_error'].size}"
                                          f" values; expected {n}, one per row")
            return out
    except OSError as e:
        raise ValidationFileError(f"{path}: cannot read ({e})") from None


def percentile_abs(errors: np.ndarray, q: float) -> float:
    return float(np.percentile(np.abs(errors), q)) if errors.size else float("nan")


def scatter(rows: dict[str, np.ndarray]) -> Figure:
    kinds = [k for k in KINDS if np.any(rows["kind"] == k)]
    if not kinds:
        kinds = ["attention"]
    width, height = style.PANEL_SIZE
    figure = Figure(figsize=(width * len(kinds), height + 0.9), layout="constrained")
    for i, kind in enumerate(kinds):
        ax = figure.add_subplot(1, len(kinds), i + 1)
        of_kind = rows["kind"] == kind
        ok = of_kind & np.isfinite(rows["predicted_ms"]) & (rows["measured_ms"] > 0)
        values = np.concatenate([rows["measured_ms"][ok], rows["predicted_ms"][ok]])
        lo, hi = (values.min() / 1.5, values.max() * 1.5) if values.size else (0.01, 100.0)
        line = np.geomspace(lo, hi, 50)
        ax.fill_between(line, line * (1 - BAND), line * (1 + BAND), color=style.OKABE_ITO["grey"], alpha=0.25,
                        linewidth=0, label=f"±{BAND:.0%}")
        ax.plot(line, line, color=style.OKABE_ITO["black"], linewidth=0.8, label="y = x")
        for role, (colour, marker, label) in ROLES.items():
            sel = ok & (rows["role"] == role)
            if not np.any(sel):
                continue
            err = rows["error"][sel]
            se = rows["measured_standard_error"][sel]
            bars = np.isfinite(se)
            if np.any(bars):
                x = rows["measured_ms"][sel][bars]
                ax.errorbar(x, rows["predicted_ms"][sel][bars], xerr=x * se[bars], fmt="none", ecolor=colour,
                            elinewidth=0.8, capsize=0, label=f"_se {kind}:{role}")  # "_": not in the legend
            ax.plot(rows["measured_ms"][sel], rows["predicted_ms"][sel], linestyle="none", marker=marker,
                    color=colour, markerfacecolor="none" if role == "holdout" else colour, gid=f"{kind}:{role}",
                    label=f"{label} (n={int(sel.sum())}, median {percentile_abs(err, 50):.1%}, "
                          f"p90 {percentile_abs(err, 90):.1%})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("measured time per step (ms)")
        ax.set_ylabel("predicted time per step (ms)")
        ax.set_title(KINDS.get(kind, kind))
        # Below the panel: points may fall anywhere around the diagonal.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m analysis.validation_plot", description=__doc__.splitlines()[0])
    parser.add_argument("validation", help="HDF5 written by hgca validate predict --out")
    parser.add_argument("--out", required=True, help="directory for the figure (created if missing)")
    parser.add_argument("--formats", default="png,pdf", help="comma-separated: png, pdf, svg (default png,pdf)")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not formats or any(f not in ("png", "pdf", "svg") for f in formats):
        print("error: --formats: use png, pdf or svg", file=sys.stderr)
        return 2
    try:
        rows = load_rows(args.validation)
    except ValidationFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    dropped = int(np.sum(~np.isfinite(rows["predicted_ms"])))
    if dropped:
        print(f"note: {dropped} row(s) without a prediction (infeasible in the simulator) are not drawn", file=sys.stderr)
    with style.context():
        figure = scatter(rows)
    os.makedirs(args.out, exist_ok=True)
    for fmt in formats:
        path = os.path.join(args.out, f"validation_scatter.{fmt}")
        save_atomically(figure, path, fmt)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
