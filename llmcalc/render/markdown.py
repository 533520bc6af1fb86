"""Sheets as GitHub Markdown: a bold title line and a pipe table per sheet, notes as paragraphs, charts in a fenced
block. rich is imported only to strip markup from cells that hold some, and to draw a chart."""

from __future__ import annotations

from ..present.sheet import Block, Note, Sheet


def plain(markup: str) -> str:
    """The text of a cell without its rich markup ('[bold]total[/bold]' -> 'total')."""
    if "[" not in markup:
        return markup
    from rich.text import Text

    return Text.from_markup(markup, emoji=False).plain  # a name holding ":smile:" is not an emoji


def _md_cell(text: str) -> str:
    return plain(text).replace("|", "\\|").replace("\n", " ").strip()


def to_markdown(blocks: list[Block]) -> str:
    """The blocks as GitHub Markdown. Bold rows (group headings, totals) are bold."""
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
            from .chart import draw  # only a sweep draws one

            out.append("```text\n" + draw(block).plain.rstrip() + "\n```\n")
    return "\n".join(out).rstrip() + "\n"
