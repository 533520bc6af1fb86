"""`llmcalc sweep` and llmcalc.sweep: the --vary grammar, a point per value and model that equals the single
calculations it stands for, n_layers on grouped layer stacks, and the CSV / JSON / chart outputs."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.api import layers_overrides, parse_sweep
from llmcalc.cli import cli
from llmcalc.errors import LlmcalcError

# Llama 3 8B's KV cache per token in bf16: K and V, 32 layers x 8 KV heads x 128 dims x 2 bytes = 128 KiB.
LLAMA3_8B_KV_PER_TOKEN = 2 * 32 * 8 * 128 * 2


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("text, variable, values", [
    ("context=1k..128k", "context", [1024 * 2**i for i in range(8)]),
    ("context=1000..5000", "context", [1000, 2000, 4000]),
    ("batch=1,8,64", "batch", [1, 8, 64]),
    ("n_layers=16..64:16", "n_layers", [16, 32, 48, 64]),
    ("n-layers=2", "n_layers", [2]),
    ("context=1.5k,2m", "context", [1536, 2 * 2**20]),
    ("context=4k", "context", [4096]),
    ("batch=1..4, 32", "batch", [1, 2, 4, 32]),
    ("dtype=fp32,bf16,int4", "dtype", ["fp32", "bf16", "int4"]),
    ("dtype=all", "dtype", ["fp32", "bf16", "fp16", "fp8", "int8", "int4"]),
    ("seq=1k,4k", "context", [1024, 4096]),  # the name of earlier releases
    ("context=9007199254740993", "context", [2**53 + 1]),  # exact: no float rounding (bounded later, by sweep)
])
def test_parse_sweep(text, variable, values):
    assert parse_sweep(text) == (variable, values)


@pytest.mark.parametrize("text, words", [
    ("context", "expected VARIABLE=VALUES"),
    ("context=", "expected VARIABLE=VALUES"),
    ("width=3", "'width' is not allowed; allowed: context, batch, dtype, n_layers"),
    ("context=4k..1k", "runs backwards"),
    ("context=abc", "'abc' is not a whole number"),
    ("context=0", "whole number >= 1"),
    ("context=1.3", "is not a whole number"),
    ("context=inf", "is not a whole number"),
    ("batch=1..5000:1", "more than 1,000 values"),
    ("dtype=fp64", "'fp64' is not allowed"),
])
def test_parse_sweep_errors(text, words):
    with pytest.raises(LlmcalcError, match=words.replace("(", r"\(").replace(".", r"\.")):
        parse_sweep(text)


def test_sweep_points_equal_the_single_calculations():
    result = llmcalc.sweep(["llama3-8b", "mistral-7b"], "context", [1024, 8192, 65536])
    assert result.values == (1024, 8192, 65536)
    assert [m.name for m in result.models] == ["llama3-8b", "mistral-7b"]
    for value, row in zip(result.values, result.points):
        for model, point in zip(result.models, row):
            assert point.kv_cache_bytes == llmcalc.kv_cache(model, value).bytes
            assert point.memory_bytes == llmcalc.estimate_memory(model, context=value).per_gpu
            assert point.flops_per_token == llmcalc.count_flops(model, value).per_token
            assert point.beyond_context == (value > model.context_length)
    assert [row[0].kv_cache_bytes for row in result.points] == [LLAMA3_8B_KV_PER_TOKEN * v for v in result.values]


def test_sweep_batch_and_dtype():
    batch = llmcalc.sweep(["llama3-8b"], "batch", [1, 4], context=1024)
    assert batch.points[1][0].kv_cache_bytes == 4 * batch.points[0][0].kv_cache_bytes == 4 * 1024 * 131072
    dtypes = llmcalc.sweep(["llama3-8b"], "dtype", ["fp32", "bf16", "int4"], context=1024)
    caches = [row[0].kv_cache_bytes for row in dtypes.points]
    assert caches == [2 * caches[1], caches[1], caches[1] // 4]
    assert "dtype" not in dtypes.settings and "kv_dtype" not in dtypes.settings


def test_sweep_n_layers_uniform_stack():
    result = llmcalc.sweep(["llama3-8b"], "n_layers", [16, 32], context=1024)
    small, full = (row[0] for row in result.points)
    assert full.kv_cache_bytes == 2 * small.kv_cache_bytes == LLAMA3_8B_KV_PER_TOKEN * 1024
    assert full.flops_per_token == llmcalc.count_flops("llama3-8b", 1024).per_token


def test_n_layers_on_grouped_stacks_changes_the_last_group():
    # DeepSeek-V3: 3 dense layers stay, the MoE group takes the rest.
    assert layers_overrides(llmcalc.load("deepseek-v3"), 8) == ["n_layers=8", "layers[1].count=5"]
    # Gemma 2 9B: local/global pairs; only whole pairs.
    assert layers_overrides(llmcalc.load("gemma2-9b"), 8) == ["n_layers=8", "layers[0].repeat=4"]
    assert layers_overrides(llmcalc.load("llama3-8b"), 8) == ["n_layers=8"]
    with pytest.raises(LlmcalcError, match="repeated pattern of 2 layers; allowed: 2, 4, 6, 8"):
        layers_overrides(llmcalc.load("gemma2-9b"), 7)
    with pytest.raises(LlmcalcError, match="follows 3 other layers; allowed: 4 or more"):
        layers_overrides(llmcalc.load("deepseek-v3"), 3)


def test_sweep_n_layers_deepseek_counts_groups():
    result = llmcalc.sweep(["deepseek-v3"], "n_layers", [8, 61], context=1024)
    assert result.points[1][0].kv_cache_bytes == llmcalc.kv_cache("deepseek-v3", 1024).bytes
    # MLA caches 512 + 64 values per layer and token: 8 layers hold 8/61 of the 61-layer cache.
    assert result.points[0][0].kv_cache_bytes * 61 == result.points[1][0].kv_cache_bytes * 8


def test_sweep_bad_arguments():
    with pytest.raises(LlmcalcError, match="at least one model"):
        llmcalc.sweep([], "context", [1])
    with pytest.raises(LlmcalcError, match="at least one value"):
        llmcalc.sweep(["gpt2-small"], "context", [])
    with pytest.raises(LlmcalcError, match="variable: 'width' is not allowed"):
        llmcalc.sweep(["gpt2-small"], "width", [1])
    with pytest.raises(LlmcalcError, match="context: must be a whole number >= 1"):
        llmcalc.sweep(["gpt2-small"], "context", [0])


def test_cli_sweep_table_and_chart():
    result = run("sweep", "llama3-8b", "llama2-7b", "--vary", "context=1k..64k", "--chart", "kv")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Sweep of context: llama3-8b vs llama2-7b" in out
    assert "KV cache (GiB) by context" in out
    for label in ("1k", "2k", "64k"):
        assert label in out
    assert "* beyond the model's context length" in out
    # Llama 2's context is 4,096 tokens, Llama 3's 8,192: at 8k only Llama 2's three cells are starred.
    row = {line.split()[0]: line for line in out.splitlines() if line.strip()[:1].isdigit()}
    assert row["4,096"].count("*") == 0
    assert row["8,192"].count("*") == 3
    assert row["65,536"].count("*") == 6


def test_log_chart_labels_are_plain_numbers():
    # Llama 3 8B holds 128 KiB of KV cache per token in bf16: 8,192 tokens x batch 2^20 = 2^20 GiB on top.
    out = run("sweep", "llama3-8b", "--vary", "batch=1..1m", "--chart", "kv", "--log").stdout
    labels = [line.split("┤")[0].strip() for line in out.splitlines() if "┤" in line]
    assert labels[0] == "1,048,576" and labels[-1] == "1"
    assert not any("e+" in label for label in labels)


def test_cli_sweep_csv_columns_and_values():
    result = run("sweep", "llama3-8b", "--vary", "context=1k..4k", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["context", "llama3-8b kv_cache_bytes", "llama3-8b memory_bytes",
                             "llama3-8b flops_per_token", "llama3-8b beyond_context"]
    assert [int(r["context"]) for r in rows] == [1024, 2048, 4096]
    assert [int(r["llama3-8b kv_cache_bytes"]) for r in rows] == [LLAMA3_8B_KV_PER_TOKEN * s for s in (1024, 2048, 4096)]
    assert {r["llama3-8b beyond_context"] for r in rows} == {"False"}


def test_cli_sweep_json_names_variants_apart():
    result = run("sweep", "llama3-8b", "llama3-8b", "--set", "2:attention.n_kv_heads=4", "--vary", "context=1k",
                 "--json")
    data = json.loads(result.stdout)
    assert [m["name"] for m in data["models"]] == ["llama3-8b", "llama3-8b (attention.n_kv_heads=4)"]
    first, second = (m["points"][0]["kv_cache_bytes"] for m in data["models"])
    assert first == 2 * second


def test_cli_sweep_error_is_one_line():
    result = run("sweep", "deepseek-v3", "--vary", "n_layers=2")
    assert result.exit_code != 0
    assert result.output.startswith("error: n_layers=2: deepseek-v3's last layer group follows 3 other layers")
    assert "Traceback" not in result.output


def test_sweep_and_memory_give_the_same_answer_to_the_same_question():
    # Issue 17: sweep's KV cache took --dtype (fp8) while memory's took bf16: 17.23 vs 21.23 GiB for one question.
    point = llmcalc.sweep(["llama3-8b"], "batch", [4], dtype="fp8").points[0][0]
    memory = llmcalc.estimate_memory("llama3-8b", dtype="fp8", batch=4)
    assert point.memory_bytes == memory.per_gpu
    assert point.kv_cache_bytes == llmcalc.kv_cache("llama3-8b", None, 4, "bf16").bytes
