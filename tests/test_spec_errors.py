"""Bad specs: one clear error naming the file, the key and what is allowed; never a wrong number."""

from __future__ import annotations

import pytest

import llmcalc
from llmcalc.errors import SpecError, UnknownModelError

from conftest import MINIMAL


def error_for(write_spec, text: str, name: str = "bad") -> SpecError:
    path = write_spec(name, text)
    with pytest.raises(SpecError) as info:
        llmcalc.load(str(path))
    assert str(path) in str(info.value)
    return info.value


def test_minimal_spec_loads(write_spec):
    model = llmcalc.load(str(write_spec("ok", MINIMAL)))
    assert model.name == "ok" and model.layers[0].attention.d_head == 16


def test_unknown_key_suggests_the_closest(write_spec):
    err = error_for(write_spec, MINIMAL + "vocab_sise: 3\n")
    assert err.key == "vocab_sise"
    assert "did you mean 'vocab_size'" in str(err)


def test_unknown_nested_key(write_spec):
    err = error_for(write_spec, MINIMAL.replace("{n_heads: 4}", "{n_heads: 4, n_kv_head: 2}"))
    assert err.key == "attention.n_kv_head"
    assert "did you mean 'n_kv_heads'" in str(err)


def test_wrong_type(write_spec):
    err = error_for(write_spec, MINIMAL.replace("d_model: 64", "d_model: sixty-four"))
    assert err.key == "d_model" and "whole number" in str(err)


def test_float_where_integer_belongs(write_spec):
    err = error_for(write_spec, MINIMAL.replace("n_layers: 2", "n_layers: 2.5"))
    assert err.key == "n_layers"


def test_boolean_is_not_a_number(write_spec):
    err = error_for(write_spec, MINIMAL.replace("n_layers: 2", "n_layers: true"))
    assert err.key == "n_layers"


@pytest.mark.parametrize("value", ["0", "-4"])
def test_non_positive_size(write_spec, value):
    err = error_for(write_spec, MINIMAL.replace("d_ff: 256", f"d_ff: {value}"))
    assert err.key == "mlp.d_ff" and ">= 1" in str(err)


def test_n_heads_not_divisible_by_n_kv_heads(write_spec):
    err = error_for(write_spec, MINIMAL.replace("{n_heads: 4}", "{n_heads: 4, n_kv_heads: 3}"))
    assert err.key == "attention.n_kv_heads"
    assert "divisor of n_heads (1, 2, 4)" in str(err)


def test_d_head_not_derivable(write_spec):
    err = error_for(write_spec, MINIMAL.replace("{n_heads: 4}", "{n_heads: 6}"))
    assert err.key == "attention.d_head" and "set it" in str(err)


def test_top_k_more_than_experts(write_spec):
    err = error_for(write_spec, MINIMAL + "moe: {n_experts: 4, top_k: 5}\n")
    assert err.key == "moe.top_k" and "1 to 4" in str(err)


def test_bad_choice_lists_the_allowed_values(write_spec):
    err = error_for(write_spec, MINIMAL.replace("swiglu", "swishglu"))
    assert err.key == "mlp.activation"
    assert "did you mean 'swiglu'" in str(err) and "geglu" in str(err)


def test_missing_required_key(write_spec):
    err = error_for(write_spec, MINIMAL.replace("vocab_size: 1000\n", ""))
    assert err.key == "vocab_size" and "missing" in str(err)


def test_rmsnorm_has_no_bias(write_spec):
    err = error_for(write_spec, MINIMAL.replace("{kind: rmsnorm}", "{kind: rmsnorm, bias: true}"))
    assert err.key == "norm.bias"


def test_layer_groups_must_add_up(write_spec):
    err = error_for(write_spec, MINIMAL + "layers: [{count: 1}]\n")
    assert err.key == "layers" and "add up to 1 layers but n_layers is 2" in str(err)


def test_unknown_key_in_layer_group(write_spec):
    err = error_for(write_spec, MINIMAL + "layers: [{count: 2, atention: {n_heads: 2}}]\n")
    assert err.key == "layers[0].atention" and "did you mean 'attention'" in str(err)


def test_duplicate_key(write_spec):
    err = error_for(write_spec, MINIMAL + "d_model: 128\n")
    assert "duplicate key 'd_model'" in str(err)


def test_unsafe_yaml_tag_refused(write_spec):
    err = error_for(write_spec, MINIMAL + "notes: !!python/object/apply:os.system ['echo hacked']\n")
    assert "not valid YAML" in str(err)


def test_not_a_mapping(write_spec):
    err = error_for(write_spec, "- just\n- a list\n")
    assert "must be a YAML mapping" in str(err)


def test_invalid_yaml_names_the_line(write_spec):
    err = error_for(write_spec, "vocab_size: [1, 2\n")
    assert "not valid YAML" in str(err) and "line" in str(err)


def test_yaml_1_1_exponent_hint(write_spec):
    err = error_for(write_spec, MINIMAL + "training: {tokens: 2e12}\n")
    assert err.key == "training.tokens" and "2.0e+12" in str(err)


def test_extends_with_overrides(write_spec):
    write_spec("base", MINIMAL + "display_name: Base\naliases: [b]\n")
    child = write_spec("child", "extends: base.yaml\nd_model: 128\nattention: {n_kv_heads: 2}\n")
    model = llmcalc.load(str(child))
    assert model.d_model == 128 and model.n_layers == 2
    assert model.layers[0].attention.n_heads == 4 and model.layers[0].attention.n_kv_heads == 2
    assert model.display_name == "child" and model.aliases == ()  # names are not inherited


def test_extends_builtin_by_name(write_spec):
    child = write_spec("deeper-gpt2", "extends: gpt2-small\nn_layers: 24\n")
    model = llmcalc.load(str(child))
    assert model.n_layers == 24 and model.vocab_size == 50257
    assert model.published == ()  # published figures belong to the parent, not the variant


def test_extends_error_names_the_child_file(write_spec):
    write_spec("base", MINIMAL)
    child = write_spec("child", "extends: base.yaml\nattention: {n_kv_heads: 3}\n")
    with pytest.raises(SpecError) as info:
        llmcalc.load(str(child))
    assert info.value.source == str(child) and info.value.key == "attention.n_kv_heads"


def test_extends_cycle(write_spec):
    write_spec("a", "extends: b.yaml\n" + MINIMAL)
    b = write_spec("b", "extends: a.yaml\n")
    err = pytest.raises(SpecError, llmcalc.load, str(b)).value
    assert err.key == "extends" and "cycle in extends: b -> a -> b" in str(err)


def test_self_extends(write_spec):
    err = error_for(write_spec, "extends: bad.yaml\n" + MINIMAL)
    assert "cycle" in str(err)


def test_extends_unknown_parent(write_spec):
    err = error_for(write_spec, "extends: llama3-9b\n")
    assert err.key == "extends" and "unknown parent spec 'llama3-9b'" in str(err) and "llama3-8b" in str(err)


def test_extends_missing_file(write_spec):
    err = error_for(write_spec, "extends: nowhere.yaml\n")
    assert err.key == "extends" and "not found" in str(err)


def test_published_figure_checked(write_spec):
    err = error_for(write_spec, MINIMAL + "published: [{figure: params_totl, value: 1, source: x}]\n")
    assert err.key == "published[0].figure" and "params_total" in str(err)


def test_unknown_model_name_suggests():
    with pytest.raises(UnknownModelError) as info:
        llmcalc.load("llama3-9b")
    assert "llama3-8b" in info.value.suggestions


def test_aliases_resolve():
    assert llmcalc.load("gpt2").name == "gpt2-small"
    assert llmcalc.load("GPT2-Small").name == "gpt2-small"


def test_missing_file():
    with pytest.raises(SpecError, match="no such file"):
        llmcalc.load("does/not/exist.yaml")


def test_builtin_name_with_suffix_gets_a_hint():
    with pytest.raises(SpecError, match="built-in model of that name is `gpt2-small`"):
        llmcalc.load("gpt2-small.yaml")


def test_directory_is_not_a_spec(tmp_path):
    with pytest.raises(SpecError, match="is not a file"):
        llmcalc.load(str(tmp_path))


@pytest.mark.parametrize("extra, key, needle", [
    ("residual: side_by_side\n", "residual", "allowed: sequential, parallel"),
    ("norm: {kind: rmsnorm, shared: true}\n", "norm.shared", "needs parallel blocks"),
    ("residual: parallel\nnorm: {kind: rmsnorm, placement: post}\n", "residual", "allowed: norm.placement: pre"),
    ("residual: parallel\nencoder: {n_layers: 2}\n", "residual", "not supported in an encoder-decoder"),
    ("rotary_dim: 17\n", "rotary_dim", "more than d_head=16"),
    ("rotary_dim: 0\n", "rotary_dim", ">= 1"),
    ("rotary_dim: 8\nposition: learned\n", "rotary_dim", "needs position: rope"),
    ("lm_head_bias: 'yes'\n", "lm_head_bias", "true or false"),
    ("position_offset: 2\n", "position_offset", "set position: learned"),
    ("position_offset: -1\nposition: learned\n", "position_offset", ">= 0"),
    ("d_embed: 0\n", "d_embed", ">= 1"),
    ("moe: {n_experts: 4, top_k: 2, routing_bias: buffer}\n", "moe.routing_bias", "true (a buffer), false or parameter"),
    ("moe: {n_experts: 4, top_k: 2, expert_bias: 1}\n", "moe.expert_bias", "true or false"),
    ("moe: {n_experts: 4, top_k: 2, router_scales: 1}\n", "moe.router_scales", "true or false"),
    ("moe: {n_experts: 4, top_k: 2, norms: -1}\n", "moe.norms", ">= 0"),
    ("attention: {n_heads: 4, k_eq_v: 1}\n", "attention.k_eq_v", "true or false"),
    ("attention: {n_heads: 4, kv_shared: true}\n", "attention.kv_shared", "no earlier layer"),
    ("per_layer_input: {vocab_size: 1000, width: 0}\n", "per_layer_input.width", ">= 1"),
    ("per_layer_input: {vocab_size: 1000, widht: 4}\n", "per_layer_input.widht", "did you mean 'width'"),
])
def test_parallel_blocks_partial_rotary_and_head_bias_errors(write_spec, extra, key, needle):
    text = MINIMAL
    for line in extra.splitlines():  # a key of MINIMAL is replaced, a new one added
        name = line.split(":")[0]
        text = "\n".join(l for l in text.splitlines() if not l.startswith(name + ":")) + "\n" + line + "\n"
    err = error_for(write_spec, text)
    assert err.key == key and needle in str(err), str(err)


def test_per_layer_input_and_shared_kv_count(write_spec):
    """per_layer_input: a 1000 x 2 x 4 table, a 64 x 8 projection and a norm of 4, and per layer a 64 x 4 gate, a
    4 x 64 projection and a norm of 64 (Gemma 4's PLE); a kv_shared layer: no k and v (4 x 16 wide each), no KV cache;
    k_eq_v: no v."""
    from llmcalc.formulas.kv import kv_cache
    from llmcalc.formulas.params import count_params

    plain = llmcalc.load(str(write_spec("plain", MINIMAL)))
    ple = llmcalc.load(str(write_spec("ple", MINIMAL + "per_layer_input: {vocab_size: 1000, width: 4}\n")))
    assert count_params(ple).total - count_params(plain).total == 8000 + 512 + 4 + 2 * (256 + 256 + 64)
    assert count_params(ple).embedding - count_params(plain).embedding == 8000
    assert "per-layer input embedding" in count_params(ple).convention
    shared = llmcalc.load(str(write_spec("shared", MINIMAL + "layers: [{count: 1}, {count: 1, attention: "
                                                              "{kv_shared: true}}]\n")))
    assert count_params(plain).total - count_params(shared).total == 2 * 64 * 64
    assert kv_cache(shared, 10).bytes * 2 == kv_cache(plain, 10).bytes
    k_eq_v = llmcalc.load(str(write_spec("k_eq_v", MINIMAL.replace("{n_heads: 4}", "{n_heads: 4, k_eq_v: true}"))))
    assert count_params(plain).total - count_params(k_eq_v).total == 2 * 64 * 64
    assert kv_cache(k_eq_v, 10).bytes == kv_cache(plain, 10).bytes


def test_embedding_projection_and_position_offset_count(write_spec):
    """d_embed: a V x d_embed embedding and LM head with d_embed x d projections in and out (OPT-350m's project_in and
    project_out, opt/modeling_opt.py 5.23.0); position_offset: extra rows of the learned table (OPT's 2)."""
    from llmcalc.formulas.flops import count_flops
    from llmcalc.formulas.params import count_params

    base = MINIMAL.replace("position: rope", "position: learned")
    plain = llmcalc.load(str(write_spec("plain", base)))
    model = llmcalc.load(str(write_spec("opt", base + "d_embed: 16\nposition_offset: 2\n")))
    rows = {r.component: r.total for r in count_params(model).rows}
    assert rows["embed.token"] == 1000 * 16 and rows["embed.position"] == 130 * 64
    assert rows["embed.project_in"] == rows["lm_head.project_out"] == 16 * 64 and rows["lm_head"] == 1000 * 16
    assert count_params(model).total == count_params(plain).total - 2 * 1000 * 48 + 2 * 64 + 2 * 16 * 64
    flops = {r.component: r.matmul for r in count_flops(model, 10).rows if r.group is None and r.matmul}
    assert flops == {"embed.project_in": 2 * 10 * 16 * 64, "lm_head.project_out": 2 * 10 * 64 * 16,
                     "lm_head": 2 * 10 * 16 * 1000}


def test_routing_bias_parameter_and_bare_experts_count(write_spec):
    """routing_bias: parameter is in the total (Ernie 4.5 MoE's e_score_correction_bias, an nn.Parameter), true is a
    buffer beside it; expert_bias: false takes the routed experts' biases away from a biased MLP (and its FLOPs)."""
    from llmcalc.formulas.flops import count_flops
    from llmcalc.formulas.params import count_params

    moe = "moe: {n_experts: 4, top_k: 2, n_shared_experts: 1, routing_bias: %s%s}\n"
    text = MINIMAL.replace("d_ff: 256}", "d_ff: 256, bias: true}")
    buffer = count_params(llmcalc.load(str(write_spec("buffer", text + moe % ("true", "")))))
    counted = count_params(llmcalc.load(str(write_spec("counted", text + moe % ("parameter", "")))))
    assert counted.total == buffer.total + 2 * 4 and buffer.buffer_total == 2 * 4 and not counted.buffers
    bare = llmcalc.load(str(write_spec("bare", text + moe % ("parameter", ", expert_bias: false"))))
    rows = {r.component: r.per_layer for r in count_params(bare).rows if r.group}
    assert rows["moe.experts"] == 4 * 3 * 64 * 256 and rows["moe.shared"] == 3 * 64 * 256 + 2 * 256 + 64
    assert count_params(bare).total == counted.total - 2 * 4 * (2 * 256 + 64)
    assert count_flops(bare, 8).matmul == count_flops(llmcalc.load(str(write_spec("biased", text + moe % (
        "parameter", "")))), 8).matmul
