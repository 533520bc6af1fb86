"""Format-neutral tables and notes: the renderers build these once; they print as rich tables, Markdown or a
plain-character chart, so every format shows the same rows."""

from __future__ import annotations

from typing import Any


class Sheet:
    """A titled table: columns (name, justify), rows of cells (rich markup allowed) with an optional row style,
    and the rows before which a section rule is drawn. (Plain classes here, not dataclasses: cheaper to define,
    and every command imports this module.)"""

    def __init__(self, title: str, columns: list[tuple[str, str]]):
        self.title = title
        self.columns = columns
        self.rows: list[tuple[tuple[str, ...], str | None]] = []
        self.sections: set[int] = set()

    def add_row(self, *cells: str, style: str | None = None) -> None:
        self.rows.append((tuple(cells), style))

    def add_section(self) -> None:
        if self.rows:
            self.sections.add(len(self.rows))


class Note:
    """Lines of plain prose (no markup) under a table: conventions, units, footnotes; printed in a rich style."""

    def __init__(self, text: str, style: str = "dim"):
        self.text = text
        self.style = style

    def __repr__(self) -> str:
        return f"Note({self.text!r})"


class Chart:
    """A drawing made of characters (a rich Text): printed as is, or in a fenced block in Markdown."""

    def __init__(self, text: Any):
        self.text = text


Block = Sheet | Note | Chart


def plain(markup: str) -> str:
    """The text of a cell without its rich markup ('[bold]total[/bold]' -> 'total')."""
    if "[" not in markup:
        return markup
    from rich.text import Text

    return Text.from_markup(markup).plain


def to_rich(blocks: list[Block]):
    """The blocks as one rich renderable: tables whose number columns never wrap (a cut number is a wrong one)."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list = []
    for block in blocks:
        if isinstance(block, Sheet):
            table = Table(title=_text(block.title) if block.title else None, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                          show_header=any(name for name, _ in block.columns))
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
            parts.append(block.text)
    return Group(*parts)


def _text(cell: str):
    """A cell as rich Text: markup parsed only where there is some, emoji codes never (a spec name is not one)."""
    from rich.text import Text

    return Text.from_markup(cell, emoji=False) if "[" in cell else Text(cell)


def _md_cell(text: str) -> str:
    return plain(text).replace("|", "\\|").replace("\n", " ").strip()


def to_markdown(blocks: list[Block]) -> str:
    """The blocks as GitHub Markdown: a bold title line and a pipe table per sheet, notes as paragraphs, charts
    in a fenced block. Bold rows (group headings, totals) are bold."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Sheet):
            out.append(f"**{_md_cell(block.title)}**\n")
            out.append("| " + " | ".join(_md_cell(name) or " " for name, _ in block.columns) + " |")
            out.append("|" + "|".join("---:" if justify == "right" else ":---" for _, justify in block.columns) + "|")
            for cells, style in block.rows:
                bold = style == "bold" or any(c.startswith("[bold]") and c.endswith("[/bold]") for c in cells[:1])
                text = [_md_cell(c) for c in cells]
                if bold:
                    text = [f"**{t}**" if t else t for t in text]
                out.append("| " + " | ".join(text) + " |")
            out.append("")
        elif isinstance(block, Note):
            if block.text:
                out.append("  \n".join(block.text.splitlines()) + "\n")
        else:
            out.append("```text\n" + block.text.plain.rstrip() + "\n```\n")
    return "\n".join(out).rstrip() + "\n"
