"""FLOPs against published vectors (nanoGPT, Chinchilla, GPT-3, Llama 3, PaLM) and their own arithmetic."""

from __future__ import annotations

import dataclasses

import pytest

import llmcalc
from llmcalc.formulas.flops import attention_pairs, count_flops
from llmcalc.formulas.training_flops import PF_DAY, mfu, palm_flops_per_token, training_compute
from llmcalc.formulas.params import count_params


def no_biases(model):
    """GPT-2 as nanoGPT's transformer_sizing.ipynb configures it: bias=False everywhere."""
    layers = tuple(dataclasses.replace(
        layer,
        attention=dataclasses.replace(layer.attention, bias_q=False, bias_k=False, bias_v=False, bias_o=False),
        mlp=dataclasses.replace(layer.mlp, bias=False)) for layer in model.layers)
    return dataclasses.replace(model, layers=layers, norm=dataclasses.replace(model.norm, bias=False))


def test_nanogpt_gpt2_forward_flops():
    # nanoGPT transformer_sizing.ipynb: GPT-2 small, bias=False, T=1024: 291,648,307,200 forward FLOPs
    # (matmuls only, all T x T attention pairs, lm_head 2*T*d*V included).
    model = no_biases(llmcalc.load("gpt2-small"))
    assert count_params(model).total == 124_337_664  # the notebook's parameter count
    forward = count_flops(model, seq=1024, attention="full")
    assert forward.matmul == 291_648_307_200
    assert 3 * forward.matmul == 874_944_921_600  # fwd + bwd, the notebook's next line


# Chinchilla (Hoffmann et al. 2022) Table A4, "FLOPs ours / 6ND": (layers, d_model, ffw, heads, kv size, ratio).
CHINCHILLA_A4 = [
    (10, 640, 2560, 10, 64, 1.03),
    (20, 1024, 4096, 16, 64, 1.10),
    (24, 1280, 5120, 10, 128, 1.08),
    (26, 1792, 7168, 14, 128, 1.04),
    (28, 2048, 8192, 16, 128, 1.03),
    (40, 3584, 14336, 28, 128, 0.99),
]


@pytest.mark.parametrize("layers, d_model, d_ff, heads, kv_size, published", CHINCHILLA_A4)
def test_chinchilla_table_a4_ratios(write_spec, layers, d_model, d_ff, heads, kv_size, published):
    # The paper's convention (reproduced by nanoGPT, "per author correspondence"): F = 3 x layers x
    # (attention with all S^2 pairs and softmax + dense), embeddings and logits excluded; N counts the
    # output matrix, biases, LayerNorms and relative-position weights (d^2 + 2d per layer), not the input
    # embedding. Vocabulary 32,000, sequence 2048.
    path = write_spec("chinchilla", f"""
        vocab_size: 32000
        d_model: {d_model}
        n_layers: {layers}
        context_length: 2048
        position: none
        norm: {{kind: layernorm}}
        attention: {{n_heads: {heads}, d_head: {kv_size}, bias: true}}
        mlp: {{activation: gelu, d_ff: {d_ff}, bias: true}}
    """)
    model = llmcalc.load(str(path))
    seq = 2048
    forward = count_flops(model, seq=seq, attention="full")
    layer_flops = sum(r.matmul + (r.other if r.component == "attn.softmax" else 0)
                      for r in forward.rows if r.group is not None)
    params = count_params(model)
    n = params.total - model.vocab_size * d_model + layers * (d_model**2 + 2 * d_model)
    assert abs(3 * layer_flops / (6 * n * seq) - published) <= 0.005


# GPT-3 paper Table D.1: total training compute (6 N D with N the total parameters, D = 300B tokens).
GPT3_TABLE_D1 = [
    ("gpt3-small", 2.25e20, 2.60), ("gpt3-medium", 6.41e20, 7.42), ("gpt3-large", 1.37e21, 15.8),
    ("gpt3-xl", 2.38e21, 27.5), ("gpt3-2.7b", 4.77e21, 55.2), ("gpt3-6.7b", 1.20e22, 139),
    ("gpt3-13b", 2.31e22, 268), ("gpt3-175b", 3.14e23, 3.64e3),
]


@pytest.mark.parametrize("name, flops, pf_days", GPT3_TABLE_D1)
def test_gpt3_table_d1_compute(name, flops, pf_days):
    model = llmcalc.load(name)
    compute = training_compute(model, count_params(model).total, seq=2048, tokens=model.training.tokens)
    assert compute.six_n == pytest.approx(flops, rel=0.005)
    assert compute.six_n / PF_DAY == pytest.approx(pf_days, rel=0.005)
    # The exact count (attention and LM head included) is higher than 6ND, never lower.
    assert compute.total > compute.six_n


def test_llama3_405b_training_compute():
    # Llama 3 paper (Dubey et al. 2024): 3.8e25 FLOPs for 405B on 15.6T tokens.
    model = llmcalc.load("llama3.1-405b")
    compute = training_compute(model, count_params(model).total, seq=8192, tokens=model.training.tokens)
    assert compute.six_n == pytest.approx(3.8e25, rel=0.01)


def test_palm_540b_mfu():
    # PaLM (Chowdhery et al. 2022) App. B: 238.3K tokens/s on 6144 TPU v4 chips (275 TFLOP/s peak) is 46.2% MFU,
    # with N = 540.35B, L = 118, H = 48, Q = 256, T = 2048.
    per_token = palm_flops_per_token(540.35e9, 118, 48, 256, 2048)
    assert mfu(238.3e3, per_token, 6144, 275e12) == pytest.approx(0.462, abs=0.0005)


def test_causal_pairs_and_windows():
    assert attention_pairs(4, 4, None, "full") == 16
    assert attention_pairs(4, 4, None, "causal") == 10
    assert attention_pairs(6, 6, 2, "causal") == 1 + 2 * 5
    assert attention_pairs(1, 11, None, "causal") == 11  # decode: one query sees the whole prefix
    assert attention_pairs(1, 11, 4, "causal") == 4


def test_sliding_window_caps_attention_flops():
    mistral = llmcalc.load("mistral-7b")
    windowless = dataclasses.replace(mistral, layers=tuple(
        dataclasses.replace(l, attention=dataclasses.replace(l.attention, sliding_window=None))
        for l in mistral.layers))
    seq = 32768
    scores = lambda m: sum(r.matmul for r in count_flops(m, seq).rows if r.component == "attn.scores")
    w = 4096
    assert scores(mistral) == 32 * 2 * 32 * 128 * (w * (w + 1) // 2 + (seq - w) * w)
    assert scores(windowless) == 32 * 2 * 32 * 128 * (seq * (seq + 1) // 2)


def test_moe_counts_top_k_experts_only():
    model = llmcalc.load("mixtral-8x7b")
    rows = {r.component: r for r in count_flops(model, 1).rows}
    assert rows["moe.experts"].matmul_per_layer == 2 * 3 * 4096 * 14336 * 2  # 2 experts of 3 matrices
    assert rows["moe.router"].matmul_per_layer == 2 * 4096 * 8


def test_forward_matmul_is_about_twice_active_params():
    # Kaplan et al. 2020: C_fwd ~ 2N per token plus attention; at one token there is no attention context.
    for name in ("llama3-8b", "mixtral-8x7b"):
        model = llmcalc.load(name)
        params = count_params(model)
        forward = count_flops(model, seq=1, decode=False)
        per_token_attention = sum(r.matmul for r in forward.rows if r.component in ("attn.scores", "attn.values"))
        weights_used = params.active - model.vocab_size * model.d_model  # the embedding lookup is no matmul
        norms = sum(r.active for r in params.rows if r.component.startswith("norm"))
        assert forward.matmul - per_token_attention == 2 * (weights_used - norms)


def test_decode_step_flops():
    model = llmcalc.load("llama3-8b")
    step = count_flops(model, seq=100, decode=True)
    rows = {r.component: r for r in step.rows}
    assert rows["attn.q"].matmul_per_layer == 2 * 4096 * 4096
    assert rows["attn.scores"].matmul_per_layer == 2 * 101 * 32 * 128
    assert step.tokens == 1


def test_batch_scales_linearly():
    model = llmcalc.load("gpt2-small")
    assert count_flops(model, 128, batch=4).total == 4 * count_flops(model, 128).total


def test_non_matmul_can_be_switched_off():
    model = llmcalc.load("gpt2-small")
    with_other = count_flops(model, 256)
    without = count_flops(model, 256, include_other=False)
    assert without.total == without.matmul == with_other.matmul < with_other.total


def test_recomputation_adds_hardware_flops():
    model = llmcalc.load("gpt2-small")
    n = count_params(model).total
    none = training_compute(model, n, 1024, 1e9)
    selective = training_compute(model, n, 1024, 1e9, recompute="selective")
    full = training_compute(model, n, 1024, 1e9, recompute="full")
    assert none.hardware_total == none.total == selective.total == full.total
    assert none.hardware_total < selective.hardware_total < full.hardware_total
    assert full.hardware_per_token == pytest.approx(4 / 3 * full.model_per_token)
