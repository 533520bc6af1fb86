"""Modern architectures (issue 4): exact checkpoint counts, their conventions, and KV cache / FLOPs per
attention kind. Expected integers are Hugging Face checkpoint totals or transformers' num_parameters() for the
published config.json, as collected (with sources) in the project's reference data; each test says which.
"""

from __future__ import annotations

import dataclasses

import pytest

import llmcalc
from llmcalc.formulas.flops import attention_pairs, count_flops
from llmcalc.formulas.kv import kv_cache
from llmcalc.formulas.params import count_params
from llmcalc.formulas.published import verify

CHECKPOINT_TOTALS = [
    ("deepseek-v3", 671_026_404_352),       # HF transformers: e_score_correction_bias is a buffer, not counted
    ("deepseek-v2", 235_741_434_880),       # HF deepseek-ai/DeepSeek-V2 safetensors total
    ("deepseek-v2-lite", 15_706_484_224),   # HF transformers num_parameters() of DeepSeek-V2-Lite's config
    ("qwen3-30b-a3b", 30_532_122_624),      # HF Qwen/Qwen3-30B-A3B safetensors total
    ("qwen3-235b-a22b", 235_093_634_560),   # HF Qwen/Qwen3-235B-A22B safetensors total
    ("qwen1.5-moe-a2.7b", 14_315_784_192),  # HF Qwen1.5-MoE-A2.7B (model card 14.3B)
    ("qwen2-57b-a14b", 57_408_658_944),     # HF Qwen2-57B-A14B
    ("gpt-oss-20b", 20_914_757_184),        # HF openai/gpt-oss-20b total (= model card's 20.91B)
    ("gpt-oss-120b", 116_829_156_672),      # HF openai/gpt-oss-120b total (= model card's 116.83B)
    ("llama4-scout", 108_641_793_536),      # Llama-4-Scout-17B-16E, its vision encoder and projector included
    ("llama4-maverick", 401_583_781_376),   # Llama-4-Maverick-17B-128E, Scout's vision encoder and projector in
    ("gemma2-2b", 2_614_341_888),           # HF google/gemma-2-2b safetensors total
    ("gemma2-9b", 9_241_705_984),           # HF transformers num_parameters() of gemma-2-9b's config
    ("gemma2-27b", 27_227_128_320),         # HF transformers num_parameters() of gemma-2-27b's config
    ("dbrx", 131_596_523_520),              # HF transformers num_parameters() of databricks/dbrx-base's config
    ("grok-1", 315_684_820_992),            # xai-org/grok-1 run.py config, every weight counted (README: 314B)
]


@pytest.mark.parametrize("name, expected", CHECKPOINT_TOTALS)
def test_exact_counts(name, expected):
    assert count_params(llmcalc.load(name)).total == expected


def test_deepseek_v3_routing_bias_is_a_buffer_shown_apart():
    count = count_params(llmcalc.load("deepseek-v3"))
    # 256 values in each of the 58 MoE layers and in the MTP layer; with them the count is 671,026,419,200.
    assert count.buffer_total == 59 * 256
    assert count.total + 58 * 256 == 671_026_419_200


def test_deepseek_v3_mtp_module_counted_apart():
    count = count_params(llmcalc.load("deepseek-v3"))
    # Reference data: the MTP module's own parameters 11,610,068,224 include its 256 routing-bias values.
    assert count.optional_total + 256 == 11_610_068_224
    # README_WEIGHTS' 11.5B is the module's transformer block alone.
    block = sum(r.total for r in count.optional if not r.component.startswith("mtp."))
    assert block == 11_507_286_016
    assert count.optional_total not in (0, count.total)


def test_deepseek_active_conventions():
    v3 = llmcalc.load("deepseek-v3")
    # Reference data: 37,552,297,472 with both embeddings, counting the 58 x 256 routing-bias values.
    assert count_params(v3).active + 58 * 256 == 37_552_297_472
    lite = llmcalc.load("deepseek-v2-lite")
    assert count_params(lite).active == 2_661_150_208
    assert count_params(lite, False).active == 2_451_435_008  # "2.4B": only without the input embedding
    assert count_params(llmcalc.load("deepseek-v2"), False).active == 20_851_512_320


def test_gpt_oss_active_without_input_embedding_reproduces_model_card():
    # gpt-oss model card Table 1: active counts the unembedding but not the embedding.
    assert count_params(llmcalc.load("gpt-oss-120b"), False).active == 5_132_849_472
    assert count_params(llmcalc.load("gpt-oss-20b"), False).active == 3_608_307_264
    assert count_params(llmcalc.load("gpt-oss-120b")).active == 5_711_982_912


@pytest.mark.parametrize("name, mlp, attention, embed", [
    ("gpt-oss-120b", 114.71e9, 0.96e9, 1.16e9),  # model card Table 1 breakdown
    ("gpt-oss-20b", 19.12e9, 0.64e9, 1.16e9),
])
def test_gpt_oss_model_card_breakdown(name, mlp, attention, embed):
    count = count_params(llmcalc.load(name))
    by_part = {"mlp": 0, "attn": 0, "embed": 0}
    for row in count.rows:
        part = row.component.split(".")[0]
        if part == "moe":
            by_part["mlp"] += row.total
        elif part == "attn":
            by_part["attn"] += row.total
        elif row.embedding:
            by_part["embed"] += row.total
    assert abs(by_part["mlp"] - mlp) <= 0.005e9
    assert abs(by_part["attn"] - attention) <= 0.005e9
    assert abs(by_part["embed"] - embed) <= 0.005e9


def test_gpt_oss_sinks_and_biases():
    rows = {(r.group, r.component): r.per_layer for r in count_params(llmcalc.load("gpt-oss-20b")).rows}
    assert rows[("local", "attn.sinks")] == rows[("global", "attn.sinks")] == 64
    assert rows[("local", "attn.bias")] == 64 * 64 + 2 * 8 * 64 + 2880
    assert rows[("local", "moe.router")] == 2880 * 32 + 32
    assert rows[("local", "moe.experts")] == 32 * (3 * 2880 * 2880 + 2 * 2880 + 2880)


def test_qwen3_qk_norm_and_wide_heads():
    rows = {r.component: r.per_layer for r in count_params(llmcalc.load("qwen3-30b-a3b")).rows if r.group}
    assert rows["attn.qk_norm"] == 2 * 128
    assert rows["attn.q"] == 2048 * 32 * 128  # d_head 128 != d_model / n_heads = 64


def test_qwen_moe_shared_expert_gate_and_qkv_bias():
    rows = {r.component: r.per_layer for r in count_params(llmcalc.load("qwen1.5-moe-a2.7b")).rows if r.group}
    assert rows["moe.shared_gate"] == 2048
    assert rows["moe.shared"] == 3 * 2048 * 5632
    assert rows["attn.bias"] == 3 * 16 * 128  # q, k and v; no o bias
    assert "attn.qk_norm" not in rows


def test_published_active_figures_of_qwen_llama4_dbrx():
    # Reference data: computed active counts with both embeddings.
    assert count_params(llmcalc.load("qwen1.5-moe-a2.7b")).active == 2_689_173_504
    assert count_params(llmcalc.load("qwen2-57b-a14b")).active == 14_249_270_784
    assert count_params(llmcalc.load("qwen3-30b-a3b")).active == 3_353_032_704
    assert count_params(llmcalc.load("qwen3-235b-a22b")).active == 22_190_763_520
    assert count_params(llmcalc.load("llama4-scout")).active == 17_172_894_720
    assert count_params(llmcalc.load("llama4-maverick")).active == 17_184_691_200
    assert count_params(llmcalc.load("dbrx")).active == 36_469_708_800
    assert count_params(llmcalc.load("grok-1")).active == 83_756_587_008


def test_llama4_maverick_interleaves_dense_and_moe():
    model = llmcalc.load("llama4-maverick")
    moe_layers = [i for i, layer in enumerate(model.layers) if layer.moe]
    assert moe_layers == list(range(1, 48, 2))  # interleave_moe_layer_step 2
    global_layers = [i for i, layer in enumerate(model.layers) if not layer.attention.chunk_size]
    assert global_layers == list(range(3, 48, 4))  # NoPE, full attention every 4th layer


def test_gemma2_matches_paper_non_embedding_counts():
    # Gemma 2 paper Table 2: non-embedding parameters (exact).
    for name, expected in (("gemma2-2b", 2_024_517_888), ("gemma2-9b", 8_324_201_984),
                           ("gemma2-27b", 26_047_480_320)):
        assert count_params(llmcalc.load(name)).non_embedding == expected
    # Its embedding counts use the 256,128-row JAX vocabulary.
    assert 256_128 * 2304 == 590_118_912


def test_gemma2_sandwich_norms_four_per_layer():
    rows = [r for r in count_params(llmcalc.load("gemma2-2b")).rows if r.group == "local"]
    assert sorted(r.component for r in rows if r.component.startswith("norm.")) == [
        "norm.post_attn", "norm.post_mlp", "norm.pre_attn", "norm.pre_mlp"]


# ------------------------------------------------------------------------------ KV cache


def test_deepseek_kv_cache_latent():
    # DeepSeek-V3: (512 + 64) x 61 layers x 2 bytes = 70,272 bytes per token in bf16.
    assert kv_cache(llmcalc.load("deepseek-v3"), 1, dtype="bf16").bytes_per_token == 70_272
    # DeepSeek-V2 Table 1: (d_c + d_h^R) l = 576 x 60 = 34,560 elements per token.
    assert kv_cache(llmcalc.load("deepseek-v2"), 1).elements_per_token == 34_560


def test_gpt_oss_windowed_layers_hold_at_most_128_tokens():
    model = llmcalc.load("gpt-oss-120b")
    cache = kv_cache(model, context=100_000, dtype="bf16")
    by_name = {g.name: g for g in cache.groups}
    assert by_name["local"].cached_tokens == 128
    assert by_name["global"].cached_tokens == 100_000
    per_token_layer = 2 * 8 * 64 * 2
    assert cache.bytes == 18 * per_token_layer * (128 + 100_000)


def test_llama4_chunked_layers_hold_one_chunk():
    cache = kv_cache(llmcalc.load("llama4-scout"), context=1_000_000, dtype="bf16")
    per_token_layer = 2 * 8 * 128 * 2
    assert cache.bytes == 36 * per_token_layer * 8192 + 12 * per_token_layer * 1_000_000


def test_gemma2_local_layers_capped_at_4096():
    cache = kv_cache(llmcalc.load("gemma2-9b"), context=8192, dtype="bf16")
    assert cache.bytes == 21 * 2 * 8 * 256 * 2 * (4096 + 8192)


# ------------------------------------------------------------------------------ FLOPs


def test_chunked_attention_pairs():
    # Chunks of 4: queries 1..10 see 1,2,3,4, 1,2,3,4, 1,2 keys.
    assert attention_pairs(10, 10, None, "causal", chunk=4) == 10 + 10 + 3
    # The last 3 queries of 10 see 4, 1, 2.
    assert attention_pairs(3, 10, None, "causal", chunk=4) == 4 + 1 + 2
    assert attention_pairs(10, 10, None, "full", chunk=4) == 100


NOT_MATMUL = ("embed.token", "attn.qk_norm", "attn.q_norm", "attn.kv_norm", "norm.pre_attn", "norm.pre_mlp",
              "norm.final")


@pytest.mark.parametrize("name", ["qwen3-30b-a3b", "llama4-maverick", "deepseek-v3", "dbrx"])
def test_one_token_flops_are_twice_active_matrix_weights(name):
    # One token seeing one key: every active weight matrix is used once (2 FLOPs per weight) -- routed experts
    # top_k of n_experts -- plus Q.K and P.V over one key. These models have no biases.
    model = llmcalc.load(name)
    count = count_params(model)
    matrices = sum(r.active for r in count.rows if r.component not in NOT_MATMUL)
    attention = sum(g.count * 2 * g.layer.attention.n_heads * (g.layer.attention.qk_head_dim
                                                                 + g.layer.attention.v_head_dim)
                    for g in model.groups)
    assert count_flops(model, seq=1, attention="full", include_other=False).matmul == 2 * matrices + attention


def test_rumoured_gpt4_listed_not_failing():
    checks = verify([llmcalc.load("gpt4-rumoured-16e"), llmcalc.load("gpt4-rumoured-8x220b")])
    assert checks and all(c.status == "rumour" and c.ok for c in checks)
    # A rumoured spec that disagrees wildly still does not fail verify.
    model = dataclasses.replace(llmcalc.load("gpt4-rumoured-16e"), n_layers=1,
                                layers=llmcalc.load("gpt4-rumoured-16e").layers[:1])
    assert all(c.ok and not c.within for c in verify([model]) if c.published.figure == "params_total")


def test_every_builtin_spec_passes_verify():
    checks = verify(llmcalc.load_all())
    failed = [(c.model, c.published.as_published) for c in checks if not c.ok]
    assert failed == []


# Built-in spec -> the published config.json it was written from (tests/data/hf_configs, sources in its README).
BUILTIN_CONFIGS = [
    ("deepseek-v3", "DeepSeek-V3"), ("deepseek-v2", "DeepSeek-V2"), ("deepseek-v2-lite", "DeepSeek-V2-Lite"),
    ("qwen3-30b-a3b", "Qwen3-30B-A3B"), ("qwen3-235b-a22b", "Qwen3-235B-A22B"), ("qwen2-57b-a14b", "Qwen2-57B-A14B"),
    ("gpt-oss-120b", "gpt-oss-120b"), ("llama4-scout", "Llama-4-Scout-17B-16E"),
    ("llama4-maverick", "Llama-4-Maverick-17B-128E"), ("gemma2-2b", "gemma-2-2b"), ("gemma2-9b", "gemma-2-9b"),
    ("gemma2-27b", "gemma-2-27b"), ("dbrx", "dbrx-instruct"), ("mixtral-8x7b", "Mixtral-8x7B-v0.1"),
    ("llama3-8b", "Meta-Llama-3-8B"),
]


@pytest.mark.parametrize("name, config", BUILTIN_CONFIGS)
def test_builtin_spec_equals_its_published_config(name, config):
    # Not just the total: the same rows per layer group, the same KV cache past every window, the same FLOPs.
    from pathlib import Path

    path = Path(__file__).parent / "data" / "hf_configs" / f"{config}.json"
    ours, imported = llmcalc.load(name), llmcalc.load(str(path))
    if config == "Llama-4-Maverick-17B-128E":  # its config copy sets a vision tower of no layers: the text alone
        ours, imported = dataclasses.replace(ours, vision=None), dataclasses.replace(imported, vision=None)
    rows = lambda m: sorted((r.component, r.total, r.active) for r in count_params(m).rows)  # noqa: E731
    assert rows(ours) == rows(imported)
    assert [layer.attention.local_span for layer in ours.layers] == [
        layer.attention.local_span for layer in imported.layers]
    assert kv_cache(ours, 100_000).bytes == kv_cache(imported, 100_000).bytes
    assert count_flops(ours, 4096).total == count_flops(imported, 4096).total
