"""Model-level quality of HGCA: bits per byte of a byte-level model with HGCA attention in every layer.

    /usr/bin/python3 -m traces.quality.bits_per_byte --model DIR --text FILE [FILE ...] \\
        [--context 8192] [--eval 512] [--window 512] [--sinks 4] [--budgets 0.01,0.02,0.05,0.1,0.2] \\
        [--policies topk,block16,h2o,random] [--topp 0.5,0.8,0.9,0.95,0.99] --out PREFIX

The first --context bytes of the concatenated text are used. The first context - eval bytes are the prefix:
a prefill with exact attention, as HGCA does it. The last --eval bytes are decoded teacher-forced, one query
per position, with HGCA attention in every layer (sinks + window dense on the "GPU", a policy's selection
among the older positions on the "CPU", exact LSE merge); the model's cross-entropy on those bytes, in bits,
is compared with exact attention and with the window alone. Decode queries of a chunk are processed
together: each query's selection depends only on its own query and on positions <= its own (H2O, which
learns from the steps before, processes them in order), so the result equals one-token-at-a-time decoding.

Writes PREFIX.md (the table) and PREFIX.json (every run, with measured selected fractions and recall).
"""
import argparse
import hashlib
import json
import multiprocessing
import os
import shlex
import sys
import tempfile
import time

import torch

from traces.capture.llama_torch import KVCache, LlamaTorch, bits_per_token

from .hgca_attention import HGCAAttention
from .policies import make_policy

DEFAULT_BUDGETS = (0.01, 0.02, 0.05, 0.1, 0.2)
DEFAULT_POLICIES = ("topk", "block16", "h2o", "random")
DEFAULT_TOPP = (0.5, 0.8, 0.9, 0.95, 0.99)


def clone_cache(cache):
    copy = KVCache.__new__(KVCache)
    copy.keys = [k.clone() for k in cache.keys]
    copy.values = [v.clone() for v in cache.values]
    copy.length, copy.capacity = cache.length, cache.capacity
    return copy


class Evaluation:
    """The prefix is prefilled once; every configuration decodes the evaluated bytes from a copy of it."""

    def __init__(self, model, tokens, eval_len, chunk=128, prefill_chunk=512):
        if eval_len < 1 or eval_len >= len(tokens):
            raise ValueError(f"--eval {eval_len} must be in [1, {len(tokens)}) (the text has {len(tokens)} bytes)")
        self.model, self.tokens, self.chunk = model, list(tokens), chunk
        self.first = len(tokens) - eval_len  # first evaluated byte; decode queries at first-1 .. n-2
        self.prefix = model.new_cache(len(tokens))
        model.prefill(self.tokens[:self.first - 1], self.prefix, prefill_chunk)

    def run(self, attend=None):
        """Bits per byte of the evaluated bytes with `attend` (None: exact attention) in every layer."""
        cache = clone_cache(self.prefix)
        queries = self.tokens[self.first - 1:-1]
        logits = torch.cat([self.model.forward(queries[i:i + self.chunk], cache, attend=attend)
                            for i in range(0, len(queries), self.chunk)])
        return bits_per_token(logits, self.tokens[self.first:])


# What a forked worker needs: set by run_all before the pool starts, inherited copy-on-write.
_WORKER = {}


def _run_config(config):
    spec, budget = config
    ev, window, sinks, seed = (_WORKER[k] for k in ("ev", "window", "sinks", "seed"))
    model = ev.model
    group = model.cfg.num_q_heads // model.cfg.num_kv_heads
    attention = HGCAAttention(make_policy(spec, seed), window, sinks, model.scale, group, seed)
    t0 = time.time()
    bits = ev.run(attention)
    return dict(policy=spec.split(":")[0], spec=attention.policy.name, budget=budget, bits_per_byte=bits,
                seconds=round(time.time() - t0, 1), **attention.stats.summary())


def run_all(model, tokens, eval_len, window, sinks, budgets, policies, topp, seed=0, chunk=128, log=print, jobs=1):
    """Exact attention, window-only, every policy x budget and every top-p. Each configuration is independent
    (its own copy of the prefilled cache, its own seed-derived randomness), so results do not depend on
    `jobs`; jobs > 1 forks workers after the shared prefill."""
    ev = Evaluation(model, tokens, eval_len, chunk)
    full = ev.run()
    runs = [dict(policy="full", spec="exact attention", budget=None, bits_per_byte=full, delta=0.0)]
    log(f"full attention: {full:.4f} bits/byte")
    configs = [("window", 0.0)] + [(f"{name}:{b}", b) for name in policies for b in budgets] + \
              [(f"topp:{p}", None) for p in topp]
    _WORKER.update(ev=ev, window=window, sinks=sinks, seed=seed)

    def report(record):
        record["delta"] = record["bits_per_byte"] - full
        runs.append(record)
        log(f"{record['spec']:28s} {record['bits_per_byte']:.4f} bits/byte ({record['delta']:+.4f}), selected "
            f"{record['selected_fraction']:.3%} of CPU entries, recall {record['recall']:.3f} "
            f"({record['seconds']:.0f} s)")

    try:
        if jobs > 1:
            with multiprocessing.get_context("fork").Pool(jobs, initializer=torch.set_num_threads,
                                                          initargs=(1,)) as pool:
                for record in pool.imap(_run_config, configs):
                    report(record)
        else:
            for config in configs:
                report(_run_config(config))
    finally:
        _WORKER.clear()
    return runs


def policy_label(name):
    if name.startswith("block"):
        return f"block top-k (B={name[5:] or 16}, Quest bound)"
    return {"topk": "top-k", "h2o": "H2O (accumulated)", "random": "random"}.get(name, name)


def markdown_table(result):
    runs, s = result["runs"], result["setup"]
    full = runs[0]["bits_per_byte"]
    window = next(r for r in runs if r["policy"] == "window")
    lines = [f"Bits per byte of `{s['model']}` on the last {s['eval']} of {s['context']} bytes "
             f"({s['text']}), HGCA attention in every layer: window {s['window']} + {s['sinks']} sinks on the "
             f"GPU, a policy's selection among the older positions on the CPU. Exact attention: "
             f"**{full:.4f}**; window only: **{window['bits_per_byte']:.4f}** "
             f"({window['delta']:+.4f}). Cells: bits per byte (difference to exact attention).", ""]
    budgets = s["budgets"]
    lines.append("| policy | " + " | ".join(f"{b:.0%} of CPU entries" for b in budgets) + " |")
    lines.append("|---|" + "---|" * len(budgets))
    for name in s["policies"]:
        cells = []
        for b in budgets:
            r = next(r for r in runs if r["policy"] == name and r["budget"] == b)
            cells.append(f"{r['bits_per_byte']:.4f} ({r['delta']:+.4f})")
        lines.append(f"| {policy_label(name)} | " + " | ".join(cells) + " |")
    topp = [r for r in runs if r["policy"] == "topp"]
    if topp:
        lines += ["", "| top-p | bits per byte | selected (mean share of CPU entries) | recall of CPU mass |",
                  "|---|---|---|---|"]
        for r in topp:
            lines.append(f"| {r['spec'].split('=')[1]} | {r['bits_per_byte']:.4f} ({r['delta']:+.4f}) | "
                         f"{r['selected_fraction']:.2%} | {r['recall']:.3f} |")
    lines += ["", f"Mean CPU-resident entries per query head and step: {window['mean_candidates']:.0f}; share of "
              f"the exact attention mass on them: {window['cpu_mass']:.3f}."]
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


def parse_list(text, kind=float):
    return [kind(x) for x in text.split(",") if x.strip()] if text else []


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m traces.quality.bits_per_byte",
                                     description=__doc__.split("\n")[1])
    parser.add_argument("--model", required=True, help="directory with config.json and model.safetensors")
    parser.add_argument("--text", nargs="+", required=True, help="text files, concatenated in this order")
    parser.add_argument("--text-label", help="how the text is described in the table")
    parser.add_argument("--context", type=int, default=8192, help="bytes used (the first ones of the text)")
    parser.add_argument("--eval", type=int, default=512, help="evaluated bytes at the end of the context")
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--sinks", type=int, default=4)
    parser.add_argument("--budgets", default=",".join(map(str, DEFAULT_BUDGETS)))
    parser.add_argument("--policies", default=",".join(DEFAULT_POLICIES),
                        help="of topk, block<SIZE> (e.g. block16), h2o, random")
    parser.add_argument("--topp", default=",".join(map(str, DEFAULT_TOPP)), help="top-p values ('' for none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=128, help="decode queries processed together")
    parser.add_argument("--threads", type=int, default=0, help="torch threads of the prefill (0: default)")
    parser.add_argument("--jobs", type=int, default=1, help="configurations evaluated in parallel (fork)")
    parser.add_argument("--out", required=True, help="output prefix: writes PREFIX.md and PREFIX.json")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        budgets, topp = parse_list(args.budgets), parse_list(args.topp)
        policies = parse_list(args.policies, str)
        for name in policies:  # fail before the long prefill
            for b in budgets:
                make_policy(f"{name}:{b}")
        for p in topp:
            make_policy(f"topp:{p}")
        data = b"".join(open(path, "rb").read() for path in args.text)
        if len(data) < args.context:
            raise ValueError(f"the text has {len(data)} bytes, --context {args.context} needs more")
        data = data[:args.context]
        model = LlamaTorch.load(args.model)
        if model.cfg.vocab_size != 256:
            raise ValueError(f"{args.model}: vocabulary of {model.cfg.vocab_size}; only byte-level models (256)")
        t0 = time.time()
        runs = run_all(model, list(data), args.eval, args.window, args.sinks, budgets, policies, topp, args.seed,
                       args.chunk, log=lambda line: print(line, file=sys.stderr, flush=True), jobs=args.jobs)
    except (OSError, ValueError) as e:
        print(f"bits_per_byte: {e}", file=sys.stderr)
        return 2
    setup = dict(model=os.path.basename(os.path.normpath(args.model)), text=args.text_label or " + ".join(args.text),
                 text_sha256=hashlib.sha256(data).hexdigest(), context=args.context, eval=args.eval,
                 window=args.window, sinks=args.sinks, budgets=budgets, policies=policies, topp=topp,
                 seed=args.seed, jobs=args.jobs, seconds=round(time.time() - t0, 1), torch=torch.__version__,
                 command="python3 -m traces.quality.bits_per_byte " + " ".join(
                     shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])))
    result = dict(setup=setup, runs=runs)
    table = markdown_table(result)
    write_atomically(args.out + ".json", json.dumps(result, indent=1) + "\n")
    write_atomically(args.out + ".md", table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
