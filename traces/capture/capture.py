"""Capture an attention trace (traces/FORMAT.md) from a Llama-family model.

    /usr/bin/python3 -m traces.capture.capture --model DIR (--text FILE [FILE ...] | --tokens-from T.h5) \\
        --prompt-length 8000 --decode-steps 192 --out trace.h5 [--backend torch|transformers] \\
        [--mode teacher-forced|greedy] [--storage float16|bfloat16|float32] [--device cpu|cuda] \\
        [--prompt-queries N|all]

The text files are concatenated in the order given and taken as raw bytes (byte-level models: token = byte;
other tokenizers are not supported yet). The prompt (--prompt-length tokens) is run as a prefill; then each
decode step feeds one token: in teacher-forced mode the next token of the text, in greedy mode the model's
own argmax. Step t is the token at position prompt_length + t; its post-rotary query and the model's
attention output are recorded at every layer. Keys and values of all positions are the model's KV cache after
the last step. --prompt-queries N also records the post-rotary queries of the last N prompt positions (all:
every prompt position), computed in the prefill (format version 2's /prompt_queries). Backends: `torch` (llama_torch.py: torch + numpy + h5py only) and `transformers`.
"""
import argparse
import hashlib
import math
import shlex
import sys

import numpy as np
import torch

from .trace_file import STORAGE_DTYPES, TraceFileError, TraceMeta, TraceReader, TraceWriter


def read_text_bytes(paths):
    data = b""
    for path in paths:
        with open(path, "rb") as f:
            data += f.read()
    return data


def make_backend(kind, model_dir, device, chunk=512):
    if kind == "torch":
        from .backend_torch import TorchBackend
        return TorchBackend(model_dir, device, chunk)
    if kind == "transformers":
        from .backend_hf import HFBackend
        return HFBackend(model_dir, device)
    raise ValueError(f"unknown backend '{kind}' (torch or transformers)")


def prompt_query_positions(count, prompt_length):
    """The last `count` prompt positions ("all": every one; 0 or None: none), ascending."""
    if count is None:
        return []
    if count == "all":
        return list(range(prompt_length))
    if isinstance(count, str):
        if not count.isdigit():
            raise ValueError(f"--prompt-queries takes a count or 'all', not '{count}'")
        count = int(count)
    if count < 0:
        raise ValueError(f"--prompt-queries must be >= 0, got {count}")
    return list(range(max(0, prompt_length - count), prompt_length))


def run_capture(backend, tokens, prompt_length, decode_steps, mode, prompt_positions=()):
    """Runs prefill and decode steps. Returns (all tokens, queries, outputs, prompt queries, prompt bits,
    decode bits), with queries/outputs [layers, q_heads, decode_steps, D], prompt queries [layers, q_heads,
    len(prompt_positions), D] and bits the mean cross-entropy per token in bits of the prompt's own tokens and
    of the decode steps' tokens."""
    info = backend.info
    n = prompt_length + decode_steps
    shape = (info["num_layers"], info["num_q_heads"], decode_steps, info["head_dim"])
    queries, outputs = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    logits, prompt_bits, prompt_queries = backend.prefill(list(tokens[:prompt_length]), n, list(prompt_positions))
    all_tokens = list(tokens[:prompt_length])
    nll = []
    for t in range(decode_steps):
        token = int(tokens[prompt_length + t]) if mode == "teacher-forced" else int(torch.argmax(logits))
        nll.append(-float(torch.log_softmax(logits.double(), dim=-1)[token]))
        logits, q, o = backend.decode(token)
        queries[:, :, t], outputs[:, :, t] = q, o
        all_tokens.append(token)
    return all_tokens, queries, outputs, prompt_queries, prompt_bits, float(np.mean(nll) / math.log(2))


def capture_to_file(backend, tokens, prompt_length, decode_steps, out, mode="teacher-forced",
                    storage="float16", text_source="", compression=4, extra=None, prompt_queries=None):
    """Captures and writes the trace atomically; returns the TraceMeta written. prompt_queries: how many of
    the last prompt positions' queries to store (a count, "all", or None for none)."""
    if prompt_length < 1:
        raise ValueError("--prompt-length must be at least 1")
    if decode_steps < 1:
        raise ValueError("--decode-steps must be at least 1")
    need = prompt_length + (decode_steps if mode == "teacher-forced" else 0)
    if len(tokens) < need:
        raise ValueError(f"the text has {len(tokens)} tokens, {need} needed (prompt {prompt_length}"
                         + (f" + {decode_steps} teacher-forced steps)" if mode == "teacher-forced" else ")"))
    info = backend.info
    positions = prompt_query_positions(prompt_queries, prompt_length)
    all_tokens, queries, outputs, pq, prompt_bits, decode_bits = run_capture(
        backend, tokens, prompt_length, decode_steps, mode, positions)
    meta = TraceMeta(
        model_name=info["model_name"], num_layers=info["num_layers"], num_q_heads=info["num_q_heads"],
        num_kv_heads=info["num_kv_heads"], head_dim=info["head_dim"], prompt_length=prompt_length,
        decode_steps=decode_steps, softmax_scale=info["softmax_scale"], rope_theta=info["rope_theta"],
        rope_scaling=info["rope_scaling"], storage_dtype=storage, model_dtype=info["model_dtype"],
        decode_mode=mode, source=backend.name, text_source=text_source, tokens=all_tokens, has_outputs=True,
        prompt_query_positions=positions,
        extra={"capture_library": info["library"], "weights_dtype": info["weights_dtype"],
               "prompt_bits_per_token": np.float64(prompt_bits),
               "decode_bits_per_token": np.float64(decode_bits), **(extra or {})})
    with TraceWriter(out, meta, compression) as writer:
        for layer in range(info["num_layers"]):
            keys, values = backend.kv(layer)
            writer.write_kv(layer, keys, values)
            writer.write_queries(layer, queries[layer], outputs[layer])
            if positions:
                writer.write_prompt_queries(layer, pq[layer])
    return meta


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m traces.capture.capture", description=__doc__.split("\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="directory with config.json and model.safetensors")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", nargs="+", help="text files, concatenated in this order")
    source.add_argument("--tokens-from", metavar="TRACE.h5",
                        help="re-capture another trace's tokens (its prompt length, decode steps, prompt queries "
                             "and text label are the defaults), e.g. with another backend")
    parser.add_argument("--text-label", help="what to record as text_source (default: the file names)")
    parser.add_argument("--skip-bytes", type=int, default=0, help="start this many bytes into the text")
    parser.add_argument("--prompt-length", type=int)
    parser.add_argument("--decode-steps", type=int)
    parser.add_argument("--mode", choices=("teacher-forced", "greedy"), default="teacher-forced")
    parser.add_argument("--prompt-queries", metavar="N|all",
                        help="also store the post-rotary queries of the last N prompt positions (all: every one)")
    parser.add_argument("--storage", choices=STORAGE_DTYPES, default="float16")
    parser.add_argument("--compression", type=int, default=4, help="gzip level 0..9 (0: none)")
    parser.add_argument("--backend", choices=("torch", "transformers"), default="torch")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--chunk", type=int, default=512, help="prefill chunk (torch backend)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        if args.tokens_from:
            with TraceReader(args.tokens_from) as other:
                data = bytes(other.meta.tokens) if max(other.meta.tokens, default=0) < 256 else None
                tokens = list(other.meta.tokens)
                args.prompt_length = args.prompt_length or other.meta.prompt_length
                args.decode_steps = args.decode_steps or other.meta.decode_steps
                positions = list(other.meta.prompt_query_positions)
                if args.prompt_queries is None and positions and positions == prompt_query_positions(
                        len(positions), args.prompt_length):
                    args.prompt_queries = str(len(positions))  # the same last-N prompt queries as the other
                label = args.text_label or f"the tokens of {args.tokens_from} ({other.meta.text_source})"
            if args.mode != "teacher-forced":
                raise ValueError("--tokens-from re-captures a trace teacher-forced; --mode greedy does not apply")
        else:
            data = read_text_bytes(args.text)
            tokens = list(data)
            label = args.text_label or " + ".join(args.text)
        tokens = tokens[args.skip_bytes:]
        data = data[args.skip_bytes:] if data is not None else b""
        if args.skip_bytes:
            label += f" (from byte {args.skip_bytes})"
        if args.prompt_length is None or args.decode_steps is None:
            raise ValueError("--prompt-length and --decode-steps are required (unless --tokens-from gives them)")
        backend = make_backend(args.backend, args.model, args.device, args.chunk)
        command = "python3 -m traces.capture.capture " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
        used = data[:args.prompt_length + (args.decode_steps if args.mode == "teacher-forced" else 0)]
        extra = {"capture_command": command}
        if used:  # byte-level tokens: the SHA-256 of the bytes fed identifies the text
            extra["text_sha256"] = hashlib.sha256(used).hexdigest()
        prompt_query_positions(args.prompt_queries, args.prompt_length)  # bad values fail before the model runs
        meta = capture_to_file(backend, tokens, args.prompt_length, args.decode_steps, args.out, args.mode,
                               args.storage, label, args.compression, extra, args.prompt_queries)
    except (OSError, ValueError, TraceFileError, RuntimeError) as e:
        print(f"capture: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {meta.model_name}, {meta.num_positions} positions (prompt {meta.prompt_length} + "
          f"{meta.decode_steps} {meta.decode_mode} steps, {meta.num_prompt_queries} prompt queries), "
          f"{meta.storage_dtype}; bits/token: prompt "
          f"{meta.extra['prompt_bits_per_token']:.4f}, decode {meta.extra['decode_bits_per_token']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
