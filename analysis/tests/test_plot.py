"""Figures: each expected file is written and each figure holds the series it should, with the right data."""

import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.colors import to_hex

from analysis import plot, style
from analysis.figures import make_figures
from analysis.figures.breakdown import step_breakdown
from analysis.figures.latency import step_latency
from analysis.figures.throughput import throughput_vs_batch, throughput_vs_context
from analysis.results_file import load
from analysis.tests.conftest import REPO
from analysis.tests.results_fixture import make_run, write_results

CONTEXTS = [4096, 8192, 16384, 32768]


def results_of(tmp_path, runs):
    path = tmp_path / "results.h5"
    write_results(path, runs)
    return load(str(path))


def visible_axes(figure):
    return [ax for ax in figure.axes if ax.get_visible()]


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


def last_feasible_markers(ax):
    return {line.get_gid(): (line.get_xdata()[0], line.get_ydata()[0]) for line in ax.get_lines()
            if (line.get_gid() or "").startswith("last-feasible:")}


def sweep(batch=1):
    """hgca and offload-fetch feasible everywhere; gpu-full infeasible at the largest context."""
    runs = []
    for ctx in CONTEXTS:
        runs.append(make_run("hgca", batch, ctx, tokens_per_s=1000 * 4096 / ctx))
        runs.append(make_run("offload-fetch", batch, ctx, tokens_per_s=250 * 4096 / ctx))
        runs.append(make_run("gpu-full", batch, ctx, tokens_per_s=1500 * 4096 / ctx, feasible=ctx < 32768))
    return runs


def test_throughput_vs_context_series_and_last_feasible_point(tmp_path):
    figure = throughput_vs_context(results_of(tmp_path, sweep()))
    [ax] = visible_axes(figure)
    lines = lines_by_label(ax)
    assert set(lines) == {"hgca", "gpu-full", "offload-fetch"}
    assert list(lines["hgca"].get_xdata()) == CONTEXTS
    assert list(lines["hgca"].get_ydata()) == pytest.approx([1000, 500, 250, 125])
    # Infeasible points are left out, not drawn at zero.
    assert list(lines["gpu-full"].get_xdata()) == [4096, 8192, 16384]
    assert last_feasible_markers(ax) == {"last-feasible:gpu-full": (16384, pytest.approx(375.0))}
    assert ax.get_xscale() == "log"
    assert "tokens/s" in ax.get_ylabel() and "tokens" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "last feasible point"
    assert to_hex(lines["hgca"].get_color()) == to_hex(style.STRATEGIES["hgca"][0])
    assert to_hex(lines["gpu-full"].get_color()) == to_hex(style.STRATEGIES["gpu-full"][0])


def test_one_panel_per_batch_and_error_bars_over_seeds(tmp_path):
    runs = []
    for batch in (1, 8):
        for ctx in (4096, 16384):
            runs.append(make_run("hgca", batch, ctx, tokens_per_s=100.0 * batch, seed=0))
            runs.append(make_run("hgca", batch, ctx, tokens_per_s=110.0 * batch, seed=1))
    figure = throughput_vs_context(results_of(tmp_path, runs))
    axes = visible_axes(figure)
    assert [ax.get_title() for ax in axes] == ["batch 1", "batch 8"]
    ax8 = axes[1]
    assert list(lines_by_label(ax8)["hgca"].get_ydata()) == pytest.approx([840, 840])  # mean of 800 and 880
    # Error bar = sample standard deviation of (800, 880) = 56.57
    segments = [seg for c in ax8.collections for seg in c.get_segments()]
    half = np.std([800, 880], ddof=1)
    assert any(seg[0][1] == pytest.approx(840 - half) and seg[1][1] == pytest.approx(840 + half) for seg in segments)


def test_throughput_vs_batch_needs_several_batches(tmp_path):
    assert throughput_vs_batch(results_of(tmp_path, sweep(batch=1))) is None
    runs = [make_run("hgca", b, 4096, tokens_per_s=100.0 * b) for b in (1, 2, 4)]
    runs += [make_run("gpu-full", b, 4096, tokens_per_s=150.0 * b, feasible=b < 4) for b in (1, 2, 4)]
    figure = throughput_vs_batch(results_of(tmp_path, runs))
    [ax] = visible_axes(figure)
    lines = lines_by_label(ax)
    assert list(lines["hgca"].get_xdata()) == [1, 2, 4]
    assert list(lines["hgca"].get_ydata()) == pytest.approx([100, 200, 400])
    assert last_feasible_markers(ax) == {"last-feasible:gpu-full": (2, pytest.approx(300.0))}
    assert "Batch" in ax.get_xlabel()


def test_strategy_variants_get_their_own_labelled_lines(tmp_path):
    runs = [make_run("hgca", 1, ctx, tokens_per_s=100.0 * w / 1024, window=w) for ctx in (4096, 8192)
            for w in (2048, 4096)]
    [ax] = visible_axes(throughput_vs_context(results_of(tmp_path, runs)))
    lines = lines_by_label(ax)
    assert set(lines) == {"hgca, window 2048", "hgca, window 4096"}
    assert lines["hgca, window 2048"].get_linestyle() != lines["hgca, window 4096"].get_linestyle()
    assert to_hex(lines["hgca, window 2048"].get_color()) == to_hex(lines["hgca, window 4096"].get_color())
    assert list(lines["hgca, window 4096"].get_ydata()) == pytest.approx([400, 400])


def bars(ax):
    """{resource: [bar heights]} and the group labels under the bars."""
    heights = {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers}
    return heights, [t.get_text() for t in ax.get_xticklabels()]


def test_step_breakdown_with_few_runs_shows_each_run(tmp_path):
    runs = [make_run("hgca", 1, 4096, tokens_per_s=100.0),
            make_run("gpu-full", 1, 4096, tokens_per_s=200.0, busy_h2d_s=0.0, busy_cpu_core_s=0.0)]
    [ax] = visible_axes(step_breakdown(results_of(tmp_path, runs)))
    heights, groups = bars(ax)
    assert groups == ["hgca", "gpu-full"]
    assert heights == {"GPU": pytest.approx([50, 50]), "H2D": pytest.approx([25, 0]),
                       "D2H": pytest.approx([10, 10]), "CPU": pytest.approx([75, 0])}
    assert "%" in ax.get_ylabel()


def test_step_breakdown_compares_at_the_largest_context_all_strategies_ran(tmp_path):
    runs = []
    for ctx in CONTEXTS:
        for strategy, feasible in (("hgca", True), ("offload-fetch", True), ("gpu-full", ctx < 32768)):
            run = make_run(strategy, 1, ctx, tokens_per_s=100.0, feasible=feasible)
            if feasible:  # GPU share = context / 65536 tells the bars' context apart
                run["busy_gpu_s"] = run["decode_s"] * ctx / 65536
            runs.append(run)
    [ax] = visible_axes(step_breakdown(results_of(tmp_path, runs)))
    heights, groups = bars(ax)
    assert ax.get_title() == "batch 1, context 16K"
    assert groups == ["hgca", "gpu-full", "offload-fetch"]
    assert heights["GPU"] == pytest.approx([25.0, 25.0, 25.0])


def test_step_latency_shows_p50_and_p99_in_ms(tmp_path):
    [ax] = visible_axes(step_latency(results_of(tmp_path, sweep())))
    lines = lines_by_label(ax)
    assert {"hgca p50", "hgca p99", "gpu-full p50", "gpu-full p99", "offload-fetch p50"} <= set(lines)
    # make_run: 4 steps of one token for batch 1 at 1000 tok/s (4K context) -> 1 ms per step; p99 = 1.5 x p50.
    assert list(lines["hgca p50"].get_ydata()) == pytest.approx([1, 2, 4, 8])
    assert list(lines["hgca p99"].get_ydata()) == pytest.approx([1.5, 3, 6, 12])
    assert list(lines["gpu-full p50"].get_xdata()) == [4096, 8192, 16384]
    assert "ms" in ax.get_ylabel()


def test_figures_are_skipped_when_the_results_lack_what_they_need(tmp_path):
    one_context = [make_run("hgca", 1, 4096), make_run("gpu-full", 1, 4096)]
    assert set(make_figures(results_of(tmp_path, one_context))) == {"step_breakdown"}
    nothing_feasible = [make_run("gpu-full", 1, ctx, feasible=False) for ctx in CONTEXTS]
    assert make_figures(results_of(tmp_path, nothing_feasible)) == {}


def run_plot(*args):
    return subprocess.run([sys.executable, "-m", "analysis.plot", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True)


def test_command_writes_png_and_pdf_of_every_figure(tmp_path):
    path = tmp_path / "results.h5"
    runs = sweep(1) + sweep(8)
    write_results(path, runs)
    out = tmp_path / "figures" / "nested"
    done = run_plot(path, "--out", out)
    assert done.returncode == 0, done.stderr
    names = ["throughput_vs_context", "throughput_vs_batch", "step_breakdown", "step_latency", "capacity"]
    expected = [str(out / f"{name}.{fmt}") for name in names for fmt in ("png", "pdf")]
    assert done.stdout.split() == expected
    for file in expected:
        with open(file, "rb") as f:
            assert f.read(4) in (b"\x89PNG", b"%PDF"), file
    assert sorted(os.listdir(out)) == sorted(os.path.basename(f) for f in expected)  # no temporaries


@pytest.mark.parametrize("content, message", [(None, "no such file"), ("text", "not an HDF5 file")])
def test_command_fails_with_one_line_for_bad_input(tmp_path, capsys, content, message):
    path = tmp_path / "results.h5"
    if content is not None:
        path.write_text(content)
    assert plot.main([str(path), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: {path}: {message}\n"
    assert captured.out == ""
    assert not (tmp_path / "out").exists()


def test_command_with_nothing_to_plot_says_so(tmp_path, capsys):
    path = tmp_path / "results.h5"
    write_results(path, [make_run("gpu-full", 1, 4096, feasible=False)])
    assert plot.main([str(path), "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no figure applies" in captured.err


def test_figures_from_the_cpp_writer(cpp_sample):
    figures = make_figures(load(str(cpp_sample)))
    assert list(figures) == ["throughput_vs_context", "throughput_vs_batch", "step_breakdown", "step_latency",
                             "capacity"]
    batch1, batch8 = visible_axes(figures["throughput_vs_context"])
    # sample_sweep: tokens/s = base x batch x 65536 / context; hgca averages bases 80 and 82 over two seeds.
    assert list(lines_by_label(batch1)["hgca"].get_ydata()) == pytest.approx([81 * 16, 81 * 4, 81])
    assert last_feasible_markers(batch1) == {"last-feasible:gpu-full": (16384, pytest.approx(400.0))}
    assert last_feasible_markers(batch8) == {"last-feasible:gpu-full": (4096, pytest.approx(12800.0))}


def test_style_gives_each_strategy_its_own_colour_and_marker():
    colours = [to_hex(c) for c, _ in style.STRATEGIES.values()]
    markers = [m for _, m in style.STRATEGIES.values()]
    assert len(set(colours)) == len(colours) == 9
    assert len(set(markers)) == len(markers)
    assert set(colours) <= {to_hex(c) for c in style.OKABE_ITO.values()}
    assert style.strategy_color("something-new") == style.strategy_color("something-new")
    assert style.tokens_label(4096) == "4K" and style.tokens_label(1 << 20) == "1M"
    assert style.tokens_label(1000) == "1000"
