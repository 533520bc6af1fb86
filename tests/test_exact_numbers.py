"""Issue 17: exact integers in JSON and CSV wherever the figure is a whole number (`per_gpu` came out as
16060522496.0), every byte count an integer, and compare's CSV writes a size as a number ("3,072" was quoted text
for GPT-2's d_ff while d_model was 768)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli

COMMANDS = [
    ["count", "mixtral-8x7b"], ["compare", "gpt2-small", "mixtral-8x7b", "deepseek-v3"],
    ["flops", "llama3-8b"], ["flops", "llama3-8b", "--training", "--n-gpus", "8", "--gpu", "h100", "--mfu", "0.4",
                             "--price", "2"],
    ["memory", "llama3-8b"], ["memory", "llama3-8b", "--tp", "2"], ["memory", "llama3-8b", "--kv-dtype", "int4"],
    ["memory", "mixtral-8x7b", "--mode", "training", "--zero", "3", "--dp", "8"],
    ["memory", "llama3-8b", "--mode", "training", "--finetune", "qlora"],
    ["memory", "llama3-8b", "--engine", "vllm", "--gpu", "h100"],
    ["memory", "llama3-8b", "--engine", "llamacpp", "--dtype", "q4_k"],
    ["memory", "deepseek-v3", "--dtype", "fp8_block", "--tp", "8"],
    ["fit", "llama3-70b"], ["fit", "llama3-70b", "--mode", "training", "--zero", "3"],
    ["sweep", "llama3-8b", "mixtral-8x7b", "--vary", "context=1k..8k"], ["sweep", "llama3-8b", "--vary", "batch=1,3"],
]
# where a float is the figure: ratios, averages, times, money, settings and options given as numbers
FRACTIONS = {"ratio_to_first", "settings", "pf_days", "days", "gpu_hours", "cost", "seconds", "mfu", "gpu_util",
             "peak_flops", "price", "max_concurrency", "tolerance", "error", "bytes_per_param",
             "adapter_bytes_per_param", "weights", "gradients", "optimizer"}


def floats(tree, path=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from floats(value, path + (key,))
    elif isinstance(tree, list):
        for value in tree:
            yield from floats(value, path)
    elif isinstance(tree, float):
        yield path, tree


def is_byte_count(key: str) -> bool:
    return key in ("bytes", "per_gpu") or key.endswith("_bytes")


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_whole_figures_are_integers_in_json(args):
    result = CliRunner().invoke(cli, args + ["--json"])
    assert result.exit_code == 0, result.output
    for path, value in floats(json.loads(result.stdout)):
        assert not is_byte_count(path[-1]), (path, value)  # every byte count is an int, fractional or not
        if value.is_integer():
            assert FRACTIONS & set(path), (path, value)


@pytest.mark.parametrize("args", [a for a in COMMANDS if a[0] in ("memory", "sweep", "fit", "flops")], ids=" ".join)
def test_byte_counts_in_csv_are_whole_numbers(args):
    result = CliRunner().invoke(cli, args + ["--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows
    for row in rows:
        for key, value in row.items():
            if is_byte_count(key.split(" ")[-1]) and value:
                assert re.fullmatch(r"\d+", value), (key, value)


def test_vllm_figures_are_whole_bytes():
    doc = json.loads(CliRunner().invoke(cli, ["memory", "llama3-8b", "--engine", "vllm", "--gpu", "h100",
                                              "--json"]).stdout)["models"][0]
    parts = {p["name"]: p["bytes"] for p in doc["parts"]}
    assert parts["non_torch"] == 1921997865  # 1.79 GiB, as vLLM logs it (1,921,997,864.96 rounded up)
    # the KV cache part is what vLLM reserves for it, the rest of 0.9 x 80 GiB (as its log counts), a whole byte
    assert isinstance(parts["kv_cache"], int) and doc["total"]["per_gpu"] == 9 * 8 * 2**30  # 0.9 x 80 GiB
    assert 0 <= sum(parts.values()) - doc["total"]["per_gpu"] < len(parts)  # each part rounded up by under a byte


def test_compare_csv_writes_sizes_as_numbers():
    text = CliRunner().invoke(cli, ["compare", "gpt2-small", "llama3-8b", "--format", "csv"]).stdout
    rows = {r["quantity"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["d_ff"] == {"quantity": "d_ff", "gpt2-small": "3072", "llama3-8b": "14336"}
    assert rows["d_model"]["gpt2-small"] == "768"
    assert not re.search(r'"\d{1,3}(,\d{3})+"', text)  # no size written as quoted text


def test_training_memory_has_no_kv_cache():
    doc = json.loads(CliRunner().invoke(cli, ["memory", "llama3-8b", "--mode", "training", "--json"]).stdout)
    assert "kv_cache" not in doc["models"][0] and "activations" in doc["models"][0]
