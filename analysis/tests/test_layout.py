"""The Python reader against files written by the C++ writer and by the h5py fixture."""

import h5py
import numpy as np
import pytest

from analysis.results_file import ResultsFileError, load
from analysis.tests.results_fixture import FIELDS, make_run, write_results


def describe(dtype) -> str:
    info = h5py.check_string_dtype(dtype)
    if info is not None:
        return f"string/{info.encoding}/{'vlen' if info.length is None else info.length}"
    return dtype.str


def layout(path) -> dict:
    """Every group, dataset and attribute of a file with its type and shape (not its values)."""
    entries = {}

    def attrs_of(name, obj):
        for key in obj.attrs:
            attr = obj.attrs.get_id(key)
            entries[f"{name}@{key}"] = (describe(attr.dtype), len(attr.shape))

    with h5py.File(path, "r") as f:
        attrs_of("/", f)

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                entries[name] = ("dataset", describe(obj.dtype), obj.ndim)
            else:
                entries[name] = ("group",)
            attrs_of(name, obj)

        f.visititems(visit)
    return entries


def test_fixture_writes_exactly_the_cpp_layout(cpp_sample, tmp_path):
    with h5py.File(cpp_sample, "r") as f:
        count = len(f["runs"])
    fixture = tmp_path / "fixture.h5"
    write_results(fixture, [make_run(context=4096 * (i + 1)) for i in range(count)])
    cpp, ours = layout(cpp_sample), layout(fixture)
    assert sorted(set(cpp) ^ set(ours)) == []
    assert {k: v for k, v in cpp.items() if cpp[k] != ours[k]} == {}
    assert cpp["/@format_version"] == ("<i8", 0)
    assert cpp["runs/0000@feasible"] == ("|u1", 0)
    assert cpp["summary/strategy"] == ("dataset", "string/utf-8/vlen", 1)


def test_cpp_sample_reads_back(cpp_sample):
    results = load(str(cpp_sample))
    assert len(results) == 24  # 2 batches x 3 contexts x (gpu-full, hgca seed 0, hgca seed 1, offload-fetch)
    assert results.tool_version == "sample"
    assert int(results.columns["feasible"].sum()) == 21
    assert results.columns["feasible"].dtype == bool
    assert sorted(set(results.columns["strategy"])) == ["gpu-full", "hgca", "offload-fetch"]
    assert results.units["tokens_per_s"] == "tokens/s"
    first = results.rows()[0]
    assert first["strategy"] == "gpu-full" and first["batch"] == 1 and first["context"] == 4096
    assert first["tokens_per_s"] == pytest.approx(100 * 65536 / 4096)
    assert isinstance(first["point_label"], str)


def test_fixture_columns_follow_the_documented_field_list(tmp_path):
    path = tmp_path / "r.h5"
    write_results(path, [make_run(), make_run(strategy="gpu-full", feasible=False)])
    with h5py.File(path, "r") as f:
        columns = list(f["summary"].attrs["columns"])
    assert columns == [name for name, _, _ in FIELDS if name != "resolved_yaml"]
    results = load(str(path))
    assert list(results.columns["feasible"]) == [True, False]
    assert results.columns["gpu_share"][0] == pytest.approx(0.5)


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_text("strategy,batch\n"), "not an HDF5 file"),
    (lambda p: h5py.File(p, "w").close(), "not an hgca results file (root attribute 'format' is missing)"),
])
def test_unreadable_files_give_one_line_errors(tmp_path, make, message):
    path = tmp_path / "bad.h5"
    make(path)
    with pytest.raises(ResultsFileError) as error:
        load(str(path))
    assert str(error.value) == f"{path}: {message}"


def test_wrong_version_and_missing_column_are_named(tmp_path):
    path = tmp_path / "r.h5"
    write_results(path, [make_run()])
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = np.int64(7)
    with pytest.raises(ResultsFileError, match=r"format_version 7 is not supported"):
        load(str(path))
    write_results(path, [make_run()])
    with h5py.File(path, "r+") as f:
        del f["summary/step_p99_s"]
    with pytest.raises(ResultsFileError, match=r"/summary/step_p99_s is missing"):
        load(str(path))
