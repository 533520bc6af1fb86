"""Issue 17: one option vocabulary. The same quantity has the same name in every command: --context is the tokens
per sequence (the KV cache when serving, the sequence length when training, the forward pass of `flops`, sweep's
`--vary context`), --batch the sequences at once (training: the micro-batch). Counts take human numbers (8k,
1.5e3). The names of earlier releases (--seq, --micro-batch, --vary seq) still work, with a warning."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli

COMMANDS = ("count", "compare", "flops", "memory", "fit", "sweep", "show", "list", "verify", "import")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def visible_options(name: str) -> set[str]:
    command = cli.get_command(click.Context(cli), name)
    return {opt for p in command.params if isinstance(p, click.Option) and not p.hidden for opt in p.opts}


def test_one_name_per_quantity_in_every_help():
    for name in COMMANDS:
        shown = visible_options(name)
        assert not shown & {"--seq", "--micro-batch", "--sequence", "--seq-len"}, name
        text = run(name, "--help").output
        assert "--seq " not in text and "--micro-batch" not in text and "seq=" not in text, name
    for name in ("compare", "flops", "memory", "fit", "sweep"):
        assert "--context" in visible_options(name), name
    for name in ("flops", "memory", "fit", "sweep"):
        assert "--batch" in visible_options(name), name


def json_of(*args: str) -> dict:
    result = CliRunner().invoke(cli, list(args) + ["--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_training_reads_context_and_batch():
    # --context was silently ignored in training (the sequence length stayed 8,192)
    default = json_of("memory", "llama3-8b", "--mode", "training")["models"][0]
    asked = json_of("memory", "llama3-8b", "--mode", "training", "--context", "2048", "--batch", "2")["models"][0]
    api = llmcalc.estimate_memory("llama3-8b", "training", seq=2048, micro_batch=2)
    assert asked["settings"]["context"] == 2048 and asked["settings"]["batch"] == 2
    assert default["settings"]["context"] == 8192 and default["settings"]["batch"] == 1
    assert asked["total"]["per_gpu"] == api.per_gpu != default["total"]["per_gpu"]
    assert api.per_gpu == llmcalc.estimate_memory("llama3-8b", "training", context=2048, batch=2).per_gpu


@pytest.mark.parametrize("old, new, warning", [
    (["memory", "llama3-8b", "--mode", "training", "--seq", "2048", "--micro-batch", "2"],
     ["memory", "llama3-8b", "--mode", "training", "--context", "2048", "--batch", "2"], "--micro-batch is now --batch"),
    (["flops", "gpt2-small", "--seq", "512"], ["flops", "gpt2-small", "--context", "512"], "--seq is now --context"),
    (["compare", "gpt2-small", "llama3-8b", "--seq", "512"], ["compare", "gpt2-small", "llama3-8b", "--context", "512"],
     "--seq is now --context"),
    (["sweep", "gpt2-small", "--vary", "seq=512,1k"], ["sweep", "gpt2-small", "--vary", "context=512,1k"],
     "--vary seq is now --vary context"),
    (["sweep", "gpt2-small", "--vary", "batch=1,2", "--seq", "512"],
     ["sweep", "gpt2-small", "--vary", "batch=1,2", "--context", "512"], "--seq is now --context"),
])
def test_old_names_still_work_with_a_warning(old, new, warning):
    before, after = CliRunner().invoke(cli, old + ["--json"]), CliRunner().invoke(cli, new + ["--json"])
    assert before.exit_code == after.exit_code == 0
    assert before.stdout == after.stdout
    assert warning in before.stderr and "warning" not in after.stderr


@pytest.mark.parametrize("args, words", [
    (["memory", "llama3-8b", "--mode", "training", "--seq", "2048", "--context", "4096"],
     "--seq is the old name of --context: give --context only"),
    (["flops", "gpt2-small", "--seq", "512", "--context", "512"], "--seq is the old name of --context"),
    (["sweep", "gpt2-small", "--vary", "seq=1k", "--seq", "99"], "--context is what --vary context sweeps"),
    (["memory", "llama3-8b", "--context", "1,024"], "no thousands separators"),
    (["memory", "llama3-8b", "--batch", "1.5"], "'1.5' is not a whole number"),
    (["memory", "llama3-8b", "--context", "9007199254740993"], "is not in 1 to 2^53"),
    (["fit", "llama3-8b", "--n-gpus", "-8"], "is not a whole number"),
])
def test_errors_name_the_option(args, words):
    result = run(*args)
    assert result.exit_code == 2 and words in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("human, exact", [("8k", "8192"), ("8K", "8192"), ("1.5k", "1536"), ("1e3", "1000"),
                                          ("1m", "1048576")])
def test_human_numbers_wherever_a_count_is_taken(human, exact):
    for command in (["memory", "llama3-8b", "--context"], ["flops", "gpt2-small", "--context"],
                    ["memory", "llama3-8b", "--batch"]):
        assert json_of(*command, human) == json_of(*command, exact)


def test_library_refuses_two_names_that_disagree():
    with pytest.raises(llmcalc.LlmcalcError, match="one quantity under two names"):
        llmcalc.estimate_memory("llama3-8b", "training", seq=2048, context=4096)
    with pytest.raises(llmcalc.LlmcalcError, match="serving reads context"):
        llmcalc.estimate_memory("llama3-8b", seq=2048)
