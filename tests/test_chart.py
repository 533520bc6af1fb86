"""The terminal line chart: markers, scales, axes, legend and edge cases, read from its plain text."""

from __future__ import annotations

import subprocess
import sys

import pytest

from llmcalc.render.chart import MARKERS, OVERLAP, line_chart

LABELS = ["1K", "2K", "4K", "8K", "16K", "32K", "64K", "128K"]
DOUBLING = [1, 2, 4, 8, 16, 32, 64, 128]


def plot_rows(text: str) -> list[str]:
    """The plot rows (top first): the lines holding the y axis, above the x axis line."""
    lines = text.splitlines()
    return [line for line in lines[:next(i for i, ln in enumerate(lines) if "└" in ln)] if "┤" in line or "│" in line]


def rows_with(text: str, char: str) -> list[int]:
    return [i for i, line in enumerate(plot_rows(text)) if char in line]


def test_marker_per_point_and_nones_skipped():
    text = line_chart(LABELS, [("big", [100, 110, 120, 130, 140, 150, 160, 170]),
                               ("small", [1, None, 3, None, 5, 6, None, 8])]).plain
    plot = "\n".join(plot_rows(text))
    assert plot.count(MARKERS[0]) == 8
    assert plot.count(MARKERS[1]) == 5
    legend = text.splitlines()[-1]
    assert f"{MARKERS[0]} big" in legend and f"{MARKERS[1]} small" in legend


def test_highest_on_top_row_lowest_on_bottom_row():
    text = line_chart(LABELS, [("a", DOUBLING)], height=12).plain
    rows = plot_rows(text)
    assert MARKERS[0] in rows[0]
    assert rows[0].rstrip().endswith(MARKERS[0])  # the max is the last point: rightmost column
    assert MARKERS[0] in rows[-1]  # 1, 2 and 4 of 128 round to the bottom row (the scale starts at 0)
    assert rows_with(text, MARKERS[0])[-1] == len(rows) - 1


def test_linear_scale_starts_at_zero_with_formatted_ticks():
    text = line_chart(LABELS, [("a", [v + 100 for v in DOUBLING])], y_format=lambda v: f"<{v:.0f}>").plain
    rows = plot_rows(text)
    assert rows[0].lstrip().startswith("<228>")
    assert rows[-1].lstrip().startswith("<0>")
    assert any(row.lstrip().startswith("<114>") for row in rows)  # the middle tick
    assert rows[len(rows) // 2].lstrip().startswith("<114>")
    assert all(row.index("┤" if "┤" in row else "│") == rows[0].index("┤") for row in rows)  # aligned axis


def test_height_is_about_the_requested_rows():
    for height in (5, 9, 12, 20):
        rows = plot_rows(line_chart(LABELS, [("a", DOUBLING)], height=height).plain)
        assert abs(len(rows) - height) <= 2


def test_log_scale_puts_the_geometric_middle_in_the_middle_row():
    text = line_chart(["a", "b", "c"], [("s", [1, None, 10_000]), ("t", [None, 100, None])], log_y=True,
                      y_format=lambda v: f"{v:.0f}").plain
    rows = plot_rows(text)
    assert MARKERS[0] in rows[0] and MARKERS[0] in rows[-1]
    middle = rows_with(text, MARKERS[1])
    assert len(middle) == 1 and abs(middle[0] - (len(rows) - 1) / 2) <= 0.5
    assert rows[0].lstrip().startswith("10000") and rows[-1].lstrip().startswith("1 ")
    assert rows[len(rows) // 2].lstrip().startswith("100 ")


def test_log_scale_skips_non_positive_values():
    text = line_chart(["a", "b", "c"], [("s", [0, 10, 100])], log_y=True).plain
    assert "\n".join(plot_rows(text)).count(MARKERS[0]) == 2


def test_x_labels_first_and_last_always_shown_under_the_axis():
    labels = [f"{2 ** i:,}" for i in range(10, 24)]  # 1,024 ... 8,388,608: too many to show all
    text = line_chart(labels, [("a", list(range(len(labels))))], max_width=60).plain
    lines = text.splitlines()
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    label_line = lines[axis + 1]
    assert "1,024" in label_line and "8,388,608" in label_line
    assert label_line.index("1,024") < label_line.index("8,388,608")
    words = label_line.split()
    assert all(word in labels for word in words)  # no label clipped or run into another
    assert len(words) < len(labels)  # some skipped: they would overlap
    assert lines[axis].count("┬") == len(labels)  # a tick per point


def test_labels_centred_under_their_markers():
    text = line_chart(["bf16", "fp8", "int4"], [("a", [1, 2, 3])]).plain
    lines = text.splitlines()
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    ticks = [i for i, c in enumerate(lines[axis]) if c == "┬"]
    for label, x in zip(["bf16", "fp8", "int4"], ticks):
        start = lines[axis + 1].index(label)
        assert start <= x < start + len(label)


def test_legend_names_each_series_and_y_label_on_top():
    series = [(f"model-{k}", [k + 1.0, k + 2.0]) for k in range(3)]
    text = line_chart(["x", "y"], series, y_label="memory (GiB)")
    plain = text.plain
    assert plain.splitlines()[0] == "memory (GiB)"
    for k in range(3):
        assert f"{MARKERS[k]} model-{k}" in plain
    styles = {str(span.style) for span in text.spans}
    assert {"cyan", "magenta", "green"} <= styles


def test_overlap_is_shown_and_listed():
    text = line_chart(["a", "b"], [("p", [1, 5]), ("q", [1, 9])]).plain
    plot = "\n".join(plot_rows(text))
    assert plot.count(OVERLAP) == 1
    assert f"{OVERLAP} overlap" in text.splitlines()[-1]


@pytest.mark.parametrize("max_width", [40, 60, 100])
def test_no_line_exceeds_max_width(max_width):
    labels = [str(i) for i in range(70)]
    series = [(f"s{k}", [float(i * (k + 1)) for i in range(70)]) for k in range(4)]
    text = line_chart(labels, series, y_format=lambda v: f"{v:,.2f}", max_width=max_width).plain
    assert max(len(line) for line in text.splitlines()) <= max_width


@pytest.mark.parametrize("series", [
    [("one", [3.0])],
    [("flat", [2.0, 2.0, 2.0])],
    [("zeros", [0.0, 0.0, 0.0])],
    [("negative", [-1.0, -1.0, -1.0])],
])
@pytest.mark.parametrize("log_y", [False, True])
def test_degenerate_inputs_render(series, log_y):
    labels = ["a", "b", "c"][:len(series[0][1])]
    plain = line_chart(labels, series, log_y=log_y).plain
    if log_y and series[0][1][0] <= 0:
        assert plain == "(nothing to chart)"
    else:
        assert "\n".join(plot_rows(plain)).count(MARKERS[0]) == len(labels)


def test_all_none_says_nothing_to_chart():
    assert line_chart(["a", "b"], [("a", [None, None]), ("b", [None, None])]).plain == "(nothing to chart)"
    assert line_chart([], []).plain == "(nothing to chart)"


def test_import_does_not_load_rich():
    code = "import sys, llmcalc.render.chart; print(any(m == 'rich' or m.startswith('rich.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
