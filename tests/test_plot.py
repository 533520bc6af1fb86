"""`sweep --plot`, `count --plot` and `speed --plot` (issue 19, part): images through the optional matplotlib extra
(the swept quantity with a line at the chosen GPU's memory; where the parameters live; decode tokens/s against batch
with a mark where it turns compute-bound); without the extra, one clear line."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.present.count import count_plot
from llmcalc.present.speed import speed_plot
from llmcalc.present.sweep import sweep_chart
from llmcalc.render.plot import _on_line

ARGS = ["sweep", "llama3-8b", "mistral-7b", "--vary", "context=1k..32k"]
COUNT = ["count", "gpt2-small", "mixtral-8x7b"]
SPEED = ["speed", "llama3-8b", "gpt2-small", "--gpu", "h100", "--context", "128"]
MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".svg": b"<?xml", ".pdf": b"%PDF-"}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_the_chart_a_plot_draws():
    result = llmcalc.sweep(["llama3-8b"], "context", [1024, 2048])
    chart = sweep_chart(result, "GiB", "memory", gpu=("NVIDIA H100 SXM 80GB", 80 * 2**30))
    assert chart.line == ("NVIDIA H100 SXM 80GB (80 GiB)", 80.0)
    assert chart.x_labels == ["1k", "2k"] and chart.x_label == "context"
    assert chart.series[0][1] == [p[0].memory_bytes / 2**30 for p in result.points]
    assert sweep_chart(result, "GiB", "flops", gpu=("x", 1.0)).line is None


@pytest.mark.parametrize("args, words", [
    (ARGS + ["--gpu", "h100"], ["llama3-8b", "mistral-7b", "NVIDIA H100 SXM 80GB (80 GiB)", "context"]),
    (COUNT, ["gpt2-small", "mixtral-8x7b", "Parameters by component", "parameters (billions)", "share (%)",
             "routed experts", "LM head"]),
    (SPEED, ["llama3-8b (compute-bound from batch 534)", "gpt2-small (never compute-bound)",
             "batch (sequences at once)", "tokens/s per sequence", "tokens/s, whole batch",
             "decode turns compute-bound"]),
], ids=["sweep", "count", "speed"])
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_plot_files(tmp_path, suffix, args, words):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"plot{suffix}"
    result = run(*args, "--plot", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {path}\n"
    assert json.loads(result.stdout)  # the answer still comes, one JSON document on stdout
    data = path.read_bytes()
    assert len(data) > 5_000 and data.startswith(MAGIC[suffix])
    if suffix == ".svg":
        text = data.decode()
        assert text.rstrip().endswith("</svg>")
        for label in words:
            assert label in text, label


@pytest.mark.parametrize("args", [ARGS, COUNT, SPEED], ids=["sweep", "count", "speed"])
def test_without_the_extra_one_line(tmp_path, monkeypatch, args):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed: import raises ImportError
    result = run(*args, "--plot", str(tmp_path / "s.png"))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == ("error: --plot needs matplotlib, the optional plot extra: "
                                     "pip install 'llmcalc[plot]'")
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize("args, words", [
    (["--plot", "s.jpg"], "the file must end in .png, .svg, .pdf"),
    (["--gpu", "h100"], "--gpu applies with --plot of a memory or kv chart only"),
    (["--plot", "s.png", "--chart", "none"], "--plot draws the --chart quantity"),
    (["--plot", "/nonexistent/s.png"], "cannot write file: no such folder /nonexistent"),  # before anything is drawn
])
def test_plot_usage_errors(args, words):
    result = run(*ARGS, *args)
    assert result.exit_code == 2 and words in result.output


@pytest.mark.parametrize("args", [COUNT, SPEED], ids=["count", "speed"])
@pytest.mark.parametrize("plot, words", [
    ("s.jpg", "the file must end in .png, .svg, .pdf"),
    ("/nonexistent/s.png", "cannot write file: no such folder /nonexistent"),
])
def test_count_and_speed_plot_usage_errors(args, plot, words):
    result = run(*args, "--plot", plot)
    assert result.exit_code == 2 and result.stdout == "" and words in result.stderr
    assert result.stderr.count("\n") == 1


def test_count_plot_refuses_a_checkpoint(tmp_path):
    path = tmp_path / "model.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(8))
    result = run("count", str(path), "--plot", str(tmp_path / "c.png"))
    assert result.exit_code == 2 and result.stderr == f"error: --plot draws specs' counts; {path} is a checkpoint\n"


def test_the_bars_a_count_plot_draws():
    counts = [llmcalc.count_params(m) for m in ("gpt2-small", "mixtral-8x7b", "deepseek-v3")]
    absolute, shares = count_plot(counts)
    assert absolute.categories == ["gpt2-small", "mixtral-8x7b", "deepseek-v3"]
    parts = dict(absolute.segments)
    assert list(parts) == ["embeddings", "attention", "MLP", "routed experts", "shared experts", "router", "norms",
                           "LM head"]  # no cross-attention, and no 'other': every component has its part
    for j, count in enumerate(counts):
        assert sum(values[j] for values in parts.values()) * 1e9 == pytest.approx(count.total, rel=1e-12)
        assert sum(values[j] for _, values in shares.segments) == pytest.approx(100)
    assert parts["embeddings"][0] * 1e9 == pytest.approx(38_597_376 + 786_432)  # GPT-2's token + position tables
    assert parts["routed experts"][0] == 0 and parts["MLP"][1] == 0  # GPT-2 has no experts; Mixtral no dense MLP
    assert parts["LM head"][0] == 0  # tied
    assert absolute.x_label == "parameters (billions)" and shares.x_label == "share (%)"
    small = count_plot([llmcalc.count_params("gpt2-small")])[0]
    assert small.x_label == "parameters (millions)" and dict(small.segments)["MLP"][0] == pytest.approx(56.669184)


def test_the_lines_a_speed_plot_draws():
    from llmcalc.hardware import find_gpu

    gpu = find_gpu("h100")
    reports = [llmcalc.speed(m, peak_flops=gpu.peak("bf16"), bandwidth=gpu.memory_bandwidth, context=128,
                             gpu_name=gpu.name) for m in ("llama3-8b", "gpt2-small")]
    per_sequence, whole = speed_plot(reports)
    assert per_sequence.x_values == [2**i for i in range(11)] and whole.x_labels[-1] == "1,024"
    crossover = reports[0].crossover
    assert crossover is not None and 1 < crossover < 1024 and reports[1].crossover is None
    assert per_sequence.series[0][0] == f"llama3-8b (compute-bound from batch {crossover:,})"
    assert per_sequence.series[1][0] == "gpt2-small (never compute-bound)"
    assert per_sequence.marks == whole.marks == [(0, crossover, "decode turns compute-bound")]
    steps = reports[0].by_batch
    assert per_sequence.series[0][1] == [1 / p.seconds for p in steps]
    assert whole.series[0][1] == [p.batch / p.seconds for p in steps]
    assert all(p.bound == "memory" for p in steps if p.batch < crossover)  # the mark sits where the bound turns
    assert all(p.bound == "compute" for p in steps if p.batch >= crossover)


def test_a_mark_sits_on_the_line_as_drawn():
    assert _on_line([1, 2, 4], [10, 20, 40], 3, log_x=False, log_y=False) == 30
    assert _on_line([1, 2, 4], [10, 20, 40], 2**1.5, log_x=True, log_y=False) == pytest.approx(30)
    assert _on_line([1, 4], [10, 1000], 2, log_x=True, log_y=True) == pytest.approx(100)
    assert _on_line([1, 2, 4], [10, 20, 40], 5, log_x=True, log_y=True) is None


ROOT = Path(__file__).parent.parent
README_PLOTS = re.findall(r"`llmcalc ([^`]*?--plot\s+(docs/[\w.-]+\.png)[^`]*)`", (ROOT / "README.md").read_text())


def test_every_readme_plot_is_committed():
    assert {path for _, path in README_PLOTS} >= {"docs/sweep-llama3-8b-mistral-7b.png",
                                                  "docs/count-llama3-8b-mixtral-8x7b-deepseek-v3.png",
                                                  "docs/speed-llama3-8b-mixtral-8x7b.png"}
    for _, path in README_PLOTS:
        assert (ROOT / path).read_bytes().startswith(MAGIC[".png"]), path
        assert f"]({path})" in (ROOT / "README.md").read_text(), f"{path} is not shown in the README"


@pytest.mark.parametrize("command, path", README_PLOTS, ids=[path for _, path in README_PLOTS])
def test_readme_plots_are_current(command, path, tmp_path):
    """The README's command draws the committed image again: pixel for pixel under the matplotlib the CI pins
    (.ci/run), which drew them; under another version (other fonts, other anti-aliasing) at least its size."""
    matplotlib = pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    fresh = tmp_path / "fresh.png"
    result = run(*command.replace(path, str(fresh)).split())
    assert result.exit_code == 0, result.output
    drawn, committed = imread(fresh), imread(ROOT / path)
    hint = f"regenerate: llmcalc {' '.join(command.split())}"
    assert drawn.shape == committed.shape, hint
    pinned = re.search(r"matplotlib==([\d.]+)", (ROOT / ".ci" / "run").read_text()).group(1)
    if matplotlib.__version__ == pinned:
        assert (drawn == committed).all(), hint
