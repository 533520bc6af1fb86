"""Charts, bars and diagrams (llmcalc.present.sheet) as image files through matplotlib, the optional `plot` extra
(`pip install 'llmcalc[plot]'`): imported only when an image is asked for; without it, an ImportError the CLI turns
into one line. (A diagram's SVG needs none of this: llmcalc.render.diagram writes it directly.)"""

from __future__ import annotations

import math

from ..present.sheet import Bars, Chart, Diagram

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def save(drawing: list[Chart | Bars] | Diagram, path: str) -> None:
    """A diagram or a plot's panels into `path` (its suffix one of PLOT_SUFFIXES)."""
    (save_diagram if isinstance(drawing, Diagram) else save_plot)(drawing, path)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display, whatever the environment says
    matplotlib.rcParams["svg.fonttype"] = "none"  # an SVG keeps its text as text (searchable, and testable)
    matplotlib.rcParams["svg.hashsalt"] = "llmcalc"  # the same plot gives the same SVG
    from matplotlib import pyplot

    return pyplot


def save_plot(panels: list[Chart | Bars], path: str) -> None:
    """Draw `panels` one above the other into `path`: a Chart as a line per series (its reference line dashed, its
    marks as diamonds on their curves), Bars as horizontal stacked bars."""
    pyplot = _pyplot()
    heights = [_height(panel) for panel in panels]
    figure, axes = pyplot.subplots(len(panels), 1, figsize=(8, sum(heights)), dpi=120, squeeze=False,
                                   gridspec_kw={"height_ratios": heights})
    for panel, ax in zip(panels, axes[:, 0]):
        if isinstance(panel, Bars):
            _bars(ax, panel)
        else:
            _lines(ax, panel)
    figure.tight_layout()
    figure.savefig(path, metadata=_metadata(path))
    pyplot.close(figure)


def _height(panel: Chart | Bars) -> float:
    """Inches: a chart 4.8, bars by their number (or their legend's lines)."""
    if isinstance(panel, Chart):
        return 4.8
    return 1.2 + max(0.45 * len(panel.categories), 0.2 * len(panel.segments))


def _metadata(path: str) -> dict:
    """No creation date in the file (the same plot gives the same bytes where the format allows)."""
    suffix = path.lower().rsplit(".", 1)[-1]
    return {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}[suffix]


def _lines(axes, chart: Chart) -> None:
    positions = chart.x_values or list(range(len(chart.x_labels)))
    drawn = []
    for label, values in chart.series:
        (line,) = axes.plot(positions, values, marker="o", markersize=4, label=label)
        drawn.append(line)
    if chart.line:
        label, value = chart.line
        axes.axhline(value, color="crimson", linestyle="--", linewidth=1.2, label=label)
    if chart.x_values:
        axes.set_xscale("log", base=2)
        axes.minorticks_off()
    if chart.log_y:
        axes.set_yscale("log")
    labelled = set()
    for index, x, label in chart.marks:
        y = _on_line(positions, chart.series[index][1], x, chart.x_values is not None, chart.log_y)
        if y is not None:  # a label once in the legend, however many curves carry the mark
            axes.plot([x], [y], marker="D", markersize=9, color=drawn[index].get_color(), markeredgecolor="black",
                      linestyle="none", label="_" + label if label in labelled else label, zorder=3)
            labelled.add(label)
    axes.set_xticks(positions, chart.x_labels, rotation=45 if len(positions) > 10 else 0)
    axes.set_title(chart.title)
    axes.set_xlabel(chart.x_label)
    axes.set_ylabel(chart.y_label)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")


def _on_line(xs: list[float], ys: list[float], x: float, log_x: bool, log_y: bool) -> float | None:
    """Where the straight segment drawn through (xs, ys) passes x, in the axes' own scales (so a mark sits on the
    line as drawn); None outside the drawn range."""
    def fx(v: float) -> float:
        return math.log(v) if log_x else v

    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x0 <= x <= x1:
            t = 0.0 if x1 == x0 else (fx(x) - fx(x0)) / (fx(x1) - fx(x0))
            if log_y:
                return math.exp(math.log(y0) + t * (math.log(y1) - math.log(y0)))
            return y0 + t * (y1 - y0)
    return None


def _bars(axes, bars: Bars) -> None:
    rows = list(range(len(bars.categories)))
    left = [0.0] * len(rows)
    for label, values in bars.segments:
        axes.barh(rows, values, left=left, label=label, height=0.6)
        left = [a + b for a, b in zip(left, values)]
    axes.set_xlim(0, bars.x_max)
    axes.set_yticks(rows, bars.categories)
    axes.invert_yaxis()  # the first model on top, as in the tables
    axes.set_title(bars.title)
    axes.set_xlabel(bars.x_label)
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)


def save_diagram(diagram: Diagram, path: str) -> None:
    """The diagram as llmcalc.render.diagram lays it out for its SVG, shape for shape (one SVG unit a point, so the
    monospace text keeps the advance its boxes were sized for), into a PNG (at twice that scale) or a PDF."""
    pyplot = _pyplot()
    figure = diagram_figure(diagram)
    figure.savefig(path, dpi=144, metadata=_metadata(path))
    pyplot.close(figure)


def diagram_figure(diagram: Diagram):
    """The matplotlib figure of a diagram (save_diagram), open: the caller closes it."""
    from matplotlib.patches import FancyBboxPatch

    from .diagram import layout

    pyplot = _pyplot()
    width, height, shapes = layout(diagram)
    figure = pyplot.figure(figsize=(width / 72, height / 72), dpi=72, facecolor="white")
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)  # y down, as in the SVG
    axes.axis("off")
    for kind, *shape in shapes:
        if kind == "text":
            x, y, text, size, bold = shape
            axes.text(x, y, text, fontsize=size, fontweight="bold" if bold else "normal", family="DejaVu Sans Mono",
                      va="baseline", ha="left")
        elif kind == "line":
            x1, y1, x2, y2, stroke, stroke_width = shape
            axes.plot([x1, x2], [y1, y2], color=stroke, linewidth=stroke_width)
        else:
            x, y, w, h, radius, fill, stroke, stroke_width, dashes, _ = shape
            axes.add_patch(FancyBboxPatch((x, y), w, h, boxstyle=f"round,pad=0,rounding_size={radius}",
                                          facecolor=fill or "none", edgecolor=stroke, linewidth=stroke_width or 1,
                                          linestyle=(0, dashes) if dashes else "solid"))
    return figure
