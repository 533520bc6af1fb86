"""Format-neutral tables, notes and charts: the presentation modules build these once; the renderers print them as
rich tables, Markdown or a plain-character chart, so every format shows the same rows. Nothing here imports rich.

Cells may hold rich markup ('[bold]total[/bold]'): the terminal renderer styles it, the Markdown renderer turns
bold into **bold** and drops the rest.
"""

from __future__ import annotations

from typing import Any, Callable


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
    """A line chart of a few named series over categorical x points, drawn in characters by the renderer
    (llmcalc.render.chart): in colour on a terminal, in a fenced block in Markdown."""

    def __init__(self, x_labels: list[str], series: list[tuple[str, list[Any]]],
                 y_format: Callable[[float], str] = lambda v: f"{v:g}", log_y: bool = False, title: str = "",
                 x_label: str = "", y_label: str = "", line: tuple[str, float] | None = None,
                 x_values: list[float] | None = None, marks: list[tuple[int, float, str]] = ()):
        self.x_labels = x_labels
        self.series = series
        self.y_format = y_format
        self.log_y = log_y
        self.title = title          # for a plot file (the terminal prints the title as a Note above the chart)
        self.x_label = x_label
        self.y_label = y_label
        self.line = line            # a horizontal reference line: (its label, its y), e.g. a GPU's memory
        # For a plot file only: numeric x positions on a logarithmic axis (the labels then tick them), and marks
        # on the curves: (series index, x, what it marks), drawn where the series' line passes x.
        self.x_values = x_values
        self.marks = list(marks)


class Bars:
    """Horizontal stacked bars for a plot file: a bar per category (a model), a segment per named part, the same
    parts (and colours) in every bar."""

    def __init__(self, categories: list[str], segments: list[tuple[str, list[float]]], title: str = "",
                 x_label: str = "", x_max: float | None = None):
        self.categories = categories
        self.segments = segments
        self.title = title
        self.x_label = x_label
        self.x_max = x_max  # the axis's end (100 for shares), else the longest bar's


Block = Sheet | Note | Chart


class Box:
    """One block of a diagram: its lines of text (the first is its name), its depth (0: the model's spine; 1: inside
    a repeated layer group) and whether it differs from the other models' (drawn highlighted)."""

    def __init__(self, lines: list[str], depth: int = 0, highlight: bool = False, repeat: int = 0, key: str = ""):
        self.lines = lines
        self.key = key  # what the box is (the same key in two models: the same part, compared)
        self.depth = depth
        self.highlight = highlight
        self.repeat = repeat  # a layer group's frame: how many times its boxes repeat (0: not a frame)


class Diagram:
    """Block diagrams of one or more models side by side: a title and a column of boxes per model."""

    def __init__(self, title: str, columns: list[tuple[str, list[Box]]]):
        self.title = title
        self.columns = columns
