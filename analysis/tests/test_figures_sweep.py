"""The sweep-suite figures (capacity, window, sparsity Pareto, head selection, step timeline, hardware
what-ifs) and the choice of figures by a suite's declaration: each is drawn from a small results file and
holds the series it should, with the right data."""

import glob
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from analysis.accuracy import AccuracyFileError, load_accuracy
from analysis.figures import FIGURES, Inputs, make_figures
from analysis.figures.capacity import capacity, largest_batches
from analysis.figures.heads import head_selection
from analysis.figures.sparsity import pareto_front, sparsity_pareto
from analysis.figures.timeline import step_timeline
from analysis.figures.whatif import hardware_whatif
from analysis.figures.window import window_sensitivity
from analysis.results_file import load
from analysis.tests.conftest import REPO
from analysis.tests.results_fixture import make_run, write_results
from analysis.tests.test_plot import lines_by_label, visible_axes

GiB = 1024 ** 3


def results_of(tmp_path, runs, **kwargs):
    path = tmp_path / "results.h5"
    write_results(path, runs, **kwargs)
    return load(str(path))


def test_capacity_is_the_largest_feasible_batch_per_context(tmp_path):
    # gpu-full fits batch <= 64 / (context / 4096); hgca fits everything tried.
    runs = []
    for ctx in (4096, 16384, 65536):
        for batch in (1, 4, 16):
            runs.append(make_run("gpu-full", batch, ctx, feasible=batch * ctx <= 65536))
            runs.append(make_run("hgca", batch, ctx))
    results = results_of(tmp_path, runs)
    assert largest_batches(results) == {("h100", "llama"): {"gpu-full": {4096: 16, 16384: 4, 65536: 1},
                                                            "hgca": {4096: 16, 16384: 16, 65536: 16}}}
    [ax] = visible_axes(capacity(results))
    lines = lines_by_label(ax)
    assert list(lines["gpu-full"].get_ydata()) == [16, 4, 1]
    assert list(lines["hgca"].get_xdata()) == [4096, 16384, 65536]
    assert "largest batch tried (16)" in lines
    assert "fits" in ax.get_ylabel()


def test_capacity_needs_a_grid(tmp_path):
    assert capacity(results_of(tmp_path, [make_run("hgca", 1, c) for c in (4096, 8192)])) is None


def test_window_sensitivity_leaves_out_strategies_without_a_window(tmp_path):
    runs = [make_run("hgca", 8, ctx, tokens_per_s=ctx / w, window=w) for ctx in (32768, 131072)
            for w in (1024, 4096, 16384)]
    runs += [make_run("gpu-full", 8, ctx, window=0) for ctx in (32768, 131072)]
    figure = window_sensitivity(results_of(tmp_path, runs))
    axes = visible_axes(figure)
    assert [ax.get_title() for ax in axes] == ["context 32K", "context 128K"]
    lines = lines_by_label(axes[0])
    assert set(lines) == {"hgca"}
    assert list(lines["hgca"].get_xdata()) == [1024, 4096, 16384]
    assert list(lines["hgca"].get_ydata()) == pytest.approx([32, 8, 2])
    assert "window" in axes[0].get_xlabel()


def budget_runs():
    runs = []
    for strategy, base in (("hgca", 1000.0), ("fetch-topk", 500.0)):
        for fraction in (0.01, 0.05, 0.2):
            runs.append(make_run(strategy, 8, 32768, tokens_per_s=base * (1 - fraction),
                                 parameters={"system.selection.fraction": fraction,
                                             "selection.mean_fraction": fraction}))
    runs.append(make_run("gpu-full", 8, 32768, tokens_per_s=2000.0,
                         parameters={"system.selection.fraction": 0.05, "selection.mean_fraction": float("nan")}))
    return runs


def test_sparsity_budget_against_throughput(tmp_path):
    [ax] = visible_axes(sparsity_pareto(results_of(tmp_path, budget_runs())))
    lines = lines_by_label(ax)
    assert set(lines) == {"hgca", "fetch-topk"}
    assert list(lines["hgca"].get_xdata()) == pytest.approx([1, 5, 20])  # percent
    assert list(lines["fetch-topk"].get_ydata()) == pytest.approx([495, 475, 400])
    assert "%" in ax.get_xlabel()


def test_sparsity_pareto_front_with_replay_accuracy(tmp_path):
    accuracy = tmp_path / "replay.csv"
    # Recall grows with the budget; fetch-topk at 1% is dominated by hgca at 5% (faster and as accurate).
    accuracy.write_text("budget,window,recall\n0.01,1024,0.80\n0.05,1024,0.95\n0.2,1024,0.99\n")
    table = load_accuracy(str(accuracy))
    assert table.metric == "recall" and not table.lower_is_better
    figure = sparsity_pareto(results_of(tmp_path, budget_runs()), table)
    top, bottom = visible_axes(figure)
    fronts = {line.get_gid(): list(zip(line.get_xdata(), line.get_ydata())) for line in bottom.get_lines()
              if (line.get_gid() or "").startswith("pareto:")}
    assert fronts["pareto:hgca"] == pytest.approx([(800, 0.99), (950, 0.95), (990, 0.80)])
    assert "recall" in bottom.get_ylabel() and "higher is better" in bottom.get_ylabel()


def test_pareto_front_direction():
    points = [(1, 0.5), (2, 0.4), (3, 0.1), (1.5, 0.3)]
    assert pareto_front(points, lower_is_better=False) == [(1, 0.5), (2, 0.4), (3, 0.1)]
    errors = [(1, 0.1), (2, 0.3), (3, 0.5), (1.5, 0.4)]  # an error metric: (1.5, 0.4) is beaten by (2, 0.3)
    assert pareto_front(errors, lower_is_better=True) == [(1, 0.1), (2, 0.3), (3, 0.5)]


def test_accuracy_file_errors_are_one_line(tmp_path):
    with pytest.raises(AccuracyFileError, match="no such file"):
        load_accuracy(str(tmp_path / "none.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("window,recall\n1024,0.9\n")
    with pytest.raises(AccuracyFileError, match="no numeric budget column"):
        load_accuracy(str(bad))


def test_head_selection_map_and_distribution_per_setting(tmp_path):
    rng = np.random.default_rng(0)
    runs = []
    for sigma in (0.5, 2.0):
        for seed in (1, 2):
            heads = np.clip(0.01 * np.exp(sigma * rng.standard_normal((4, 8))), 0.001, 0.4)
            runs.append(make_run("hgca", 8, 65536, seed=seed, head_selection=heads,
                                 parameters={"system.selection.sigma": sigma}))
    runs.append(make_run("gpu-full", 8, 65536, parameters={"system.selection.sigma": 0.5}))
    results = results_of(tmp_path, runs)
    figure = head_selection(results)
    heat, cdf = [ax for ax in figure.axes if ax.get_label() != "<colorbar>"][:2]
    assert heat.images[0].get_array().shape == (4, 8)
    assert np.allclose(heat.images[0].get_array(), np.clip(results.head_selection[0], 1e-4, None))
    lines = lines_by_label(cdf)
    assert set(lines) == {"sigma 0.5", "sigma 2"}
    wide = np.sort(np.concatenate([results.head_selection[2].ravel(), results.head_selection[3].ravel()])) * 100
    assert list(lines["sigma 2"].get_xdata()) == pytest.approx(list(wide))  # both seeds pooled
    assert lines["sigma 2"].get_ydata()[-1] == pytest.approx(1.0)


def write_timeline(path):
    events = [
        {"ph": "M", "name": "process_name", "pid": 0, "args": {"name": "gpu-full"}},
        {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "hgca system.strategy=hgca"}},
    ]
    for tid, track in enumerate(("host thread", "GPU compute", "PCIe D2H", "CPU core 0"), start=1):
        events.append({"ph": "M", "name": "thread_name", "pid": 1, "tid": tid, "args": {"name": track}})
        events.append({"ph": "M", "name": "thread_sort_index", "pid": 1, "tid": tid, "args": {"sort_index": tid}})
    spans = [(1, "launch", 1000.0, 5.0, 0), (2, "L0 window-attn", 1005.0, 40.0, 0), (3, "L0 q d2h", 1010.0, 4.0, 0),
             (4, "L0 sparse", 1014.0, 120.0, 0), (2, "L0 merge", 1134.0, 6.0, 0), (2, "next step", 2000.0, 1.0, 1)]
    events += [{"ph": "X", "pid": 1, "tid": tid, "name": name, "cat": "", "ts": ts, "dur": dur,
                "args": {"step": step, "layer": 0}} for tid, name, ts, dur, step in spans]
    events.append({"ph": "X", "pid": 0, "tid": 1, "name": "other run", "ts": 0.0, "dur": 1.0, "args": {"step": 0}})
    path.write_text(json.dumps({"displayTimeUnit": "ms", "traceEvents": events}))


def test_step_timeline_draws_one_step_of_the_hgca_run(tmp_path):
    path = tmp_path / "timeline.json"
    write_timeline(path)
    [ax] = step_timeline(str(path)).axes
    bars = {c.get_gid(): [tuple(np.round(p.vertices[0], 6)) for p in c.get_paths()] for c in ax.collections}
    # Times in ms from the step's first operation (ts 1000 us); step 1 is not drawn.
    assert bars["track:GPU compute"] == [(0.005, pytest.approx(0.6)), (0.134, pytest.approx(0.6))]  # row 1
    assert bars["track:CPU core 0"] == [(0.014, pytest.approx(2.6))]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["host thread", "GPU compute", "PCIe D2H", "CPU core 0"]
    assert "hgca" in ax.get_title() and "step 0" in ax.get_title()
    assert "ms" in ax.get_xlabel()


def test_whatif_along_one_hardware_figure(tmp_path):
    runs = [make_run(s, 8, 32768, tokens_per_s=cores * (2 if s == "hgca" else 1),
                     parameters={"hardware.cpu.cores": cores, "hardware.gpu.memory": 80 * GiB})
            for s in ("hgca", "cpu-full") for cores in (8, 16, 32)]
    [ax] = visible_axes(hardware_whatif(results_of(tmp_path, runs)))
    lines = lines_by_label(ax)
    assert set(lines) == {"hgca", "cpu-full"}
    assert list(lines["hgca"].get_xdata()) == [8, 16, 32]
    assert list(lines["hgca"].get_ydata()) == pytest.approx([16, 32, 64])
    assert ax.get_xlabel() == "CPU cores"


def test_whatif_across_named_profiles_is_a_bar_chart(tmp_path):
    runs = []
    for hw, bw, tps in (("a100", 25e9, 50.0), ("h100", 55e9, 100.0)):
        for s in ("hgca", "offload-fetch"):
            runs.append(make_run(s, 8, 32768, hardware=hw, tokens_per_s=tps / (1 if s == "hgca" else 10),
                                 parameters={"hardware.pcie.h2d.bandwidth": bw,
                                             "hardware.gpu.memory": (80 if hw == "h100" else 40) * GiB}))
    [ax] = visible_axes(hardware_whatif(results_of(tmp_path, runs)))
    heights = {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers}
    assert heights == {"hgca": pytest.approx([50, 100]), "offload-fetch": pytest.approx([5, 10])}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a100", "h100"]


def test_declared_figures_are_drawn_and_explained(tmp_path):
    runs = [make_run("hgca", 1, c) for c in (4096, 8192)]
    results = results_of(tmp_path, runs, description="x\nfigures: step_latency, no_such, capacity",
                         figures=("step_latency", "no_such", "capacity"))
    notes = []
    assert list(make_figures(results, Inputs(), notes)) == ["step_latency"]
    assert notes[0].startswith("declared figure 'no_such' is unknown")
    assert notes[1].startswith("declared figure 'capacity' not drawn: it needs")


def test_plot_command_with_timeline_and_notes(tmp_path):
    path = tmp_path / "results.h5"
    write_results(path, [make_run("hgca", 1, c) for c in (4096, 8192)],
                  figures=("throughput_vs_context", "step_timeline"))
    timeline = tmp_path / "t.json"
    write_timeline(timeline)
    out = tmp_path / "figs"
    done = subprocess.run([sys.executable, "-m", "analysis.plot", str(path), "--out", str(out), "--formats", "png",
                           "--timeline", str(timeline)], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(out / "throughput_vs_context.png"), str(out / "step_timeline.png")]
    missing = subprocess.run([sys.executable, "-m", "analysis.plot", str(path), "--out", str(out),
                              "--timeline", str(tmp_path / "none.json")], cwd=REPO, capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr == f"error: {tmp_path / 'none.json'}: no such file\n"


def test_every_shipped_suite_declares_known_figures():
    suites = glob.glob(os.path.join(REPO, "experiments", "*.yaml"))
    assert len(suites) >= 10
    for suite in suites:
        with open(suite) as f:
            declared = [name for line in f for match in [re.match(r"\s+figures:(.*)$", line)] if match
                        for name in re.split(r"[,\s]+", match.group(1).strip()) if name]
        assert declared, f"{suite} declares no figures"
        assert set(declared) <= set(FIGURES), f"{suite}: {set(declared) - set(FIGURES)}"


def test_replay_results_files_are_read_one_budget_each(tmp_path):
    import h5py
    paths = []
    for fraction, mass in ((0.01, 0.9), (0.05, 0.97)):
        path = tmp_path / f"replay-{fraction}.h5"
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "hgca-replay-results"
            f.attrs["policy"] = f"topk:frac={fraction}"
            f.attrs["window"] = 1024
            f["summary/mass_mean"] = np.full((2, 4), mass)
            f["summary/selected_fraction"] = np.full((2, 4), fraction)
            f["summary/rel_l2_mean"] = np.full((2, 4), 1 - mass)
        paths.append(str(path))
    table = load_accuracy(paths)
    assert table.metric == "mass_recovered" and not table.lower_is_better
    assert table.lookup(0.05, 1024) == pytest.approx(0.97)
    assert table.lookup(0.05, 2048) is None
    error = load_accuracy(paths, "rel_l2_error")
    assert error.lower_is_better and error.lookup(0.01, 1024) == pytest.approx(0.1)
