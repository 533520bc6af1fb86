"""Property-based tests of the command line (issue 17): for each kind of hostile input found there, a generator
of many such inputs, and the promise each must keep. Bad input ends in exit 2 and one `error:` line on stderr that
names the option, with nothing on stdout; good input answers (exit 0) with whole numbers where they are exact.

Kinds: option values (signs, nan/inf, huge or fractional numbers, separators, other scripts' digits, control
characters); options given where they do not apply (the other mode); parallel layouts against the model (TP
against heads, PP against layers, EP against experts); sweep ranges of any size; user text holding rich markup
or emoji codes. About 250 invocations, a few seconds.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from click.testing import CliRunner  # noqa: E402

import llmcalc  # noqa: E402
from llmcalc.cli import cli  # noqa: E402

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def invoke(args: list[str]):
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    return result


def assert_one_line_error(result, *names: str) -> str:
    """Exit 2, nothing on stdout, one `error:` line on stderr naming one of `names` (an option or a key)."""
    assert result.exit_code == 2, (result.exit_code, result.stdout[:300], result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert any(name in lines[0] for name in names), (names, lines[0])
    return lines[0]


def assert_answer(result) -> dict:
    """Exit 0, a JSON document on stdout in which every byte count is an integer, only warnings on stderr."""
    assert result.exit_code == 0, result.output
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines()), result.stderr
    document = json.loads(result.stdout)

    def walk(tree, key=""):
        if isinstance(tree, dict):
            for k, v in tree.items():
                walk(v, k)
        elif isinstance(tree, list):
            for v in tree:
                walk(v, key)
        elif key in ("bytes", "per_gpu") or key.endswith("_bytes"):
            assert tree is None or (isinstance(tree, int) and not isinstance(tree, bool)), (key, tree)
    walk(document)
    return document


# --- option values -----------------------------------------------------------------------------------------------

NUMERIC_OPTIONS = [  # (the command before the option, the option)
    (["memory", "llama3-8b"], "--context"), (["memory", "llama3-8b"], "--batch"),
    (["memory", "llama3-8b"], "--max-batched-tokens"), (["memory", "llama3-8b"], "--tp"),
    (["memory", "llama3-8b", "--mode", "training"], "--context"),
    (["memory", "llama3-8b", "--mode", "training"], "--optimizer-bytes"),
    (["memory", "llama3-8b", "--mode", "training"], "--dp"),
    (["memory", "llama3-8b", "--mode", "training", "--finetune", "lora"], "--lora-rank"),
    (["memory", "llama3-8b", "--engine", "vllm", "--gpu", "h100"], "--gpu-util"),
    (["memory", "llama3-8b", "--engine", "vllm"], "--gpu-mem"),
    (["flops", "gpt2-small"], "--context"), (["flops", "gpt2-small"], "--batch"),
    (["flops", "llama3-8b", "--training"], "--tokens"),
    (["flops", "llama3-8b", "--training", "--n-gpus", "8", "--gpu", "h100"], "--mfu"),
    (["flops", "llama3-8b", "--training", "--n-gpus", "8", "--gpu", "h100", "--mfu", "0.4"], "--price"),
    (["fit", "llama3-8b"], "--gpu-mem"), (["fit", "llama3-8b"], "--max-gpus"), (["fit", "llama3-8b"], "--context"),
    (["compare", "gpt2-small", "llama3-8b"], "--context"),
    (["sweep", "gpt2-small", "--vary", "batch=1,2"], "--context"),
]

hostile_numbers = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "-1", "0", "-0", "1e400", "1e-400", "0x10", "1_000", "1,024",
                     "1,5T", "1.5.5", "½", "²", "١٢", "１２", "1e", "e5", "..", "", " ", "\t", "1" * 5000, "9" * 400,
                     "1e308", "1e16", "9007199254740993", "2**53", "1k", "1.5k", "8K", "1m", "2T", "1e3", "0.5"]),
    st.integers(-10**30, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)


@SETTINGS
@given(st.sampled_from(NUMERIC_OPTIONS), hostile_numbers)
@example((["flops", "llama3-8b", "--training", "--n-gpus", "8", "--gpu", "h100", "--mfu", "0.4"], "--price"), "١٢")
@example((["memory", "llama3-8b", "--engine", "vllm"], "--gpu-mem"), "1e3")  # gpu_memory_bytes was a float
@example((["fit", "llama3-8b"], "--gpu-mem"), "1e308")  # an OverflowError
@example((["memory", "llama3-8b", "--mode", "training"], "--optimizer-bytes"), "1e308")  # infinite bytes, in JSON
def test_any_option_value_is_an_answer_or_one_line_naming_the_option(where, value):
    command, option = where
    result = invoke(command + [option, value, "--json"])
    if result.exit_code == 0:
        assert_answer(result)
    else:
        assert_one_line_error(result, option, option.lstrip("-").replace("-", "_"))


@SETTINGS
@given(st.sampled_from(["--context", "--batch"]), st.integers(1, 2**53), st.sampled_from(["", "k", "m"]))
def test_a_count_is_read_exactly(option, number, suffix):
    text = f"{number}{suffix}"
    value = number * {"": 1, "k": 1024, "m": 2**20}[suffix]
    result = invoke(["memory", "gpt2-small", option, text, "--json"])
    if value > 2**53:
        assert_one_line_error(result, option)
    else:
        document = assert_answer(result)
        assert document["models"][0]["settings"][option.lstrip("-")] == value


# --- options where they do not apply -----------------------------------------------------------------------------

# (--pp and --ep apply to both modes: serving splits the layers into stages, or the experts with DP attention)
TRAINING_ONLY = {"--grad-dtype": "fp32", "--optimizer": "sgd", "--optimizer-bytes": "8", "--zero": "1",
                 "--zero-impl": "deepspeed", "--dp": "2", "--sequence-parallel": None,
                 "--recompute": "full", "--attention-impl": "eager", "--framework": "transformers",
                 "--virtual-stages": "2", "--loss": "chunked", "--offload-activations": None, "--grad-buffers": "freed", "--dropout": None, "--finetune": "lora",
                 "--lora-rank": "4", "--lora-targets": "q", "--adapter-dtype": "bf16"}
SERVE_ONLY = {"--kv-dtype": "fp8", "--mla-cache": "decompressed", "--max-batched-tokens": "512", "--engine": "vllm",
              "--gpu-util": "0.5"}


def with_value(option: str, value: str | None) -> list[str]:
    return [option] if value is None else [option, value]


@SETTINGS
@given(st.sampled_from(["memory", "fit"]), st.sampled_from(["serve", "training"]), st.data())
def test_an_option_of_the_other_mode_is_refused_naming_it(command, mode, data):
    misplaced = TRAINING_ONLY if mode == "serve" else SERVE_ONLY
    if command == "fit":
        misplaced = {k: v for k, v in misplaced.items() if k != "--engine"}
    options = data.draw(st.lists(st.sampled_from(sorted(misplaced)), min_size=1, max_size=3, unique=True))
    args = [command, "llama3-8b", "--mode", mode]
    for option in options:
        args += with_value(option, misplaced[option])
    line = assert_one_line_error(invoke(args), *options)
    assert "applies to" in line or "does not apply" in line


# --- parallel layouts against the model --------------------------------------------------------------------------

@SETTINGS
@given(st.sampled_from(["llama3-8b", "mixtral-8x7b", "gpt2-small", "deepseek-v3"]), st.integers(1, 80),
       st.integers(1, 80), st.sampled_from([1, 2, 4, 8, 16, 64]), st.sampled_from([1, 2, 8, 16, 64]))
def test_a_parallel_layout_runs_only_where_the_model_allows_it(name, tp, pp, ep, dp):
    model = llmcalc.load(name)
    result = invoke(["memory", name, "--mode", "training", "--tp", str(tp), "--pp", str(pp), "--ep", str(ep),
                     "--dp", str(dp), "--json"])
    if result.exit_code != 0:
        assert_one_line_error(result, "tp", "pp", "ep", "dp")
        return
    assert_answer(result)
    attention = model.groups[0].layer.attention
    assert attention.n_heads % tp == 0
    assert pp <= model.n_layers
    experts = max((g.layer.moe.n_experts for g in model.groups if g.layer.moe), default=0)
    assert ep == 1 or (experts and experts % ep == 0 and (dp * tp) % ep == 0)


# --- sweep ranges ------------------------------------------------------------------------------------------------

@SETTINGS
@given(st.integers(0, 10**13), st.integers(0, 10**13), st.one_of(st.none(), st.integers(0, 10**12)))
def test_a_sweep_range_of_any_size_is_sized_before_it_is_built(low, high, step):
    text = f"batch={low}..{high}" + ("" if step is None else f":{step}")
    result = invoke(["sweep", "gpt2-small", "--vary", text, "--json"])
    if result.exit_code != 0:
        assert_one_line_error(result, "--vary", "batch")
        return
    values = assert_answer(result)["values"]
    assert 1 <= len(values) <= 1000 and values[0] == low and values[-1] <= high


# --- user text is never markup -----------------------------------------------------------------------------------

markup = st.lists(st.sampled_from(list("ab [/]\\:#@=-_") + ["bold", "red", "link", "smile", ":smile:", "[/x]",
                                                               "[bold]", "[link=x]"]),
                  min_size=1, max_size=8).map(lambda parts: "".join(parts).strip() or "x")


@SETTINGS
@given(markup)
@example("\\[")  # rich reads a plain '\[' as '[' (found by this test)
@example(":smile: [bold]x[/bold]")
@example("Mixtral [instruct] v2")
def test_a_display_name_is_shown_as_typed(name):
    value = json.dumps(name)  # a YAML double-quoted scalar
    table = invoke(["count", "gpt2-small", "--set", f"display_name={value}"])
    shown = invoke(["show", "gpt2-small", "--set", f"display_name={value}", "--json"])
    if table.exit_code != 0:  # YAML refused the text (one line naming --set)
        assert_one_line_error(table, "--set")
        return
    assert f"{name} (gpt2-small)" in table.stdout.splitlines()[0]
    assert json.loads(shown.stdout)["display_name"] == name
    markdown = invoke(["count", "gpt2-small", "--set", f"display_name={value}", "--format", "markdown"])
    assert markdown.stdout.startswith(f"**{name} (gpt2-small)")


# --- errors blame the file (or --set) that caused them -------------------------------------------------------------

@SETTINGS
@given(st.sampled_from(["llama3-8b", "mistral-7b", "gpt2-small", "llama2-70b", "mixtral-8x7b"]),
       st.sampled_from(["attention.n_heads", "attention.n_kv_heads", "d_model", "n_layers"]), st.integers(1, 10**6))
def test_an_error_names_the_child_file_or_the_set_that_caused_it(parent, key, value):
    section, _, name = key.rpartition(".")
    body = f"{section}:\n  {name}: {value}\n" if section else f"{key}: {value}\n"
    with tempfile.TemporaryDirectory() as folder:
        child = Path(folder) / "child.yaml"
        child.write_text(f"extends: {parent}\n{body}")
        result = invoke(["count", str(child), "--json"])
    if result.exit_code == 0:
        assert_answer(result)
    else:
        line = assert_one_line_error(result, str(child))
        assert f"{parent}.yaml" not in line  # never the built-in parent the user did not touch
    result = invoke(["count", parent, "--set", f"{key}={value}", "--json"])
    if result.exit_code == 0:
        assert_answer(result)
    else:
        line = assert_one_line_error(result, "--set")
        assert f"{parent}.yaml" not in line


# --- any terminal width ------------------------------------------------------------------------------------------

TABLES = [["compare", "llama3-8b", "mixtral-8x7b", "deepseek-v3"], ["sweep", "llama3-8b", "mistral-7b", "--vary",
          "context=1k..128k"], ["count", "deepseek-v3"], ["flops", "mixtral-8x7b"], ["memory", "llama3-8b", "--mode",
          "training"], ["fit", "llama3-70b"], ["list"], ["speed", "mixtral-8x7b", "--tp", "2"],
          ["explain", "gpt2-small", "llama3-8b", "deepseek-v3"], ["plan", "llama3-8b", "--n-gpus", "8"]]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TABLES), st.integers(60, 200))
def test_every_table_fits_any_terminal_from_60_columns_and_cuts_nothing(args, width):
    result = CliRunner().invoke(cli, args, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width, (width, max(lines, key=len))
    assert "…" not in result.stdout


# --- bounds instead of hangs ---------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=5000, suppress_health_check=[HealthCheck.too_slow])  # 5 s: a bound, not a timing
@given(st.sampled_from(["n_layers", "vocab_size", "d_model", "attention.n_heads", "mlp.d_ff"]),
       st.one_of(st.integers(1, 10**12), st.integers(10**12, 10**400)))
def test_a_huge_size_is_answered_or_refused_at_once(key, value):
    result = invoke(["count", "gpt2-small", "--set", f"{key}={value}", "--json"])
    if result.exit_code == 0:
        assert_answer(result)
    else:
        assert_one_line_error(result, key.rpartition(".")[2])
