import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The C++ helper that writes a sample results file (tests/results/write_sample_results.cpp), if built.
SAMPLE_WRITER = os.environ.get("HGCA_SAMPLE_WRITER",
                               os.path.join(REPO, "build-results", "bin", "write_sample_results"))


@pytest.fixture
def cpp_sample(tmp_path):
    """Path of a results file written by the C++ writer; the test is skipped when the helper is not built."""
    if not (os.path.isfile(SAMPLE_WRITER) and os.access(SAMPLE_WRITER, os.X_OK)):
        pytest.skip(f"{SAMPLE_WRITER} not built (cmake --build build-results --target write_sample_results)")
    path = tmp_path / "sample.h5"
    subprocess.run([SAMPLE_WRITER, str(path)], check=True)
    return path
