"""`sweep --plot` (issue 19, part): an image of the swept quantity through the optional matplotlib extra, a line at
the chosen GPU's memory; without the extra, one clear line."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.present.sweep import sweep_chart

ARGS = ["sweep", "llama3-8b", "mistral-7b", "--vary", "context=1k..32k"]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_the_chart_a_plot_draws():
    result = llmcalc.sweep(["llama3-8b"], "context", [1024, 2048])
    chart = sweep_chart(result, "GiB", "memory", gpu=("NVIDIA H100 SXM 80GB", 80 * 2**30))
    assert chart.line == ("NVIDIA H100 SXM 80GB (80 GiB)", 80.0)
    assert chart.x_labels == ["1k", "2k"] and chart.x_label == "context"
    assert chart.series[0][1] == [p[0].memory_bytes / 2**30 for p in result.points]
    assert sweep_chart(result, "GiB", "flops", gpu=("x", 1.0)).line is None


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_plot_files(tmp_path, suffix):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"sweep{suffix}"
    result = run(*ARGS, "--plot", str(path), "--gpu", "h100")
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 5_000 and f"wrote {path}" in result.stderr
    if suffix == ".svg":
        text = path.read_text()
        for label in ("llama3-8b", "mistral-7b", "NVIDIA H100 SXM 80GB (80 GiB)", "context"):
            assert label in text, label


def test_without_the_extra_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed: import raises ImportError
    result = run(*ARGS, "--plot", str(tmp_path / "s.png"))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == ("error: --plot needs matplotlib, the optional plot extra: "
                                     "pip install 'llmcalc[plot]'")


@pytest.mark.parametrize("args, words", [
    (["--plot", "s.jpg"], "the file must end in .png, .svg, .pdf"),
    (["--gpu", "h100"], "--gpu applies with --plot of a memory or kv chart only"),
    (["--plot", "s.png", "--chart", "none"], "--plot draws the --chart quantity"),
    (["--plot", "/nonexistent/s.png"], "cannot write file: no such folder /nonexistent"),  # before anything is drawn
])
def test_plot_usage_errors(args, words):
    result = run(*ARGS, *args)
    assert result.exit_code == 2 and words in result.output
