"""Mamba and Mamba-2 mixers in llmcalc's own spec format: the keys and their errors, what every command prints for a
state-space model (a constant state per sequence, never a KV cache growing with the context), and the commands that
refuse it with one line. The counts themselves are held against transformers in tests/test_hf_crosscheck.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc import api
from llmcalc.cli import cli as main
from llmcalc.errors import LlmcalcError, SpecError
from llmcalc.formulas.kv import kv_cache
from llmcalc.formulas.params import count_params

MAMBA = """
vocab_size: 1000
d_model: 64
n_layers: 2
context_length: 2048
position: none
tied_embeddings: true
norm: {kind: rmsnorm}
mixer: {kind: mamba, d_state: 16, d_conv: 4}
"""

MAMBA2 = """
vocab_size: 1000
d_model: 64
n_layers: 2
context_length: 2048
position: none
norm: {kind: rmsnorm}
mixer: {kind: mamba2, d_state: 16, n_heads: 8, n_groups: 2, chunk_size: 64}
"""


def load(write_spec, text: str, name: str = "ssm"):
    return llmcalc.load(str(write_spec(name, text)))


def error_for(write_spec, text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load(write_spec, text, "bad")
    assert "\n" not in str(info.value)
    return info.value


def test_defaults_of_the_mixer_keys(write_spec):
    mixer = load(write_spec, MAMBA).layers[0].mixer
    assert (mixer.d_inner, mixer.d_conv, mixer.dt_rank, mixer.conv_bias, mixer.bias) == (128, 4, 4, True, False)
    layer = load(write_spec, MAMBA).layers[0]
    assert layer.attention is None and layer.mlp is None and layer.moe is None


def test_mamba_parameters_by_hand(write_spec):
    """d = 64, d_inner = 128, N = 16, dt_rank = ceil(64 / 16) = 4, conv 4 taps with a bias."""
    rows = {r.component: r.per_layer for r in count_params(load(write_spec, MAMBA)).rows if r.group}
    assert rows == {"mamba.in_proj": 64 * 256, "mamba.conv": 128 * 4 + 128, "mamba.x_proj": 128 * (4 + 32),
                    "mamba.dt_proj": 4 * 128, "mamba.dt_bias": 128, "mamba.A_log": 128 * 16, "mamba.D": 128,
                    "mamba.out_proj": 128 * 64, "norm.pre_mixer": 64}


def test_mamba2_parameters_by_hand(write_spec):
    """in_proj to z, x (128 each), B and C (2 groups x 16 each) and dt (8 heads); the conv over x, B and C."""
    rows = {r.component: r.per_layer for r in count_params(load(write_spec, MAMBA2)).rows if r.group}
    assert rows == {"mamba.in_proj": 64 * (256 + 64 + 8), "mamba.conv": 192 * 4 + 192, "mamba.dt_bias": 8,
                    "mamba.A_log": 8, "mamba.D": 8, "mamba.norm": 128, "mamba.out_proj": 128 * 64,
                    "norm.pre_mixer": 64}


@pytest.mark.parametrize("change, key, words", [
    ("mixer: {kind: mamba3, d_state: 16}", "mixer.kind", "allowed: mamba, mamba2"),
    ("mixer: {kind: mamba, d_state: 16, n_heads: 4}", "mixer.n_heads", "only used with kind mamba2"),
    ("mixer: {kind: mamba2, d_state: 16, n_heads: 8, dt_rank: 4}", "mixer.dt_rank", "only used with kind mamba"),
    ("mixer: {kind: mamba2, d_state: 16, n_heads: 7}", "mixer.n_heads", "does not divide d_inner=128"),
    ("mixer: {kind: mamba2, d_state: 16, n_heads: 8, n_groups: 3}", "mixer.n_groups", "does not divide n_heads=8"),
    ("mixer: {kind: mamba, d_state: 0}", "mixer.d_state", ">= 1"),
    ("mixer: {kind: mamba, d_state: 16, d_sate: 4}", "mixer.d_sate", "did you mean 'd_state'"),
    ("mixer: {kind: mamba, d_state: 16, gated_norm: false}", "mixer.gated_norm", "only used with kind mamba2"),
    ("mixer: {kind: mamba, d_state: 16}\nattention: {n_heads: 4}", "mlp", "required"),
    ("mixer: {kind: mamba, d_state: 16}\nresidual: parallel", "residual", "allowed: sequential"),
])
def test_bad_mixer_keys(write_spec, change, key, words):
    err = error_for(write_spec, MAMBA.replace("mixer: {kind: mamba, d_state: 16, d_conv: 4}", change))
    assert err.key == key and words in str(err)


def test_a_layer_without_mixer_or_attention_is_refused(write_spec):
    err = error_for(write_spec, MAMBA.replace("mixer: {kind: mamba, d_state: 16, d_conv: 4}\n", ""))
    assert err.key == "attention" and "required" in str(err)


def test_mamba_and_attention_layers_in_one_stack(write_spec):
    """A hybrid written with layer groups: attention + MLP layers between Mamba layers, each keeping its own cache."""
    text = MAMBA.replace("n_layers: 2", "n_layers: 4") + (
        "layers:\n  - repeat: 2\n    pattern:\n      - {}\n"
        "      - {mixer: null, attention: {n_heads: 4}, mlp: {activation: swiglu, d_ff: 128}}\n")
    model = load(write_spec, text, "hybrid")
    assert [g.name for g in model.groups] == ["mamba", "attention"]
    cache = kv_cache(model, context=100, batch=1, dtype="bf16")
    mixer = model.layers[0].mixer
    assert cache.bytes == 2 * (2 * 100 * 2 * 4 * 16 + 2 * mixer.state_elements)


def test_attention_and_a_mixer_side_by_side(write_spec):
    """Falcon-H1's layer: attention and a Mamba-2 mixer on one norm's output, then an MLP after a second norm; its
    parameters are both parts', its cache K and V per token and the state, its FLOPs both parts' (one more add)."""
    mlp = "mlp: {activation: swiglu, d_ff: 128}\n"
    both = load(write_spec, MAMBA2 + "attention: {n_heads: 4, n_kv_heads: 2}\n" + mlp, "both")
    alone = load(write_spec, MAMBA2 + mlp, "alone")
    attention = load(write_spec, MAMBA2.replace("mixer:", "attention: {n_heads: 4, n_kv_heads: 2}\n#") + mlp, "att")
    rows = {r.component: r.per_layer for r in count_params(both).rows if r.group}
    assert rows["norm.pre_mixer"] == rows["norm.pre_mlp"] == 64 and len([c for c in rows if c.startswith("norm")]) == 2
    assert count_params(both).total == count_params(alone).total + 2 * (64 * 64 + 2 * 64 * 32 + 64 * 64)
    assert count_params(both).total == count_params(attention).total + 2 * sum(
        v for c, v in rows.items() if c.startswith("mamba."))
    cache = kv_cache(both, context=100, batch=1, dtype="bf16")
    mixer = both.layers[0].mixer
    assert cache.bytes == 2 * 2 * (100 * 2 * 2 * 16 + mixer.state_elements)
    assert cache.bytes_per_token == 2 * 2 * 2 * 2 * 16
    flops = [_matmul_by_part(m) for m in (both, alone, attention)]
    assert flops[0]["mamba"] == flops[1]["mamba"] > 0 and flops[0]["attn"] == flops[2]["attn"] > 0
    assert flops[0]["mlp"] == flops[1]["mlp"] == flops[2]["mlp"] > 0 and "attn" not in flops[1]
    described = CliRunner().invoke(main, ["show", str(write_spec("both", MAMBA2 + "attention: {n_heads: 4}\n" + mlp))])
    assert described.exit_code == 0, described.output


def test_blocks_of_one_part_each(write_spec):
    """Nemotron-H's layers: one norm and one block each (a mixer, attention alone, an MLP alone); only the attention
    block caches K and V, and only the mixer keeps a state."""
    text = MAMBA2.replace("n_layers: 2", "n_layers: 3") + (
        "layers:\n  - {count: 1}\n  - {count: 1, mixer: null, attention: {n_heads: 4}, mlp: null}\n"
        "  - {count: 1, mixer: null, attention: null, mlp: {activation: relu2, d_ff: 128}}\n")
    model = load(write_spec, text, "blocks")
    assert [g.name for g in model.groups] == ["mamba2", "attention", "mlp"]
    rows = {(r.group, r.component): r.per_layer for r in count_params(model).rows if r.group}
    assert [c for g, c in rows if c.startswith("norm")] == ["norm.pre_mixer", "norm.pre_attn", "norm.pre_mlp"]
    assert rows[("attention", "attn.q")] == 64 * 64 and rows[("mlp", "mlp.up")] == 64 * 128
    cache = kv_cache(model, context=10, batch=1, dtype="bf16")
    assert cache.bytes == 2 * (10 * 2 * 4 * 16 + model.layers[0].mixer.state_elements)
    parts = _matmul_by_part(model)
    assert set(parts) == {"mamba", "attn", "mlp", "lm_head"}
    saved = {(r.group, r.component) for r in api.estimate_memory(model, mode="training").activations.rows}
    assert {c for g, c in saved if g == "attention"} == {"norm.pre_attn", "attn.input", "attn.q", "attn.k", "attn.v",
                                                         "attn.output", "attn.softmax_stats"}  # no MLP tensors
    assert {c for g, c in saved if g == "mlp"} == {"norm.pre_mlp", "mlp.input", "mlp.inner"}
    err = error_for(write_spec, text.replace("attention: null, mlp: {activation: relu2, d_ff: 128}",
                                             "attention: null"))
    assert err.key.endswith("mlp") and "required" in str(err)


def _matmul_by_part(model) -> dict[str, int]:
    """Matmul FLOPs of a 10-token forward pass by the part of the layer they belong to (mamba, attn, mlp, ...)."""
    out: dict[str, int] = {}
    for row in api.count_flops(model, 10, include_other=False).rows:
        if row.matmul:
            part = row.component.split(".")[0]
            out[part] = out.get(part, 0) + row.matmul
    return out


@pytest.mark.parametrize("text", [MAMBA, MAMBA2])
def test_the_state_does_not_grow_with_the_context(write_spec, text):
    model = load(write_spec, text)
    mixer = model.layers[0].mixer
    for context in (1, 2048, 1_000_000):
        cache = kv_cache(model, context=context, batch=3, dtype="bf16")
        assert cache.bytes_per_token == 0
        assert cache.bytes == 3 * 2 * 2 * (mixer.conv_channels * mixer.d_conv + mixer.d_inner * mixer.d_state)
    short = api.estimate_memory(model, context=1024).parts[1]
    long = api.estimate_memory(model, context=1_000_000).parts[1]
    assert short.name == "kv_cache" and short.bytes == long.bytes > 0 and "constant state" in short.note


@pytest.mark.parametrize("command", [
    ["count"], ["flops"], ["flops", "--decode"], ["memory"], ["memory", "--context", "100000"], ["explain"],
    ["diagram"], ["show"], ["sweep", "--vary", "context=1k,64k"], ["fit", "--gpu", "h100"],
    ["compare", "llama3-8b"], ["flops", "--training", "--tokens", "1e9"],
])
def test_commands_run_on_a_mamba_model(write_spec, command):
    path = str(write_spec("ssm", MAMBA2))
    args = command[:1] + [path] + command[1:]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def test_sweep_and_fit_show_a_constant_state(write_spec):
    path = str(write_spec("ssm", MAMBA2))
    result = CliRunner().invoke(main, ["sweep", path, "--vary", "context=1k,64k", "--json"])
    points = json.loads(result.output)
    assert result.exit_code == 0
    text = json.dumps(points)
    assert "kv_cache_bytes" in text
    sweep = api.sweep([llmcalc.load(path)], "context", [1024, 65536])
    first, last = sweep.points[0][0], sweep.points[1][0]
    assert first.kv_cache_bytes == last.kv_cache_bytes > 0
    fit = CliRunner().invoke(main, ["fit", path, "--gpu", "h100", "--context", "1000000"])
    assert fit.exit_code == 0 and "does not fit" not in fit.output


@pytest.mark.parametrize("command, words", [
    (["memory", "--mode", "training", "--framework", "transformers"], "framework transformers"),
    (["memory", "--mode", "training", "--finetune", "lora"], "finetune lora"),
    (["memory", "--engine", "vllm", "--gpu", "h100"], "engine vllm"),
    (["memory", "--engine", "llamacpp"], "engine llamacpp"),
    (["memory", "--tp", "3"], "3 does not divide the 128 Mamba inner channels"),
    (["memory", "--dtype", "q4_k_m"], "recipes"),
])
def test_commands_refuse_what_they_do_not_model(write_spec, command, words):
    path = str(write_spec("ssm", MAMBA))
    result = CliRunner().invoke(main, command[:1] + [path] + command[1:])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0] and "Mamba" in lines[0]


def test_speed_reads_and_rewrites_the_state_at_decode(write_spec):
    """The roofline of a state-space model: a decode step reads each layer's state and writes it back (2 x batch x
    the state), a prefill writes it once; nothing grows with the context, so neither does the decode time."""
    model = load(write_spec, MAMBA)
    state = kv_cache(model, 2048, 1, "bf16").state_bytes_per_sequence
    short, long = (llmcalc.speed(model, peak_flops=989.4e12, bandwidth=3.35e12, batch=8, prompt=512,
                                                 context=c) for c in (1024, 65536))
    assert sum(row.kv_bytes for row in short.decode.rows) == 2 * 8 * state > 0
    assert sum(row.kv_bytes for row in short.prefill.rows) == 8 * state
    assert short.decode.seconds == long.decode.seconds
    assert short.crossover is None  # the state read grows with the batch as fast as the FLOPs
    text = CliRunner().invoke(main, ["speed", str(write_spec("ssm", MAMBA)), "--gpu", "h100"]).output
    assert "never (the state read grows as fast)" in text and "recurrent states" in text


def test_the_api_refuses_the_training_profiles_it_does_not_model(write_spec):
    with pytest.raises(LlmcalcError, match="framework transformers: ssm has recurrent"):
        api.estimate_memory(load(write_spec, MAMBA), mode="training", framework="transformers")


def saved_per_token(model, seq: int) -> float:
    activations = api.estimate_memory(model, mode="training", context=seq).activations
    (group,) = model.groups  # the rows are per layer of the group
    return sum(r.bytes_per_token for r in activations.rows if r.group == group.name)


def test_mamba2_saves_what_the_fused_kernels_keep(write_spec):
    """d = 64, d_inner = 128, N = 16, 8 heads, 2 groups: in_proj width 2 x 128 + 2 x 2 x 16 + 8 = 328. Per token and
    layer, 16-bit: the norm's input (64), in_proj's input (64), zxbcdt (328), the scan output before the gate (128),
    the gated norm's input (128) and its fp32 rstd per group (2 x 4 bytes), out_proj's input (128)."""
    model = load(write_spec, MAMBA2)
    assert saved_per_token(model, 4096) == 2 * (64 + 64 + 328 + 128 + 128 + 128) + 2 * 4


def test_mamba_saves_what_mamba_inner_fn_keeps(write_spec):
    """d = 64, d_inner = 128, N = 16, dt_rank 4: the norm's input and in_proj's (64 each), xz (256), x_dbl (4 + 32),
    B and C copied (32), the scan output (128), 16-bit; and fp32 states of 128 x 32 per 2,048-token chunk."""
    model = load(write_spec, MAMBA)
    by_hand = 2 * (64 + 64 + 256 + 36 + 32 + 128)
    assert saved_per_token(model, 2048) == by_hand + 4 * 128 * 32 / 2048
    assert saved_per_token(model, 3000) == by_hand + 4 * 128 * 32 * 2 / 3000  # two chunks for 3,000 tokens


def test_training_plans_for_a_hybrid_split_its_mamba_layers_too(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(JAMBA))
    result = CliRunner().invoke(main, ["plan", str(path), "--n-gpus", "8", "--context", "1024", "--global-batch", "16",
                                       "--top", "1000", "--json"])
    assert result.exit_code == 0, result.output
    plans = json.loads(result.output)["plans"]
    assert {p["tp"] for p in plans} == {1, 2, 4}  # the 4 attention heads allow 4 (its 64 Mamba channels, 8)
    for best in plans[:5] + [next(p for p in plans if p["tp"] == 4)]:
        report = api.estimate_memory(llmcalc.load(str(path)), "training", tp=best["tp"], pp=best["pp"],
                                     dp=best["dp"], ep=best["ep"], zero=best["zero"], recompute=best["recompute"],
                                     batch=best["micro_batch"], context=1024, sequence_parallel=best["tp"] > 1)
        assert best["memory_per_gpu"] == round(report.per_gpu)


@pytest.mark.parametrize("command", ["memory", "speed"])
def test_mla_cache_on_a_model_without_attention_layers_is_one_line(write_spec, command):
    result = CliRunner().invoke(main, [command, str(write_spec("ssm", MAMBA)), "--mla-cache", "latent"])
    assert result.exit_code == 2 and "multi-head latent attention" in result.output, result.output


JAMBA = {"model_type": "jamba", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 48,
         "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "attn_layer_period": 2,
         "attn_layer_offset": 1, "num_experts": 4}


MAMBA2_KEYS = {"vocab_size": 100, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 4,
               "num_attention_heads": 4, "num_key_value_heads": 2, "mamba_n_heads": 4, "mamba_d_state": 8,
               "mamba_n_groups": 2}
HYBRIDS = {  # attention layers (a KV cache per token) between Mamba layers (a state per sequence), or beside them
    "jamba": JAMBA,
    "bamba": dict(model_type="bamba", attn_layer_indices=[1, 3], **MAMBA2_KEYS),
    "granitemoehybrid": dict(model_type="granitemoehybrid", layer_types=["mamba", "attention"] * 2,
                             position_embedding_type="nope", **MAMBA2_KEYS),
    "nemotron_h": dict({k: v for k, v in MAMBA2_KEYS.items() if not k.startswith("mamba_")},
                       model_type="nemotron_h", head_dim=8, hybrid_override_pattern="M-M*E",
                       mamba_num_heads=4, mamba_head_dim=8, n_groups=2, ssm_state_size=4, n_routed_experts=4,
                       moe_intermediate_size=16, moe_shared_expert_intermediate_size=24),
    "falcon_h1": dict(model_type="falcon_h1", mamba_d_ssm=64, mamba_rms_norm=True, **MAMBA2_KEYS),
}


@pytest.mark.parametrize("model_type", sorted(HYBRIDS))
@pytest.mark.parametrize("command", [["count"], ["flops"], ["flops", "--decode"], ["memory"], ["explain"],
                                     ["diagram"], ["show"], ["compare", "llama3-8b"],
                                     ["sweep", "--vary", "context=1k,64k"], ["fit", "--gpu", "h100"],
                                     ["speed", "--gpu", "h100"],
                                     ["plan", "--mode", "serve", "--n-gpus", "2", "--gpu", "h100"]])
def test_commands_run_on_a_hybrid_config(tmp_path, command, model_type):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(HYBRIDS[model_type]))
    result = CliRunner().invoke(main, command[:1] + [str(path)] + command[1:] + ["--strict"] * (command[0] != "compare"))
    assert result.exit_code == 0, result.output


def test_blocks_without_a_mixer_train_and_serve_block_by_block(tmp_path):
    """A Nemotron-H of attention and MLP blocks only has no Mamba layer: training memory saves each block's own
    tensors, and the roofline reads K and V in the attention blocks only."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(HYBRIDS["nemotron_h"], hybrid_override_pattern="*-*-")))
    model = llmcalc.load(str(path))
    assert not model.is_recurrent
    saved = {(r.group, r.component) for r in api.estimate_memory(model, mode="training").activations.rows}
    assert ("attention", "attn.q") in saved and ("attention", "mlp.inner") not in saved
    assert ("mlp", "mlp.inner") in saved and ("mlp", "attn.q") not in saved
    report = llmcalc.speed(model, peak_flops=989.4e12, bandwidth=3.35e12, batch=2, prompt=16, context=64)
    kv = {row.group: row.kv_bytes for row in report.decode.rows}
    assert kv["mlp"] == 0 < kv["attention"]
    for command in (["memory", "--tp", "2"], ["flops", "--decode"], ["explain"], ["diagram"], ["speed", "--gpu", "h100"],
                    ["plan", "--n-gpus", "4", "--context", "512", "--global-batch", "8"]):
        result = CliRunner().invoke(main, command[:1] + [str(path)] + command[1:])
        assert result.exit_code == 0, result.output


def test_a_hybrid_caches_tokens_and_a_state(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(JAMBA))
    model = llmcalc.load(str(path))
    mixer = next(layer.mixer for layer in model.layers if layer.mixer)
    short, long = (kv_cache(model, context=c, batch=1, dtype="bf16") for c in (10, 1000))
    assert short.bytes_per_token == long.bytes_per_token == 2 * 2 * (2 * 2 * 8)  # 2 attention layers, bf16 K and V
    assert long.bytes - short.bytes == 990 * short.bytes_per_token
    assert short.state_bytes_per_sequence == 2 * 2 * (64 * 4 + 64 * 16) == 2 * 2 * mixer.state_elements


def test_a_context_past_the_trained_one_warns_only_where_attention_extrapolates(tmp_path):
    # a Mamba model keeps a constant state: no figure extrapolates past its trained context; Jamba's attention does
    for model_type, warned in (("mamba", False), ("jamba", True)):
        path = tmp_path / f"{model_type}.json"
        path.write_text(json.dumps({"model_type": model_type}))
        model = llmcalc.load(str(path))
        result = CliRunner().invoke(main, ["memory", str(path), "--context", str(model.context_length * 2)])
        assert result.exit_code == 0, result.output
        assert ("is past" in result.stderr) is warned, model_type
