"""Where a profile misses the runner: prediction errors grouped by what a step is made of.

    /usr/bin/python3 -m analysis.validation_residuals PREDICT.csv [--phase cpu_attention] [--llc-mib 50] [--worst 12]

PREDICT.csv is what `hgca validate predict --csv` writes (docs/VALIDATION.md, "Reading the output"). For the
attention points it prints the median signed and absolute error (predicted / measured - 1) of the whole step
and of one phase, grouped by the step's CPU pool (KV bytes off the GPU; against the cache when --llc-mib is
given), by thread count, by head_dim and by rows each thread reads, then the points that miss most with
every phase. This is the table behind VALIDATION.md's residual findings ("Run 13": small steps on pools that
fit the cache). A missing column or an unreadable value is one line naming the file, the column or the point,
and exit status 2.
"""
import argparse
import statistics
import sys

from analysis.commented_csv import read_commented_csv

PHASES = ("gpu_window", "d2h_query", "cpu_attention", "h2d_result", "merge")
NEEDED = ("id", "role", "kind", "batch", "q_heads", "kv_heads", "head_dim", "context", "window", "cpu_select",
          "threads", "cpu_task", "measured_ms", "predicted_ms")
MIB = 1024.0 * 1024.0


class ResidualError(ValueError):
    pass


def read_points(path):
    """The attention rows of a predict CSV, with pool_mib, rows_per_thread and (predicted / measured - 1)
    errors for the step and each phase that has both figures."""
    reader = read_commented_csv(path)
    missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
    if missing:
        raise ResidualError(f"{path}: column '{missing[0]}' missing; expected a `hgca validate predict --csv` table")
    points = []
    for r in reader:
        if r["kind"] != "attention":
            continue
        try:
            p = {k: r[k] for k in ("id", "role", "cpu_task")}
            for k in ("batch", "q_heads", "kv_heads", "head_dim", "context", "window", "cpu_select", "threads"):
                p[k] = int(r[k])
            p["pool_mib"] = p["batch"] * p["kv_heads"] * p["head_dim"] * 2 * 2 * max(p["context"] - p["window"], 0) / MIB
            p["rows_per_thread"] = p["batch"] * p["q_heads"] * p["cpu_select"] / max(p["threads"], 1)
            p["errors"] = {"step": _error(r, "measured_ms", "predicted_ms")}
            p["figures"] = {"step": (float(r["measured_ms"]), float(r["predicted_ms"]))}
            for ph in PHASES:
                m, q = r.get(f"measured_{ph}_ms", ""), r.get(f"predicted_{ph}_ms", "")
                if m and q and float(m) > 0:  # a phase the runner did not time has no error
                    p["errors"][ph] = _error(r, f"measured_{ph}_ms", f"predicted_{ph}_ms")
                    p["figures"][ph] = (float(m), float(q))
        except (TypeError, ValueError, ZeroDivisionError) as e:
            raise ResidualError(f"{path}: point {r.get('id')}: {e}") from None
        points.append(p)
    return points


def _error(r, measured, predicted):
    m, q = float(r[measured]), float(r[predicted])
    if not m > 0:
        raise ValueError(f"column '{measured}' is {r[measured]!r}; expected a positive time")
    return q / m - 1.0


def pool_bin(p, llc_mib):
    """The pool's size class: against the cache when its size is known, else in powers of four of 64 MiB."""
    if llc_mib:
        ratio = p["pool_mib"] / llc_mib
        return "pool <= cache" if ratio <= 1 else "pool 1-4x cache" if ratio <= 4 else "pool > 4x cache"
    mib = p["pool_mib"]
    return ("pool <= 64 MiB" if mib <= 64 else "pool 64-256 MiB" if mib <= 256 else
            "pool 256-1024 MiB" if mib <= 1024 else "pool > 1 GiB")


def rows_bin(p):
    r = p["rows_per_thread"]
    return "rows/thread < 1K" if r < 1000 else "rows/thread 1K-10K" if r < 10000 else "rows/thread >= 10K"


# (label of a point's group, the quantity that orders the groups); None: the pool bins, which need --llc-mib.
GROUPS = (
    (None, "pool_mib"),
    (lambda p: f"threads {p['threads']}", "threads"),
    (lambda p: f"head_dim {p['head_dim']}", "head_dim"),
    (rows_bin, "rows_per_thread"),
)


def grouped(points, key, order, phase):
    """{group: (n, median signed error of the step, median |.| of the step, same two of the phase)}, the groups
    in ascending order of their smallest `order` value."""
    first = {}
    for p in points:
        first[key(p)] = min(first.get(key(p), p[order]), p[order])
    out = {}
    for g in sorted(first, key=first.get):
        members = [p for p in points if key(p) == g]
        step = [p["errors"]["step"] for p in members]
        ph = [p["errors"][phase] for p in members if phase in p["errors"]]
        out[g] = (len(members), statistics.median(step), statistics.median(abs(e) for e in step),
                  statistics.median(ph) if ph else float("nan"), statistics.median(abs(e) for e in ph) if ph else float("nan"))
    return out


def report(points, phase="cpu_attention", llc_mib=None, worst=12, out=sys.stdout):
    print(f"{len(points)} attention points; errors are predicted / measured - 1", file=out)
    print(f"{'group':<22}{'n':>4}  {'step median':>12}{'|step|':>9}  {phase + ' median':>22}{'|' + phase + '|':>17}", file=out)
    for key, order in GROUPS:
        key = key or (lambda p: pool_bin(p, llc_mib))
        for g, (n, s, sa, f, fa) in grouped(points, key, order, phase).items():
            print(f"{g:<22}{n:>4}  {s * 100:>+11.1f}%{sa * 100:>8.1f}%  {f * 100:>+21.1f}%{fa * 100:>16.1f}%", file=out)
        print(file=out)
    print(f"the {min(worst, len(points))} points that miss most (step |error|), measured / predicted us per phase:", file=out)
    for p in sorted(points, key=lambda p: -abs(p["errors"]["step"]))[:worst]:
        phases = "  ".join(f"{ph} {p['figures'][ph][0] * 1e3:.1f}/{p['figures'][ph][1] * 1e3:.1f}"
                           for ph in PHASES if ph in p["figures"])
        print(f"  {p['id']:>3} {p['role']:<7} b{p['batch']} hd{p['head_dim']} ctx {p['context']} win {p['window']} "
              f"sel {p['cpu_select']} t{p['threads']} {p['cpu_task']} pool {p['pool_mib']:.0f} MiB: "
              f"{p['errors']['step'] * 100:+.1f}% | {phases}", file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predict_csv")
    ap.add_argument("--phase", default="cpu_attention", choices=PHASES, help="the phase to group beside the step")
    ap.add_argument("--llc-mib", type=float, default=None,
                    help="cache the KV gets (a profile's cpu.llc_bytes, MiB): pools are then binned against it")
    ap.add_argument("--worst", type=int, default=12, help="how many of the worst points to list")
    args = ap.parse_args(argv)
    if args.llc_mib is not None and not args.llc_mib > 0:
        print(f"validation_residuals: --llc-mib must be a positive size in MiB, got {args.llc_mib}", file=sys.stderr)
        return 2
    try:
        points = read_points(args.predict_csv)
    except (OSError, ResidualError) as e:
        print(f"validation_residuals: {e}", file=sys.stderr)
        return 2
    if not points:
        print(f"validation_residuals: {args.predict_csv}: no attention points", file=sys.stderr)
        return 2
    report(points, args.phase, args.llc_mib, args.worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
