"""Tables and charts at a narrow terminal (80 and 60 columns): nothing wider than the console, nothing cut with an
ellipsis, every row label and every value whole; a sheet too wide is split into column pages that repeat the
label column. The wide (piped, 140 columns) layout is the README's and is checked by tests/test_readme.py."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli

WIDTHS = (80, 60)
COMMANDS = [
    "compare llama3-8b mixtral-8x7b deepseek-v3",
    "compare llama3-8b mixtral-8x7b",
    "compare llama3-8b mixtral-8x7b deepseek-v3 qwen3-235b-a22b",
    "sweep llama3-8b mixtral-8x7b mistral-7b --vary context=1k..128k",
    "sweep llama3-8b --vary context=1k..128k",
    "sweep llama3-8b mistral-7b --vary context=1k..1m --chart kv",
    "count mixtral-8x7b",
    "count llama3-8b mixtral-8x7b deepseek-v3",
    "flops llama3-8b --training",
    "memory llama3-70b --context 8192 --batch 8 --tp 4",
    "fit llama3-70b --context 8192",
    "verify llama3-8b mixtral-8x7b gpt2-small",
    "list",
]
# a value as the tables print it: an exact or human number, maybe with a unit, a ratio or a beyond-context star
NUMBER = re.compile(r"^[-+±~(]?\d[\d,.]*(e[-+]?\d+)?[%x]?[KMBTP]?\)?\*?$")
UNIT = re.compile(r"^(B|GB|GiB|MiB|KiB|TB|TiB|at)\*?$|^[/x]$")


def run(command: str, width: int | None = None) -> str:
    # no width: piped with COLUMNS unset (None removes it from the environment), as the README's examples run
    result = CliRunner().invoke(cli, command.split(), env={"COLUMNS": str(width) if width else None})
    assert result.exit_code == 0, result.output
    return result.output


def markdown_cells(command: str) -> list[list[str]]:
    """The rows of every table of the command, from its Markdown output (cells whole, markup stripped)."""
    rows = []
    for line in run(command + " --format markdown").splitlines():
        if line.startswith("| ") and not line.startswith("|:") and not line.startswith("|-"):
            cells = [c.strip().strip("*").strip() for c in re.split(r"(?<!\\) \| ", line[2:-2])]
            rows.append(cells)
    return rows


def is_number(cell: str) -> bool:
    """A cell made of numbers and their units only ('46.70B (5.82x)', '1.00 GiB at 8,192'): never wrapped."""
    words = cell.split()
    return any(NUMBER.match(w) for w in words) and all(NUMBER.match(w) or UNIT.match(w) for w in words)


def broken_today(commands, *fine):
    """(command, width) pairs, less those that already rendered well before tables were paged (they are checked
    by test_every_command_at_both_widths)."""
    return [(c, w) for c in commands for w in WIDTHS if (c.split()[0], w) not in fine and (c, w) not in fine]


FINE_FIT = [("fit", 80), ("fit", 60), ("memory", 80), ("verify", 60), ("compare llama3-8b mixtral-8x7b", 80),
            ("sweep llama3-8b --vary context=1k..128k", 80), ("sweep llama3-8b --vary context=1k..128k", 60)]
VALUED = [c for c in COMMANDS if c.split()[0] != "fit"]


def assert_fits(out: str, width: int) -> None:
    too_long = [line for line in out.splitlines() if len(line) > width]
    assert not too_long, f"{len(too_long)} lines over {width} columns, e.g. {too_long[0]!r}"
    assert "…" not in out


def assert_whole(command: str, out: str, width: int) -> None:
    lines = out.splitlines()
    for row in markdown_cells(command):
        label, values = row[0], row[1:]
        if label:  # a row label on one line (the label column does not wrap while the width allows)
            assert any(label in line for line in lines), f"row label {label!r} missing at {width} columns"
        for cell in values:
            if is_number(cell):  # a number with its unit and ratio is never cut, nor wrapped
                assert any(cell in line for line in lines), f"{cell!r} not whole at {width} columns"
            else:  # text may wrap at spaces, but every word (and every number in it) is whole
                for word in cell.split():
                    assert re.search(rf"(^|\s){re.escape(word)}(\s|$)", out), f"{word!r} of {cell!r} cut"


@pytest.mark.parametrize("command, width", broken_today(COMMANDS, *FINE_FIT))
def test_fits_the_console_and_cuts_nothing(command, width):
    assert_fits(run(command, width), width)


@pytest.mark.parametrize("command, width", broken_today(VALUED, ("memory", 80),
                                                         ("sweep llama3-8b --vary context=1k..128k", 80),
                                                         ("sweep llama3-8b --vary context=1k..128k", 60)))
def test_every_value_and_label_whole(command, width):
    assert_whole(command, run(command, width), width)


def test_every_command_at_both_widths():
    """The whole matrix, those that rendered well before included: they must still."""
    for command in COMMANDS:
        for width in WIDTHS:
            out = run(command, width)
            assert_fits(out, width)
            if command in VALUED:
                assert_whole(command, out, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_labels_and_exact_values(width):
    out = run("compare llama3-8b mixtral-8x7b deepseek-v3", width)
    for label in ("layers", "d_model", "heads / kv heads / d_head", "tied embeddings", "total", "active per token",
                  "non-embedding", "forward FLOPs per token", "KV cache per token (bf16)", "KV cache of one sequence"):
        assert label in out
    for value in ("46.70B (5.82x)", "131.07M (0.25x)", "671.03B (83.6x)", "131,072 B", "10.72 GiB at 163,840",
                  "32 / 8 / 128", "128,256", "163,840", "SwiGLU, 3 matrices"):
        assert value in out


@pytest.mark.parametrize("width", WIDTHS)
def test_wide_compare_is_split_into_column_pages(width):
    out = run("compare llama3-8b mixtral-8x7b deepseek-v3", width)
    assert "(columns 1-2 of 3)" in out or "(column 1 of 3)" in out
    assert "(column 3 of 3)" in out or "(columns 2-3 of 3)" in out
    pages = out.count("Comparison (ratios are to the first model)")
    assert pages >= 2
    assert out.count("d_model") == pages and out.count("non-embedding") == pages  # the labels on every page
    for name in ("llama3-8b", "mixtral-8x7b", "deepseek-v3"):
        assert name in out


def test_labels_do_not_wrap_when_the_width_allows():
    out = run("compare llama3-8b mixtral-8x7b deepseek-v3 qwen3-235b-a22b", 120)
    assert max(map(len, out.splitlines())) <= 120 and "…" not in out
    for label in ("heads / kv heads / d_head", "KV cache per token (bf16)", "forward FLOPs per token",
                  "attention kv down + rope key (MLA)"):
        assert label in out
    for value in ("qwen3-235b-a22b", "GQA, rmsnorm qk-norm", "1.00 GiB at 8,192", "10.72 GiB at 163,840"):
        assert value in out


@pytest.mark.parametrize("width", WIDTHS)
def test_sweep_values_whole(width):
    out = run("sweep llama3-8b mixtral-8x7b mistral-7b --vary context=1k..128k", width)
    for value in ("1,024", "131,072", "16.00 GiB*", "17.68 GiB*", "31.68 GiB*", "104.15 GiB*", "14.71 GiB*",
                  "60.06B*", "16.35B*"):
        assert value in out
    assert not re.search(r"\d\.\s*$", out, re.M)  # no number cut after its decimal point ('14.')


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_fits(width):
    """Fourteen points: the chart is narrowed to the console, not wrapped by it (an axis over two lines)."""
    lines = run("sweep llama3-8b mistral-7b --vary context=128..1m --chart kv", width).splitlines()
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    assert lines[axis].count("┬") == 14 and lines[axis].rstrip().endswith(("┬", "─"))
    labels = lines[axis + 1].split()
    assert labels[0] == "128" and labels[-1] == "1m"
    assert lines[axis + 2].startswith("● llama3-8b")
    chart = lines[axis - 16:axis + 3]
    assert max(map(len, chart)) <= width and "128 ┤" in "\n".join(chart)


def test_narrow_chart_fits_and_keeps_its_ends():
    out = run("sweep llama3-8b --vary context=1k..128k", 44)
    assert max(len(line) for line in out.splitlines()) <= 44
    axis = next(i for i, line in enumerate(out.splitlines()) if "└" in line)
    labels = out.splitlines()[axis + 1]
    assert labels.split()[0] == "1k" and labels.split()[-1] == "128k"


def test_piped_output_keeps_the_wide_layout():
    """No COLUMNS: the 140 columns of today, one page, nothing split."""
    out = run("compare llama3-8b mixtral-8x7b deepseek-v3")
    assert "(column" not in out and out.count("Comparison") == 1 and "…" not in out
    assert max(map(len, out.splitlines())) == 140
    assert "attention kv down + rope key (MLA)" in out and "RMSNorm, pre, final norm" in out
    out = run("compare llama3-8b mixtral-8x7b")
    assert "(column" not in out and "d_model" in out and "46.70B (5.82x)" in out
