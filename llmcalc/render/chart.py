"""A dependency-free terminal line chart of a few series over categorical x points, as a rich Text."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # rich is imported lazily inside line_chart: start-up time matters
    from rich.text import Text

    from ..present.sheet import Chart

MARKERS = ("●", "■", "▲", "◆", "x", "+", "o", "*")
STYLES = ("cyan", "magenta", "green", "yellow", "blue", "red")
OVERLAP, OVERLAP_STYLE = "◉", "bold"  # a cell holding markers of two or more series
LINK = "·"  # connects consecutive points of a series; markers always win over it


def _rows(height: int) -> int:
    """Plot rows: about `height`, rounded to 4k + 1 so the five y ticks fall exactly on rows."""
    return max(5, 4 * round((height - 1) / 4) + 1)


def draw(chart: Chart, max_width: int = 100) -> Text:
    """A chart block (llmcalc.present.sheet.Chart) as a rich Text at most `max_width` columns wide."""
    return line_chart(chart.x_labels, chart.series, y_format=chart.y_format, log_y=chart.log_y, max_width=max_width)


def line_chart(x_labels: list[str], series: list[tuple[str, list[float | None]]], *, y_label: str = "",
               y_format: Callable[[float], str] = lambda v: f"{v:g}", height: int = 12, log_y: bool = False,
               max_width: int = 100) -> Text:
    """Chart each (name, values) series against the equally spaced `x_labels`; None values are not drawn.

    The y scale is linear from min(0, lowest) to max(0, highest), or with log_y logarithmic from the lowest
    positive value to the highest (values <= 0 are then not drawn). Where series meet in a cell the chart
    shows OVERLAP ("◉"), listed in the legend when it occurs. `Text.plain` reads well without colour."""
    from rich.text import Text

    def usable(v: float | None) -> bool:
        return v is not None and math.isfinite(v) and (v > 0 or not log_y)

    points = [v for _, values in series for v in values if usable(v)]
    if not points or not x_labels:
        return Text("(nothing to chart)")
    scale = math.log10 if log_y else float
    lo, hi = min(map(scale, points)), max(map(scale, points))
    if log_y:
        lo, hi = (lo - 1, hi + 1) if lo == hi else (lo, hi)  # one value: a decade either side
    else:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        hi = hi if hi > lo else lo + 1
    n_rows = _rows(height)

    def row_of(v: float) -> float:  # 0 = bottom row
        return (scale(v) - lo) / (hi - lo) * (n_rows - 1)

    def tick(r: int) -> str:
        t = lo + r / (n_rows - 1) * (hi - lo)
        return y_format(10 ** t if log_y else t)

    tick_rows = {round(k * (n_rows - 1) / 4) for k in range(5)}
    ticks = {r: tick(r) for r in tick_rows}
    lw = max(len(t) for t in ticks.values())
    # x layout: point i at plot column xs[i]; the plot area starts right after the axis character
    n = len(x_labels)
    longest = max(len(s) for s in x_labels)
    last = x_labels[-1]
    room = max_width - (lw + 2) - 1 - (len(last) - len(last) // 2)  # right margin: half the last label
    span = max(0, min((n - 1) * max(longest + 2, 48 // max(n - 1, 1), 3), room))
    xs = [1 + (round(i * span / (n - 1)) if n > 1 else 0) for i in range(n)]
    width = min(max(xs[-1] + 2, xs[-1] + 1 + len(last) - len(last) // 2), max_width - (lw + 2))

    grid: list[list[tuple[str, str | None]]] = [[(" ", None)] * width for _ in range(n_rows)]
    owner: dict[tuple[int, int], int] = {}  # cell -> index of the series whose marker is there
    for k, (_, values) in enumerate(series):
        marker, style = MARKERS[k % len(MARKERS)], STYLES[k % len(STYLES)]
        for i in range(n - 1):  # links first, so that markers overwrite them
            a, b = values[i], values[i + 1]
            if usable(a) and usable(b):
                for x in range(xs[i] + 1, xs[i + 1]):
                    r = round(row_of(a) + (row_of(b) - row_of(a)) * (x - xs[i]) / (xs[i + 1] - xs[i]))
                    if (r, x) not in owner:
                        grid[r][x] = (LINK, style)
        for i, v in enumerate(values):
            if usable(v):
                cell = (round(row_of(v)), xs[i])
                if owner.get(cell, k) != k:
                    grid[cell[0]][cell[1]] = (OVERLAP, OVERLAP_STYLE)
                else:
                    grid[cell[0]][cell[1]] = (marker, style)
                owner.setdefault(cell, k)
    overlap = any(c == OVERLAP for row in grid for c, _ in row)

    out = Text()
    if y_label:
        out.append(y_label + "\n", "bold")
    for r in range(n_rows - 1, -1, -1):
        out.append(f"{ticks.get(r, ''):>{lw}} {'┤' if r in ticks else '│'}")
        cells = grid[r]
        end = max((x + 1 for x, (c, _) in enumerate(cells) if c != " "), default=0)
        for c, style in cells[:end]:
            out.append(c, style)
        out.append("\n")
    axis = "".join("┬" if x in xs else "─" for x in range(width))
    out.append(" " * lw + " └" + axis + "\n")
    out.append(" " * (lw + 2) + _x_labels(x_labels, xs, width) + "\n")
    items = [(MARKERS[k % len(MARKERS)], name, STYLES[k % len(STYLES)]) for k, (name, _) in enumerate(series)]
    items += [(OVERLAP, "overlap", OVERLAP_STYLE)] if overlap else []
    used = 0
    for marker, name, style in items:
        entry = f"{marker} {name}"
        if used and used + 3 + len(entry) > max_width:
            out.append("\n")
            used = 0
        if used:
            out.append("   ")
            used += 3
        out.append(entry, style)
        used += len(entry)
    return out


def _x_labels(labels: list[str], xs: list[int], width: int) -> str:
    """Labels centred under their columns inside `width`; the first and last always, others if they fit."""
    labels = [label[:width] for label in labels]

    def start(i: int) -> int:
        return max(0, min(xs[i] - len(labels[i]) // 2, width - len(labels[i])))

    line = [" "] * width
    placed = [0, len(labels) - 1] if len(labels) > 1 else [0]
    limit = start(placed[-1]) - 1 if len(labels) > 1 else width  # others must end before the last
    free = start(0) + len(labels[0]) + 1
    for i in range(1, len(labels) - 1):
        s = start(i)
        if s >= free and s + len(labels[i]) <= limit:
            placed.append(i)
            free = s + len(labels[i]) + 1
    for i in sorted(placed):
        s = start(i)
        line[s:s + len(labels[i])] = labels[i]
    return "".join(line).rstrip()
