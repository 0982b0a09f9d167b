"""Write and read HGCA attention trace files (traces/FORMAT.md) with h5py.

The same layout as the C++ reader/writer in traces/format: root attributes for the metadata, /positions,
/tokens, and four tensors [num_layers][heads][rows][head_dim] (/keys, /values, /queries, /outputs) chunked
per (layer, head), plus optionally (version 2) the queries of some prompt positions (/prompt_queries, with
their positions in /prompt_query_positions). Writing goes to a hidden temporary beside the target that is renamed over it only when
every layer was written, so a failed capture never leaves a half-written trace.
"""
import math
import os
import tempfile
from dataclasses import dataclass, field

import h5py
import numpy as np

FORMAT_NAME = "hgca-attention-trace"
FORMAT_VERSION = 2  # what the writer writes
READABLE_VERSIONS = (1, 2)  # version 1 has no prompt queries
STORAGE_DTYPES = ("float16", "bfloat16", "float32")
TENSORS = ("keys", "values", "queries", "outputs", "prompt_queries")
CHUNK_BYTES = 256 << 10


class TraceFileError(ValueError):
    """A trace that cannot be written or read; one line naming the file and the dataset or attribute."""


@dataclass
class TraceMeta:
    model_name: str
    num_layers: int
    num_q_heads: int
    num_kv_heads: int
    head_dim: int
    prompt_length: int
    decode_steps: int
    softmax_scale: float
    rope_theta: float = 0.0
    rope_scaling: str = "none"
    storage_dtype: str = "float16"
    model_dtype: str = "float32"
    decode_mode: str = "teacher-forced"
    source: str = ""
    text_source: str = ""
    tokens: list = field(default_factory=list)
    has_outputs: bool = True
    # Prompt positions (ascending, each in [0, prompt_length)) whose post-rotary queries are stored in
    # /prompt_queries; empty: none stored.
    prompt_query_positions: list = field(default_factory=list)
    # Extra root attributes (strings or numbers) that readers may ignore: capture command, versions, ...
    extra: dict = field(default_factory=dict)

    @property
    def num_positions(self):
        return self.prompt_length + self.decode_steps

    @property
    def num_prompt_queries(self):
        return len(self.prompt_query_positions)

    @property
    def group_size(self):
        return self.num_q_heads // self.num_kv_heads

    def check(self, what):
        if min(self.num_layers, self.num_q_heads, self.num_kv_heads, self.head_dim) <= 0:
            raise TraceFileError(f"{what}: layers, query heads, KV heads and head_dim must all be positive")
        if self.num_q_heads % self.num_kv_heads:
            raise TraceFileError(f"{what}: query heads ({self.num_q_heads}) must be a multiple of KV heads "
                                 f"({self.num_kv_heads})")
        if self.prompt_length < 0 or self.decode_steps <= 0:
            raise TraceFileError(f"{what}: prompt_length must be >= 0 and decode_steps > 0")
        if not (self.softmax_scale > 0 and math.isfinite(self.softmax_scale)):
            raise TraceFileError(f"{what}: softmax_scale must be a positive finite number")
        if self.storage_dtype not in STORAGE_DTYPES:
            raise TraceFileError(f"{what}: storage_dtype '{self.storage_dtype}' is not one of {STORAGE_DTYPES}")
        if self.tokens is not None and len(self.tokens) not in (0, self.num_positions):
            raise TraceFileError(f"{what}: {len(self.tokens)} tokens, expected {self.num_positions} "
                                 "(prompt_length + decode_steps)")
        previous = -1
        for i, p in enumerate(self.prompt_query_positions):
            if not previous < p < self.prompt_length:
                raise TraceFileError(f"{what}: prompt query position {p} (index {i}) must lie in [0, prompt_length "
                                     f"{self.prompt_length}) and the positions must be strictly ascending")
            previous = p

    def rows(self, name):
        """(heads, rows) of tensor `name` in this trace."""
        return {"keys": (self.num_kv_heads, self.num_positions), "values": (self.num_kv_heads, self.num_positions),
                "queries": (self.num_q_heads, self.decode_steps), "outputs": (self.num_q_heads, self.decode_steps),
                "prompt_queries": (self.num_q_heads, self.num_prompt_queries)}[name]

    def stores(self, name):
        """Whether tensor `name` is in the file (outputs and prompt queries are optional)."""
        if name == "outputs":
            return self.has_outputs
        if name == "prompt_queries":
            return self.num_prompt_queries > 0
        return True


def float_to_bfloat16_bits(x):
    """float32 array -> uint16 bfloat16 bits, rounding to nearest even (as kernels/cpu/half.hpp)."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    return rounded.astype(np.uint16)


def bfloat16_bits_to_float(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def encode(block, dtype, where):
    """float array -> the stored numpy array; a value that is not finite after rounding is an error."""
    block = np.asarray(block, dtype=np.float32)
    if dtype == "float32":
        stored, back = block, block
    elif dtype == "float16":
        with np.errstate(over="ignore"):
            stored = block.astype(np.float16)
        back = stored
    else:
        stored = float_to_bfloat16_bits(block)
        back = bfloat16_bits_to_float(stored)
    bad = ~np.isfinite(back)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise TraceFileError(f"{where}: value {block[index]} at index {index} is not finite in {dtype}")
    return stored


def decode(stored, dtype):
    if dtype == "bfloat16":
        return bfloat16_bits_to_float(stored)
    return np.asarray(stored, dtype=np.float32)


def _chunk(rows, head_dim, dtype):
    size = 4 if dtype == "float32" else 2
    return (1, 1, max(1, min(rows, CHUNK_BYTES // (size * head_dim))), head_dim)


class TraceWriter:
    """Streams a trace into `path`: write_kv / write_queries per layer (any order), then commit().

    Used as a context manager, it commits on success and removes the temporary on an exception.
    """

    def __init__(self, path, meta, compression=4):
        self.path = os.path.abspath(path)
        self.meta = meta
        self.what = f"cannot write trace {path}"
        meta.check(self.what)
        if not 0 <= compression <= 9:
            raise TraceFileError(f"{self.what}: compression level {compression} is outside 0..9")
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        fd, self.temp = tempfile.mkstemp(prefix=f".{os.path.basename(self.path)}.tmp-", dir=directory)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.temp, 0o666 & ~umask)  # mkstemp makes 0600; a trace is an ordinary file
        self.file = h5py.File(self.temp, "w")
        self._written = {name: set() for name in TENSORS}
        m = meta
        try:
            self._write_meta()
            n = m.num_positions
            self.file.create_dataset("positions", data=np.arange(n, dtype="<i8"))
            if m.tokens is not None and len(m.tokens):
                self.file.create_dataset("tokens", data=np.asarray(m.tokens, dtype="<i4"))
            if m.num_prompt_queries:
                self.file.create_dataset("prompt_query_positions",
                                         data=np.asarray(m.prompt_query_positions, dtype="<i8"))
            stored = {"float16": "<f2", "bfloat16": "<u2", "float32": "<f4"}[m.storage_dtype]
            for name in TENSORS:
                if not m.stores(name):
                    continue
                heads, rows = m.rows(name)
                opts = dict(compression="gzip", compression_opts=compression, shuffle=True) if compression else {}
                ds = self.file.create_dataset(name, shape=(m.num_layers, heads, rows, m.head_dim), dtype=stored,
                                              chunks=_chunk(rows, m.head_dim, m.storage_dtype), **opts)
                ds.attrs["dtype"] = m.storage_dtype
        except BaseException:
            self.abort()
            raise

    def _write_meta(self):
        m, a = self.meta, self.file.attrs
        a["format"] = FORMAT_NAME
        a["format_version"] = np.int64(FORMAT_VERSION)
        for key in ("model_name", "source", "text_source", "storage_dtype", "model_dtype", "decode_mode",
                    "rope_scaling"):
            a[key] = str(getattr(m, key))
        for key in ("num_layers", "num_q_heads", "num_kv_heads", "head_dim", "prompt_length", "decode_steps"):
            a[key] = np.int64(getattr(m, key))
        a["rope_theta"] = np.float64(m.rope_theta)
        a["softmax_scale"] = np.float64(m.softmax_scale)
        a["has_outputs"] = np.int64(1 if m.has_outputs else 0)
        for key, value in m.extra.items():
            if key in a:
                raise TraceFileError(f"{self.what}: extra attribute '{key}' would overwrite a format attribute")
            a[key] = value

    def _put(self, name, layer, block):
        m = self.meta
        ds = self.file[name]
        want = ds.shape[1:]
        block = np.asarray(block)
        if block.shape != want:
            raise TraceFileError(f"{self.what}: {name} of layer {layer} has shape {block.shape}, expected {want}")
        if not 0 <= layer < m.num_layers:
            raise TraceFileError(f"{self.what}: layer {layer} out of range [0, {m.num_layers})")
        ds[layer] = encode(block, m.storage_dtype, f"{self.what}: {name} layer {layer}")
        self._written[name].add(layer)

    def write_kv(self, layer, keys, values):
        """keys, values: [num_kv_heads, num_positions, head_dim] post-rotary keys and the values."""
        self._put("keys", layer, keys)
        self._put("values", layer, values)

    def write_queries(self, layer, queries, outputs=None):
        """queries, outputs: [num_q_heads, decode_steps, head_dim]."""
        self._put("queries", layer, queries)
        if self.meta.has_outputs:
            if outputs is None:
                raise TraceFileError(f"{self.what}: outputs of layer {layer} are missing (has_outputs)")
            self._put("outputs", layer, outputs)

    def write_prompt_queries(self, layer, prompt_queries):
        """prompt_queries: [num_q_heads, num_prompt_queries, head_dim], at meta.prompt_query_positions."""
        if not self.meta.num_prompt_queries:
            raise TraceFileError(f"{self.what}: prompt queries given but meta.prompt_query_positions is empty")
        self._put("prompt_queries", layer, prompt_queries)

    def commit(self):
        try:
            for name in TENSORS:
                if not self.meta.stores(name):
                    continue
                missing = sorted(set(range(self.meta.num_layers)) - self._written[name])
                if missing:
                    raise TraceFileError(f"{self.what}: {name} of layer {missing[0]} were never written")
            self.file.close()
            with open(self.temp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(self.temp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self):
        try:
            self.file.close()
        except Exception:
            pass
        if os.path.exists(self.temp):
            os.remove(self.temp)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.commit()
        else:
            self.abort()
        return False


class TraceReader:
    """Reads a trace file one (layer, head) block at a time, as float32, checking what it reads."""

    def __init__(self, path):
        self.path = path
        try:
            self.file = h5py.File(path, "r")
        except OSError as e:
            raise TraceFileError(f"trace {path}: cannot open as HDF5 ({e})") from None
        a = self.file.attrs
        if a.get("format") != FORMAT_NAME:
            raise TraceFileError(f"trace {path}: not an HGCA attention trace (root attribute 'format')")
        version = int(a.get("format_version", -1))
        if version not in READABLE_VERSIONS:
            raise TraceFileError(f"trace {path}: format_version {a.get('format_version')} is not supported "
                                 f"(this reader reads versions {', '.join(map(str, READABLE_VERSIONS))})")

        def attr(key, kind):
            if key not in a:
                raise TraceFileError(f"trace {path}: root attribute '{key}' is missing")
            value = a[key]
            return value.decode() if kind is str and isinstance(value, bytes) else kind(value)

        known = {"format", "format_version"}
        fields = dict(model_name=str, source=str, text_source=str, storage_dtype=str, model_dtype=str,
                      decode_mode=str, rope_scaling=str, num_layers=int, num_q_heads=int, num_kv_heads=int,
                      head_dim=int, prompt_length=int, decode_steps=int, rope_theta=float, softmax_scale=float)
        values = {key: attr(key, kind) for key, kind in fields.items()}
        known |= set(fields) | {"has_outputs"}
        tokens = self.file["tokens"][()].tolist() if "tokens" in self.file else []
        self.format_version = version
        positions = []
        if version >= 2 and ("prompt_queries" in self.file) != ("prompt_query_positions" in self.file):
            present, absent = (("prompt_queries", "prompt_query_positions") if "prompt_queries" in self.file
                               else ("prompt_query_positions", "prompt_queries"))
            raise TraceFileError(f"trace {path}: dataset '/{present}' is present but '/{absent}' is missing "
                                 "(they come as a pair)")
        if version >= 2 and "prompt_query_positions" in self.file:
            ds = self.file["prompt_query_positions"]
            if ds.ndim != 1 or ds.shape[0] == 0 or ds.dtype.kind not in "iu":
                raise TraceFileError(f"trace {path}: dataset '/prompt_query_positions' is {ds.dtype} of shape "
                                     f"{list(ds.shape)}, expected a non-empty 1-D integer vector")
            positions = ds[()].tolist()
        extra = {k: a[k] for k in a if k not in known}
        self.meta = TraceMeta(**values, tokens=tokens, has_outputs=bool(attr("has_outputs", int)),
                              prompt_query_positions=positions, extra=extra)
        self.meta.check(f"trace {path}")
        m = self.meta
        for name in TENSORS:
            if not m.stores(name):
                continue
            if name not in self.file:
                raise TraceFileError(f"trace {path}: dataset '/{name}' is missing")
            want = (m.num_layers, *m.rows(name), m.head_dim)
            ds = self.file[name]
            if ds.shape != want:
                raise TraceFileError(f"trace {path}: dataset '/{name}' has shape {list(ds.shape)}, expected "
                                     f"{list(want)}")
            if ds.attrs.get("dtype") != m.storage_dtype:
                raise TraceFileError(f"trace {path}: dataset '/{name}' attribute 'dtype' is "
                                     f"{ds.attrs.get('dtype')!r}, expected '{m.storage_dtype}'")

    def _block(self, name, layer, head):
        block = decode(self.file[name][layer, head], self.meta.storage_dtype)
        if not np.isfinite(block).all():
            row, col = (int(i) for i in np.argwhere(~np.isfinite(block))[0])
            raise TraceFileError(f"trace {self.path}: dataset '/{name}' layer {layer} head {head} row {row} dim "
                                 f"{col} is not finite")
        return block

    def keys(self, layer, kv_head):
        return self._block("keys", layer, kv_head)

    def values(self, layer, kv_head):
        return self._block("values", layer, kv_head)

    def queries(self, layer, q_head):
        return self._block("queries", layer, q_head)

    def outputs(self, layer, q_head):
        if not self.meta.has_outputs:
            raise TraceFileError(f"trace {self.path}: stores no attention outputs")
        return self._block("outputs", layer, q_head)

    def prompt_queries(self, layer, q_head):
        """[num_prompt_queries, head_dim] queries at meta.prompt_query_positions."""
        if not self.meta.num_prompt_queries:
            raise TraceFileError(f"trace {self.path}: stores no prompt queries (capture with --prompt-queries)")
        return self._block("prompt_queries", layer, q_head)

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
