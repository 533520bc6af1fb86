"""GPU presets: specs/hardware/gpus.yaml (memory and dense peak FLOP/s of each card, with the datasheet it came
from), read and checked like a spec.

May import: llmcalc.errors, llmcalc.units, llmcalc.records, llmcalc.spec (to read the YAML safely and find the
library).
"""

from __future__ import annotations

import difflib

from ..errors import LlmcalcError, SpecError
from ..records import record
from ..spec import builtin_dir, read_yaml
from ..units import GIB

GPU_KEYS = ("name", "memory_gib", "bf16_flops", "fp8_flops", "source")


@record
class GPU:
    key: str
    name: str
    memory_bytes: float
    bf16_flops: float
    fp8_flops: float | None
    source: str


def gpus_file():
    return builtin_dir() / "hardware" / "gpus.yaml"


def load_gpus() -> dict[str, GPU]:
    """The presets of specs/hardware/gpus.yaml, checked like a spec."""
    path = gpus_file()
    data = read_yaml(path)
    out = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or set(entry) - set(GPU_KEYS):
            raise SpecError(str(path), key, f"must be a mapping of {', '.join(GPU_KEYS)}")
        memory, bf16 = entry.get("memory_gib"), entry.get("bf16_flops")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in (memory, bf16)):
            raise SpecError(str(path), key, "memory_gib and bf16_flops must be positive numbers")
        out[key] = GPU(key, str(entry.get("name", key)), memory * GIB, float(bf16), entry.get("fp8_flops"),
                       str(entry.get("source", "")))
    return out


def find_gpu(name: str) -> GPU:
    gpus = load_gpus()
    key = name.strip().lower()
    if key in gpus:
        return gpus[key]
    close = difflib.get_close_matches(key, list(gpus), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise LlmcalcError(f"unknown GPU '{name}'{hint} (known: {', '.join(gpus)}; or give --gpu-mem)")
