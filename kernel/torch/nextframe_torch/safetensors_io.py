"""
safetensors files, read and written the way the TypeScript side does (kernel/nextframe/io/safetensors.ts):
an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
then the raw little-endian tensor bytes. The `safetensors` package is used when it is importable; otherwise the
minimal reader/writer below does the same (PyTorch is the only dependency of this package).

    load(path) -> {name: torch.Tensor}            save(tensors, path, metadata)  (atomic: temp file + rename)
"""
import json
import os
import struct

import torch

try:  # optional: the reference implementation, when installed
    from safetensors.torch import load_file as _st_load, save_file as _st_save
except ImportError:  # pragma: no cover - depends on the machine
    _st_load = _st_save = None

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


def backend():
    """Which implementation load/save use: "safetensors" (the package) or "builtin"."""
    return "safetensors" if _st_load is not None else "builtin"


def read_header(path):
    """(header dict without __metadata__, metadata dict, byte offset of the data) of a safetensors file."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path}: not a safetensors file (expected an 8-byte header length, got {len(head)} bytes)")
        n = struct.unpack("<Q", head)[0]
        size = os.fstat(f.fileno()).st_size
        if n > size - 8:
            raise ValueError(f"{path}: not a safetensors file (header length {n} exceeds the file size {size})")
        header = json.loads(f.read(n))
    meta = header.pop("__metadata__", {}) or {}
    return header, meta, 8 + n


def load(path, builtin=False):
    """All tensors of a safetensors file as CPU tensors (owned copies). builtin=True skips the package."""
    if _st_load is not None and not builtin:
        return dict(_st_load(path))
    header, _, base = read_header(path)
    with open(path, "rb") as f:
        raw = f.read()
    out = {}
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has dtype {info['dtype']}; expected one of {', '.join(DTYPES)}")
        a, b = info["data_offsets"]
        dt = DTYPES[info["dtype"]]
        if b > a:
            t = torch.frombuffer(bytearray(raw[base + a: base + b]), dtype=dt)
        else:
            t = torch.zeros(0, dtype=dt)
        out[name] = t.reshape(info["shape"])
    return out


def metadata(path):
    return read_header(path)[1]


def save(tensors, path, metadata=None, builtin=False):
    """Writes {name: tensor} atomically (a temp file beside `path`, then os.replace), contiguous CPU copies."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    meta = {str(k): str(v) for k, v in (metadata or {"format": "pt"}).items()}
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        if _st_save is not None and not builtin:
            _st_save(tensors, tmp, metadata=meta)
        else:
            header, off = {"__metadata__": meta}, 0
            for name, t in tensors.items():
                if t.dtype not in DTYPE_NAMES:
                    raise ValueError(f"save: tensor {name!r} has dtype {t.dtype}; expected one of {', '.join(map(str, DTYPE_NAMES))}")
                n = t.numel() * t.element_size()
                header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + n]}
                off += n
            h = json.dumps(header, separators=(",", ":")).encode()
            h += b" " * ((8 - len(h) % 8) % 8)
            with open(tmp, "wb") as f:
                f.write(struct.pack("<Q", len(h)))
                f.write(h)
                for t in tensors.values():
                    if t.numel():
                        f.write(t.reshape(-1).view(torch.uint8).numpy().tobytes())
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
