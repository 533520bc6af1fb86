"""Accelerator presets, and the smallest setup a model fits in."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

from .errors import LlmcalcError, SpecError
from .memory import GIB, MemoryReport
from .spec import builtin_dir, read_yaml

GPU_KEYS = ("name", "memory_gib", "bf16_flops", "fp8_flops", "source")


@dataclass(frozen=True)
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


def powers_of_two(limit: int) -> list[int]:
    return [2**i for i in range(limit.bit_length()) if 2**i <= limit]


def fewest(build: Callable[[int], MemoryReport], capacity: float, candidates: list[int]) -> MemoryReport | None:
    """The first candidate setup whose per-GPU memory fits in `capacity` bytes."""
    for n in candidates:
        report = build(n)
        if report.per_gpu <= capacity:
            return report
    return None


def largest(build: Callable[[int], MemoryReport], capacity: float, limit: int) -> int:
    """The largest value in 1..limit whose per-GPU memory fits (memory grows with it); 0 if none does."""
    if build(1).per_gpu > capacity:
        return 0
    low, high = 1, limit
    while low < high:
        mid = (low + high + 1) // 2
        if build(mid).per_gpu <= capacity:
            low = mid
        else:
            high = mid - 1
    return low
