"""The text summary, checked against hand-computed figures."""

import subprocess
import sys

from analysis.results_file import load
from analysis.summary import summarize
from analysis.tests.conftest import REPO
from analysis.tests.results_fixture import make_run, write_results


def summary_of(tmp_path, runs):
    path = tmp_path / "results.h5"
    write_results(path, runs)
    return summarize(load(str(path)))


def test_best_strategy_and_speedups(tmp_path):
    runs = [
        # 4K: gpu-full 400, hgca 200 (two seeds: 190, 210), offload-fetch 100
        make_run("gpu-full", 1, 4096, tokens_per_s=400.0),
        make_run("hgca", 1, 4096, tokens_per_s=190.0, seed=0),
        make_run("hgca", 1, 4096, tokens_per_s=210.0, seed=1),
        make_run("offload-fetch", 1, 4096, tokens_per_s=100.0),
        # 64K: gpu-full infeasible, hgca 80 (best of windows 1024: 60 and 4096: 80), offload-fetch 10
        make_run("gpu-full", 1, 65536, feasible=False),
        make_run("hgca", 1, 65536, tokens_per_s=60.0, window=1024),
        make_run("hgca", 1, 65536, tokens_per_s=80.0, window=4096),
        make_run("offload-fetch", 1, 65536, tokens_per_s=10.0),
    ]
    text = summary_of(tmp_path, runs)
    lines = text.splitlines()
    assert "8 runs (7 feasible)" in lines[0]
    assert any("context     4K: gpu-full" in l and "400.0 tok/s" in l and "next hgca (2.00x slower)" in l
               for l in lines), text
    assert any("context    64K: hgca" in l and "80.0 tok/s" in l and "next offload-fetch (8.00x slower)" in l
               for l in lines), text
    # vs offload-fetch: ratios 2 and 8 -> geometric mean 4; vs gpu-full: one case at 0.5, one where only hgca runs.
    [offload] = [l for l in lines if "vs offload-fetch" in l]
    assert "4.00x" in offload and "over 2 cases" in offload and "range 2.00x to 8.00x" in offload
    [gpu] = [l for l in lines if "vs gpu-full" in l]
    assert "0.50x" in gpu and "over 1 case," in gpu and "gpu-full infeasible in 1 case where hgca runs" in gpu


def test_without_hgca_there_are_no_speedups(tmp_path):
    text = summary_of(tmp_path, [make_run("gpu-full", 1, 4096), make_run("offload-fetch", 1, 4096)])
    assert "No hgca runs: no speed-ups." in text


def test_command_line(tmp_path):
    path = tmp_path / "results.h5"
    write_results(path, [make_run("hgca", 1, 4096)])
    done = subprocess.run([sys.executable, "-m", "analysis.summary", str(path)], cwd=REPO, capture_output=True,
                          text=True)
    assert done.returncode == 0 and "1 runs (1 feasible)" in done.stdout
    missing = subprocess.run([sys.executable, "-m", "analysis.summary", str(tmp_path / "none.h5")], cwd=REPO,
                             capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr == f"error: {tmp_path / 'none.h5'}: no such file\n"
