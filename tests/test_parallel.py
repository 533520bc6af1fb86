"""Parallel attention + MLP blocks (`residual: parallel`, `norm.shared`), partial RoPE (`rotary_dim`) and an LM head
bias (`lm_head_bias`): exact counts against hand sums, the matmuls and KV cache they leave alone, the training
activations they change, the transformers profile refusing them, and the commands that describe a model.

The transformers cross-check of the families that use them (gpt_neox, gptj, phi, cohere, cohere2, falcon) is in
tests/test_hf_crosscheck.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.errors import LlmcalcError
from llmcalc.formulas.activations import training_activations
from llmcalc.formulas.saved import ACT
from llmcalc.present.describe import architecture
from llmcalc.present.diagram import diagram
from llmcalc.render.diagram import to_svg

from test_diagram import check_geometry

BASE = """
vocab_size: 100
d_model: 32
n_layers: 3
context_length: 64
position: rope
attention: {n_heads: 4, bias: true}
mlp: {activation: gelu, d_ff: 48, bias: true}
"""
LAYERNORM = "norm: {kind: layernorm}\n"
SEQUENTIAL = BASE + LAYERNORM
PARALLEL = BASE + LAYERNORM + "residual: parallel\n"  # GPT-NeoX: a norm each, both on the layer input
SHARED = BASE + "norm: {kind: layernorm, shared: true}\nresidual: parallel\n"  # GPT-J: one norm for both
NORM = 2 * 32  # one LayerNorm of d = 32: weight and bias


@pytest.fixture
def models(write_spec):
    return {name: llmcalc.load(str(write_spec(name, text)))
            for name, text in (("sequential", SEQUENTIAL), ("parallel", PARALLEL), ("shared", SHARED))}


def test_a_shared_norm_is_one_norm_per_layer(models):
    counts = {name: llmcalc.count_params(model) for name, model in models.items()}
    # layer: q/k/v/o 4 x 32 x 32 + 128 biases, MLP 2 x 32 x 48 + 48 + 32; then the final norm, embedding, head
    layer = 4096 + 128 + 3152
    assert counts["sequential"].total == 3200 + 3 * (layer + 2 * NORM) + NORM + 3200
    assert counts["parallel"].total == counts["sequential"].total  # the same two norms, read in parallel
    assert counts["shared"].total == counts["sequential"].total - 3 * NORM
    shared_norms = [r.component for r in counts["shared"].rows if r.component.startswith("norm.")]
    assert shared_norms == ["norm.shared", "norm.final"]


def test_parallel_blocks_run_the_same_matmuls_and_cache_the_same(models):
    for attention in ("causal", "full"):
        flops = {name: llmcalc.count_flops(model, 17, attention=attention) for name, model in models.items()}
        assert flops["sequential"].matmul == flops["parallel"].matmul == flops["shared"].matmul
        assert flops["parallel"].other == flops["sequential"].other
        # one LayerNorm (6 FLOPs per element, + 1 for its bias) fewer per layer
        assert flops["sequential"].other - flops["shared"].other == 3 * 17 * 32 * 7
    caches = {llmcalc.kv_cache(model, 64).bytes for model in models.values()}
    assert len(caches) == 1


def test_megatron_activations_save_the_shared_input_once(models):
    """Both norms read the layer input: one tensor, saved once; a shared norm's output is the MLP's input too."""
    per_layer = {name: sum(r.bytes_per_token for r in training_activations(model, 16).rows if r.group)
                 for name, model in models.items()}  # one layer group: its rows are per layer
    assert per_layer["sequential"] - per_layer["parallel"] == ACT * 32
    assert per_layer["sequential"] - per_layer["shared"] == 2 * ACT * 32
    rows = [r.component for r in training_activations(models["shared"], 16).rows if r.group]
    assert "mlp.input" not in rows and "norm.shared" in rows


LLAMA_LIKE = """
vocab_size: 100
d_model: 32
n_layers: 2
context_length: 64
position: rope
norm: {kind: rmsnorm}
attention: {n_heads: 4}
mlp: {activation: swiglu, d_ff: 48}
"""


@pytest.mark.parametrize("extra, reason", [("residual: parallel\n", "attention and MLP run in parallel"),
                                           ("rotary_dim: 4\n", "its RoPE is partial"),
                                           ("lm_head_bias: true\n", "its LM head has a bias")])
def test_the_transformers_profile_refuses_what_it_did_not_measure(write_spec, extra, reason):
    # a spec whose family is no transformers model_type is held to Llama's code, which has none of these
    model = llmcalc.load(str(write_spec("llama-like", LLAMA_LIKE + extra)))
    llmcalc.estimate_memory(llmcalc.load(str(write_spec("plain", LLAMA_LIKE))), mode="training", framework="transformers")
    with pytest.raises(LlmcalcError, match=reason):
        llmcalc.estimate_memory(model, mode="training", framework="transformers")


def test_lm_head_bias_is_its_own_even_when_tied(write_spec):
    plain = llmcalc.load(str(write_spec("plain", SHARED)))
    biased = llmcalc.load(str(write_spec("biased", SHARED + "lm_head_bias: true\n")))
    tied = llmcalc.load(str(write_spec("tied", SHARED + "lm_head_bias: true\ntied_embeddings: true\n")))
    assert llmcalc.count_params(biased).total == llmcalc.count_params(plain).total + 100
    assert llmcalc.count_params(biased).embedding == llmcalc.count_params(plain).embedding + 100
    assert llmcalc.count_params(tied).total == llmcalc.count_params(plain).total - 3200 + 100
    flops, flops_plain = llmcalc.count_flops(biased, 9, batch=2), llmcalc.count_flops(plain, 9, batch=2)
    assert flops.matmul == flops_plain.matmul and flops.other == flops_plain.other + 2 * 9 * 100


def test_rotary_dim_changes_no_count_and_is_described(write_spec, models):
    partial = llmcalc.load(str(write_spec("partial", PARALLEL + "rotary_dim: 2\n")))
    assert partial.rotary_dim == 2 and models["parallel"].rotary_dim is None
    assert llmcalc.count_params(partial).total == llmcalc.count_params(models["parallel"]).total
    assert llmcalc.count_flops(partial, 9).total == llmcalc.count_flops(models["parallel"], 9).total
    rows = dict(architecture(partial))
    assert rows["position"] == "RoPE on 2 dims of each head"
    assert rows["norm"] == "LayerNorm, pre, parallel attention + MLP, final norm"
    assert dict(architecture(models["shared"]))["norm"] == \
        "LayerNorm, pre, parallel attention + MLP (one shared norm), final norm"
    assert dict(architecture(models["sequential"]))["norm"] == "LayerNorm, pre, final norm"


def test_explain_names_parallel_blocks(models):
    explanation = llmcalc.explain([models["sequential"], models["shared"]])
    placement = next(a for a in explanation.aspects if a.aspect == "placement")
    assert placement.kinds == ("pre", "parallel") and placement.in_kind
    assert placement.values[1] == "pre, parallel attention and MLP (one shared norm)"
    assert placement.figures[0] - placement.figures[1] == 3 * NORM
    assert any("Wang and Komatsuzaki 2021 (GPT-J)" in source for _, _, source in placement.words)


def test_diagram_draws_parallel_blocks(models):
    svg = to_svg(diagram([llmcalc.count_params(m) for m in models.values()], list(models)))
    check_geometry(svg)
    assert "LayerNorm, shared by attention and MLP" in svg
    assert "LayerNorm before attention, LayerNorm before MLP" in svg
    assert svg.count("in parallel, MLP: GELU") == 2
    partial = to_svg(diagram([llmcalc.count_params("pythia-160m")], ["pythia-160m"]))
    check_geometry(partial)
    assert "RoPE (16 of 64 dims)" in partial


@pytest.mark.parametrize("command", [["show"], ["count"], ["explain"], ["compare", "gpt2-small"], ["diagram"],
                                     ["memory", "--mode", "training"], ["flops"], ["import"]])
def test_commands_take_a_parallel_model(command, write_spec, tmp_path):
    path = write_spec("gptj-like", SHARED + "lm_head_bias: true\nrotary_dim: 4\n")
    if command == ["import"]:  # a GPT-J config.json, through the importer
        path = tmp_path / "config.json"
        path.write_text(json.dumps({"model_type": "gptj", "n_embd": 32, "n_head": 4, "n_layer": 2, "rotary_dim": 4,
                                    "vocab_size": 100}))
    result = CliRunner().invoke(cli, [command[0], str(path), *command[1:]])
    assert result.exit_code == 0, result.output
    if command[0] in ("show", "import"):
        assert "residual: parallel" in result.output and "shared: true" in result.output
        assert "rotary_dim: 4" in result.output and "lm_head_bias: true" in result.output
