import json
import struct

import numpy as np
import pytest

from traces.capture import safetensors_numpy as st


def write_raw(path, header, payload):
    raw = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + payload)


def test_float32_round_trip(tmp_path):
    tensors = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5, -2.25], np.float32)}
    st.save(tmp_path / "m.safetensors", tensors)
    loaded = st.load(tmp_path / "m.safetensors")
    assert set(loaded) == {"a", "b"}
    np.testing.assert_array_equal(loaded["a"], tensors["a"])
    np.testing.assert_array_equal(loaded["b"], tensors["b"])


def test_bfloat16_is_widened_exactly(tmp_path):
    # bf16 patterns written by hand: 1.0 = 0x3F80, -2.5 = 0xC020, 0.15625 = 0x3E20, smallest subnormal 0x0001.
    bits = np.array([0x3F80, 0xC020, 0x3E20, 0x0001], dtype="<u2")
    write_raw(tmp_path / "m.safetensors", {"w": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]},
                                           "__metadata__": {"format": "pt"}}, bits.tobytes())
    w = st.load(tmp_path / "m.safetensors")["w"]
    assert w.dtype == np.float32 and w.shape == (2, 2)
    assert w.ravel()[:3].tolist() == [1.0, -2.5, 0.15625]
    assert w.ravel()[3] == np.float32(2.0 ** -133)


def test_float16_and_selection(tmp_path):
    half = np.array([0.5, -3.0, 65504.0], np.float16)
    write_raw(tmp_path / "m.safetensors", {"h": {"dtype": "F16", "shape": [3], "data_offsets": [0, 6]},
                                           "i": {"dtype": "I32", "shape": [1], "data_offsets": [6, 10]}},
              half.tobytes() + np.array([7], "<i4").tobytes())
    loaded = st.load(tmp_path / "m.safetensors", names={"h"})
    assert list(loaded) == ["h"]
    assert loaded["h"].tolist() == [0.5, -3.0, 65504.0]
    with pytest.raises(st.SafetensorsError, match="tensor 'zz' is missing"):
        st.load(tmp_path / "m.safetensors", names={"h", "zz"})


@pytest.mark.parametrize("header, payload, message", [
    ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, b"\0" * 12, "does not match shape"),
    ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8, "past the end"),
    ({"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "unsupported dtype C64"),
])
def test_malformed_tensors(tmp_path, header, payload, message):
    write_raw(tmp_path / "m.safetensors", header, payload)
    with pytest.raises(st.SafetensorsError, match=message):
        st.load(tmp_path / "m.safetensors")


def test_malformed_header(tmp_path):
    (tmp_path / "short").write_bytes(b"\x01\x02")
    with pytest.raises(st.SafetensorsError, match="shorter than the 8-byte header"):
        st.load(tmp_path / "short")
    (tmp_path / "cut").write_bytes(struct.pack("<Q", 100) + b"{}")
    with pytest.raises(st.SafetensorsError, match="header of 100 bytes is truncated"):
        st.load(tmp_path / "cut")
    (tmp_path / "json").write_bytes(struct.pack("<Q", 3) + b"{x}")
    with pytest.raises(st.SafetensorsError, match="not valid JSON"):
        st.load(tmp_path / "json")
