"""A Diagram (llmcalc.present.sheet) as a standalone SVG: a column of boxes per model, top (tokens in) to bottom
(logits out), each layer group framed and marked with how many times it repeats; boxes that differ from the first
model's highlighted. Monospace text, so every box is sized from its text and nothing overflows its frame."""

from __future__ import annotations

from xml.sax.saxutils import escape

from ..present.sheet import Diagram

FONT = 12
CHAR = 0.6 * FONT          # monospace advance
LINE = 16
PAD = 8
GAP = 14
INDENT = 18
MARGIN = 20
NORMAL = ("#f4f6fb", "#4a5a80")
HIGHLIGHT = ("#fff3c4", "#c07800")
FRAME = "#8a94b0"


def _text_width(lines: list[str]) -> float:
    return max(len(line) for line in lines) * CHAR


def _box_height(lines: list[str]) -> float:
    return len(lines) * LINE + PAD


def _column_width(boxes) -> float:
    return max(_text_width(b.lines) + 2 * PAD + (2 * INDENT if b.depth else 0) for b in boxes) + 2 * INDENT


def to_svg(diagram: Diagram) -> str:
    """The diagram as an SVG document."""
    widths = [max(_column_width(boxes), _text_width([label]) + 2 * PAD) for label, boxes in diagram.columns]
    parts: list[str] = []
    x = MARGIN
    bottom = 0.0
    top = MARGIN + 2 * LINE
    for (label, boxes), width in zip(diagram.columns, widths):
        parts.append(f'<text x="{x:.1f}" y="{top:.1f}" font-weight="bold">{escape(label)}</text>')
        y = top + LINE
        frame_start = None
        previous_bottom = None
        for box in boxes:
            if box.depth == 0 and frame_start is not None:  # the layer group's frame closes before the next part
                parts.append(_frame(x, frame_start, width, y - GAP / 2 - frame_start))
                frame_start = None
            left = x + (2 * INDENT if box.depth else INDENT)
            box_width = width - 2 * (left - x)
            height = _box_height(box.lines)
            if previous_bottom is not None:
                middle = x + width / 2
                parts.append(f'<line x1="{middle:.1f}" y1="{previous_bottom:.1f}" x2="{middle:.1f}" y2="{y:.1f}" '
                             f'stroke="{FRAME}" stroke-width="1.5"/>')
            if box.repeat:
                frame_start = y - GAP / 2
            fill, stroke = HIGHLIGHT if box.highlight else NORMAL
            parts.append(f'<rect x="{left:.1f}" y="{y:.1f}" width="{box_width:.1f}" height="{height:.1f}" rx="4" '
                         f'fill="{fill}" stroke="{stroke}"' + (' stroke-width="2.5" class="differs"' if box.highlight
                                                               else "") + "/>")
            for i, line in enumerate(box.lines):
                weight = ' font-weight="bold"' if i == 0 else ""
                parts.append(f'<text x="{left + PAD:.1f}" y="{y + PAD / 2 + (i + 1) * LINE - 4:.1f}"{weight}>'
                             f'{escape(line)}</text>')
            previous_bottom = y + height
            y += height + GAP
        if frame_start is not None:
            parts.append(_frame(x, frame_start, width, y - GAP / 2 - frame_start))
        bottom = max(bottom, y)
        x += width + MARGIN
    total_width = x
    total_height = bottom + MARGIN
    title = f'<text x="{MARGIN}" y="{MARGIN + LINE}" font-size="{FONT + 2}" font-weight="bold">' \
            f'{escape(diagram.title)}</text>'
    total_width = max(total_width, MARGIN * 2 + len(diagram.title) * 0.6 * (FONT + 2))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width:.0f}" height="{total_height:.0f}" '
            f'viewBox="0 0 {total_width:.0f} {total_height:.0f}" font-family="DejaVu Sans Mono, Menlo, Consolas, '
            f'monospace" font-size="{FONT}">\n<rect width="100%" height="100%" fill="white"/>\n{title}\n'
            + "\n".join(parts) + "\n</svg>\n")


def _frame(x: float, y: float, width: float, height: float) -> str:
    return (f'<rect x="{x + INDENT / 2:.1f}" y="{y:.1f}" width="{width - INDENT:.1f}" height="{height:.1f}" rx="6" '
            f'fill="none" stroke="{FRAME}" stroke-dasharray="5 3" class="group"/>')
