"""Storage types: bits per element and whole bytes of a tensor, shared by the KV cache and memory formulas."""

from __future__ import annotations

# Bits per element of each storage type.
DTYPE_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "int4": 4}


def dtype_bits(dtype: str) -> int:
    return DTYPE_BITS[dtype]


def whole_bytes(elements: int, bits: int) -> int:
    """Whole bytes holding `elements` values of `bits` bits (rounded up for 4-bit halves)."""
    return -(-elements * bits // 8)
