"""The result objects of a comparison and of a sweep (the other results live beside their formulas: ParamCount in
params, FlopCount in flops, KVCache and MemoryReport in memory).

May import: llmcalc.records, llmcalc.model, llmcalc.formulas (the result types it holds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .records import record

if TYPE_CHECKING:
    from .formulas.flops import FlopCount
    from .formulas.kv import KVCache
    from .formulas.params import ParamCount
    from .model import ModelSpec


@record
class Comparison:
    """Models side by side: their parameter counts, a forward pass each and a KV cache each."""

    counts: tuple[ParamCount, ...]
    forwards: tuple[FlopCount, ...]
    caches: tuple[KVCache, ...]


@record
class SweepPoint:
    """One model at one value of the swept variable."""

    model: ModelSpec
    kv_cache_bytes: int
    memory_bytes: float  # inference memory: weights, KV cache and activations, on one GPU
    flops_per_token: float  # forward FLOPs per token at the sequence length, non-matmul estimates included
    beyond_context: bool  # the sequence is longer than the model's context length


@record
class Sweep:
    """A variable swept over values: points[i][j] is model j at values[i]."""

    variable: str
    values: tuple
    models: tuple[ModelSpec, ...]
    points: tuple[tuple[SweepPoint, ...], ...]
    settings: dict
