"""Short text summary of an hgca results file: best strategy per context and hgca's speed-up over baselines.

    /usr/bin/python3 -m analysis.summary RESULTS.h5

A "case" is one (hardware, model, batch, context). Within a case each strategy is represented by its best
configuration (e.g. its best window), averaged over seeds. Speed-ups are tokens/s ratios over the cases
where both strategies are feasible, summarised by their geometric mean.
"""

from __future__ import annotations

import math
import sys

from analysis import style
from analysis.configs import Config, configurations
from analysis.results_file import Results, ResultsFileError, load

CASE = ("hardware", "model", "batch", "context")
REFERENCE = "hgca"


def cases(configs: list[Config]) -> dict[tuple, dict[str, Config | None]]:
    """{case: {strategy: best feasible configuration, or None when all of its configurations were infeasible}}"""
    table: dict[tuple, dict[str, Config | None]] = {}
    for c in configs:
        by_strategy = table.setdefault(tuple(c[f] for f in CASE), {})
        best = by_strategy.get(c["strategy"])
        if c.feasible and (best is None or c.mean["tokens_per_s"] > best.mean["tokens_per_s"]):
            by_strategy[c["strategy"]] = c
        else:
            by_strategy.setdefault(c["strategy"], None)
    return table


def _ordered(strategies) -> list[str]:
    return sorted(strategies, key=lambda s: (style.strategy_rank(s), s))


def best_per_context(table: dict) -> list[str]:
    lines = ["Best strategy per context (decode tokens/s, mean over seeds):"]
    hardware_models = {(case[0], case[1]) for case in table}
    for group in sorted({case[:3] for case in table}):
        hardware, model, batch = group
        prefix = f"{model} on {hardware}, " if len(hardware_models) > 1 else ""
        lines.append(f"  {prefix}batch {batch}:")
        for case in sorted(c for c in table if c[:3] == group):
            ranked = sorted(((cfg.mean["tokens_per_s"], s) for s, cfg in table[case].items() if cfg is not None),
                            reverse=True)
            context = style.tokens_label(case[3])
            if not ranked:
                lines.append(f"    context {context:>6}: no feasible strategy")
                continue
            tps, best = ranked[0]
            line = f"    context {context:>6}: {best:<14} {tps:12.1f} tok/s"
            if len(ranked) > 1:
                next_tps, next_best = ranked[1]
                ratio = tps / next_tps if next_tps > 0 else math.inf
                line += f"   next {next_best} ({ratio:.2f}x slower)"
            else:
                line += "   (only feasible strategy)"
            lines.append(line)
    return lines


def speedups(table: dict) -> list[str]:
    strategies = {s for by_strategy in table.values() for s in by_strategy}
    if REFERENCE not in strategies:
        return [f"No {REFERENCE} runs: no speed-ups."]
    lines = [f"Speed-up of {REFERENCE} (tokens/s ratio, geometric mean over cases where both are feasible):"]
    for baseline in _ordered(strategies - {REFERENCE}):
        ratios, only_reference, only_baseline = [], 0, 0
        for by_strategy in table.values():
            if REFERENCE not in by_strategy or baseline not in by_strategy:
                continue
            ours, theirs = by_strategy[REFERENCE], by_strategy[baseline]
            if ours is not None and theirs is not None and theirs.mean["tokens_per_s"] > 0:
                ratios.append(ours.mean["tokens_per_s"] / theirs.mean["tokens_per_s"])
            elif ours is not None and theirs is None:
                only_reference += 1
            elif ours is None and theirs is not None:
                only_baseline += 1
        if ratios:
            geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
            line = (f"  vs {baseline:<14} {geomean:6.2f}x  (over {len(ratios)} case{'s' * (len(ratios) > 1)}, "
                    f"range {min(ratios):.2f}x to {max(ratios):.2f}x)")
        else:
            line = f"  vs {baseline:<14}      -   (never both feasible)"
        if only_reference:
            line += f"; {baseline} infeasible in {only_reference} case{'s' * (only_reference > 1)} where {REFERENCE} runs"
        if only_baseline:
            line += f"; {REFERENCE} infeasible in {only_baseline} case{'s' * (only_baseline > 1)} where {baseline} runs"
        lines.append(line)
    return lines


def summarize(results: Results) -> str:
    feasible = int(results.columns["feasible"].sum())
    lines = [f"{results.path}: {len(results)} runs ({feasible} feasible), written by hgca {results.tool_version} "
             f"at {results.created}"]
    table = cases(configurations(results))
    if table:
        lines += best_per_context(table) + speedups(table)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python3 -m analysis.summary RESULTS.h5", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(summarize(load(argv[0])))
    except ResultsFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
