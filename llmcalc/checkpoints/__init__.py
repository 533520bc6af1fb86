"""Checkpoint headers in: the tensors a `.safetensors` file (or a sharded `model.safetensors.index.json`, or a
folder holding either) or a `.gguf` file says it holds, read from the header alone (no tensor data is read), as a
neutral `Checkpoint`: each tensor's logical parameter count, its bytes on disk and dtype or quant type, and the
llmcalc component and layer its name maps onto ("other" when the name is not recognised; never dropped).

safetensors.py and gguf.py read the two formats, each bounded (header sizes, tensor and shard counts, offsets that
must add up) with one-line errors naming the file; names.py maps tensor names onto components (towers.py those of
vision towers and projectors); tensors.py holds
the result records; compare.py holds a spec's per-component count against a checkpoint's (`llmcalc check`).

A stage at the importers' level: it reads files, as they do, and knows no formula (compare.py takes the parameter
count the CLI hands it, duck-typed: its rows and buffers).

May import: llmcalc.errors, llmcalc.records, llmcalc.model.
"""

from __future__ import annotations

import os

SUFFIXES = (".safetensors", ".safetensors.index.json", ".gguf")
GGUF_MAGIC = b"GGUF"


def is_checkpoint(path: str) -> bool:
    """True when `path` names a checkpoint: a file ending in .safetensors, .safetensors.index.json or .gguf (or
    starting with the GGUF magic), or a folder holding a .safetensors, an index or a .gguf file. Cheap: it reads at
    most four bytes and lists one folder."""
    if os.path.isdir(path):
        try:
            return any(name.lower().endswith(SUFFIXES) for name in os.listdir(path))
        except OSError:
            return False
    if path.lower().endswith(SUFFIXES):
        return True
    if os.path.isfile(path):
        try:
            with open(path, "rb") as file:
                return file.read(4) == GGUF_MAGIC
        except OSError:
            return False
    return False


def read(path: str):
    """The Checkpoint of a .safetensors file, a .safetensors.index.json, a .gguf file or a folder holding them."""
    from .reader import read_checkpoint

    return read_checkpoint(path)


__all__ = ["GGUF_MAGIC", "SUFFIXES", "is_checkpoint", "read"]
