"""Figures from an hgca results file.

    /usr/bin/python3 -m analysis.plot RESULTS.h5 --out DIR [--formats png,pdf] [--timeline T.json]
                                      [--accuracy TABLE.csv | --accuracy REPLAY1.h5 --accuracy ...]
                                      [--accuracy-metric NAME]

Writes the figures the suite declares (the `figures:` line of its description, stored in the results), or
every figure the results support when it declares none (see analysis/figures), as DIR/<name>.<format>; prints
the paths; says on stderr why a declared figure was not drawn; exits 1 with a one-line error for a missing
or unreadable input file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from matplotlib.figure import Figure

from analysis import style
from analysis.accuracy import AccuracyFileError, load_accuracy
from analysis.figures import Inputs, make_figures
from analysis.figures.timeline import TimelineFileError
from analysis.results_file import ResultsFileError, load


def save_atomically(figure: Figure, path: str, fmt: str) -> None:
    """Writes beside `path` and renames over it, so a failed save never leaves a truncated figure."""
    directory = os.path.dirname(path) or "."
    handle, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    os.close(handle)
    try:
        with style.context():
            figure.savefig(temp, format=fmt)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def write_figures(results_path: str, out_dir: str, formats: list[str], timeline: str | None = None,
                  accuracy: list[str] | str | None = None, accuracy_metric: str | None = None,
                  notes: list | None = None) -> list[str]:
    """Writes every figure to draw in every format; returns the paths written."""
    results = load(results_path)
    inputs = Inputs(timeline=timeline, accuracy=load_accuracy(accuracy, accuracy_metric) if accuracy else None)
    figures = make_figures(results, inputs, notes)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, figure in figures.items():
        for fmt in formats:
            path = os.path.join(out_dir, f"{name}.{fmt}")
            save_atomically(figure, path, fmt)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m analysis.plot", description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results file written by hgca (HDF5)")
    parser.add_argument("--out", required=True, help="directory for the figures (created if missing)")
    parser.add_argument("--formats", default="png,pdf", help="comma-separated: png, pdf, svg (default png,pdf)")
    parser.add_argument("--timeline", help="Chrome-trace JSON from `hgca run --timeline` (step_timeline figure)")
    parser.add_argument("--accuracy", action="append",
                        help="accuracy by budget (sparsity_pareto): a table (CSV/HDF5), or hgca replay results "
                             "files, one per budget (repeat the option)")
    parser.add_argument("--accuracy-metric", help="the accuracy column to plot (default: the first numeric one)")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in ("png", "pdf", "svg")]
    if unknown or not formats:
        print(f"error: --formats: unsupported format '{unknown[0] if unknown else ''}' (use png, pdf, svg)",
              file=sys.stderr)
        return 2
    notes: list[str] = []
    try:
        written = write_figures(args.results, args.out, formats, args.timeline, args.accuracy,
                                args.accuracy_metric, notes)
    except (ResultsFileError, AccuracyFileError, TimelineFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: cannot write figures to {args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if not written:
        print(f"{args.results}: no figure applies (need several contexts, batch sizes or feasible runs)",
              file=sys.stderr)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
