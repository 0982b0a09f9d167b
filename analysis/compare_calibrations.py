"""Compare two calibration tables of one machine row by row (how reproducible its measurements are).

    /usr/bin/python3 -m analysis.compare_calibrations A.measurements.csv B.measurements.csv

The tables are what `hgca calibrate --out` writes (docs/CALIBRATION.md): the same grid in the same order.
Prints, per primitive, the median, 90th percentile and largest |time_A / time_B - 1|. Exits 2 with one line
when the tables do not pair up (different primitives or lengths).
"""
import argparse
import statistics
import sys
from collections import defaultdict

from analysis.commented_csv import read_commented_csv


def read_table(path):
    return list(read_commented_csv(path))


def compare(a_rows, b_rows, a_name="A", b_name="B"):
    """Returns {primitive: sorted list of |a/b - 1|}; raises ValueError when the rows do not pair up."""
    if len(a_rows) != len(b_rows):
        raise ValueError(f"{a_name} has {len(a_rows)} rows, {b_name} has {len(b_rows)}: not the same grid")
    out = defaultdict(list)
    for i, (a, b) in enumerate(zip(a_rows, b_rows)):
        if a["primitive"] != b["primitive"]:
            raise ValueError(f"row {i + 1}: {a_name} has {a['primitive']}, {b_name} has {b['primitive']}")
        out[a["primitive"]].append(abs(float(a["time_s"]) / float(b["time_s"]) - 1.0))
    return {k: sorted(v) for k, v in out.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a")
    p.add_argument("b")
    args = p.parse_args(argv)
    try:
        spread = compare(read_table(args.a), read_table(args.b), args.a, args.b)
    except (OSError, KeyError, ValueError) as e:
        print(f"compare_calibrations: {e}", file=sys.stderr)
        return 2
    print(f"{'primitive':<15}{'rows':>5}  {'median':>8}  {'p90':>8}  {'max':>8}   |A/B - 1|")
    for k, v in spread.items():
        p90 = v[min(len(v) - 1, int(0.9 * len(v)))]
        print(f"{k:<15}{len(v):>5}  {100 * statistics.median(v):>7.1f}%  {100 * p90:>7.1f}%  {100 * v[-1]:>7.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
