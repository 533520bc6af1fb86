"""The smallest setup a model fits in: search over GPU counts, batches and contexts for the memory formulas
(memory grows with each, so the search is a scan or a bisection)."""

from __future__ import annotations

from typing import Callable

from .memory import MemoryReport


def powers_of_two(limit: int) -> list[int]:
    return [2**i for i in range(limit.bit_length()) if 2**i <= limit]


def fewest(build: Callable[[int], MemoryReport], fits: Callable[[MemoryReport], bool],
           candidates: list[int]) -> MemoryReport | None:
    """The first candidate setup that fits."""
    for n in candidates:
        report = build(n)
        if fits(report):
            return report
    return None


def largest(build: Callable[[int], MemoryReport], fits: Callable[[MemoryReport], bool], limit: int) -> int:
    """The largest value in 1..limit whose setup fits (memory grows with it); 0 if none does."""
    if not fits(build(1)):
        return 0
    low, high = 1, limit
    while low < high:
        mid = (low + high + 1) // 2
        if fits(build(mid)):
            low = mid
        else:
            high = mid - 1
    return low
