"""Hostile input ends in one clear line and exit 2, never a traceback (issue 17's examples, one per kind found)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli


def run(*args, env=None):
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("value", ["!!bool 1", "!!int abc", "!!timestamp xyz", "1" + "0" * 5000,
                                   "[" * 600 + "]" * 600])
def test_yaml_values_that_do_not_convert(value, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: gpt2-small\nn_layers: {value}\n")
    code, out = run("count", str(path))
    assert code == 2 and out.startswith(f"error: {path}:") and len(out.strip().splitlines()) == 1


@pytest.mark.parametrize("override", ["n_layers=!!int abc", "n_layers=1" + "0" * 5000])
def test_set_values_that_do_not_convert(override):
    code, out = run("count", "gpt2-small", "--set", override)
    assert code == 2 and out.startswith("error: --set: n_layers: ")


def test_set_target_with_a_non_ascii_digit():
    code, out = run("count", "gpt2-small", "--set", "²:n_layers=4")
    assert code == 2 and out.startswith("error: --set:")


def test_config_json_list_where_a_string_is_wanted_and_huge_integers(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "llama", "hidden_act": ["silu"]}))
    code, out = run("count", str(path))
    assert code == 2 and "hidden_act: [\"silu\"] is not an activation llmcalc knows" in out
    path.write_text('{"model_type": "llama", "vocab_size": 1' + "0" * 5000 + "}")
    code, out = run("count", str(path))
    assert code == 2 and out.startswith(f"error: {path}: not valid JSON for llmcalc")


@pytest.mark.parametrize("args, message", [
    (["flops", "gpt2-small", "--training", "--tokens", "0"], "'0' is not a finite count above 0"),
    (["flops", "gpt2-small", "--training", "--tokens", "nan"], "'nan' is not a count"),
    (["flops", "llama3-8b", "--tokens-per-second", "1", "--n-gpus", "1", "--peak-flops", "0"],
     "'0' is not a finite number above 0"),
    (["memory", "llama3-8b", "--mode", "training", "--optimizer-bytes", "nan"], "'nan' is not a finite number >= 0"),
    (["fit", "llama3-8b", "--gpu-mem", "inf"], "'inf' is not a finite number above 0"),
    (["fit", "llama3-8b", "--gpu-util", "nan"], "'nan' is not a finite number above 0"),
])
def test_numbers_that_mean_nothing(args, message):
    code, out = run(*args)
    assert code == 2 and message in out


def test_user_text_is_never_read_as_markup(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text('extends: gpt2-small\ndisplay_name: "Mixtral [instruct] v2 [/x]"\n')
    code, out = run("count", str(path))
    assert code == 0 and out.startswith("Mixtral [instruct] v2 [/x] (mine):")
    code, out = run("count", str(path), "--format", "markdown")
    assert code == 0 and out.startswith("**Mixtral [instruct] v2 [/x] (mine):")
    code, out = run("compare", str(path), "gpt2-small")
    assert code == 0


def test_output_that_cannot_be_written_is_one_line():
    env = {**os.environ, "NO_COLOR": "1"}
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "llmcalc.cli", "count", "gpt2-small"], stdout=full,
                              stderr=subprocess.PIPE, text=True, env=env)
    assert done.returncode == 2 and done.stderr.strip() == "error: cannot write the output: No space left on device"


def test_an_ascii_terminal_gets_ascii():
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "llmcalc.cli", "count", "gpt2-small"], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0 and "124,439,808" in done.stdout and "Traceback" not in done.stderr


def test_what_used_to_hang_is_refused_or_fast(tmp_path):
    heads = tmp_path / "heads.yaml"
    heads.write_text("extends: llama3-8b\nattention: {n_heads: 1000000000000000, n_kv_heads: 3}\n")  # 10^15 <= 2^53
    code, out = run("count", str(heads))
    assert code == 2 and out.strip().endswith("allowed: a divisor of n_heads")  # no sqrt(10^15) search for a hint
    big = tmp_path / "big.yaml"
    big.write_text("extends: gpt2-small\nn_layers: 100000000\n")
    code, out = run("count", str(big))
    assert code == 2 and "a spec may have at most 1,000,000" in out
    code, out = run("sweep", "gpt2-small", "--vary", "context=1..1e12:1")
    assert code == 2 and "more than 1,000 values" in out
    fifo = tmp_path / "out.txt"
    os.mkfifo(fifo)
    code, out = run("count", "gpt2-small", "--export", str(fifo))
    assert code == 2 and "it exists and is not a regular file" in out
    gemma = tmp_path / "config.json"
    gemma.write_text(json.dumps({"model_type": "gemma2", "num_hidden_layers": 200000}))
    code, out = run("count", str(gemma), "--json")  # alternating layers: grouped in linear time
    assert code == 0 and json.loads(out)["models"][0]["groups"][0]["n_layers"] == 100000


@pytest.mark.parametrize("args, message", [
    (["flops", "gpt2-small", "--recompute", "full"], "--recompute applies to training compute only"),
    (["flops", "gpt3-175b", "--decode", "--training"], "--decode counts one inference step"),
    (["flops", "llama3-8b", "--gpu", "h100-80gb", "--peak-flops", "1e15"], "--gpu and --peak-flops both"),
    (["sweep", "gpt2-small", "--vary", "context=1k..4k", "--context", "99"], "--context is what --vary context sweeps"),
    (["sweep", "gpt2-small", "--vary", "dtype=all", "--kv-dtype", "fp8"], "--kv-dtype is what --vary dtype sweeps"),
    (["memory", "llama3-8b", "--mla-cache", "decompressed"], "--mla-cache applies to models with multi-head latent"),
    (["count", "gpt2-small", "--export", ""], "--export needs a file name"),
    (["count", "gpt2-small", "--set", "extends=llama3-8b"], "extends: cannot be set with --set"),
    (["memory", "llama3-8b", "--tp", "3"], "tp: 3 does not divide the 32 attention heads; allowed: 1, 2, 4, 8, 16, 32"),
    (["memory", "llama3-8b", "--tp", "1" + "0" * 15], "does not divide the 32 attention heads"),
])
def test_options_that_would_change_nothing_or_mean_nothing_are_refused(args, message):
    code, out = run(*args)
    assert code == 2 and message in out


@pytest.mark.parametrize("args, option", [
    (["memory", "llama3-8b", "--context", "1000000"], "--context 1,000,000"),
    (["memory", "llama3-8b", "--mode", "training", "--context", "100000"], "--context 100,000"),
    (["fit", "llama3-8b", "--context", "100000"], "--context 100,000"),
    (["flops", "gpt2-small", "--context", "4096"], "--context 4,096"),
    (["compare", "llama3-8b", "gpt2-small", "--context", "2048"], "--context 2,048"),
])
def test_a_context_past_the_models_own_is_warned_about(args, option):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    name = "llama3-8b" if "llama3-8b" in args and "gpt2-small" not in args else "gpt2-small"
    length = "8,192" if name == "llama3-8b" else "1,024"
    assert result.stderr.strip().splitlines() == [
        f"warning: {option} is past {name}'s context length of {length} tokens; the figures extrapolate the "
        "formulas beyond it"]
    assert "warning" not in result.stdout  # tables stay clean


def test_sweep_marks_points_past_the_context_in_its_output_instead():
    table = CliRunner().invoke(cli, ["sweep", "gpt2-small", "--vary", "batch=1,2", "--context", "2000"])
    assert table.exit_code == 0 and table.stderr == ""
    assert "* beyond the model's context length" in table.stdout
    data = json.loads(CliRunner().invoke(cli, ["sweep", "gpt2-small", "--vary", "context=512..2k", "--format",
                                               "json"]).stdout)
    assert [p["beyond_context"] for p in data["models"][0]["points"]] == [False, False, True]


def test_a_context_within_the_models_own_is_not_warned_about():
    for args in (["memory", "llama3-8b", "--context", "8192"], ["flops", "gpt2-small", "--context", "1024"],
                 ["compare", "gpt2-small", "gpt2-medium", "--context", "1024"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and result.stderr == "", (args, result.stderr)


@pytest.mark.parametrize("child, message", [
    ("attention: {n_heads: 12}", "child.yaml: attention.n_kv_heads: 8 does not divide n_heads=12"),
    ("d_model: 4001", "child.yaml: attention.d_head: d_model=4001 is not a multiple of n_heads=32"),
])
def test_a_child_spec_that_breaks_its_parent_is_the_file_blamed(child, message, tmp_path):
    (tmp_path / "child.yaml").write_text(f"extends: llama3-8b\n{child}\n")
    code, output = run("count", str(tmp_path / "child.yaml"))
    assert code == 2 and output.startswith(f"error: {tmp_path / message}"), output
    assert "llama3-8b.yaml" not in output


def test_a_grandchild_and_set_are_blamed_for_what_they_change(tmp_path):
    (tmp_path / "moe.yaml").write_text("extends: mixtral-8x7b\nmoe: {n_experts: 1}\n")
    (tmp_path / "leaf.yaml").write_text("extends: moe.yaml\ndisplay_name: leaf\n")
    code, output = run("count", str(tmp_path / "leaf.yaml"))
    assert code == 2 and output.startswith(f"error: {tmp_path / 'moe.yaml'}: moe.top_k: 2 is more than n_experts=1")
    code, output = run("count", "llama3-8b", "--set", "attention.n_heads=12")
    assert code == 2 and output.startswith("error: --set: attention.n_kv_heads: 8 does not divide n_heads=12")
    # where the parent alone is wrong, the parent is still the file named
    (tmp_path / "bad.yaml").write_text((tmp_path / "moe.yaml").read_text().replace("mixtral-8x7b", "llama3-8b")
                                       .replace("moe: {n_experts: 1}", "attention: {n_kv_heads: 5}"))
    (tmp_path / "kid.yaml").write_text("extends: bad.yaml\ndisplay_name: kid\n")
    code, output = run("count", str(tmp_path / "kid.yaml"))
    assert code == 2 and output.startswith(f"error: {tmp_path / 'bad.yaml'}: attention.n_kv_heads: 5"), output


@pytest.mark.parametrize("args, message", [
    (["count", "BIG"], "vocab_size: must be a whole number at most 2^53 (9,007,199,254,740,992), got 1000"),
    (["memory", "llama3-8b", "--context", "1" + "0" * 400], "Invalid value for '--context'"),
    (["memory", "llama3-8b", "--batch", str(2**53 + 1)], "Invalid value for '--batch'"),
    (["sweep", "llama3-8b", "--vary", "context=1e308"], "'1e308' is far past 2^53"),
    (["fit", "llama3-8b", "--max-gpus", "1" + "0" * 30], "Invalid value for '--max-gpus'"),
    (["memory", "llama3-8b", "--tp", "1" + "0" * 30], "Invalid value for '--tp'"),
])
def test_finite_values_whose_figures_would_overflow_a_float_are_refused(args, message, tmp_path):
    # Issue 17: vocab_size 10^400, `--context 1` and 400 zeros, `--vary seq=1e308` ended in an OverflowError.
    (tmp_path / "big.yaml").write_text(f"extends: llama3-8b\nvocab_size: 1{'0' * 400}\n")
    code, output = run(*[str(tmp_path / "big.yaml") if a == "BIG" else a for a in args])
    assert code == 2 and message in output and "Traceback" not in output, output
    assert output.strip().splitlines()[-1].lower().startswith("error"), output


def test_the_largest_allowed_values_still_give_finite_figures():
    import math

    result = CliRunner().invoke(cli, ["flops", "llama3-8b", "--context", str(2**53), "--batch", str(2**53), "--json"])
    assert result.exit_code == 0, result.output
    forward = json.loads(result.stdout)["models"][0]["forward"]
    assert forward["total"] > 10**50 and math.isfinite(forward["per_token"])


def test_the_cli_bound_is_the_model_bound():
    from llmcalc.cli.options import MAX_WHOLE
    from llmcalc.model import MAX_WHOLE as SPEC_MAX

    assert MAX_WHOLE == SPEC_MAX == 2**53


def test_arguments_that_are_not_utf8(tmp_path):
    # Issue 17: non-UTF-8 bytes in arguments reached YAML as lone surrogates and ended in a UnicodeEncodeError.
    # A file name may be any bytes (Linux allows it): it is read; a --set value must be text.
    spec = tmp_path / os.fsdecode(b"\xffx.yaml")
    spec.write_text("extends: gpt2-small\n")
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    base = [sys.executable, "-m", "llmcalc.cli"]
    done = subprocess.run(base + ["count", os.fsencode(spec), "--json"], capture_output=True, env=env)
    assert done.returncode == 0 and json.loads(done.stdout)["models"][0]["params"]["total"] == 124_439_808
    for args in (["--set", b"display_name=\xff"], ["--set", b"d\xff=1"]):
        done = subprocess.run(base + ["count", "gpt2-small", *args], capture_output=True, env=env)
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: --set: "), lines
        assert lines[0].endswith("not UTF-8 text; write the value in UTF-8") and done.stdout == b""


def test_a_yaml_merge_with_an_explicit_key_is_valid_yaml_and_the_explicit_key_wins(tmp_path):
    # Issue 17: `{<<: *a, n_heads: 16}` (valid YAML: the written key overrides the merged one) was refused.
    from llmcalc.spec import read_yaml

    path = tmp_path / "merge.yaml"
    path.write_text("a: &a {x: 1, y: 2}\nb: &b {x: 3, z: 4}\nc: {<<: [*a, *b], y: 9}\nd: {<<: *b, x: 5}\n")
    data = read_yaml(path)
    assert data["c"] == {"x": 1, "y": 9, "z": 4}  # of several merged mappings the first wins; the written key wins
    assert data["d"] == {"x": 5, "z": 4}
    spec = tmp_path / "child.yaml"
    spec.write_text("extends: llama3-8b\nattention: {<<: {n_heads: 32, n_kv_heads: 8}, n_heads: 16}\n")
    code, output = run("show", str(spec), "--json")
    assert code == 0 and json.loads(output)["attention"]["n_heads"] == 16, output
    spec.write_text("extends: llama3-8b\nattention: {<<: {n_kv_heads: 8}, n_heads: 16, n_heads: 8}\n")
    code, output = run("count", str(spec))
    assert code == 2 and "duplicate key 'n_heads'" in output  # a key written twice is still an error


def test_an_extends_chain_of_a_thousand_files_is_refused_naming_the_file_given(tmp_path):
    # Issue 17: it ended in "c26.yaml: not valid YAML: nesting too deep (RecursionError)".
    (tmp_path / "c0.yaml").write_text("extends: gpt2-small\n")
    for i in range(1, 1001):
        (tmp_path / f"c{i}.yaml").write_text(f"extends: c{i - 1}.yaml\n")
    code, output = run("count", str(tmp_path / "c1000.yaml"))
    assert code == 2 and output.strip() == (
        f"error: {tmp_path / 'c1000.yaml'}: extends: the chain of parents is longer than 100 specs (c1000 -> c999 "
        "-> ... -> c900); allowed: at most 100")
    code, output = run("count", str(tmp_path / "c98.yaml"), "--json")  # 100 specs, gpt2-small included
    assert code == 0 and json.loads(output)["models"][0]["params"]["total"] == 124_439_808


def test_show_of_a_document_whose_aliases_stand_for_gigabytes_is_refused_at_once(tmp_path):
    # Issue 17: few values, each an alias of a 900,000-character string: `show` printed for ever.
    path = tmp_path / "bomb.yaml"
    path.write_text(f"extends: gpt2-small\nnotes: &a \"{'x' * 900_000}\"\nsources: [{', '.join(['*a'] * 5000)}]\n")
    done = subprocess.run([sys.executable, "-m", "llmcalc.cli", "show", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.strip() == (
        f"error: {path}: the document expands (through its aliases) to more than 10,000,000 characters; a spec may "
        "hold at most that many")
