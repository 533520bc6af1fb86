"""KV cache bytes against published and derived vectors (reference formulas: 2 x L x n_kv x d_head x bytes)."""

from __future__ import annotations

import pytest

import llmcalc
from llmcalc.memory import kv_cache

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
