"""Check captured traces with numpy alone (the C++ twin is traces/format/trace_check.hpp).

    /usr/bin/python3 -m traces.capture.verify TRACE.h5 [--step-stride N]
        recompute every stored attention output from the trace's own Q/K/V (float64, causal, GQA) and report
        the largest relative error |o_stored - o_ref| / |o_ref|
    /usr/bin/python3 -m traces.capture.verify --compare A.h5 B.h5
        the largest relative difference per dataset between two traces of the same text: max |a - b| / max |b|
        over each (layer, head) block (prompt queries too when both store the same positions); tokens must be
        equal

Exit 0 when within tolerance (--tolerance, default per storage dtype as in C++), 1 otherwise, 2 on bad input.
"""
import argparse
import sys

import numpy as np

from .trace_file import TraceFileError, TraceReader

# As traces/format/trace_check.cpp output_tolerance().
OUTPUT_TOLERANCE = {"float32": 1e-3, "float16": 2e-2, "bfloat16": 1.5e-1}


def recompute_outputs(reader, step_stride=1):
    """Returns dict(max_rel_error, mean_rel_error, worst=(layer, head, step), vectors)."""
    m = reader.meta
    steps = [t for t in range(m.decode_steps) if t % step_stride == 0 or t == m.decode_steps - 1]
    errors, worst, worst_at = [], -1.0, None
    for layer in range(m.num_layers):
        for kv in range(m.num_kv_heads):
            k = reader.keys(layer, kv).astype(np.float64)
            v = reader.values(layer, kv).astype(np.float64)
            for h in range(kv * m.group_size, (kv + 1) * m.group_size):
                q = reader.queries(layer, h).astype(np.float64)
                o = reader.outputs(layer, h).astype(np.float64)
                for t in steps:
                    p = m.prompt_length + t
                    s = (k[:p + 1] @ q[t]) * m.softmax_scale
                    w = np.exp(s - s.max())
                    ref = (w @ v[:p + 1]) / w.sum()
                    err = np.linalg.norm(o[t] - ref) / max(np.linalg.norm(ref), 1e-30)
                    errors.append(err)
                    if err > worst:
                        worst, worst_at = err, (layer, h, t)
    return dict(max_rel_error=float(worst), mean_rel_error=float(np.mean(errors)), worst=worst_at,
                vectors=len(errors))


def compare(a, b):
    """Per dataset, the largest max|a - b| / max|b| over (layer, head) blocks, and where."""
    ma, mb = a.meta, b.meta
    for key in ("num_layers", "num_q_heads", "num_kv_heads", "head_dim", "prompt_length", "decode_steps"):
        if getattr(ma, key) != getattr(mb, key):
            raise TraceFileError(f"traces differ in {key}: {getattr(ma, key)} vs {getattr(mb, key)}")
    if list(ma.tokens) != list(mb.tokens):
        first = next(i for i, (x, y) in enumerate(zip(ma.tokens, mb.tokens)) if x != y)
        raise TraceFileError(f"traces hold different tokens (first difference at position {first})")
    result = {}
    same_prompt_queries = ma.num_prompt_queries and list(ma.prompt_query_positions) == list(mb.prompt_query_positions)
    for name, heads in (("keys", ma.num_kv_heads), ("values", ma.num_kv_heads), ("queries", ma.num_q_heads),
                        ("outputs", ma.num_q_heads), ("prompt_queries", ma.num_q_heads)):
        if name == "outputs" and not (ma.has_outputs and mb.has_outputs):
            continue
        if name == "prompt_queries" and not same_prompt_queries:
            continue  # compared only when both store the same positions
        worst, at = 0.0, None
        for layer in range(ma.num_layers):
            for h in range(heads):
                x, y = getattr(a, name)(layer, h), getattr(b, name)(layer, h)
                diff = float(np.abs(x - y).max() / max(np.abs(y).max(), 1e-30))
                if at is None or diff > worst:
                    worst, at = diff, (layer, h)
        result[name] = (worst, at)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m traces.capture.verify", description=__doc__.split("\n")[1])
    parser.add_argument("trace", nargs="?")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"))
    parser.add_argument("--step-stride", type=int, default=1)
    parser.add_argument("--tolerance", type=float)
    args = parser.parse_args(argv)
    try:
        if args.compare:
            with TraceReader(args.compare[0]) as a, TraceReader(args.compare[1]) as b:
                tolerance = args.tolerance or 1e-3
                result = compare(a, b)
            ok = True
            for name, (diff, (layer, head)) in result.items():
                good = diff <= tolerance
                ok &= good
                print(f"{name:8s} max relative difference {diff:.3e} (layer {layer}, head {head}) "
                      f"{'ok' if good else 'TOO LARGE'} (tolerance {tolerance:g})")
            return 0 if ok else 1
        if not args.trace:
            parser.error("give a trace, or --compare A B")
        with TraceReader(args.trace) as r:
            result = recompute_outputs(r, args.step_stride)
            tolerance = args.tolerance or OUTPUT_TOLERANCE[r.meta.storage_dtype]
        good = result["max_rel_error"] <= tolerance
        layer, head, step = result["worst"]
        print(f"{args.trace}: {result['vectors']} outputs recomputed; max relative error "
              f"{result['max_rel_error']:.3e} (layer {layer}, head {head}, step {step}), mean "
              f"{result['mean_rel_error']:.3e}: {'ok' if good else 'TOO LARGE'} (tolerance {tolerance:g})")
        return 0 if good else 1
    except (OSError, TraceFileError) as e:
        print(f"verify: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
