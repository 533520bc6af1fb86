"""Bytes: KV cache per layer group, and memory for inference and training.

Sizes in bytes are exact where they can be counted (weights, KV cache, model states); activation
figures follow their cited formulas and are labelled estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Attention, ModelSpec

# Bits per element of each storage type.
DTYPE_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "int4": 4}
GB = 10**9
GIB = 2**30


def dtype_bits(dtype: str) -> int:
    return DTYPE_BITS[dtype]


def _bytes(elements: int, bits: int) -> int:
    """Whole bytes holding `elements` values of `bits` bits (rounded up for 4-bit halves)."""
    return -(-elements * bits // 8)


# ----------------------------------------------------------------------------------- KV cache


def kv_elements_per_token(attention: Attention) -> int:
    """K and V of one token in one layer: 2 x n_kv_heads x d_head (GQA, Ainslie et al. 2023; MQA, Shazeer 2019)."""
    return 2 * attention.n_kv_heads * attention.d_head


def cached_tokens(context: int, attention: Attention) -> int:
    """Tokens a layer keeps: a sliding-window layer holds at most W (Mistral 7B's rolling buffer, Jiang et al. 2023)."""
    return min(context, attention.sliding_window) if attention.sliding_window else context


@dataclass(frozen=True)
class KVGroup:
    name: str
    n_layers: int
    elements_per_token: int  # per layer
    cached_tokens: int       # per sequence, per layer


@dataclass(frozen=True)
class KVCache:
    """The KV cache of `batch` sequences of `context` tokens, per layer group."""

    model: ModelSpec
    groups: tuple[KVGroup, ...]
    context: int
    batch: int
    dtype: str

    @property
    def elements_per_token(self) -> int:
        """Elements one token adds across all layers while no window is full."""
        return sum(g.n_layers * g.elements_per_token for g in self.groups)

    @property
    def bytes_per_token(self) -> int:
        return _bytes(self.elements_per_token, DTYPE_BITS[self.dtype])

    @property
    def elements(self) -> int:
        return self.batch * sum(g.n_layers * g.elements_per_token * g.cached_tokens for g in self.groups)

    @property
    def bytes(self) -> int:
        return _bytes(self.elements, DTYPE_BITS[self.dtype])


def kv_cache(model: ModelSpec, context: int, batch: int = 1, dtype: str = "bf16") -> KVCache:
    """KV cache of every layer group at `context` tokens and `batch` sequences."""
    groups = tuple(KVGroup(g.name, g.count, kv_elements_per_token(g.layer.attention),
                           cached_tokens(context, g.layer.attention)) for g in model.groups)
    return KVCache(model, groups, context, batch, dtype)
