import pytest

from analysis import compare_calibrations as cc


def rows(*pairs):
    return [{"primitive": p, "time_s": str(t)} for p, t in pairs]


def test_spread_per_primitive_by_hand():
    a = rows(("pcie_copy", 1.1), ("pcie_copy", 2.0), ("cpu_stream", 3.0))
    b = rows(("pcie_copy", 1.0), ("pcie_copy", 2.5), ("cpu_stream", 3.0))
    s = cc.compare(a, b)
    assert s["pcie_copy"] == pytest.approx([0.1, 0.2])
    assert s["cpu_stream"] == [0.0]


def test_tables_that_do_not_pair_up_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not the same grid"):
        cc.compare(rows(("pcie_copy", 1.0)), rows())
    with pytest.raises(ValueError, match="row 1"):
        cc.compare(rows(("pcie_copy", 1.0)), rows(("gpu_gemm", 1.0)))
    fa, fb = tmp_path / "a.csv", tmp_path / "b.csv"
    fa.write_text("# comment\nprimitive,time_s\npcie_copy,1\n")
    fb.write_text("primitive,time_s\ngpu_gemm,1\n")
    assert cc.main([str(fa), str(fb)]) == 2


def test_reads_the_shipped_device_tables(capsys):
    d = "docs/device-runs/2026-12-04-run4/"
    assert cc.main([d + "device-h200-calibrated-A.measurements.csv", d + "device-h200-calibrated-B.measurements.csv"]) == 0
    out = capsys.readouterr().out
    assert "cpu_attention" in out and "pcie_copy" in out
