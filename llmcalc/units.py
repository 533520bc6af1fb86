"""Units and number formatting: exact counts with thousands separators, human units in decimal (1B = 10^9), bytes
in GB (10^9) or GiB (2^30), always labelled.

May import: nothing of llmcalc (every stage may format with it).
"""

from __future__ import annotations

GB = 10**9
GIB = 2**30
_DECIMAL_UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def exact(n: int) -> str:
    """124439808 -> '124,439,808'."""
    return f"{n:,}"


def human(n: float) -> str:
    """Decimal units, never 1024 divisors: 124439808 -> '124.44M', 8030261248 -> '8.03B'."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for size, suffix in _DECIMAL_UNITS:
        if n >= size:
            value = n / size
            if suffix == "T" and value >= 1000:
                return f"{sign}{value:,.0f}T"
            return f"{sign}{value:.2f}{suffix}"
    return f"{sign}{n:,.0f}" if float(n).is_integer() else f"{sign}{n:.3g}"


def percent(fraction: float, digits: int = 1) -> str:
    return f"{fraction * 100:.{digits}f}%"


_EIGHTHS = " \u258f\u258e\u258d\u258c\u258b\u258a\u2589"


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of `fraction` (0..1) of `width` characters, in eighths of a character: 0.5, 4 -> '██'."""
    eighths = round(max(0.0, min(fraction, 1.0)) * width * 8)
    full, rest = divmod(eighths, 8)
    return "\u2588" * full + (_EIGHTHS[rest] if rest else "")


def ratio(value: float, reference: float) -> str:
    """How many times the reference: '8.03x', or '-' when the reference is zero."""
    if not reference:
        return "-"
    r = value / reference
    return f"{r:.3g}x" if r < 1000 else f"{r:,.0f}x"


def index_ranges(indices: tuple[int, ...]) -> str:
    """Layer positions, compactly: (0, 1, 2) -> '0-2'; (0, 2, 4, 6) -> '0, 2, ..., 6'; else runs."""
    if not indices:
        return ""
    if len(indices) == 1:
        return str(indices[0])
    steps = {b - a for a, b in zip(indices, indices[1:])}
    if steps == {1}:
        return f"{indices[0]}-{indices[-1]}"
    if len(steps) == 1 and len(indices) > 3:
        return f"{indices[0]}, {indices[1]}, ..., {indices[-1]}"
    runs, start, prev = [], indices[0], indices[0]
    for i in indices[1:] + (None,):
        if i is not None and i == prev + 1:
            prev = i
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(runs)


def human_bytes(n: float, unit: str = "GiB") -> str:
    """Bytes in GB (10^9) or GiB (2^30), always labelled: 2**30 -> '1.00 GiB'."""
    return f"{n / (GB if unit == 'GB' else GIB):,.2f} {unit}"


_BINARY = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def parse_whole(text: str) -> int:
    """A whole number as people write counts of tokens per sequence, sequences and GPUs: '131072', '128k' (k, m, g
    are binary, as context lengths are: 1k = 1,024), '1.5k', '1e6'. Exact (no float rounding: '9007199254740993'
    stays itself); a fraction, a thousands separator or a sign is a ValueError that says what to write."""
    import re
    from fractions import Fraction

    item = str(text).strip().lower()
    match = re.fullmatch(r"((\d+)(?:\.(\d+))?(?:e\+?(\d+))?)\s*([kmg]?)", item, re.ASCII)
    if not match:
        raise ValueError(f"{text!r} is not a whole number (write 4096, 4k or 1.5e3; k, m, g are binary, "
                         "no thousands separators)")
    number, whole, fraction, exponent, suffix = match.groups()
    if len(whole) > 60 or len(fraction or "") > 60 or len(exponent or "") > 2:  # never build a 10^400000 first
        raise ValueError(f"{_clip(text)} is far past 2^53 or too finely written to be a count")
    value = Fraction(number) * _BINARY[suffix]
    if value.denominator != 1:
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def _clip(text: str) -> str:
    """A long value quoted by its ends: '1111...1111 (5,000 characters)'."""
    text = repr(str(text))
    return text if len(text) <= 40 else f"{text[:16]}...{text[-16:]} ({len(text) - 2:,} characters)"


def integral(n: float) -> float:
    """A figure for JSON and CSV: a whole number as an int (16060522496.0 -> 16060522496), anything else as it is
    (a per-token average such as 17.17e9 / 3 stays a float)."""
    return int(n) if isinstance(n, float) and n.is_integer() else n


def whole_bytes(n: float) -> int:
    """A byte count for JSON and CSV: an int, rounded up where an estimate or a share of a card is fractional (a
    GPU holds whole bytes)."""
    import math

    return n if isinstance(n, int) else math.ceil(n)


def decimal_bytes(n: float) -> str:
    """Bytes (or bytes/s) in decimal units, labelled: 16.27e9 -> '16.27 GB', 450e9 -> '450.00 GB'."""
    text = human(n)
    units = {"K": " kB", "M": " MB", "B": " GB", "T": " TB"}
    return text[:-1] + units[text[-1]] if text[-1] in units else f"{text} B"
