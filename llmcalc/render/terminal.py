"""Sheets on a terminal, through rich: tables whose number columns never wrap, notes in their style, charts in
colour; and the same renderable exported as SVG, HTML or plain text (rich's own export)."""

from __future__ import annotations

import io
import os

from ..present.sheet import Block, Note, Sheet


def to_rich(blocks: list[Block]):
    """The blocks as one rich renderable: tables whose number columns never wrap (a cut number is a wrong one)."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list = []
    for block in blocks:
        if isinstance(block, Sheet):
            table = Table(title=_text(block.title) if block.title else None, title_justify="left",
                          box=box.SIMPLE_HEAD, pad_edge=False, show_header=any(name for name, _ in block.columns))
            for name, justify in block.columns:
                numeric = justify == "right"
                table.add_column(_text(name), justify=justify, no_wrap=numeric,
                                 min_width=max(map(len, name.split("\n"))) if numeric else None)
            for index, (cells, style) in enumerate(block.rows):
                table.add_row(*map(_text, cells), style=style, end_section=index + 1 in block.sections)
            parts.append(table)
        elif isinstance(block, Note):
            if block.text:
                parts.append(Text(block.text, style=block.style))
        else:
            from .chart import draw  # only a sweep draws one

            parts.append(draw(block))
    return Group(*parts)


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
    console().print(to_rich(blocks))


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
