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


def layout(diagram: Diagram) -> tuple[float, float, list[tuple]]:
    """The diagram's width, height and shapes in SVG user units (y down), for the SVG here and for an image file
    (llmcalc.render.plot): ("rect", x, y, width, height, corner radius, fill, stroke, stroke width, dashes, class),
    ("line", x1, y1, x2, y2, stroke, width) and ("text", x, baseline y, text, font size, bold)."""
    widths = [max(_column_width(boxes), _text_width([label]) + 2 * PAD) for label, boxes in diagram.columns]
    shapes: list[tuple] = [("text", MARGIN, MARGIN + LINE, diagram.title, FONT + 2, True)]
    x = MARGIN
    bottom = 0.0
    top = MARGIN + 2 * LINE
    for (label, boxes), width in zip(diagram.columns, widths):
        shapes.append(("text", x, top, label, FONT, True))
        y = top + LINE
        frame_start = None
        previous_bottom = None
        for box in boxes:
            if box.depth == 0 and frame_start is not None:  # the layer group's frame closes before the next part
                shapes.append(_frame(x, frame_start, width, y - GAP / 2 - frame_start))
                frame_start = None
            left = x + (2 * INDENT if box.depth else INDENT)
            box_width = width - 2 * (left - x)
            height = _box_height(box.lines)
            if previous_bottom is not None:
                middle = x + width / 2
                shapes.append(("line", middle, previous_bottom, middle, y, FRAME, 1.5))
            if box.repeat:
                frame_start = y - GAP / 2
            fill, stroke = HIGHLIGHT if box.highlight else NORMAL
            shapes.append(("rect", left, y, box_width, height, 4, fill, stroke, 2.5 if box.highlight else None, None,
                           "differs" if box.highlight else None))
            for i, line in enumerate(box.lines):
                shapes.append(("text", left + PAD, y + PAD / 2 + (i + 1) * LINE - 4, line, FONT, i == 0))
            previous_bottom = y + height
            y += height + GAP
        if frame_start is not None:
            shapes.append(_frame(x, frame_start, width, y - GAP / 2 - frame_start))
        bottom = max(bottom, y)
        x += width + MARGIN
    total_width = max(x, MARGIN * 2 + len(diagram.title) * 0.6 * (FONT + 2))
    return total_width, bottom + MARGIN, shapes


def to_svg(diagram: Diagram) -> str:
    """The diagram as an SVG document."""
    width, height, shapes = layout(diagram)
    parts = []
    for kind, *shape in shapes:
        if kind == "text":
            x, y, text, size, bold = shape
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}"' + (f' font-size="{size}"' if size != FONT else "")
                         + (' font-weight="bold"' if bold else "") + f">{escape(text)}</text>")
        elif kind == "line":
            x1, y1, x2, y2, stroke, stroke_width = shape
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
                         f'stroke-width="{stroke_width}"/>')
        else:
            x, y, w, h, radius, fill, stroke, stroke_width, dashes, css = shape
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{radius}" '
                         f'fill="{fill or "none"}" stroke="{stroke}"'
                         + (f' stroke-width="{stroke_width}"' if stroke_width else "")
                         + (f' stroke-dasharray="{" ".join(map(str, dashes))}"' if dashes else "")
                         + (f' class="{css}"' if css else "") + "/>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, Menlo, Consolas, '
            f'monospace" font-size="{FONT}">\n<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(parts) + "\n</svg>\n")


def _frame(x: float, y: float, width: float, height: float) -> tuple:
    return ("rect", x + INDENT / 2, y, width - INDENT, height, 6, None, FRAME, None, (5, 3), "group")
