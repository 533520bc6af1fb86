"""KV cache bytes against published and derived vectors (reference formulas: 2 x L x n_kv x d_head x bytes)."""

from __future__ import annotations

import pytest

import llmcalc
from llmcalc.formulas.kv import kv_cache

# bf16 bytes per token. Llama-3.1-405B 516,096: "Insights into DeepSeek-V3" (ISCA 2025) Table 1 (516 KB);
# the others are the formula 2 * layers * kv_heads * d_head * 2 bytes (MHA 32 x 32 x 128 for Llama-2-7B).
BF16_BYTES_PER_TOKEN = [
    ("llama2-7b", 524_288),
    ("llama2-70b", 327_680),
    ("llama3-8b", 131_072),
    ("mistral-7b", 131_072),
    ("llama3.1-405b", 516_096),
]


@pytest.mark.parametrize("name, expected", BF16_BYTES_PER_TOKEN)
def test_bytes_per_token(name, expected):
    assert kv_cache(llmcalc.load(name), context=1).bytes_per_token == expected


def test_mistral_window_makes_cache_8x_smaller_at_32k():
    # Mistral 7B paper: the rolling buffer of W = 4096 "reduces the cache memory usage by 8x" at 32k tokens.
    cache = kv_cache(llmcalc.load("mistral-7b"), context=32768)
    assert cache.bytes * 8 == 32768 * cache.bytes_per_token
    assert cache.bytes == 2**29  # 0.5 GiB in bf16 at batch 1


@pytest.mark.parametrize("dtype, bits", [("fp32", 32), ("fp16", 16), ("bf16", 16), ("fp8", 8), ("int8", 8),
                                         ("int4", 4)])
def test_dtypes(dtype, bits):
    cache = kv_cache(llmcalc.load("llama3-8b"), context=1000, batch=3, dtype=dtype)
    assert cache.bytes == 3 * 1000 * 2 * 32 * 8 * 128 * bits // 8


def test_linear_in_batch_and_context_below_window():
    model = llmcalc.load("mistral-7b")
    base = kv_cache(model, 1000).bytes
    assert kv_cache(model, 1000, batch=5).bytes == 5 * base
    assert kv_cache(model, 2000).bytes == 2 * base
    assert kv_cache(model, 8000).bytes == kv_cache(model, 4096).bytes  # capped by the window


def test_gqa_with_all_kv_heads_equals_mha(write_spec):
    from conftest import MINIMAL

    mha = llmcalc.load(str(write_spec("mha", MINIMAL)))
    gqa = llmcalc.load(str(write_spec("gqa", MINIMAL.replace("{n_heads: 4}", "{n_heads: 4, n_kv_heads: 4}"))))
    assert kv_cache(mha, 77).bytes == kv_cache(gqa, 77).bytes


DEEPSEEK_V3_MLA = """
vocab_size: 129280
d_model: 7168
n_layers: 61
context_length: 163840
position: rope
norm: {kind: rmsnorm}
attention:
  n_heads: 128
  mla: {q_lora_rank: 1536, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128}
mlp: {activation: swiglu, d_ff: 18432}
"""


def test_mla_cache_deepseek_v3(write_spec):
    # "Insights into DeepSeek-V3" (ISCA 2025) Table 1: 70.272 KB per token in BF16 = 61 x (512 + 64) x 2.
    model = llmcalc.load(str(write_spec("dsv3-attention", DEEPSEEK_V3_MLA)))
    assert kv_cache(model, 1).bytes_per_token == 70_272
    # The decompressed per-head cache of the Hugging Face reference code: 128 heads x (192 + 128) per layer.
    assert kv_cache(model, 1, mla_cache="decompressed").elements_per_token == 61 * 128 * (192 + 128)


def test_mla_cache_deepseek_v2_elements(write_spec):
    # DeepSeek-V2 sec. 3.1.2 / Table 9: 60 layers x (512 + 64) = 34,560 elements per token ("34.6K").
    v2 = DEEPSEEK_V3_MLA.replace("n_layers: 61", "n_layers: 60").replace("d_model: 7168", "d_model: 5120")
    model = llmcalc.load(str(write_spec("dsv2-attention", v2)))
    assert kv_cache(model, 1).elements_per_token == 34_560


def test_mla_attention_parameters(write_spec):
    # DeepSeek-V3's MLA holds 187,107,328 parameters per layer (reference computation from its config,
    # equal to the Hugging Face DeepseekV3Attention module).
    from llmcalc.formulas.params import count_params

    model = llmcalc.load(str(write_spec("dsv3-attention", DEEPSEEK_V3_MLA)))
    rows = [r for r in count_params(model).rows if r.group and r.component.startswith("attn.")]
    assert sum(r.per_layer for r in rows) == 187_107_328
    assert model.layers[0].attention.kind == "MLA"


def test_mla_rejects_gqa_keys(write_spec):
    from llmcalc.errors import SpecError

    bad = DEEPSEEK_V3_MLA.replace("n_heads: 128\n", "n_heads: 128\n  n_kv_heads: 8\n")
    with pytest.raises(SpecError, match="not used with mla"):
        llmcalc.load(str(write_spec("bad-mla", bad)))
