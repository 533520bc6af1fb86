"""The header of a `.safetensors` file, and the shards a `model.safetensors.index.json` names; no tensor data read.

The format (huggingface/safetensors, docs "Format"): an 8-byte little-endian unsigned header length N, N bytes of
UTF-8 JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data that
follows the header) plus an optional "__metadata__" of strings to strings, then the data. As the safetensors
library does, the offsets must tile the data exactly: the first tensor at 0, each one where the last ended, the last
one ending at the end of the file, each one's length its shape's elements times its dtype's size.

Bounds: a header of at most MAX_HEADER_BYTES, at most MAX_TENSORS tensors, an index of at most MAX_INDEX_BYTES
naming at most MAX_SHARDS files, each in the index's own folder. Every refusal is one LlmcalcError naming the file.
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Any

from ..errors import LlmcalcError, printable

MAX_HEADER_BYTES = 100 * 2**20
MAX_INDEX_BYTES = 64 * 2**20
MAX_TENSORS = 1_000_000
MAX_SHARDS = 4096
MAX_DIMS = 16

# bits per element of each safetensors dtype (safetensors' Dtype enum, 0.8: F4 and F6 pack several to a byte)
DTYPE_BITS = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64,
    "I64": 64, "U64": 64,
}


def _fail(path: str, message: str) -> LlmcalcError:
    return LlmcalcError(f"{path}: {message}")


def _json(path: str, text: bytes, what: str) -> Any:
    def no_duplicates(pairs: list) -> dict:
        out: dict = {}
        for key, value in pairs:
            if key in out:
                raise _fail(path, f"{what}: key {printable(key)!r} given twice")
            out[key] = value
        return out

    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=no_duplicates)
    except UnicodeDecodeError:
        raise _fail(path, f"{what} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _fail(path, f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except (ValueError, RecursionError):
        raise _fail(path, f"{what} is not valid JSON for llmcalc (a number too long or nesting too deep)") from None


def read_header(path: str) -> tuple[list[tuple[str, str, tuple[int, ...], int]], dict[str, str], int]:
    """(name, dtype, shape, bytes) of each tensor in data order, the __metadata__ and the file's size."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size < 8:
                raise _fail(path, f"file is {size} bytes; a safetensors file starts with an 8-byte header length")
            (length,) = struct.unpack("<Q", file.read(8))
            if length > MAX_HEADER_BYTES:
                raise _fail(path, f"header length {length:,} bytes is more than llmcalc reads "
                                  f"({MAX_HEADER_BYTES:,}); not a safetensors file?")
            if 8 + length > size:
                raise _fail(path, f"header length {length:,} bytes runs past the end of the file ({size:,} bytes)")
            raw = file.read(length)
    except OSError as exc:
        raise _fail(path, f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) != length:
        raise _fail(path, "file changed while it was read")
    header = _json(path, raw, "the safetensors header")
    if not isinstance(header, dict):
        raise _fail(path, f"the safetensors header must be a JSON object of tensor names, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _fail(path, "__metadata__ must be a JSON object of strings to strings")
    if len(header) > MAX_TENSORS:
        raise _fail(path, f"{len(header):,} tensors; llmcalc reads at most {MAX_TENSORS:,}")
    tensors = [_entry(path, name, entry) for name, entry in header.items()]
    tensors.sort(key=lambda t: (t[3], t[4]))
    data = size - 8 - length
    end = 0
    for name, _, _, begin, stop in tensors:
        if stop > data:
            raise _fail(path, f"tensor {printable(name)}: data_offsets [{begin}, {stop}] run past the end of the "
                              f"data ({data:,} bytes after the header)")
        if begin != end:
            what = "overlaps the tensor before it" if begin < end else f"leaves a gap of {begin - end:,} bytes"
            raise _fail(path, f"tensor {printable(name)}: data_offsets [{begin}, {stop}] {what} (expected {end})")
        end = stop
    if end != data:
        raise _fail(path, f"the tensors end at byte {end:,} of the data, but the file holds {data:,} bytes of data")
    return [(n, d, s, stop - begin) for n, d, s, begin, stop in tensors], metadata, size


def _entry(path: str, name: str, entry: Any) -> tuple[str, str, tuple[int, ...], int, int]:
    where = f"tensor {printable(name)}"
    if not isinstance(entry, dict):
        raise _fail(path, f"{where}: must be a JSON object with dtype, shape and data_offsets")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPE_BITS:
        raise _fail(path, f"{where}: unknown dtype {dtype!r} (known: {', '.join(DTYPE_BITS)})")
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise _fail(path, f"{where}: shape must be a list of at most {MAX_DIMS} whole numbers >= 0, got {shape!r:.60}")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(n) is int for n in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise _fail(path, f"{where}: data_offsets must be [begin, end] with 0 <= begin <= end, got {offsets!r:.60}")
    bits = math.prod(shape) * DTYPE_BITS[dtype]
    if bits % 8 or bits // 8 != offsets[1] - offsets[0]:
        raise _fail(path, f"{where}: shape {shape} of {dtype} needs {bits / 8:,g} bytes, but data_offsets "
                          f"[{offsets[0]}, {offsets[1]}] hold {offsets[1] - offsets[0]:,}")
    return name, dtype, tuple(shape), offsets[0], offsets[1]


def read_index(path: str) -> list[tuple[str, list[str]]]:
    """The shard files of a model.safetensors.index.json (beside it) with the tensor names each one must hold."""
    try:
        size = os.path.getsize(path)
        if size > MAX_INDEX_BYTES:
            raise _fail(path, f"file is {size:,} bytes; an index may be at most {MAX_INDEX_BYTES:,}")
        with open(path, "rb") as file:
            data = _json(path, file.read(), "the index")
    except OSError as exc:
        raise _fail(path, f"cannot read file: {exc.strerror or exc}") from None
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise _fail(path, "a safetensors index must be a JSON object whose weight_map maps tensor names to files")
    shards: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        if not isinstance(shard, str) or not shard or shard != os.path.basename(shard) or shard in (".", ".."):
            raise _fail(path, f"weight_map: tensor {printable(name)} names {shard!r:.60}, not a file in the "
                              "index's folder")
        shards.setdefault(shard, []).append(name)
        if len(shards) > MAX_SHARDS:
            raise _fail(path, f"weight_map names more than {MAX_SHARDS:,} shard files")
    folder = os.path.dirname(path)
    out = []
    for shard, names in shards.items():
        full = os.path.join(folder, shard)
        if not os.path.isfile(full):
            raise _fail(path, f"weight_map names shard {printable(shard)}, which is not in {folder or '.'}")
        out.append((full, names))
    return out
