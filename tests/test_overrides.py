"""--set key=value on any command, and `llmcalc show`: overrides are validated exactly like a spec (same
errors, naming --set and the key), change the counts by what the formulas say, and the shown YAML of a model
loads back as a spec of its own with the same counts."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.errors import SpecError
from llmcalc.sources import load
from llmcalc.spec import builtin_names, load_file, parse_override

LLAMA3_8B = 8_030_261_248  # meta-llama/Meta-Llama-3-8B safetensors index (published.yaml)
# One Llama 3 8B layer, by hand: W_Q and W_O 4096x4096, W_K and W_V 4096x1024 (8 KV heads of 128), three SwiGLU
# matrices 4096x14336 and two RMSNorm vectors (Meta Llama 3 config.json).
LLAMA3_8B_LAYER = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_layer_by_hand_is_consistent_with_the_checkpoint():
    embeddings = 2 * 128_256 * 4096  # untied embedding and LM head
    assert 32 * LLAMA3_8B_LAYER + embeddings + 4096 == LLAMA3_8B


def test_set_n_layers_adds_whole_layers():
    model = load("llama3-8b", ["n_layers=48"])
    assert model.n_layers == 48
    assert llmcalc.count_params(model).total == LLAMA3_8B + 16 * LLAMA3_8B_LAYER == 11_520_053_248


def test_set_nested_key_changes_only_what_it_names():
    count = llmcalc.count_params("llama3-8b", overrides=["attention.n_kv_heads=4"])
    assert count.total == LLAMA3_8B - 32 * 2 * 4096 * 512
    assert count.model.layers[0].attention.n_kv_heads == 4
    assert count.model.layers[0].attention.n_heads == 32


def test_overrides_apply_in_order_and_name_the_model():
    model = load("llama3-8b", ["n_layers=48", "n_layers=40"])
    assert model.n_layers == 40
    assert model.overrides == ("n_layers=48", "n_layers=40")
    assert model.display_name == "Llama 3 8B with n_layers=48, n_layers=40"
    assert load("llama3-8b", ["display_name=Mine"]).display_name == "Mine"


def test_override_leaves_the_builtin_untouched():
    load("llama3-8b", ["n_layers=2"])
    assert load("llama3-8b").n_layers == 32


def test_null_removes_a_key_to_its_default():
    # Mixtral's spec sets a MoE on every layer; removing it leaves the dense MLP of d_ff 14336.
    dense = load("mixtral-8x7b", ["moe=null"])
    assert all(layer.moe is None for layer in dense.layers)


def test_list_item_override():
    model = load("deepseek-v3", ["n_layers=8", "layers[1].count=5"])
    assert [g.count for g in model.groups][:2] == [3, 5]


def test_parse_override_reads_yaml_values():
    assert parse_override("attention.n_kv_heads=4") == (("attention", "n_kv_heads"), 4)
    assert parse_override("tied_embeddings=true") == (("tied_embeddings",), True)
    assert parse_override("layers[1].moe.top_k=2") == (("layers", 1, "moe", "top_k"), 2)
    assert parse_override("moe={n_experts: 4, top_k: 1, d_ff: 64}")[1] == {"n_experts": 4, "top_k": 1, "d_ff": 64}


@pytest.mark.parametrize("text, key, words", [
    ("attention.bogus=1", "attention.bogus", "unknown key"),
    ("n_layers=abc", "n_layers", "whole number"),
    ("n_layers=0", "n_layers", "whole number"),
    ("attention.n_kv_heads=5", "attention.n_kv_heads", "divide"),
    ("norm.kind=batchnorm", "norm.kind", "allowed"),
    ("layers[3].moe.top_k=2", "layers", "no item [3]"),
    ("n_layers=8", "n_layers", "layer groups"),  # deepseek-v3 lists its layers in groups
])
def test_bad_override_is_a_spec_error_naming_set_and_the_key(text, key, words):
    model = "deepseek-v3" if text == "n_layers=8" else "llama3-8b"
    with pytest.raises(SpecError) as caught:
        load(model, [text])
    assert caught.value.source == "--set"
    assert caught.value.key == key
    assert words in str(caught.value)


@pytest.mark.parametrize("text", ["n_layers", "=4", "a..b=1", "n_layers=[1, 2"])
def test_malformed_override_is_an_error(text):
    with pytest.raises(SpecError) as caught:
        load("llama3-8b", [text])
    assert caught.value.source == "--set"


def test_group_mismatch_suggests_the_group_to_change():
    with pytest.raises(SpecError, match=r"--set layers\[1\]\.count=N"):
        load("deepseek-v3", ["n_layers=8"])
    with pytest.raises(SpecError, match=r"encoder\.layers\[0\]\.repeat=N"):
        load("switch-base-128", ["encoder.n_layers=8"])


@pytest.mark.parametrize("args", [
    ["count", "llama3-8b"], ["flops", "llama3-8b"], ["memory", "llama3-8b"], ["fit", "llama3-8b"],
    ["sweep", "llama3-8b", "--vary", "batch=1,2"], ["show", "llama3-8b"], ["verify", "llama3-8b"],
])
def test_every_model_command_takes_set(args):
    good = run(*args, "--set", "n_layers=48")
    if args[0] == "verify":  # 48 layers no longer match the published figures of Llama 3 8B: verify says so
        assert good.exit_code == 1
        assert "11,520,053,248" in good.output and "FAIL" in good.output
    else:
        assert good.exit_code == 0, good.output
        assert "48" in good.output
    bad = run(*args, "--set", "attention.bogus=1")
    assert bad.exit_code == 2
    assert "--set: attention.bogus: unknown key" in bad.output
    assert "Traceback" not in bad.output


def test_count_with_set_json_has_the_new_total():
    result = run("count", "llama3-8b", "--set", "n_layers=48", "--json")
    data = json.loads(result.stdout)
    assert data["models"][0]["params"]["total"] == 11_520_053_248


def test_compare_targets_one_model_with_an_index():
    result = run("compare", "llama3-8b", "llama3-8b", "--set", "2:n_layers=48", "--format", "csv")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split(",")[1:] == ["llama3-8b", "llama3-8b (n_layers=48)"]
    total = next(row for row in rows if row.startswith("params total,"))
    assert total.split(",")[1:] == [str(LLAMA3_8B), "11520053248"]


def test_compare_set_without_index_goes_to_every_model():
    result = run("compare", "llama3-8b", "llama3-70b", "--set", "vocab_size=32000", "--json")
    models = json.loads(result.stdout)["models"]
    assert [m["overrides"] for m in models] == [["vocab_size=32000"], ["vocab_size=32000"]]
    assert [m["params"]["total"] for m in models] == [
        llmcalc.count_params(name, overrides=["vocab_size=32000"]).total for name in ("llama3-8b", "llama3-70b")]


def test_index_beyond_the_models_is_a_usage_error():
    result = run("compare", "llama3-8b", "mistral-7b", "--set", "3:n_layers=2")
    assert result.exit_code == 2
    assert "there is no model 3; models are numbered 1 to 2" in result.output


# ---------------------------------------------------------------------------------------------- show


@pytest.mark.parametrize("name", builtin_names())
def test_shown_yaml_loads_to_the_same_model(name, tmp_path):
    result = run("show", name)
    assert result.exit_code == 0, result.output
    path = tmp_path / f"{name}.yaml"
    path.write_text(result.stdout, encoding="utf-8")
    shown, original = load_file(path), load(name)
    assert "extends" not in yaml.safe_load(result.stdout)
    assert llmcalc.count_params(shown).total == llmcalc.count_params(original).total
    assert shown.layers == original.layers
    assert shown.published == original.published


def test_show_names_the_extends_chain():
    # llama3.1-8b extends llama3-8b: the header names both files and says how keys were merged.
    text = run("show", "llama3.1-8b").stdout
    first, second = text.splitlines()[:2]
    assert first.startswith("# llama3.1-8b: the resolved spec, from ")
    assert "built-in llama3-8b" in first and "built-in llama3.1-8b" in first
    assert second.startswith("# (extends merged in")


def test_show_applies_set_and_says_so():
    text = run("show", "llama3-8b", "--set", "n_layers=48").stdout
    assert text.splitlines()[0].endswith("; with --set n_layers=48")
    assert yaml.safe_load(text)["n_layers"] == 48


def test_show_takes_the_numbered_form_of_set_like_other_commands():
    assert yaml.safe_load(run("show", "llama3-8b", "--set", "1:n_layers=4").stdout)["n_layers"] == 4
    assert run("show", "llama3-8b", "--set", "2:n_layers=4").exit_code == 2


def test_show_json_is_the_same_mapping():
    as_yaml = yaml.safe_load(run("show", "mixtral-8x7b").stdout)
    as_json = json.loads(run("show", "mixtral-8x7b", "--json").stdout)
    assert as_json == as_yaml == json.loads(run("show", "mixtral-8x7b", "--format", "json").stdout)


@pytest.mark.parametrize("name", ["gpt2-small", "deepseek-v3", "gemma2-9b", "switch-base-128", "llama3.1-8b"])
def test_shown_json_loads_back_as_a_spec(name, tmp_path):
    # `show --json > x.json` is a spec too: a .json without model_type whose keys are spec keys is not read as
    # a Hugging Face config.
    path = tmp_path / "shown.json"
    path.write_text(run("show", name, "--json").stdout, encoding="utf-8")
    assert llmcalc.load(str(path)).layers == load(name).layers
    counted = json.loads(run("count", str(path), "--json").stdout)
    assert counted["models"][0]["params"]["total"] == llmcalc.count_params(load(name)).total


def test_a_json_neither_config_nor_spec_still_asks_for_model_type(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"hidden_size": 64}', encoding="utf-8")
    result = run("count", str(path))
    assert result.exit_code == 2 and "model_type" in result.output


def test_show_refuses_an_invalid_result_and_conflicting_formats():
    assert run("show", "llama3-8b", "--set", "d_model=-1").exit_code == 2
    conflict = run("show", "llama3-8b", "--json", "--format", "yaml")
    assert conflict.exit_code == 2
    assert "two different formats" in conflict.output


def test_a_norm_without_affine_parameters():
    # OLMo's LayerNorm (transformers' OlmoLayerNorm: F.layer_norm with no weight and no bias): 0 parameters per norm
    plain = llmcalc.count_params("gpt2-small")
    bare = llmcalc.count_params("gpt2-small", overrides=["norm.bias=false", "norm.affine=false"])
    norms = (2 * 12 + 1) * 2 * 768  # two LayerNorms per layer and the final one, each a weight and a bias of 768
    assert plain.total - bare.total == norms
    with pytest.raises(llmcalc.SpecError, match="no bias"):
        load("gpt2-small", ["norm.affine=false"])  # a LayerNorm's bias defaults to true
