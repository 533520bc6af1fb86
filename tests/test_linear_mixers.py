"""LFM2's short convolution, Gated DeltaNet, lightning attention and attention's output gate in llmcalc's own spec format: the keys and
their errors, parameters, FLOPs and states worked out by hand, what the commands print for such hybrids and the ones
that refuse them in one line. The counts are held against transformers in tests/test_hf_crosscheck.py (lfm2,
lfm2_moe, qwen3_next, minimax)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc import api
from llmcalc.cli import cli as main
from llmcalc.errors import LlmcalcError, SpecError
from llmcalc.formulas.flops import count_flops
from llmcalc.formulas.kv import kv_cache
from llmcalc.formulas.params import count_params

HYBRID = """
vocab_size: 1000
d_model: 64
n_layers: 4
context_length: 4096
position: rope
norm: {kind: rmsnorm}
mixer: MIXER
mlp: {activation: swiglu, d_ff: 128}
layers:
  - repeat: 2
    pattern:
      - {}
      - {mixer: null, attention: {n_heads: 4, n_kv_heads: 2, qk_norm: rmsnorm, output_gate: true}}
"""
SHORT_CONV = HYBRID.replace("MIXER", "{kind: short_conv}")
DELTANET = HYBRID.replace("MIXER", "{kind: gated_deltanet, n_key_heads: 2, n_value_heads: 4, key_head_dim: 8, "
                                   "value_head_dim: 16}")
LIGHTNING = HYBRID.replace("MIXER", "{kind: lightning, n_heads: 4, head_dim: 16, block_size: 64}")


def load(write_spec, text: str, name: str = "hybrid"):
    return llmcalc.load(str(write_spec(name, text)))


def error_for(write_spec, text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load(write_spec, text, "bad")
    assert "\n" not in str(info.value)
    return info.value


def rows_of(model, group: str) -> dict[str, int]:
    return {r.component: r.per_layer for r in count_params(model).rows if r.group == group}


def test_short_conv_parameters_and_state_by_hand(write_spec):
    """in_proj 64 -> 3 x 64, the conv 3 taps per channel (LFM2's default), out_proj 64 x 64; no biases by default."""
    model = load(write_spec, SHORT_CONV)
    assert [g.name for g in model.groups] == ["short_conv", "attention"]
    assert rows_of(model, "short_conv") == {
        "shortconv.in_proj": 64 * 192, "shortconv.conv": 64 * 3, "shortconv.out_proj": 64 * 64,
        "norm.pre_mixer": 64, "norm.pre_mlp": 64, "mlp.gate": 64 * 128, "mlp.up": 64 * 128, "mlp.down": 64 * 128}
    biased = load(write_spec, SHORT_CONV.replace("{kind: short_conv}", "{kind: short_conv, bias: true, d_conv: 4}"))
    rows = rows_of(biased, "short_conv")
    assert rows["shortconv.conv"] == 64 * 4 + 64 and rows["shortconv.bias"] == 3 * 64 + 64
    assert biased.layers[0].mixer.state_elements == 64 * 4


def test_gated_deltanet_parameters_and_state_by_hand(write_spec):
    """Key dims 2 x 8, value dims 4 x 16: in_proj_qkvz 64 x (32 + 128), in_proj_ba 64 x 8, the conv over q, k, v
    (96 channels, 4 taps), dt_bias and A_log per value head, the gated norm of 16, out_proj 64 x 64."""
    model = load(write_spec, DELTANET)
    rows = rows_of(model, "gated_deltanet")
    assert {k: v for k, v in rows.items() if k.startswith("deltanet.")} == {
        "deltanet.in_proj_qkvz": 64 * 160, "deltanet.in_proj_ba": 64 * 8, "deltanet.conv": 96 * 4,
        "deltanet.dt_bias": 4, "deltanet.A_log": 4, "deltanet.norm": 16, "deltanet.out_proj": 64 * 64}
    mixer = model.layers[0].mixer
    assert mixer.chunk_size == 64 and mixer.state_elements == 96 * 4 + 4 * 8 * 16


def test_lightning_parameters_flops_and_state_by_hand(write_spec):
    """4 heads of 16: qkv_proj 64 x 192, the output gate 64 x 64, the norm 64, out_proj 64 x 64; 100 tokens in a block
    of 64 and one of 36 (no padding): Q K^T and its product with V 4 x 16 x (64^2 + 36^2) per head, the state read and
    update 4 x 16^2 x 100; a decode step 4 x 16^2 per head; the state 4 x 16 x 16 per sequence."""
    model = load(write_spec, LIGHTNING)
    assert {k: v for k, v in rows_of(model, "lightning").items() if k.startswith("lightning.")} == {
        "lightning.qkv_proj": 64 * 192, "lightning.output_gate": 64 * 64, "lightning.norm": 64,
        "lightning.out_proj": 64 * 64}
    flops = {r.component: r.matmul_per_layer for r in count_flops(model, 100).rows if r.group == "lightning"}
    assert flops["lightning.attention"] == 4 * (4 * 16 * (64 ** 2 + 36 ** 2) + 4 * 16 * 16 * 100)
    decode = {r.component: r.matmul_per_layer for r in count_flops(model, 100, decode=True).rows
              if r.group == "lightning"}
    assert decode["lightning.attention"] == 4 * 4 * 16 * 16
    assert model.layers[0].mixer.state_elements == 4 * 16 * 16


def test_the_output_gate_doubles_q(write_spec):
    """The gate is q_proj's second half: n_heads x d_head more outputs (and q's bias again), and its matmul."""
    model = load(write_spec, SHORT_CONV.replace("output_gate: true}", "output_gate: true, bias: true}"))
    rows = rows_of(model, "attention")
    assert rows["attn.gate"] == rows["attn.q"] + 64 == 64 * 64 + 64
    flops = {r.component: r.matmul_per_layer for r in count_flops(model, 10).rows if r.group == "attention"}
    assert flops["attn.gate"] == flops["attn.q"] == 2 * 10 * 64 * 64
    plain = load(write_spec, SHORT_CONV.replace(", output_gate: true", ""), "plain")
    assert "attn.gate" not in rows_of(plain, "attention")


def test_gated_deltanet_flops_by_hand(write_spec):
    """100 tokens prefill in 2 chunks of 64 (padded), 4 value heads, K 8, V 16: the chunked delta rule
    2 x 4 x (4 x 64^2 x 8 + 2 x 64^2 x 16 + 6 x 64 x 8 x 16), the two triangular solves 2 x 4 x 64 x 63 x (8 + 16);
    the conv over 100 + 3 positions; a decode step reads and writes the state, 6 x 4 x 8 x 16."""
    model = load(write_spec, DELTANET)
    rows = {r.component: r.matmul_per_layer for r in count_flops(model, 100).rows if r.group == "gated_deltanet"}
    assert rows["deltanet.delta_rule"] == 2 * 4 * (4 * 64 * 64 * 8 + 2 * 64 * 64 * 16 + 6 * 64 * 8 * 16)
    assert rows["deltanet.solve"] == 2 * 4 * 64 * 63 * 24
    assert rows["deltanet.conv"] == 2 * 96 * 4 * 103
    decode = {r.component: r.matmul_per_layer for r in count_flops(model, 100, decode=True).rows
              if r.group == "gated_deltanet"}
    assert decode["deltanet.delta_rule"] == 6 * 4 * 8 * 16 and "deltanet.solve" not in decode
    assert decode["deltanet.conv"] == 2 * 96 * 4 * 2


@pytest.mark.parametrize("text", [SHORT_CONV, DELTANET, LIGHTNING])
def test_the_state_does_not_grow_but_the_attention_cache_does(write_spec, text):
    model = load(write_spec, text)
    state = model.layers[0].mixer.state_elements
    short, long = (kv_cache(model, context=c, batch=1, dtype="bf16") for c in (10, 1000))
    assert short.bytes_per_token == 2 * 2 * (2 * 2 * 16)  # 2 attention layers, bf16 K and V of 2 heads of 16
    assert short.state_bytes_per_sequence == long.state_bytes_per_sequence == 2 * 2 * state


@pytest.mark.parametrize("change, key, words", [
    ("{kind: short_conv, d_state: 4}", "mixer.d_state", "only used with kind mamba or mamba2"),
    ("{kind: short_conv, n_key_heads: 4}", "mixer.n_key_heads", "only used with kind gated_deltanet"),
    ("{kind: mamba, d_state: 4, n_value_heads: 4}", "mixer.n_value_heads", "allowed with kind mamba: kind, d_inner"),
    ("{kind: gated_deltanet, n_key_heads: 3, n_value_heads: 4, key_head_dim: 8, value_head_dim: 8}",
     "mixer.n_key_heads", "does not divide n_value_heads=4"),
    ("{kind: gated_deltanet, n_key_heads: 2, n_value_heads: 4, value_head_dim: 8}", "mixer.key_head_dim", "required"),
    ("{kind: gated_deltanet, n_key_heads: 2, n_value_heads: 4, key_head_dim: 8, value_head_dim: 8, chunk_size: 0}",
     "mixer.chunk_size", ">= 1"),
    ("{kind: lstm}", "mixer.kind", "allowed: mamba, mamba2, short_conv, gated_deltanet, lightning"),
    ("{kind: lightning, n_heads: 4}", "mixer.head_dim", "required"),
    ("{kind: lightning, n_heads: 4, head_dim: 8, d_conv: 4}", "mixer.d_conv", "allowed with kind lightning"),
])
def test_bad_mixer_keys(write_spec, change, key, words):
    err = error_for(write_spec, HYBRID.replace("MIXER", change))
    assert err.key == key and words in str(err)


def test_an_output_gate_must_be_a_boolean_and_not_mla(write_spec):
    err = error_for(write_spec, SHORT_CONV.replace("output_gate: true", "output_gate: 2"))
    assert err.key == "layers[0].pattern[1].attention.output_gate" and "true or false" in str(err)
    err = error_for(write_spec, SHORT_CONV.replace(
        "n_kv_heads: 2, qk_norm: rmsnorm, output_gate: true",
        "output_gate: true, mla: {kv_lora_rank: 8, qk_nope_head_dim: 8, qk_rope_head_dim: 4, v_head_dim: 8}"))
    assert err.key.endswith("output_gate") and "not used with mla" in str(err)


@pytest.mark.parametrize("text", [SHORT_CONV, DELTANET, LIGHTNING])
@pytest.mark.parametrize("command", [
    ["count"], ["flops"], ["flops", "--decode"], ["memory"], ["memory", "--context", "100000"], ["explain"],
    ["diagram"], ["show"], ["sweep", "--vary", "context=1k,64k"], ["fit", "--gpu", "h100"],
    ["compare", "llama3-8b"], ["flops", "--training", "--tokens", "1e9"], ["speed", "--gpu", "h100"],
    ["plan", "--mode", "serve", "--gpu", "h100", "--n-gpus", "2"],
])
def test_commands_run_on_a_hybrid(write_spec, text, command):
    path = str(write_spec("hybrid", text))
    result = CliRunner().invoke(main, command[:1] + [path] + command[1:])
    assert result.exit_code == 0, result.output


def test_training_saves_the_short_conv_and_the_output_gate_by_hand(write_spec):
    """d = 64 (megatron profile, 16-bit, per token and layer). Short conv: the norm's input and in_proj's (64 each),
    in_proj's output B, C, x (192), the conv's input B x x and its output (64 each), out_proj's input (64). The gated
    attention: 4 heads of 16, 2 KV heads; q, k, v, the output, and sigmoid(gate) with the output before it."""
    model = load(write_spec, SHORT_CONV)
    rows = api.estimate_memory(model, mode="training", context=1024).activations.rows
    per_group = {}
    for row in rows:
        per_group[row.group] = per_group.get(row.group, 0) + row.bytes_per_token
    mlp = 2 * (64 + 64) + 2 * 3 * 128  # the MLP's norm and input, and SwiGLU's gate, up and product
    assert per_group["short_conv"] == 2 * (64 + 64 + 192 + 64 + 64 + 64) + mlp
    attention = 2 * (64 + 64 + 64 + 32 + 32 + 64 + 2 * 64) + 4 * 4  # ... and fp32 log-sum-exp per head
    assert per_group["attention"] == attention + mlp
    with pytest.raises(LlmcalcError, match="output gate"):
        api.estimate_memory(model, mode="training", framework="transformers")



def test_words_for_the_new_kinds(write_spec):
    """describe, diagram and explain name the mixers and the gate."""
    for text, words in ((SHORT_CONV, "short conv"), (DELTANET, "Gated DeltaNet"), (LIGHTNING, "lightning attention")):
        path = str(write_spec("hybrid", text))
        for command in (["explain"], ["diagram"], ["compare", "llama3-8b"]):
            result = CliRunner().invoke(main, command[:1] + [path] + command[1:])
            assert words in result.output, (command, result.output[:400])
        diagram = CliRunner().invoke(main, ["diagram", path]).output
        assert "output gate" in diagram


def test_training_saves_what_the_chunked_delta_rule_keeps_by_hand(write_spec):
    """Gated DeltaNet, d = 64, 2 key heads of 8, 4 value heads of 16, chunks of 64 (an estimate from fla's
    ChunkGatedDeltaRuleFunction): the norm's input and the projections' (64 each), the conv's input (96), q and k
    repeated to the 4 value heads and v (32 + 32 + 64), fp32 statistics (4 per head), beta (4), A (64 per head),
    the gated norm's input and z (64 each) with an fp32 rstd per head, out_proj's input (64)."""
    model = load(write_spec, DELTANET)
    rows = api.estimate_memory(model, mode="training", context=1024).activations.rows
    deltanet = sum(r.bytes_per_token for r in rows if r.group == "gated_deltanet")
    mlp = 2 * (64 + 64) + 2 * 3 * 128
    assert deltanet == 2 * (64 + 64 + 96 + 128 + 4 + 4 * 64 + 128 + 64) + 4 * (4 * 4 + 4) + mlp


def test_training_saves_what_a_blocked_lightning_kernel_keeps_by_hand(write_spec):
    """Lightning attention, d = 64, 4 heads of 16 (width 64), blocks of 64 (an estimate): the norm's input and the
    projections' (64 each), qkv_proj's output and q, k, v after the silu (2 x 192), the block-start K^T V states
    (4 x 16 x 16 / 64 per token), the norm's input (64) and fp32 rstd, the gate's output and the normed output
    (2 x 64), out_proj's input (64)."""
    model = load(write_spec, LIGHTNING)
    rows = api.estimate_memory(model, mode="training", context=1024).activations.rows
    lightning = sum(r.bytes_per_token for r in rows if r.group == "lightning")
    mlp = 2 * (64 + 64) + 2 * 3 * 128
    assert lightning == 2 * (64 + 64 + 2 * 192 + 4 * 16 * 16 / 64 + 64 + 2 * 64 + 64) + 4 + mlp

