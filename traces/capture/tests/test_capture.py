"""Captures with the self-contained backend: the file is valid, its attention outputs are reproduced from its
own Q/K/V, and what it holds is what the model computed (tokens, layer-0 queries, greedy choices)."""
import pytest

pytest.importorskip("torch", reason="torch is not installed (Debian: apt-get install python3-torch)")
pytest.importorskip("h5py", reason="h5py is not installed (Debian: apt-get install python3-h5py)")

import json
import os
import shutil
import subprocess

import h5py
import numpy as np
import torch

from traces.capture import capture, verify
from traces.capture.backend_torch import TorchBackend
from traces.capture.llama_torch import LlamaTorch
from traces.capture.tests.conftest import held_out_text
from traces.capture.trace_file import (TraceFileError, TraceMeta, TraceReader, TraceWriter,
                                       bfloat16_bits_to_float, float_to_bfloat16_bits)


def hgca_binary():
    """The hgca program under test: ctest passes its path in HGCA_BIN (a stale build elsewhere may lack
    `trace info`, so none is guessed)."""
    candidate = os.environ.get("HGCA_BIN")
    return candidate if candidate and os.access(candidate, os.X_OK) else None


def capture_random(random_model, out, storage="float32", mode="teacher-forced", prompt=24, steps=6):
    backend = TorchBackend(random_model, chunk=10)
    tokens = list(b"def f(x):\n    return x * 2  # twice\n" * 2)
    return capture.capture_to_file(backend, tokens, prompt, steps, str(out), mode, storage, "test text")


def test_recomputed_attention_matches_the_model_outputs_in_float32(random_model, tmp_path):
    meta = capture_random(random_model, tmp_path / "t.h5")
    with TraceReader(str(tmp_path / "t.h5")) as r:
        assert r.meta.num_positions == 30 and r.meta.decode_steps == 6
        result = verify.recompute_outputs(r)
    assert result["vectors"] == 2 * 4 * 6
    assert result["max_rel_error"] < 1e-3, result
    assert meta.source == "capture:torch"


def test_a_wrong_causal_window_would_be_caught(random_model, tmp_path):
    """The same check with each query's own key left out fails clearly somewhere: the check can tell."""
    capture_random(random_model, tmp_path / "t.h5")
    worst = 0.0
    with TraceReader(str(tmp_path / "t.h5")) as r:
        m = r.meta
        for layer in range(m.num_layers):
            for h in range(m.num_q_heads):
                k, v = r.keys(layer, h // m.group_size), r.values(layer, h // m.group_size)
                q, o = r.queries(layer, h), r.outputs(layer, h)
                for t in range(m.decode_steps):
                    p = m.prompt_length + t
                    s = k[:p] @ q[t] * m.softmax_scale  # positions 0..p-1: own key missing
                    w = np.exp(s - s.max())
                    worst = max(worst, np.linalg.norm(o[t] - w @ v[:p] / w.sum()) / np.linalg.norm(o[t]))
    assert worst > 1e-2


def test_trace_holds_the_text_and_the_layer_zero_queries(random_model, tmp_path):
    capture_random(random_model, tmp_path / "t.h5")
    model = LlamaTorch.load(random_model)
    text = list(b"def f(x):\n    return x * 2  # twice\n" * 2)[:30]
    seen = {}
    model.prefill(text, model.new_cache(30), observe=lambda l, q, k, v, o: seen.setdefault(l, (q, k, v)))
    with TraceReader(str(tmp_path / "t.h5")) as r:
        assert r.meta.tokens == text
        q0, k0, v0 = seen[0]
        np.testing.assert_allclose(r.queries(0, 3), q0[3, 24:].numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(r.keys(0, 1), k0[1].numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(r.values(0, 0), v0[0].numpy(), rtol=1e-4, atol=1e-5)


def test_greedy_tokens_are_the_model_argmax(random_model, tmp_path):
    capture_random(random_model, tmp_path / "g.h5", mode="greedy", steps=5)
    with TraceReader(str(tmp_path / "g.h5")) as r:
        tokens = r.meta.tokens
        assert r.meta.decode_mode == "greedy"
    model = LlamaTorch.load(random_model)
    logits = model.prefill(tokens, model.new_cache(len(tokens)))
    for p in range(24, 29):
        assert tokens[p] == int(torch.argmax(logits[p - 1])), p


@pytest.mark.parametrize("storage", ["float16", "bfloat16"])
def test_16_bit_storage_is_within_its_tolerance(random_model, tmp_path, storage):
    capture_random(random_model, tmp_path / "t.h5", storage=storage)
    with TraceReader(str(tmp_path / "t.h5")) as r:
        assert h5py.File(str(tmp_path / "t.h5"))["keys"].dtype == (np.float16 if storage == "float16" else np.uint16)
        assert verify.recompute_outputs(r)["max_rel_error"] < verify.OUTPUT_TOLERANCE[storage]


def test_bfloat16_rounds_to_nearest_even():
    x = np.array([1.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, 1.0 + 2 ** -8 + 2 ** -20, -0.0, 3.0e38], np.float32)
    bits = float_to_bfloat16_bits(x)
    # 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even (1.0); 1 + 3*2^-8 ties up to the even 1 + 2^-6.
    assert bits.tolist() == [0x3F80, 0x3F80, 0x3F82, 0x3F81, 0x8000, 0x7F62]
    assert bfloat16_bits_to_float(bits)[2] == np.float32(1 + 2 ** -6)


def test_writer_is_atomic_and_refuses_bad_values(tmp_path):
    meta = TraceMeta(model_name="m", num_layers=2, num_q_heads=2, num_kv_heads=1, head_dim=4, prompt_length=3,
                     decode_steps=1, softmax_scale=0.5, storage_dtype="float16")
    keys = np.ones((1, 4, 4), np.float32)
    with pytest.raises(TraceFileError, match="not finite in float16"):
        with TraceWriter(str(tmp_path / "t.h5"), meta) as w:
            w.write_kv(0, keys, keys * 1e6)
    with pytest.raises(TraceFileError, match="queries of layer 1 were never written"):
        with TraceWriter(str(tmp_path / "t.h5"), meta) as w:
            for layer in range(2):
                w.write_kv(layer, keys, keys)
            w.write_queries(0, np.ones((2, 1, 4)), np.ones((2, 1, 4)))
    with pytest.raises(TraceFileError, match=r"keys of layer 0 has shape \(1, 3, 4\), expected \(1, 4, 4\)"):
        with TraceWriter(str(tmp_path / "t.h5"), meta) as w:
            w.write_kv(0, keys[:, :3], keys[:, :3])
    assert os.listdir(tmp_path) == []


def test_compare_two_captures(random_model, tmp_path):
    capture_random(random_model, tmp_path / "a.h5")
    backend = TorchBackend(random_model, chunk=3)  # another chunking: same function, other rounding
    tokens = list(b"def f(x):\n    return x * 2  # twice\n" * 2)
    capture.capture_to_file(backend, tokens, 24, 6, str(tmp_path / "b.h5"), storage="float32")
    with TraceReader(str(tmp_path / "a.h5")) as a, TraceReader(str(tmp_path / "b.h5")) as b:
        result = verify.compare(a, b)
    assert set(result) == {"keys", "values", "queries", "outputs"}
    assert max(diff for diff, _ in result.values()) < 1e-5
    capture.capture_to_file(backend, tokens[::-1], 24, 6, str(tmp_path / "c.h5"), storage="float32")
    with TraceReader(str(tmp_path / "a.h5")) as a, TraceReader(str(tmp_path / "c.h5")) as c:
        with pytest.raises(TraceFileError, match="different tokens"):
            verify.compare(a, c)


def test_command_line_errors(random_model, tmp_path):
    text = tmp_path / "short.txt"
    text.write_bytes(b"x" * 10)
    rc = capture.main(["--model", random_model, "--text", str(text), "--prompt-length", "8", "--decode-steps", "4",
                       "--out", str(tmp_path / "t.h5")])
    assert rc == 2 and not (tmp_path / "t.h5").exists()
    rc = capture.main(["--model", str(tmp_path / "nowhere"), "--text", str(text), "--prompt-length", "4",
                       "--decode-steps", "1", "--out", str(tmp_path / "t.h5")])
    assert rc == 2


@pytest.mark.skipif(hgca_binary() is None, reason="hgca binary not built (set HGCA_BIN)")
def test_cpp_reader_validates_a_python_capture(random_model, tmp_path):
    for storage in ("float32", "float16", "bfloat16"):
        capture_random(random_model, tmp_path / f"{storage}.h5", storage=storage)
        run = subprocess.run([hgca_binary(), "trace", "info", str(tmp_path / f"{storage}.h5"), "--json"],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        info = json.loads(run.stdout)
        assert info["valid"] and info["storage_dtype"] == storage and info["num_positions"] == 30
        assert info["outputs_check"]["vectors"] == 48
        assert info["outputs_check"]["max_rel_error"] < info["outputs_check"]["tolerance"]
    # A corrupted copy is refused with the dataset named.
    shutil.copy(tmp_path / "float32.h5", tmp_path / "bad.h5")
    with h5py.File(tmp_path / "bad.h5", "r+") as f:
        f["outputs"][1, 2, 3, 0] += 1.0
    run = subprocess.run([hgca_binary(), "trace", "info", str(tmp_path / "bad.h5")], capture_output=True, text=True)
    assert run.returncode == 2 and "layer 1 head 2 step 3" in run.stderr


def test_real_model_capture_is_valid_and_sane(tinylm, tmp_path):
    """A short capture of tinylm-code-8l on this repository's Python: outputs reproduced, loss sane, and
    (when built) the C++ reader accepts it."""
    backend = TorchBackend(tinylm, chunk=256)
    text = list(held_out_text()[:600])
    meta = capture.capture_to_file(backend, text, 512, 16, str(tmp_path / "real.h5"), storage="float32")
    assert meta.extra["prompt_bits_per_token"] < 2.5
    with TraceReader(str(tmp_path / "real.h5")) as r:
        assert r.meta.num_layers == 8 and r.meta.num_q_heads == 4 and r.meta.num_kv_heads == 2
        assert r.meta.head_dim == 64 and r.meta.rope_theta == 500000.0
        assert verify.recompute_outputs(r)["max_rel_error"] < 1e-3
    if hgca_binary():
        run = subprocess.run([hgca_binary(), "trace", "info", str(tmp_path / "real.h5"), "--json"],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["valid"]


def test_prompt_queries_are_the_models_prefill_queries(random_model, tmp_path):
    """--prompt-queries 7 with a prefill chunk of 10: positions 17..23 straddle a chunk boundary (20), and each
    stored row is the model's own post-rotary query at that position, read from an independent prefill."""
    backend = TorchBackend(random_model, chunk=10)
    tokens = list(b"def f(x):\n    return x * 2  # twice\n" * 2)
    meta = capture.capture_to_file(backend, tokens, 24, 6, str(tmp_path / "t.h5"), storage="float32",
                                   prompt_queries=7)
    assert meta.prompt_query_positions == list(range(17, 24))
    model = LlamaTorch.load(random_model)
    seen = {}
    model.prefill(tokens[:24], model.new_cache(24), chunk=24,
                  observe=lambda l, q, k, v, o: seen.setdefault(l, q))
    with TraceReader(str(tmp_path / "t.h5")) as r:
        assert r.format_version == 2 and r.meta.prompt_query_positions == list(range(17, 24))
        for layer in range(2):
            for h in range(4):
                np.testing.assert_allclose(r.prompt_queries(layer, h), seen[layer][h, 17:24].numpy(),
                                           rtol=1e-4, atol=1e-5)
        # The last prompt query is not the first decode query (another position, another token).
        assert np.abs(r.prompt_queries(1, 0)[-1] - r.queries(1, 0)[0]).max() > 1e-3


def test_prompt_query_counts():
    assert capture.prompt_query_positions(None, 5) == []
    assert capture.prompt_query_positions("0", 5) == []
    assert capture.prompt_query_positions("2", 5) == [3, 4]
    assert capture.prompt_query_positions(9, 5) == [0, 1, 2, 3, 4]
    assert capture.prompt_query_positions("all", 5) == [0, 1, 2, 3, 4]
    for bad in ("-1", "some", -3):
        with pytest.raises(ValueError, match="--prompt-queries"):
            capture.prompt_query_positions(bad, 5)


def test_command_line_prompt_queries_and_tokens_from(random_model, tmp_path):
    text = tmp_path / "t.txt"
    text.write_bytes(b"for i in range(10):\n    print(i * i)\n" * 3)
    rc = capture.main(["--model", random_model, "--text", str(text), "--prompt-length", "20", "--decode-steps", "3",
                       "--prompt-queries", "all", "--storage", "float32", "--out", str(tmp_path / "a.h5")])
    assert rc == 0
    # Re-captured from the tokens: the same prompt query positions by default, and the same values.
    rc = capture.main(["--model", random_model, "--tokens-from", str(tmp_path / "a.h5"), "--chunk", "7",
                       "--storage", "float32", "--out", str(tmp_path / "b.h5")])
    assert rc == 0
    with TraceReader(str(tmp_path / "a.h5")) as a, TraceReader(str(tmp_path / "b.h5")) as b:
        assert a.meta.prompt_query_positions == list(range(20)) == b.meta.prompt_query_positions
        result = verify.compare(a, b)
    assert set(result) == {"keys", "values", "queries", "outputs", "prompt_queries"}
    assert result["prompt_queries"][0] < 1e-5
    rc = capture.main(["--model", random_model, "--text", str(text), "--prompt-length", "20", "--decode-steps", "3",
                       "--prompt-queries", "lots", "--out", str(tmp_path / "c.h5")])
    assert rc == 2 and not (tmp_path / "c.h5").exists()


def _pq_trace(tmp_path, name="pq.h5"):
    meta = TraceMeta(model_name="m", num_layers=1, num_q_heads=2, num_kv_heads=1, head_dim=4, prompt_length=5,
                     decode_steps=1, softmax_scale=0.5, storage_dtype="float32", has_outputs=False,
                     prompt_query_positions=[1, 3, 4])
    path = str(tmp_path / name)
    with TraceWriter(path, meta) as w:
        w.write_kv(0, np.ones((1, 6, 4)), np.ones((1, 6, 4)))
        w.write_queries(0, np.ones((2, 1, 4)))
        w.write_prompt_queries(0, np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    return path


def test_prompt_query_files_are_validated(tmp_path):
    path = _pq_trace(tmp_path)
    with TraceReader(path) as r:
        np.testing.assert_array_equal(r.prompt_queries(0, 1), np.arange(12, 24).reshape(3, 4))
    shutil.copy(path, tmp_path / "bad.h5")
    bad = str(tmp_path / "bad.h5")
    with h5py.File(bad, "r+") as f:
        f["prompt_query_positions"][...] = [1, 3, 5]
    with pytest.raises(TraceFileError, match=r"prompt query position 5 \(index 2\) must lie in \[0, prompt_length 5\)"):
        TraceReader(bad)
    with h5py.File(bad, "r+") as f:
        f["prompt_query_positions"][...] = [3, 1, 4]
    with pytest.raises(TraceFileError, match="strictly ascending"):
        TraceReader(bad)
    with h5py.File(bad, "r+") as f:
        del f["prompt_query_positions"]
    with pytest.raises(TraceFileError, match="'/prompt_queries' is present but '/prompt_query_positions' is missing"):
        TraceReader(bad)
    with h5py.File(bad, "r+") as f:
        f.attrs["format_version"] = np.int64(3)
    with pytest.raises(TraceFileError, match="format_version 3 is not supported"):
        TraceReader(bad)
    with h5py.File(bad, "r+") as f:  # version 1: no prompt queries (those of this file are not looked at)
        f.attrs["format_version"] = np.int64(1)
        del f["prompt_queries"]
    with TraceReader(bad) as r:
        assert r.meta.prompt_query_positions == [] and r.format_version == 1
        with pytest.raises(TraceFileError, match="stores no prompt queries"):
            r.prompt_queries(0, 0)


def test_prompt_query_writer_errors(tmp_path):
    meta = TraceMeta(model_name="m", num_layers=1, num_q_heads=2, num_kv_heads=1, head_dim=4, prompt_length=5,
                     decode_steps=1, softmax_scale=0.5, storage_dtype="float16", has_outputs=False,
                     prompt_query_positions=[2, 4])
    with pytest.raises(TraceFileError, match="prompt_queries of layer 0 were never written"):
        with TraceWriter(str(tmp_path / "t.h5"), meta) as w:
            w.write_kv(0, np.ones((1, 6, 4)), np.ones((1, 6, 4)))
            w.write_queries(0, np.ones((2, 1, 4)))
    with pytest.raises(TraceFileError, match="not finite in float16"):
        with TraceWriter(str(tmp_path / "t.h5"), meta) as w:
            w.write_prompt_queries(0, np.full((2, 2, 4), 1e6))
    meta.prompt_query_positions = [4, 2]
    with pytest.raises(TraceFileError, match="strictly ascending"):
        TraceWriter(str(tmp_path / "t.h5"), meta)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(hgca_binary() is None, reason="hgca binary not built (set HGCA_BIN)")
def test_cpp_reader_reads_python_prompt_queries(tmp_path):
    path = _pq_trace(tmp_path)
    run = subprocess.run([hgca_binary(), "trace", "info", path, "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    info = json.loads(run.stdout)
    assert info["format_version"] == 2 and info["prompt_query_positions"] == [1, 3, 4]
    assert info["scan"]["max_abs_prompt_query"] == 23.0
