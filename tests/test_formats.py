"""Output formats on every command: table, JSON, CSV, Markdown, and --export through rich's export; count's
share bars. Every format is built from the same result objects, so the numbers must agree across formats."""

from __future__ import annotations

import csv
import io
from pathlib import Path
import json
import re

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli
from llmcalc.units import bar

TINY = Path(__file__).parent / "data" / "checkpoints" / "tiny-llama"  # a 78,144-parameter Llama, all zeros
# Each command with arguments that run fast, and the CSV columns it must write.
COMMANDS = {
    "count": (["count", "gpt2-small", "mixtral-8x7b"], "component"),
    "compare": (["compare", "llama2-70b", "llama3-70b"], "quantity"),
    "flops": (["flops", "gpt2-small"], "matmul"),
    "memory": (["memory", "llama3-8b"], "part"),
    "fit": (["fit", "llama3-70b"], "fewest_gpus"),
    "list": (["list", "--family", "gpt2"], "params"),
    "verify": (["verify", "gpt2-small"], "computed"),
    "sweep": (["sweep", "llama3-8b", "--vary", "context=1k..4k"], "llama3-8b kv_cache_bytes"),
    "speed": (["speed", "llama3-8b"], "seconds"),
    "plan": (["plan", "llama3-8b", "--n-gpus", "8"], "step_seconds"),
    "explain": (["explain", "gpt2-small", "llama3-8b"], "aspect"),
    "check": (["check", str(TINY / "config.json"), str(TINY)], "component"),
    "count a checkpoint": (["count", str(TINY)], "component"),
}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_every_command_prints_every_format(name, fmt):
    args, column = COMMANDS[name]
    result = run(*args, "--format", fmt)
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "json":
        assert isinstance(json.loads(out), dict)
    elif fmt == "csv":
        rows = csv_rows(out)
        assert rows and column in rows[0]
    elif fmt == "markdown":
        assert out.startswith("**") and "\n|" in out and "|---" in out.replace(":---", "---")
    elif name == "fit":
        assert "fewest GPUs" in out and "|" not in out  # a headerless rich table
    else:
        assert "\u2500" in out and "|" not in out  # a rich table: a rule under the header, no pipes


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_json_shortcut_equals_format_json(name):
    args, _ = COMMANDS[name]
    assert json.loads(run(*args, "--json").stdout) == json.loads(run(*args, "--format", "json").stdout)


def test_json_and_another_format_is_a_usage_error():
    result = run("count", "gpt2-small", "--json", "--format", "csv")
    assert result.exit_code == 2
    assert "--json and --format csv" in result.output


def test_count_csv_rows_are_exact_and_sum_to_the_total():
    rows = csv_rows(run("count", "llama3-8b", "--format", "csv").stdout)
    assert sum(int(r["params"]) for r in rows if r["in_total"] == "True") == 8_030_261_248
    q = next(r for r in rows if r["component"] == "attn.q")
    assert (q["group"], q["layers"], q["n_layers"], q["params_per_layer"]) == ("layers", "0-31", "32", "16777216")


def test_count_csv_keeps_mtp_out_of_the_total():
    doc = json.loads(run("count", "deepseek-v3", "--json").stdout)["models"][0]
    rows = csv_rows(run("count", "deepseek-v3", "--format", "csv").stdout)
    in_total = sum(int(r["params"]) for r in rows if r["in_total"] == "True")
    mtp = [r for r in rows if r["in_total"] == "False"]
    assert in_total == doc["params"]["total"]
    assert sum(int(r["params"]) for r in mtp) == doc["optional"]["params"] > 0
    assert {r["group"] for r in mtp} == {"mtp"}


def test_flops_csv_matches_json():
    doc = json.loads(run("flops", "llama3-8b", "--context", "2048", "--json").stdout)["models"][0]
    rows = csv_rows(run("flops", "llama3-8b", "--context", "2048", "--format", "csv").stdout)
    assert sum(int(r["matmul"]) for r in rows) == doc["forward"]["matmul"]
    assert sum(int(r["other"]) for r in rows) == doc["forward"]["other"]
    assert {r["context"] for r in rows} == {"2048"}


def test_memory_csv_parts_sum_to_the_json_total():
    doc = json.loads(run("memory", "llama3-8b", "--batch", "4", "--json").stdout)["models"][0]
    rows = csv_rows(run("memory", "llama3-8b", "--batch", "4", "--format", "csv").stdout)
    assert [r["part"] for r in rows] == ["weights", "kv_cache", "activations"]
    assert sum(float(r["per_gpu_bytes"]) for r in rows) == pytest.approx(doc["total"]["per_gpu"])


def test_compare_csv_has_a_column_per_model():
    rows = csv_rows(run("compare", "llama2-70b", "llama3-70b", "--format", "csv").stdout)
    total = next(r for r in rows if r["quantity"] == "params total")
    assert (total["llama2-70b"], total["llama3-70b"]) == ("68976648192", "70553706496")


def test_markdown_table_has_one_cell_per_column():
    out = run("count", "gpt2-small", "--format", "markdown").stdout
    table = [line for line in out.splitlines() if line.startswith("|")]
    widths = {len(re.split(r"(?<!\\)\|", line)) for line in table}
    assert len(widths) == 1 and len(table) >= 20
    assert "| **total** |" in out and "124,439,808" in out
    assert "[bold]" not in out and "[/" not in out  # markup removed


def test_markdown_escapes_pipes():
    from llmcalc.present.sheet import Sheet
    from llmcalc.render.markdown import to_markdown

    sheet = Sheet("t", [("a", "left"), ("b", "right")])
    sheet.add_row("x | y", "[bold]1[/bold]")
    assert "| x \\| y | 1 |" in to_markdown([sheet])


@pytest.mark.parametrize("suffix, marker", [(".svg", "<svg"), (".html", "<html"), (".txt", "124,439,808"),
                                            (".md", "| component |")])
def test_export_writes_the_tables(tmp_path, suffix, marker):
    path = tmp_path / f"report{suffix}"
    result = run("count", "gpt2-small", "--export", str(path))
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert marker in text
    assert "124,439,808" in text or "124,439,808" in text.replace("&#160;", " ")
    assert f"wrote {path}" in result.output
    assert "124,439,808" in result.stdout  # the terminal still shows the table


def test_export_svg_holds_the_figures_and_a_json_stdout(tmp_path):
    path = tmp_path / "sweep.svg"
    result = run("sweep", "llama3-8b", "--vary", "context=1k..8k", "--export", str(path), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["variable"] == "context"
    svg = path.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "1,024" in svg.replace("&#160;", " ")


def test_export_rejects_an_unknown_suffix(tmp_path):
    result = run("count", "gpt2-small", "--export", str(tmp_path / "report.pdf"))
    assert result.exit_code == 2 and ".svg" in result.output
    assert not (tmp_path / "report.pdf").exists()


def test_export_to_an_unwritable_place_is_one_line(tmp_path):
    result = run("count", "gpt2-small", "--export", str(tmp_path / "missing" / "r.svg"))
    assert result.exit_code == 2
    assert "cannot write file" in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1  # found before the table is printed


def test_export_into_a_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "plain").write_text("")
    result = run("count", "gpt2-small", "--export", str(tmp_path / "plain" / "r.svg"))
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "cannot write file" in result.output


def test_count_shows_share_bars():
    out = run("count", "gpt2-small").stdout
    token = next(line for line in out.splitlines() if line.strip().startswith("token embedding"))
    mlp_up = next(line for line in out.splitlines() if line.strip().startswith("MLP up"))
    # 38,597,376 / 124,439,808 = 31.0% of a 20-character bar; MLP up 22.8%
    assert "31.0%" in token and bar(38_597_376 / 124_439_808, 20) in token
    assert "22.8%" in mlp_up and bar(28_311_552 / 124_439_808, 20) in mlp_up
    assert token.count("\u2588") > mlp_up.count("\u2588")


def test_bar_draws_eighths():
    assert bar(0.5, 4) == "\u2588\u2588"
    assert bar(0.5, 1) == "\u258c"  # half of one character
    assert bar(0, 10) == "" and bar(2, 3) == "\u2588" * 3
