"""The header of a `.gguf` file (llama.cpp): metadata and tensor infos, without reading tensor data.

The layout (ggml-org/llama.cpp docs/gguf.md; gguf-py/gguf/gguf_reader.py; ggml/src/gguf.cpp): the magic "GGUF",
a uint32 version (2 or 3: version 1 had 32-bit counts and llama.cpp no longer reads it), uint64 tensor count,
uint64 metadata key/value count; each key/value is a string key (uint64 length + UTF-8 bytes), a uint32 value type
and the value (arrays: a uint32 element type, a uint64 count, the elements); then per tensor its name, uint32
n_dims (at most 4), n_dims uint64 dims (dims[0] the innermost, contiguous one), uint32 ggml type and uint64 offset
into the data section, which starts at the next multiple of `general.alignment` (default 32) after the infos.

Bytes of a tensor: elements / block size * bytes per block, from GGML_QUANT_SIZES in llama.cpp's
gguf-py/gguf/constants.py (gguf 0.19.0), which mirrors `type_traits` in ggml/src/ggml.c; the type ids are its
GGMLQuantizationType. Parameters of a tensor: its dims' product, whatever the quant type (the dequantized count).
Bounds: every length and count is held to what the rest of the file can hold; one-line LlmcalcError naming the file.
"""

from __future__ import annotations

import math
import os
import struct
from typing import Any, BinaryIO

from ..errors import LlmcalcError, printable

QK_K = 256
# ggml type id -> (name, elements per block, bytes per block): GGML_QUANT_SIZES of gguf-py/gguf/constants.py
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 2 + 16), 3: ("Q4_1", 32, 2 + 2 + 16),
    6: ("Q5_0", 32, 2 + 4 + 16), 7: ("Q5_1", 32, 2 + 2 + 4 + 16), 8: ("Q8_0", 32, 2 + 32),
    9: ("Q8_1", 32, 4 + 4 + 32),
    10: ("Q2_K", 256, 2 + 2 + QK_K // 16 + QK_K // 4), 11: ("Q3_K", 256, 2 + QK_K // 4 + QK_K // 8 + 12),
    12: ("Q4_K", 256, 2 + 2 + QK_K // 2 + 12), 13: ("Q5_K", 256, 2 + 2 + QK_K // 2 + QK_K // 8 + 12),
    14: ("Q6_K", 256, 2 + QK_K // 2 + QK_K // 4 + QK_K // 16), 15: ("Q8_K", 256, 4 + QK_K + QK_K // 8),
    16: ("IQ2_XXS", 256, 2 + QK_K // 4), 17: ("IQ2_XS", 256, 2 + QK_K // 4 + QK_K // 32),
    18: ("IQ3_XXS", 256, 2 + QK_K // 4 + QK_K // 8), 19: ("IQ1_S", 256, 2 + QK_K // 8 + QK_K // 16),
    20: ("IQ4_NL", 32, 2 + 16), 21: ("IQ3_S", 256, 2 + QK_K // 4 + QK_K // 8 + QK_K // 32 + 4),
    22: ("IQ2_S", 256, 2 + QK_K // 4 + QK_K // 16), 23: ("IQ4_XS", 256, 2 + 2 + QK_K // 2 + QK_K // 64),
    24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
    29: ("IQ1_M", 256, QK_K // 8 + QK_K // 16 + QK_K // 32), 30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 2 + 4 * 13), 35: ("TQ2_0", 256, 2 + 64), 39: ("MXFP4", 32, 1 + 16),
    40: ("NVFP4", 64, 4 + 32), 41: ("Q1_0", 128, 2 + 16),
}
FLOAT_TYPES = {"F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64"}

# GGUF value types (GGUFValueType): id -> struct format of a scalar; 8 is a string, 9 an array
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9
MAX_DIMS = 4
MAX_NAME = 256
MAX_STRING = 64 * 2**20
MAX_NESTING = 4
DEFAULT_ALIGNMENT = 32


class _Reader:
    """Reads the header through a buffered file, never past its end: a count that the rest of the file cannot
    hold is refused before anything is allocated for it."""

    def __init__(self, file: BinaryIO, size: int, path: str):
        self.file, self.size, self.path, self.pos = file, size, path, 0

    def fail(self, message: str) -> LlmcalcError:
        return LlmcalcError(f"{self.path}: {message}")

    def take(self, n: int, what: str) -> bytes:
        if n > self.size - self.pos:
            raise self.fail(f"truncated header: {what} at byte {self.pos:,} needs {n:,} bytes, the file has "
                            f"{self.size - self.pos:,} left")
        data = self.file.read(n)
        if len(data) != n:
            raise self.fail("file changed while it was read")
        self.pos += n
        return data

    def skip(self, n: int, what: str) -> None:
        if n > self.size - self.pos:
            raise self.fail(f"truncated header: {what} at byte {self.pos:,} needs {n:,} bytes, the file has "
                            f"{self.size - self.pos:,} left")
        self.file.seek(n, os.SEEK_CUR)
        self.pos += n

    def scalar(self, fmt: str, what: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what: str, limit: int = MAX_STRING, keep: bool = True) -> str:
        length = self.scalar("<Q", what)
        if length > limit:
            raise self.fail(f"{what}: a string of {length:,} bytes (at most {limit:,})")
        if not keep:
            self.skip(length, what)
            return ""
        try:
            return self.take(length, what).decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not UTF-8 text") from None

    def count(self, what: str, each: int) -> int:
        n = self.scalar("<Q", what)
        if n * each > self.size - self.pos:
            raise self.fail(f"{what} is {n:,}, more than the {self.size - self.pos:,} bytes left in the file can hold")
        return n

    def value(self, kind: int, what: str, depth: int = 0, keep: bool = True) -> Any:
        if kind in SCALARS:
            return self.scalar(SCALARS[kind], what)
        if kind == STRING:
            return self.string(what, keep=keep)
        if kind != ARRAY:
            raise self.fail(f"{what}: unknown metadata value type {kind}")
        if depth >= MAX_NESTING:
            raise self.fail(f"{what}: arrays nested more than {MAX_NESTING} deep")
        inner = self.scalar("<I", what)
        if inner in SCALARS:
            n = self.count(f"{what}: array length", struct.calcsize(SCALARS[inner]))
            self.skip(n * struct.calcsize(SCALARS[inner]), what)
        elif inner in (STRING, ARRAY):
            n = self.count(f"{what}: array length", 8 if inner == STRING else 12)
            for _ in range(n):
                self.value(inner, what, depth + 1, keep=False)
        else:
            raise self.fail(f"{what}: unknown array element type {inner}")
        return f"[array of {n:,}]"


def read_gguf(path: str) -> tuple[list[tuple[str, str, tuple[int, ...], int, int]], dict[str, Any], int]:
    """(name, ggml type, dims, elements, bytes) of each tensor in header order, the scalar metadata, the file size."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            return (*_read(_Reader(file, size, path)), size)
    except OSError as exc:
        raise LlmcalcError(f"{path}: cannot read file: {exc.strerror or exc}") from None


def _read(r: _Reader) -> tuple[list, dict[str, Any]]:
    if r.size < 4 or r.take(4, "magic") != b"GGUF":
        raise r.fail("not a GGUF file: it does not start with the magic 'GGUF'")
    version = r.scalar("<I", "version")
    if version not in (2, 3):
        endian = " (a big-endian file?)" if version >= 2**16 else ""
        raise r.fail(f"GGUF version {version}{endian}; llmcalc reads versions 2 and 3")
    n_tensors = r.count("tensor count", 8 + 4 + 4 + 8)
    n_kv = r.count("metadata key/value count", 8 + 4 + 1)
    metadata: dict[str, Any] = {}
    for i in range(n_kv):
        key = r.string(f"metadata key {i}", limit=65536)
        if key in metadata:
            raise r.fail(f"metadata key {printable(key)!r} given twice")
        metadata[key] = r.value(r.scalar("<I", f"metadata {key}"), f"metadata {printable(key)}")
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if type(alignment) is not int or alignment <= 0 or alignment & (alignment - 1):
        raise r.fail(f"general.alignment {alignment!r} is not a power of two")
    infos = []
    names: set[str] = set()
    for i in range(n_tensors):
        name = r.string(f"tensor {i} name", limit=MAX_NAME)
        where = f"tensor {printable(name)}"
        if name in names:
            raise r.fail(f"{where} is given twice")
        names.add(name)
        n_dims = r.scalar("<I", f"{where} n_dims")
        if not 1 <= n_dims <= MAX_DIMS:
            raise r.fail(f"{where}: n_dims {n_dims}; GGUF allows 1 to {MAX_DIMS}")
        dims = tuple(r.scalar("<Q", f"{where} dims") for _ in range(n_dims))
        kind = r.scalar("<I", f"{where} type")
        offset = r.scalar("<Q", f"{where} offset")
        if kind not in GGML_TYPES:
            raise r.fail(f"{where}: unknown ggml type {kind} (known: "
                         f"{', '.join(f'{k} {v[0]}' for k, v in sorted(GGML_TYPES.items()))})")
        type_name, block, block_bytes = GGML_TYPES[kind]
        elements = math.prod(dims)
        if elements >= 2**63:
            raise r.fail(f"{where}: dims {list(dims)} hold more than 2^63 elements")
        if dims[0] % block:
            raise r.fail(f"{where}: its rows of {dims[0]:,} elements are not whole {type_name} blocks of {block}")
        if offset % alignment:
            raise r.fail(f"{where}: offset {offset:,} is not a multiple of the alignment {alignment}")
        infos.append((name, type_name, dims, elements, elements // block * block_bytes, offset))
    start = -(-r.pos // alignment) * alignment
    data = r.size - start
    end, before = 0, None
    for name, _, _, _, nbytes, offset in sorted(infos, key=lambda t: (t[5], t[4])):
        if offset < end:
            raise r.fail(f"tensor {printable(name)} at offset {offset:,} overlaps tensor {printable(before)}")
        if offset + nbytes > data:
            raise r.fail(f"tensor {printable(name)}: {nbytes:,} bytes at offset {offset:,} run past the end of the "
                         f"file ({data:,} bytes of data)")
        end, before = offset + nbytes, name
    return [info[:5] for info in infos], metadata
