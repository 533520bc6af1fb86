"""Exact parameter counts against real checkpoints, and the breakdown's own arithmetic.

Expected integers come from the Hugging Face checkpoints' safetensors totals and the papers, as
collected in the project's reference dataset (sources beside each figure). A test never reads a
figure back out of the spec it checks.
"""

from __future__ import annotations

import dataclasses

import pytest

import llmcalc
from llmcalc.formulas.params import count_params

# (model, exact total) -- Hugging Face safetensors totals / num_parameters() of the released checkpoints.
CHECKPOINT_TOTALS = [
    ("gpt1", 116_534_784),              # HF openai-gpt: 40478 x 768 tokens + 512 positions + 12 blocks
    ("gpt2-small", 124_439_808),        # HF gpt2 (keras-hub gpt2 presets quote the same total)
    ("gpt2-medium", 354_823_168),       # HF gpt2-medium
    ("gpt2-large", 774_030_080),        # HF gpt2-large
    ("gpt2-xl", 1_557_611_200),         # HF gpt2-xl
    ("llama-7b", 6_738_415_616),        # LLaMA 7B = Llama-2-7b-hf
    ("llama-13b", 13_015_864_320),
    ("llama-33b", 32_528_943_616),
    ("llama-65b", 65_285_660_672),
    ("llama2-7b", 6_738_415_616),       # HF meta-llama/Llama-2-7b-hf
    ("llama2-13b", 13_015_864_320),     # HF meta-llama/Llama-2-13b-hf
    ("llama2-70b", 68_976_648_192),     # HF meta-llama/Llama-2-70b-hf
    ("llama3-8b", 8_030_261_248),       # HF meta-llama/Meta-Llama-3-8B
    ("llama3-70b", 70_553_706_496),     # HF meta-llama/Meta-Llama-3-70B
    ("llama3.1-8b", 8_030_261_248),     # HF meta-llama/Llama-3.1-8B
    ("llama3.1-70b", 70_553_706_496),   # HF meta-llama/Llama-3.1-70B
    ("llama3.1-405b", 405_853_388_800), # HF meta-llama/Llama-3.1-405B
    ("llama3.2-1b", 1_235_814_400),     # HF meta-llama/Llama-3.2-1B
    ("llama3.2-3b", 3_212_749_824),     # HF meta-llama/Llama-3.2-3B
    ("mistral-7b", 7_241_732_096),      # HF mistralai/Mistral-7B-v0.1
    ("mixtral-8x7b", 46_702_792_704),   # HF mistralai/Mixtral-8x7B-v0.1
    ("mixtral-8x22b", 140_620_634_112), # HF Mixtral-8x22B-v0.1 (mistral-community mirror)
    ("gpt3-175b", 174_604_259_328),     # GPT-3 paper Table D.1: 174,600M; this is its exact architecture count
]


@pytest.mark.parametrize("name, expected", CHECKPOINT_TOTALS)
def test_exact_checkpoint_counts(name, expected):
    assert count_params(llmcalc.load(name)).total == expected


def test_mixtral_active_parameters():
    # Mixtral paper / announcement: 12.9B active per token, reproduced exactly with both embeddings counted.
    count = count_params(llmcalc.load("mixtral-8x7b"))
    assert count.active == 12_879_925_248
    # Without the input embedding (the gpt-oss card's convention) the 32000 x 4096 matrix drops out.
    assert count_params(llmcalc.load("mixtral-8x7b"), False).active == 12_879_925_248 - 32000 * 4096


def test_mixtral_8x22b_active_matches_announced_39b():
    assert round(count_params(llmcalc.load("mixtral-8x22b")).active / 1e9) == 39


def test_dense_model_active_equals_total():
    count = count_params(llmcalc.load("llama3-8b"))
    assert count.active == count.total


def test_gpt2_small_components_match_nanogpt():
    # nanoGPT model.py: "number of parameters: 123.65M" for gpt2 excludes only the position embedding
    # (get_num_params(non_embedding=True) subtracts wpe); transformer_sizing.ipynb: 124,337,664 with bias=False.
    count = count_params(llmcalc.load("gpt2-small"))
    by_name = {(r.group, r.component): r for r in count.rows}
    assert count.total - by_name[(None, "embed.position")].total == 123_653_376
    biases = sum(r.total for r in count.rows if r.component in ("attn.bias", "mlp.bias"))
    ln_biases = sum(r.total for r in count.rows if r.component.startswith("norm.")) // 2
    assert count.total - biases - ln_biases == 124_337_664


def test_gpt2_embedding_split():
    count = count_params(llmcalc.load("gpt2-small"))
    assert count.embedding == 50257 * 768 + 1024 * 768  # tied: the LM head is the token embedding
    assert count.non_embedding == count.total - count.embedding == 85_056_000


def test_gpt2_paper_counts_used_gpt1_vocabulary():
    # GPT-2 paper Table 2 gives 117M / 345M / 762M / 1542M; the repo README says those counts were wrong.
    # They are exactly this architecture with GPT-1's 40,478-token vocabulary (the spec's discrepancy note).
    for name, paper_millions in (("gpt2-small", 117), ("gpt2-medium", 345), ("gpt2-large", 762), ("gpt2-xl", 1542)):
        model = dataclasses.replace(llmcalc.load(name), vocab_size=40478)
        assert round(count_params(model).total / 1e6) == paper_millions


def test_gpt3_table_d1_counts_to_printed_digits():
    # GPT-3 paper Table D.1, total parameters in millions.
    table_d1 = {"gpt3-small": 125, "gpt3-medium": 356, "gpt3-large": 760, "gpt3-xl": 1320, "gpt3-2.7b": 2650,
                "gpt3-6.7b": 6660, "gpt3-13b": 12850, "gpt3-175b": 174600}
    for name, millions in table_d1.items():
        total = count_params(llmcalc.load(name)).total
        step = 10 ** (len(str(millions)) - len(str(millions).rstrip("0")))  # unit of the last printed digit
        assert abs(total / 1e6 - millions) <= step / 2, name


def test_llama1_paper_counts_truncated():
    # LLaMA paper Table 2: 6.7B, 13.0B, 32.5B, 65.2B (one decimal, truncated).
    for name, billions in (("llama-7b", 6.7), ("llama-13b", 13.0), ("llama-33b", 32.5), ("llama-65b", 65.2)):
        total = count_params(llmcalc.load(name)).total
        assert int(total / 1e8) == round(billions * 10), name


@pytest.mark.parametrize("name", llmcalc.builtin_names())
def test_total_is_sum_of_rows_and_groups(name):
    count = count_params(llmcalc.load(name))
    assert count.total == sum(r.per_layer * r.n_layers for r in count.rows)
    assert count.total == count.embedding + count.non_embedding
    assert 0 < count.active <= count.total
    assert sum(g.count for g in count.model.groups) == count.model.n_layers


def test_tied_embeddings_counted_once():
    model = llmcalc.load("llama3.2-1b")
    tied = count_params(model).total
    untied = count_params(dataclasses.replace(model, tied_embeddings=False)).total
    assert untied - tied == 128256 * 2048


def test_learned_positions_only_where_the_model_has_them():
    gpt2 = llmcalc.load("gpt2-small")
    components = {r.component for r in count_params(gpt2).rows}
    assert "embed.position" in components
    rope = dataclasses.replace(gpt2, position="rope")
    assert count_params(gpt2).total - count_params(rope).total == 1024 * 768


def test_gqa_shrinks_only_k_and_v():
    model = llmcalc.load("llama3-8b")
    rows = {r.component: r.per_layer for r in count_params(model).rows if r.group}
    assert rows["attn.q"] == rows["attn.o"] == 4096 * 4096
    assert rows["attn.k"] == rows["attn.v"] == 4096 * 8 * 128
    assert rows["mlp.gate"] == rows["mlp.up"] == rows["mlp.down"] == 4096 * 14336


def test_d_head_independent_of_d_model(write_spec):
    # Qwen3-style attention: 32 heads of 128 on a 2048-wide model (q is 4096 wide, not 2048).
    path = write_spec("wide", """
        vocab_size: 1000
        d_model: 2048
        n_layers: 1
        context_length: 128
        position: rope
        norm: {kind: rmsnorm}
        attention: {n_heads: 32, n_kv_heads: 4, d_head: 128}
        mlp: {activation: swiglu, d_ff: 6144}
    """)
    rows = {r.component: r.per_layer for r in count_params(llmcalc.load(str(path))).rows if r.group}
    assert rows["attn.q"] == 2048 * 32 * 128
    assert rows["attn.k"] == 2048 * 4 * 128
    assert rows["attn.o"] == 32 * 128 * 2048


def test_heterogeneous_layers_dense_first_then_moe(write_spec):
    path = write_spec("hetero", """
        vocab_size: 1000
        d_model: 64
        n_layers: 4
        context_length: 128
        position: rope
        norm: {kind: rmsnorm}
        attention: {n_heads: 4}
        mlp: {activation: swiglu, d_ff: 256}
        moe: {n_experts: 8, top_k: 2, d_ff: 32, n_shared_experts: 1, router_bias: true}
        layers:
          - {count: 1, moe: null, mlp: {d_ff: 512}}
          - {count: 3}
    """)
    model = llmcalc.load(str(path))
    count = count_params(model)
    assert [(g.name, g.count) for g in model.groups] == [("dense", 1), ("moe", 3)]
    attention = 4 * 64 * 64
    norms = 2 * 64
    dense = attention + norms + 3 * 64 * 512
    expert = 3 * 64 * 32
    moe_layer = attention + norms + (64 * 8 + 8) + 8 * expert + 1 * expert
    assert count.total == 1000 * 64 * 2 + 64 + dense + 3 * moe_layer
    moe_active = attention + norms + (64 * 8 + 8) + 2 * expert + expert
    assert count.active == 1000 * 64 * 2 + 64 + dense + 3 * moe_active


def test_alternating_sliding_window_pattern(write_spec):
    path = write_spec("alt", """
        vocab_size: 1000
        d_model: 64
        n_layers: 6
        context_length: 128
        position: rope
        norm: {kind: rmsnorm, placement: sandwich}
        attention: {n_heads: 4, n_kv_heads: 2}
        mlp: {activation: geglu, d_ff: 256}
        layers:
          - repeat: 3
            pattern:
              - {attention: {sliding_window: 32}}
              - {}
    """)
    model = llmcalc.load(str(path))
    groups = model.groups
    assert [(g.name, g.indices) for g in groups] == [("local", (0, 2, 4)), ("global", (1, 3, 5))]
    assert groups[0].layer.attention.sliding_window == 32 and groups[1].layer.attention.sliding_window is None
    norms = [r for r in count_params(model).rows if r.group == "local" and r.component.startswith("norm.")]
    assert len(norms) == 4  # sandwich: before and after both sub-blocks


def test_layernorm_without_bias_and_post_norm(write_spec):
    path = write_spec("post", """
        vocab_size: 100
        d_model: 8
        n_layers: 1
        context_length: 16
        position: learned
        tied_embeddings: true
        norm: {kind: layernorm, bias: false, placement: post}
        attention: {n_heads: 2, bias: {q: true, k: true, v: true}}
        mlp: {activation: relu, d_ff: 32, bias: true}
    """)
    count = count_params(llmcalc.load(str(path)))
    rows = {r.component: r.total for r in count.rows}
    assert rows["norm.post_attn"] == rows["norm.post_mlp"] == 8
    assert "norm.final" not in rows  # post-norm models default to no final norm
    assert rows["attn.bias"] == 3 * 8
    assert rows["mlp.bias"] == 32 + 8
    assert count.total == 100 * 8 + 16 * 8 + 4 * 64 + 24 + 16 + 2 * 8 * 32 + 40


def test_qwen_style_shared_expert_gate(write_spec):
    path = write_spec("shared", """
        vocab_size: 100
        d_model: 16
        n_layers: 1
        context_length: 16
        position: rope
        norm: {kind: rmsnorm}
        attention: {n_heads: 2}
        mlp: {activation: swiglu, d_ff: 64}
        moe: {n_experts: 4, top_k: 2, d_ff: 8, n_shared_experts: 1, d_ff_shared: 32, shared_gate: true}
    """)
    rows = {r.component: (r.total, r.active) for r in count_params(llmcalc.load(str(path))).rows}
    assert rows["moe.experts"] == (4 * 3 * 16 * 8, 2 * 3 * 16 * 8)
    assert rows["moe.shared"] == (3 * 16 * 32, 3 * 16 * 32)
    assert rows["moe.shared_gate"] == (16, 16)
    assert rows["moe.router"] == (16 * 4, 16 * 4)


def test_huge_values_stay_exact(write_spec):
    path = write_spec("huge", """
        vocab_size: 10000000
        d_model: 65536
        n_layers: 1000000
        context_length: 1048576
        position: rope
        norm: {kind: rmsnorm}
        attention: {n_heads: 512}
        mlp: {activation: swiglu, d_ff: 262144}
    """)
    total = count_params(llmcalc.load(str(path))).total
    d = 65536
    assert total == 2 * 10_000_000 * d + d + 1_000_000 * (4 * d * d + 3 * d * 262144 + 2 * d)
