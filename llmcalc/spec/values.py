"""Small helpers every spec stage shares: how a value is named in an error, a key path written out, and the
human numbers a spec may hold ('124M', '1.5B', 2.0e+12)."""

from __future__ import annotations

import re
from typing import Any

_SUFFIXES = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_HUMAN_NUMBER = re.compile(r"^\s*(\d[\d,]*(?:\.\d+)?)\s*([KMBT]?)\s*$")


def kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def show(value: Any) -> str:
    text = repr(value)
    return (text[:60] + "...") if len(text) > 60 else text


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def parse_human_number(value: Any) -> float | None:
    """124439808, 2.0e+12, '124M', '1.5B', '12,850M' -> a number; anything else -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        match = _HUMAN_NUMBER.match(value)
        if match:
            number = float(match.group(1).replace(",", ""))
            scale = _SUFFIXES.get(match.group(2), 1)
            result = number * scale
            return int(result) if result.is_integer() else result
    return None


def last_digit_unit(value: Any) -> float:
    """What one step in the last printed digit is worth: '124M' -> 1e6, '1.5B' -> 1e8, '1320M' -> 1e7."""
    if not isinstance(value, str):
        return 1.0
    match = _HUMAN_NUMBER.match(value)
    if not match:
        return 1.0
    mantissa = match.group(1).replace(",", "")
    scale = _SUFFIXES.get(match.group(2), 1)
    if "." in mantissa:
        return scale * 10.0 ** -len(mantissa.split(".")[1])
    trailing_zeros = len(mantissa) - len(mantissa.rstrip("0"))
    return scale * 10.0 ** min(trailing_zeros, len(mantissa) - 1)


MAX_DIVISOR_SEARCH = 10**12  # listing the divisors of a larger number would take the search sqrt(n) steps


def divisor_hint(n: int, most: int = 12) -> str:
    """' (1, 2, 4, 8, ...)': some divisors of n, or nothing when n is too large to search quickly."""
    if n > MAX_DIVISOR_SEARCH:
        return ""
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    found = sorted(set(small + [n // d for d in small]))
    found = found if len(found) <= most else found[: most // 2] + found[-most // 2:]
    return f" ({', '.join(map(str, found))})"
