"""Read a .safetensors file with numpy alone (no `safetensors` package).

Layout: an 8-byte little-endian header length n, n bytes of JSON mapping each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the end of the header; an optional
"__metadata__" entry holds strings), then the raw little-endian buffers. bfloat16 is widened to float32 by
placing its 16 bits in the upper half of a 32-bit word, which is exact.
"""
import json
import struct

import numpy as np

_NUMPY_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}
_ITEM_SIZE = {"BF16": 2, **{k: np.dtype(v).itemsize for k, v in _NUMPY_DTYPES.items()}}


class SafetensorsError(ValueError):
    """A malformed or unsupported safetensors file; the message names the file and the tensor."""


def read_header(path):
    """Returns (header dict without __metadata__, metadata dict, byte offset where the buffers start)."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise SafetensorsError(f"{path}: shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        raw = f.read(n)
        if len(raw) != n:
            raise SafetensorsError(f"{path}: header of {n} bytes is truncated")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: header is not valid JSON ({e})") from None
    metadata = header.pop("__metadata__", {}) or {}
    return header, metadata, 8 + n


def load(path, names=None):
    """Loads tensors (all, or those in `names`) as numpy arrays; bfloat16 and float16 become float32."""
    header, _, start = read_header(path)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, info in header.items():
        if names is not None and name not in names:
            continue
        dtype, shape = info.get("dtype"), info.get("shape")
        begin, end = info.get("data_offsets", (None, None))
        if dtype not in _ITEM_SIZE:
            raise SafetensorsError(f"{path}: tensor '{name}' has unsupported dtype {dtype}")
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * _ITEM_SIZE[dtype] or start + end > data.size:
            raise SafetensorsError(
                f"{path}: tensor '{name}' spans bytes [{begin}, {end}), which does not match shape {shape} "
                f"of {dtype} or runs past the end of the file")
        buf = np.asarray(data[start + begin:start + end])
        if dtype == "BF16":
            arr = (buf.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = buf.view(np.dtype(_NUMPY_DTYPES[dtype]).newbyteorder("<"))
            if arr.dtype.kind == "f":
                arr = arr.astype(np.float32)
        out[name] = arr.reshape(shape)
    if names is not None:
        missing = sorted(set(names) - set(out))
        if missing:
            raise SafetensorsError(f"{path}: tensor '{missing[0]}' is missing ({len(missing)} missing in all)")
    return out


def save(path, tensors):
    """Writes float32 numpy arrays as a safetensors file (used by tests to build small random models)."""
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        blob = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    raw = json.dumps(header).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)
