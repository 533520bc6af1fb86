"""A Chart (llmcalc.present.sheet) as an image file through matplotlib, the optional `plot` extra
(`pip install 'llmcalc[plot]'`): imported only when a plot is asked for; without it, an ImportError the CLI turns
into one line."""

from __future__ import annotations

from ..present.sheet import Chart

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def save_chart(chart: Chart, path: str) -> None:
    """Draw `chart` (a line per series over its x labels, its reference line dashed) into `path`."""
    import matplotlib

    matplotlib.use("Agg")  # no display, whatever the environment says
    matplotlib.rcParams["svg.fonttype"] = "none"  # an SVG keeps its text as text (searchable, and testable)
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(8, 4.8), dpi=120)
    positions = list(range(len(chart.x_labels)))
    for label, values in chart.series:
        axes.plot(positions, values, marker="o", label=label)
    if chart.line:
        label, value = chart.line
        axes.axhline(value, color="crimson", linestyle="--", linewidth=1.2, label=label)
    axes.set_xticks(positions, chart.x_labels, rotation=45 if len(positions) > 10 else 0)
    if chart.log_y:
        axes.set_yscale("log")
    axes.set_title(chart.title)
    axes.set_xlabel(chart.x_label)
    axes.set_ylabel(chart.y_label)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
