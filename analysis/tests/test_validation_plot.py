"""validation_plot: the scatter holds each role's points at (measured, predicted); errors are one line."""

import h5py
import numpy as np
import pytest

from analysis import validation_plot


def write_validation(path, kinds, roles, measured, predicted, standard_error=None):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "hgca-validation"
        rows = f.create_group("rows")
        text = h5py.string_dtype()
        rows.create_dataset("kind", data=np.array(kinds, dtype=object), dtype=text)
        rows.create_dataset("role", data=np.array(roles, dtype=object), dtype=text)
        measured = np.asarray(measured, dtype=float)
        predicted = np.asarray(predicted, dtype=float)
        rows.create_dataset("measured_ms", data=measured)
        rows.create_dataset("predicted_ms", data=predicted)
        rows.create_dataset("error", data=(predicted - measured) / measured)
        if standard_error is not None:
            rows.create_dataset("measured_standard_error", data=np.asarray(standard_error, dtype=float))


def test_scatter_places_every_feasible_point(tmp_path):
    path = tmp_path / "v.h5"
    write_validation(path, ["attention", "attention", "attention", "decode-step", "attention"],
                     ["fit", "holdout", "fit", "holdout", "holdout"],
                     [1.0, 2.0, 4.0, 30.0, 8.0], [1.1, 1.8, 4.0, 33.0, float("nan")])
    rows = validation_plot.load_rows(str(path))
    figure = validation_plot.scatter(rows)
    assert [ax.get_title() for ax in figure.axes] == ["attention step", "whole decode step"]
    attention = {line.get_gid(): line for line in figure.axes[0].get_lines() if line.get_gid()}
    np.testing.assert_allclose(attention["attention:fit"].get_xdata(), [1.0, 4.0])
    np.testing.assert_allclose(attention["attention:fit"].get_ydata(), [1.1, 4.0])
    # The infeasible holdout row (NaN prediction) is left out.
    np.testing.assert_allclose(attention["attention:holdout"].get_xdata(), [2.0])
    assert attention["attention:fit"].get_marker() != attention["attention:holdout"].get_marker()
    # Legend carries the statistics: fit |errors| 0.1 and 0 -> median 5.0%, p90 9.0%.
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert any("median 5.0%" in label and "p90 9.0%" in label for label in labels), labels
    decode = {line.get_gid(): line for line in figure.axes[1].get_lines() if line.get_gid()}
    np.testing.assert_allclose(decode["decode-step:holdout"].get_ydata(), [33.0])
    assert figure.axes[0].get_xscale() == "log" and figure.axes[0].get_yscale() == "log"


def test_measurement_noise_is_a_horizontal_bar(tmp_path):
    path = tmp_path / "v.h5"
    write_validation(path, ["attention"] * 3, ["holdout"] * 3, [1.0, 2.0, 4.0], [1.1, 1.8, 4.0],
                     standard_error=[0.05, float("nan"), 0.10])
    rows = validation_plot.load_rows(str(path))
    figure = validation_plot.scatter(rows)
    bars = [c for c in figure.axes[0].containers if c.get_label() == "_se attention:holdout"]
    assert len(bars) == 1
    # Only the two rows with a standard error get a bar: +-5% of 1 ms and +-10% of 4 ms.
    segments = bars[0].lines[2][0].get_segments()
    spans = sorted((float(s[0][0]), float(s[1][0])) for s in segments)
    np.testing.assert_allclose(spans, [(0.95, 1.05), (3.6, 4.4)])
    # A file written before the column existed draws no bars.
    write_validation(path, ["attention"], ["fit"], [1.0], [1.05])
    old = validation_plot.load_rows(str(path))
    assert np.all(np.isnan(old["measured_standard_error"]))
    assert not validation_plot.scatter(old).axes[0].containers


def test_main_writes_the_figure(tmp_path, capsys):
    path = tmp_path / "v.h5"
    write_validation(path, ["attention"], ["fit"], [1.0], [1.05])
    assert validation_plot.main([str(path), "--out", str(tmp_path / "figs"), "--formats", "png"]) == 0
    assert (tmp_path / "figs" / "validation_scatter.png").stat().st_size > 0


def test_errors_are_one_line(tmp_path, capsys):
    assert validation_plot.main([str(tmp_path / "missing.h5"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f.attrs["format"] = "something-else"
    assert validation_plot.main([str(bad), "--out", str(tmp_path)]) == 1
    assert "not an hgca validation file" in capsys.readouterr().err


def test_reads_what_the_cpp_writer_writes(tmp_path):
    """The C++ writer's file (hgca validate predict --out), when a built hgca is around."""
    import os
    import subprocess
    from analysis.tests.conftest import REPO
    hgca = next((p for p in (os.path.join(REPO, d, "bin", "hgca") for d in ("build", "build-valid"))
                 if os.access(p, os.X_OK)), None)
    if hgca is None:
        pytest.skip("no built hgca")
    out = tmp_path / "v.h5"
    run = subprocess.run([hgca, "validate", "predict", "--measured",
                          os.path.join(REPO, "tests", "validation", "data", "measured_small.csv"),
                          "--hw", "device-h100", "--out", str(out)], capture_output=True, text=True)
    if run.returncode != 0 and "unknown command" in (run.stderr + run.stdout):
        pytest.skip("this hgca has no validate command")
    assert run.returncode == 0, run.stderr
    rows = validation_plot.load_rows(str(out))
    assert list(rows["kind"]) == ["attention", "attention", "attention", "decode-step"]
    assert list(rows["role"]) == ["fit", "fit", "holdout", "holdout"]
    np.testing.assert_allclose(rows["measured_ms"], [1.5, 0.08, 0.9, 12.0])
    assert np.all(rows["predicted_ms"] > 0)
