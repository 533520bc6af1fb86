"""The Python API (`import llmcalc`): one call per question, the same result objects the CLI renders, options
checked like the CLI's; light imports for a fast start; shell completion of model names."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.present.count import count_json
from llmcalc.present.flops import flops_json
from llmcalc.cli import cli
from llmcalc.errors import LlmcalcError, UnknownModelError

GPT2_SMALL = 124_439_808  # openai-community/gpt2 checkpoint (published.yaml)
MIXTRAL_8X7B = 46_702_792_704  # mistralai/Mixtral-8x7B-v0.1 safetensors index


def test_every_exported_name_resolves():
    for name in llmcalc.__all__:
        assert getattr(llmcalc, name) is not None, name
    with pytest.raises(AttributeError):
        llmcalc.no_such_thing  # noqa: B018


def test_module_docstring_examples_run():
    failures, tried = doctest.testmod(llmcalc, verbose=False)
    assert tried >= 2 and failures == 0


@pytest.mark.parametrize("model", ["gpt2-small", "gpt2", "GPT2-Small"])
def test_count_takes_names_and_aliases(model):
    assert llmcalc.count_params(model).total == GPT2_SMALL


def test_count_takes_a_loaded_spec_and_a_file(tmp_path):
    spec = llmcalc.load("mixtral-8x7b")
    assert isinstance(spec, llmcalc.ModelSpec)
    assert llmcalc.count_params(spec).total == MIXTRAL_8X7B
    path = tmp_path / "mine.yaml"
    path.write_text(CliRunner().invoke(cli, ["show", "mixtral-8x7b"]).stdout, encoding="utf-8")
    assert llmcalc.count_params(str(path)).total == MIXTRAL_8X7B
    assert llmcalc.load_file(path).name == "mine"


def test_overrides_on_a_loaded_spec_stack():
    spec = llmcalc.load("llama3-8b", ["n_layers=16"])
    deeper = llmcalc.count_params(spec, overrides=["attention.n_kv_heads=4"])
    assert deeper.model.overrides == ("n_layers=16", "attention.n_kv_heads=4")
    assert deeper.model.n_layers == 16


def test_active_convention_option():
    both = llmcalc.count_params("mixtral-8x7b")
    without = llmcalc.count_params("mixtral-8x7b", active="no-input-embedding")
    assert both.active - without.active == 32_000 * 4096  # Mixtral's input embedding
    with pytest.raises(LlmcalcError, match="active: 'some' is not allowed; allowed: both-embeddings, "
                                           "no-input-embedding"):
        llmcalc.count_params("mixtral-8x7b", active="some")


def test_flops_defaults_to_the_pretraining_context():
    forward = llmcalc.count_flops("gpt2-small")
    assert forward.seq == 1024
    assert llmcalc.count_flops("gpt2-small", seq=1024).per_token == forward.per_token
    assert llmcalc.count_flops("gpt2-small", seq=512, decode=True).decode


def test_kv_cache_and_memory():
    assert llmcalc.kv_cache("llama3-8b", 8192).bytes == 2 * 32 * 8 * 128 * 2 * 8192
    assert llmcalc.kv_cache("llama3-8b", 8192, dtype="fp8").bytes == 2 * 32 * 8 * 128 * 8192
    inference = llmcalc.estimate_memory("llama3-8b", context=8192)
    assert isinstance(inference, llmcalc.MemoryReport)
    assert inference.mode == "serve"  # the mode's name since the serving model; "inference" is its alias
    assert llmcalc.estimate_memory("llama3-8b", "inference", context=8192) == inference
    training = llmcalc.estimate_memory("llama3-8b", "training", zero=3, dp=8)
    assert training.mode == "training" and training.per_gpu > 0


@pytest.mark.parametrize("call, words", [
    (lambda: llmcalc.kv_cache("llama3-8b", dtype="fp64"), "dtype: 'fp64' is not allowed; allowed: fp32, bf16"),
    (lambda: llmcalc.kv_cache("llama3-8b", context=0), "context: must be a whole number >= 1"),
    (lambda: llmcalc.count_flops("llama3-8b", attention="sparse"), "attention: 'sparse' is not allowed"),
    (lambda: llmcalc.count_flops("llama3-8b", batch=True), "batch: must be a whole number >= 1"),
    (lambda: llmcalc.estimate_memory("llama3-8b", "serving"), "mode: 'serving' is not allowed"),
    (lambda: llmcalc.estimate_memory("llama3-8b", "training", zero=4), "zero: 4 is not allowed"),
    (lambda: llmcalc.estimate_memory("llama3-8b", optimizer="lion"), "optimizer: 'lion' is not allowed"),
    (lambda: llmcalc.estimate_memory("llama3-8b", dp=2), "dp: applies to mode training only, got 2 with mode serve"),
    (lambda: llmcalc.estimate_memory("llama3-8b", optimizer="sgd"), "optimizer: applies to mode training only"),
    (lambda: llmcalc.estimate_memory("llama3-8b", "training", kv_dtype="fp8"), "kv_dtype: applies to mode serve only"),
    (lambda: llmcalc.estimate_memory("llama3-8b", "training", engine="vllm"), "engine: applies to mode serve only"),
    (lambda: llmcalc.compare(["llama3-8b"]), "compare needs at least two models"),
    (lambda: llmcalc.count_params(42), "a model is a name, a path or a ModelSpec, got int"),
])
def test_bad_options_are_errors_naming_the_option(call, words):
    with pytest.raises(LlmcalcError) as caught:
        call()
    assert words in str(caught.value)


def test_unknown_model_suggests_names():
    with pytest.raises(UnknownModelError) as caught:
        llmcalc.load("llama3-8")
    assert "llama3-8b" in str(caught.value)


def test_compare_returns_the_three_results():
    comparison = llmcalc.compare(["llama2-70b", "llama3-70b"])
    assert isinstance(comparison, llmcalc.Comparison)
    assert [c.model.name for c in comparison.counts] == ["llama2-70b", "llama3-70b"]
    assert comparison.counts[1].total == llmcalc.count_params("llama3-70b").total
    assert comparison.caches[0].bytes == llmcalc.kv_cache("llama2-70b").bytes
    assert comparison.forwards[1].per_token == llmcalc.count_flops("llama3-70b").per_token


def test_the_cli_renders_the_api_objects():
    """`llmcalc count --json` is present.count.count_json of what llmcalc.count_params returns, nothing recomputed."""
    cli_json = json.loads(CliRunner().invoke(cli, ["count", "deepseek-v3", "--json"]).stdout)
    api_json = json.loads(json.dumps(count_json(llmcalc.count_params("deepseek-v3"))))
    assert cli_json["models"][0] == api_json
    cli_flops = json.loads(CliRunner().invoke(cli, ["flops", "llama3-8b", "--context", "2048", "--json"]).stdout)
    api_flops = json.loads(json.dumps(flops_json(llmcalc.count_flops("llama3-8b", 2048))))
    assert cli_flops["models"][0] == api_flops


def test_check_published():
    checks = llmcalc.check_published([llmcalc.load("gpt2-small"), llmcalc.load("llama3-8b")])
    assert {c.model for c in checks} == {"gpt2-small", "llama3-8b"}
    assert all(c.ok for c in checks)
    assert any(c.computed == GPT2_SMALL and c.status == "pass" for c in checks)


# ------------------------------------------------------------------------------------ light start-up


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_llmcalc_loads_nothing_heavy():
    loaded = _modules_after("import llmcalc")
    assert not {m for m in loaded if m.startswith(("rich", "yaml", "click", "llmcalc."))}


def test_importing_the_cli_defers_every_command():
    loaded = _modules_after("import llmcalc.cli")
    assert not {m for m in loaded if m.startswith(("rich", "yaml"))}
    assert {m for m in loaded if m.startswith("llmcalc")} == {"llmcalc", "llmcalc.cli", "llmcalc.errors"}


def test_count_loads_no_flops_memory_or_import_code():
    loaded = _modules_after("from llmcalc.cli import main\nimport sys\nsys.argv = ['llmcalc', 'count', "
                            "'gpt2-small']\ntry:\n    main()\nexcept SystemExit:\n    pass")
    assert "llmcalc.formulas.params" in loaded
    assert not loaded & {"llmcalc.formulas.flops", "llmcalc.formulas.memory", "llmcalc.formulas.kv",
                         "llmcalc.importers.hf", "llmcalc.formulas.published", "llmcalc.formulas.fit",
                         "llmcalc.hardware", "llmcalc.render.chart", "difflib", "rich._emoji_codes"}


# ------------------------------------------------------------------------------------ shell completion


def complete(words: str) -> list[str]:
    env = {"_LLMCALC_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    result = CliRunner().invoke(cli, [], env=env, prog_name="llmcalc")
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.output.splitlines()]


def test_completes_model_names_and_aliases():
    assert {"llama3-8b", "llama3-70b"} <= set(complete("llmcalc count llama3-"))
    found = complete("llmcalc compare llama3-8b mixtral")
    assert {"mixtral-8x7b", "mixtral-8x22b"} <= set(found)
    assert "mixtral-8x7b-v0.1" in found  # an alias
    assert all(name.startswith("mixtral") for name in found)


def test_completes_commands_and_paths():
    assert complete("llmcalc sw") == ["sweep"]
    assert "show" in complete("llmcalc s")
    env = {"_LLMCALC_COMPLETE": "bash_complete", "COMP_WORDS": "llmcalc count specs/gp", "COMP_CWORD": "2"}
    assert CliRunner().invoke(cli, [], env=env, prog_name="llmcalc").output.startswith("file,")


def test_completion_script_is_available():
    result = CliRunner().invoke(cli, [], env={"_LLMCALC_COMPLETE": "bash_source"}, prog_name="llmcalc")
    assert "_llmcalc_completion" in result.output
    assert "complete -o nosort -F _llmcalc_completion llmcalc" in result.output


def test_arguments_at_their_defaults_pass_in_either_mode():
    """A list where the default is a tuple, or the CLI's comma-separated text, is the same LoRA target list."""
    for targets in (["q", "v"], "q,v", ("q", "v")):
        assert llmcalc.estimate_memory("llama3-8b", lora_targets=targets).per_gpu > 0
    assert llmcalc.estimate_memory("llama3-8b", "training", pp=2, kv_dtype="bf16").per_gpu > 0
