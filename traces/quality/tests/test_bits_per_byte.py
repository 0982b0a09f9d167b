"""End to end: HGCA attention in every layer of a model, bits per byte against exact attention."""
import pytest

pytest.importorskip("torch", reason="torch is not installed (Debian: apt-get install python3-torch)")
pytest.importorskip("h5py", reason="h5py is not installed (Debian: apt-get install python3-h5py)")

import json


from traces.capture.llama_torch import LlamaTorch
from traces.quality import bits_per_byte as bpb
from traces.quality.hgca_attention import HGCAAttention
from traces.quality.policies import make_policy

TEXT = list(b"def add(a, b):\n    return a + b\n\n\nclass Box:\n    def __init__(self, x):\n        self.x = x\n" * 4)


def test_full_budget_equals_exact_attention_and_window_only_does_not(random_model):
    model = LlamaTorch.load(random_model)
    runs = bpb.run_all(model, TEXT, eval_len=40, window=16, sinks=2, budgets=[0.25, 1.0],
                       policies=["topk", "block4", "h2o", "random"], topp=[1.0], chunk=16, log=lambda _: None)
    full = runs[0]["bits_per_byte"]
    by_spec = {r["spec"]: r for r in runs}
    for spec in ("topk:frac=1", "block:size=4,frac=1", "h2o:frac=1", "random:frac=1", "topp:p=1"):
        assert by_spec[spec]["bits_per_byte"] == pytest.approx(full, abs=1e-5), spec
        assert by_spec[spec]["selected_fraction"] == pytest.approx(1.0)
    assert abs(by_spec["window"]["delta"]) > 1e-3
    assert by_spec["window"]["selected_fraction"] == 0
    assert 0 < by_spec["topk:frac=0.25"]["selected_fraction"] < 0.3


@pytest.mark.parametrize("spec", ["topk:0.2", "h2o:0.2", "block4:0.3"])
def test_chunked_decoding_equals_one_query_at_a_time(random_model, spec):
    model = LlamaTorch.load(random_model)
    ev = bpb.Evaluation(model, TEXT, eval_len=24)
    group = model.cfg.num_q_heads // model.cfg.num_kv_heads
    results = []
    for chunk in (1, 24):
        ev.chunk = chunk
        results.append(ev.run(HGCAAttention(make_policy(spec), 12, 2, model.scale, group)))
    assert results[0] == pytest.approx(results[1], abs=1e-5)


def test_command_writes_table_and_json(random_model, tmp_path):
    text = tmp_path / "t.py"
    text.write_bytes(bytes(TEXT))
    rc = bpb.main(["--model", random_model, "--text", str(text), "--context", "300", "--eval", "32", "--window",
                   "16", "--sinks", "2", "--budgets", "0.1,0.5", "--policies", "topk,h2o", "--topp", "0.9",
                   "--out", str(tmp_path / "q")])
    assert rc == 0
    result = json.loads((tmp_path / "q.json").read_text())
    assert [r["spec"] for r in result["runs"]] == ["exact attention", "window", "topk:frac=0.1", "topk:frac=0.5",
                                                 "h2o:frac=0.1", "h2o:frac=0.5", "topp:p=0.9"]
    table = (tmp_path / "q.md").read_text()
    assert "| top-k | " in table and "| H2O (accumulated) | " in table and "| 0.9 | " in table
    assert result["setup"]["context"] == 300 and len(result["setup"]["text_sha256"]) == 64


def test_command_rejects_bad_input_before_any_work(random_model, tmp_path):
    text = tmp_path / "t.py"
    text.write_bytes(bytes(TEXT))
    base = ["--model", random_model, "--text", str(text), "--out", str(tmp_path / "q")]
    assert bpb.main(base + ["--context", "300", "--policies", "nope"]) == 2
    assert bpb.main(base + ["--context", "100000"]) == 2
    assert bpb.main(base + ["--context", "300", "--eval", "300"]) == 2
    assert not list(tmp_path.glob("q.*"))


def test_real_model_small_run(tinylm, tmp_path):
    """tinylm-code-8l on 1024 bytes of this repository's Python, 64 evaluated: exact attention is sane, a
    5% top-k budget stays close to it, and the window alone (128) is no better than top-k."""
    from traces.capture.tests.conftest import held_out_text
    model = LlamaTorch.load(tinylm)
    runs = bpb.run_all(model, list(held_out_text()[:1024]), eval_len=64, window=128, sinks=4, budgets=[0.05],
                       policies=["topk"], topp=[], chunk=64, log=lambda _: None)
    full, window, topk = (r["bits_per_byte"] for r in runs)
    assert 0.2 < full < 2.5
    assert topk <= window + 1e-3
    assert abs(topk - full) < 0.5


def test_parallel_jobs_give_the_same_results(random_model):
    model = LlamaTorch.load(random_model)
    args = dict(eval_len=24, window=12, sinks=2, budgets=[0.3], policies=["topk", "h2o", "random"], topp=[0.8],
                chunk=8, log=lambda _: None)
    serial = bpb.run_all(model, TEXT, jobs=1, **args)
    parallel = bpb.run_all(model, TEXT, jobs=3, **args)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in serial]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in parallel]
