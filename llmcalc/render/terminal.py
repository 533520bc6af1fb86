"""Sheets on a terminal, through rich: tables whose numbers are never cut nor wrapped (a sheet wider than the
console is narrowed, then split into column pages that repeat its label column), notes in their style, charts in
colour within the console's width; and the same renderable exported at its natural width as SVG, HTML or plain
text (rich's own export)."""

from __future__ import annotations

import io
import os
import re

from ..present.sheet import Block, Note, Sheet

# A cell made only of numbers and their units ('46.70B (5.82x)', '16.00 GiB*', '1.00 GiB at 8,192', '32 / 8 / 128'):
# it is never wrapped, in a column at least as wide as it. Any other cell may wrap at its spaces.
_NUMBER = re.compile(r"[(\[]?[-+±~]?\d[\d,.]*(e[-+]?\d+)?[%x×]?[A-Za-z]{0,3}[)\]]?[*,;]?$")
_UNIT = re.compile(r"[A-Za-z]{1,3}[)*]*$|[-/+×x*~]$")
_GAP = 3  # between two columns: padding 1 + rule 1 + padding 1; the table's edges add 2 less the outer padding


def to_rich(blocks: list[Block], width: int | None = None):
    """The blocks as one rich renderable: tables whose numbers are never cut nor wrapped (a cut number is a wrong
    one). With a console `width`, a sheet wider than it is narrowed (text cells wrap at spaces) and, if its numbers
    still do not fit, split into column pages that each repeat the label column; charts fit the width too.
    Without one (export), every sheet keeps its natural width."""
    from rich.console import Group
    from rich.text import Text

    parts: list = []
    for block in blocks:
        if isinstance(block, Sheet):
            parts += _sheet(block, width)
        elif isinstance(block, Note):
            if block.text:
                parts.append(Text(block.text, style=block.style))
        else:
            from .chart import draw  # only a sweep draws one

            parts.append(draw(block, max_width=min(100, width) if width else 100))
    return Group(*parts)


def _sheet(sheet: Sheet, width: int | None) -> list:
    """A sheet as rich tables: one at its natural width if that fits (or no width is given), else one per page
    of columns, each at most `width` wide where its numbers allow."""
    from rich.text import Text

    pages = _pages(sheet, width) if width else None
    if pages is None:
        return [_table(sheet, sheet.title, [(j, None) for j in range(len(sheet.columns))])]
    if len(pages) == 1:
        return [_fixed(_table(sheet, sheet.title, pages[0][1]), pages[0][1], width)]
    out: list = []
    for shown, columns in pages:  # a table ends in a blank line (its bottom edge): the pages are apart
        title = f"{sheet.title} " if sheet.title else ""  # over the console's width, not the page's: it wraps less
        out.append(Text.from_markup(title + shown, style="table.title", emoji=False))
        out.append(_fixed(_table(sheet, None, columns), columns, width))
    return out


def _table(sheet: Sheet, title: str | None, columns: list[tuple[int, int | None]]):
    """A rich table of the sheet's columns [(index, width)]: with no width a column sizes itself (numeric ones
    never wrap); with one it is exactly that wide."""
    from rich import box
    from rich.table import Table

    table = Table(title=_text(title) if title else None, title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_header=any(name for name, _ in sheet.columns))
    for j, fixed in columns:
        name, justify = sheet.columns[j]
        numeric = justify == "right"
        if fixed is None:
            table.add_column(_text(name), justify=justify, no_wrap=numeric,
                             min_width=max(map(len, name.split("\n"))) if numeric else None)
        else:  # every number of the column fits in `fixed`: only text cells wrap, at their spaces
            table.add_column(_text(name), justify=justify, width=fixed, overflow="fold")
    for index, (cells, style) in enumerate(sheet.rows):
        table.add_row(*(_text(cells[j]) if j < len(cells) else "" for j, _ in columns), style=style,
                      end_section=index + 1 in sheet.sections)
    return table


def _fixed(table, columns: list[tuple[int, int | None]], width: int):
    """The table, drawn at its own width when its numbers make it wider than the console (rich would squeeze it)."""
    total = sum(w for _, w in columns) + _GAP * len(columns) - 1
    return table if total <= width else _Wide(table, total)


class _Wide:
    """A renderable drawn at `width` columns whatever the console's width (printed uncropped: never cut)."""

    def __init__(self, renderable, width: int):
        self.renderable, self.width = renderable, width

    def __rich_console__(self, console, options):
        yield from console.render(self.renderable, options.update_width(self.width))


def _pages(sheet: Sheet, width: int) -> list[tuple[str, list[tuple[int, int]]]] | None:
    """None if the sheet fits `width` at its natural width; else its pages, each ('(columns a-b of n)', [(column,
    width)]): the key columns (the first, and the left-justified ones after it while they take at most half the
    width) then as many other columns as fit at their narrowest (numbers whole, text at its longest word), widened
    back, widest last, as far as `width` allows. The first column is not wrapped unless even a single other
    column could not stand beside it."""
    natural, narrowest = _measure(sheet)
    n = len(natural)
    if sum(natural) + _GAP * n - 1 <= width:
        return None
    keys = [0]
    while (len(keys) < n - 1 and sheet.columns[len(keys)][1] != "right"
           and sum(natural[k] for k in keys) + natural[len(keys)] + _GAP * len(keys) <= width // 2):
        keys.append(len(keys))
    others = list(range(len(keys), n))
    widest = max((narrowest[j] for j in others), default=0)

    def room(label: int) -> int:  # left for one other column beside the keys, the first at `label`
        return width - label - sum(natural[k] for k in keys[1:]) - _GAP * len(keys) - (_GAP - 1 if others else 0)

    if room(natural[0]) < widest:
        keys, others = [0], list(range(1, n))
        widest = max((narrowest[j] for j in others), default=0)
    label = natural[0] if room(natural[0]) >= widest else max(narrowest[0], natural[0] - (widest - room(natural[0])))
    floor = {0: label, **{k: natural[k] for k in keys[1:]}, **{j: narrowest[j] for j in others}}
    groups: list[list[int]] = [[]]
    used = sum(floor[k] for k in keys) + _GAP * len(keys) - 1
    for j in others:
        if groups[-1] and used + _GAP + floor[j] > width:
            groups.append([])
            used = sum(floor[k] for k in keys) + _GAP * len(keys) - 1
        groups[-1].append(j)
        used += _GAP + floor[j]
    pages = []
    start = 1
    for group in groups:
        columns = keys + group
        widths = {j: natural[j] for j in columns}
        excess = sum(widths.values()) + _GAP * len(columns) - 1 - width
        while excess > 0:  # narrow the widest column that can still give, as rich does, never below its floor
            can = [j for j in columns if widths[j] > floor[j]]
            if not can:
                break
            j = max(can, key=lambda c: widths[c])
            widths[j] -= 1
            excess -= 1
        end = start + len(group) - 1
        shown = f"(column {start} of {len(others)})" if start == end else f"(columns {start}-{end} of {len(others)})"
        pages.append((shown, [(j, widths[j]) for j in columns]))
        start = end + 1
    return pages


def _measure(sheet: Sheet) -> tuple[list[int], list[int]]:
    """Each column's natural width (its widest line) and narrowest width: a right-justified (numeric) column
    holds its numbers and its header's lines whole; text wraps at spaces, so its longest word (with the indent
    of its first) is all it needs."""
    from rich.cells import cell_len

    def words(text: str) -> int:
        return max((cell_len(w) for line in text.split("\n") for w in re.findall(r"^\s*\S+|\S+", line)), default=0)

    def lines(text: str) -> int:
        return max((cell_len(line) for line in text.split("\n")), default=0)

    natural, narrowest = [], []
    for j, (name, justify) in enumerate(sheet.columns):
        numeric = justify == "right"
        head = _text(name).plain
        cells = [_text(cells[j]).plain for cells, _ in sheet.rows if j < len(cells)]
        natural.append(max(1, lines(head), *map(lines, cells)))
        narrowest.append(max(1, lines(head) if numeric else words(head),
                             *(lines(c) if numeric and _is_number(c) else words(c) for c in cells)))
    return natural, narrowest


def _is_number(text: str) -> bool:
    """A cell of numbers and units only (see _NUMBER): on one line it stays."""
    parts = text.split()
    return any(map(_NUMBER.match, parts)) and all(_NUMBER.match(p) or _UNIT.match(p) for p in parts)


def _text(cell: str):
    """A cell as rich Text: markup parsed only where there is some, emoji codes never (a spec name is not one)."""
    from rich.text import Text

    return Text.from_markup(cell, emoji=False) if "[" in cell else Text(cell)


def console(**kwargs):
    """A rich Console; piped or redirected output has no width to respect, so it is not squeezed into 80 columns."""
    from rich.console import Console

    out = Console(**kwargs)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(width=140, **kwargs)
    return out


def print_blocks(blocks: list[Block]) -> None:
    """The blocks at the console's width (140 when piped); a table whose numbers cannot fit is drawn whole, uncropped."""
    out = console()
    out.print(to_rich(blocks, out.width), crop=False)


def export(blocks: list[Block], suffix: str, title: str) -> str:
    """The blocks as an SVG ('svg', titled `title`), HTML ('html', 'htm') or plain-text ('txt') document, through
    rich's own export."""
    from rich.console import Console

    renderable = to_rich(blocks)
    width = Console(width=200, file=io.StringIO()).measure(renderable).maximum
    recorder = Console(record=True, file=io.StringIO(), width=max(60, min(width, 200)), force_terminal=True,
                       color_system="truecolor")
    recorder.print(renderable)
    if suffix == "svg":
        return recorder.export_svg(title=title)
    if suffix in ("html", "htm"):
        return recorder.export_html(inline_styles=True)
    return recorder.export_text()
