"""`llmcalc fit` and the GPU presets: the answers are the edges where memory stops fitting."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.hardware import load_gpus
from llmcalc.formulas.serving import VLLM_NON_TORCH, serving_memory
from llmcalc.units import GIB


def fit(*args):
    result = CliRunner().invoke(cli, ["fit", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["models"][0]


def test_presets_have_sources_and_sane_values():
    gpus = load_gpus()
    assert {"a100-40gb", "a100-80gb", "h100-80gb", "h200", "b200", "l40s", "rtx-4090", "mi300x"} <= set(gpus)
    for gpu in gpus.values():
        assert gpu.source and gpu.memory_bytes >= 24 * GIB and gpu.bf16_flops >= 1e14
    assert gpus["h100-80gb"].bf16_flops == 989.4e12  # NVIDIA H100 datasheet: 1,979 TFLOPS with sparsity / 2
    assert gpus["a100-80gb"].bf16_flops == 312e12     # NVIDIA A100 datasheet


def test_inference_fewest_gpus_is_the_edge():
    model = llmcalc.load("llama3-70b")
    total = llmcalc.count_params(model)
    result = fit("llama3-70b", "--gpu", "h100-80gb", "--context", "8192")
    n = result["fewest_gpus"]
    # an engine may use 0.9 of the card (vLLM's default gpu_memory_utilization) less what it needs outside PyTorch
    assert serving_memory(model, total, 8192, tp=n).per_gpu + VLLM_NON_TORCH[2] <= 0.9 * 80 * GIB
    assert serving_memory(model, total, 8192, tp=n // 2).per_gpu + VLLM_NON_TORCH[1] > 0.9 * 80 * GIB
    assert n == 2  # 141 GB of bf16 weights do not fit one 80 GiB card


def test_largest_batch_is_the_edge():
    model = llmcalc.load("llama3-8b")
    total = llmcalc.count_params(model)
    result = fit("llama3-8b", "--gpu", "l40s", "--context", "8192")
    n, batch = result["fewest_gpus"], result["largest_batch"]
    assert n == 1 and batch >= 1
    usable = 0.9 * 48 * GIB - VLLM_NON_TORCH[1]
    assert serving_memory(model, total, 8192, batch, tp=n).per_gpu <= usable
    assert serving_memory(model, total, 8192, batch + 1, tp=n).per_gpu > usable


def test_pipeline_stages_multiply_the_tensor_parallel_gpus():
    """--pp 2: the search raises TP as before, each a replica of 2 stages; the largest batch is the edge of the
    most loaded stage's memory (tp and pp as chosen), and --n-gpus counts both."""
    model = llmcalc.load("llama3-70b")
    total = llmcalc.count_params(model)
    result = fit("llama3-70b", "--gpu", "h100-80gb", "--pp", "2", "--n-gpus", "8")
    assert result["fewest_gpus"] == 2 and result["n_gpus"] == 8
    assert result["settings"]["tp"] == 4 and result["settings"]["pp"] == 2
    batch, usable = result["largest_batch"], 0.9 * 80 * GIB - VLLM_NON_TORCH[2]
    assert serving_memory(model, total, 8192, batch, tp=4, pp=2).per_gpu <= usable
    assert serving_memory(model, total, 8192, batch + 1, tp=4, pp=2).per_gpu > usable
    odd = CliRunner().invoke(cli, ["fit", "llama3-70b", "--pp", "2", "--n-gpus", "3"])
    assert odd.exit_code == 2 and "--n-gpus 3 is not a multiple of --pp 2" in odd.output


def test_gpu_mem_override():
    # 5.33 GiB of int4 weights (embeddings and head kept in bf16) and the engine's share: one 10 GiB card
    small = fit("llama3-8b", "--gpu-mem", "10", "--dtype", "int4", "--context", "1024")
    assert small["gpu_memory_bytes"] == 10 * GIB and small["fewest_gpus"] == 1


def test_training_with_zero_raises_data_parallelism():
    result = fit("llama3-8b", "--mode", "training", "--zero", "3", "--recompute", "full", "--context", "4096")
    assert result["fits"] and result["settings"]["zero"] == 3
    assert result["fewest_gpus"] == result["settings"]["dp"] > 1
    assert result["largest_batch"] >= 1 and result["context"] == 4096


def test_training_that_cannot_fit_says_so():
    result = fit("llama3-70b", "--mode", "training", "--zero", "0")
    assert result["fits"] is False and result["fewest_gpus"] is None


def test_unknown_gpu():
    result = CliRunner().invoke(cli, ["fit", "gpt2-small", "--gpu", "h10"])
    assert result.exit_code == 2 and "h100-80gb" in result.output


@pytest.mark.parametrize("gpu", ["a100-40gb", "mi300x"])
def test_fit_table(gpu):
    result = CliRunner().invoke(cli, ["fit", "mistral-7b", "--gpu", gpu])
    assert result.exit_code == 0
    fewest = next(line for line in result.output.splitlines() if line.strip().startswith("fewest GPUs"))
    assert fewest.split()[-1] == "1"  # 7B in bf16 fits on one 40 GB card


def test_fit_on_a_given_number_of_gpus():
    fewest_only = fit("llama3-70b", "--context", "8192")
    on_eight = fit("llama3-70b", "--context", "8192", "--n-gpus", "8")
    assert on_eight["fewest_gpus"] == fewest_only["fewest_gpus"] == 2
    assert on_eight["n_gpus"] == 8 and on_eight["largest_batch"] > fewest_only["largest_batch"]
    too_few = fit("llama3-70b", "--context", "8192", "--n-gpus", "1")
    assert too_few["fits"] is False and too_few["fewest_gpus"] == 2


def test_memory_json_kv_groups():
    result = CliRunner().invoke(cli, ["memory", "mistral-7b", "--context", "8192", "--json"])
    group = json.loads(result.output)["models"][0]["kv_cache"]["groups"][0]
    assert group == {"name": "layers", "n_layers": 32, "bytes_per_token_per_layer": 4096, "cached_tokens": 4096}


def test_fit_says_which_gpu_counts_it_could_not_try(tmp_path):
    # 177B parameters in bf16 with 3 attention heads: no power of two above 1 splits the heads, so only one GPU is
    # tried and the answer says so instead of a bare "does not fit within --max-gpus"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "llama", "hidden_size": 12288, "num_attention_heads": 3,
                                  "num_key_value_heads": 1, "intermediate_size": 49152, "num_hidden_layers": 80}))
    result = CliRunner().invoke(cli, ["fit", str(config), "--gpu", "h100", "--json"])
    doc = json.loads(result.stdout)["models"][0]
    assert doc["fits"] is False and doc["not_tried"]["n_gpus"][:3] == [2, 4, 8]
    assert "does not divide the 3 attention heads" in doc["not_tried"]["why"]
    table = CliRunner().invoke(cli, ["fit", str(config), "--gpu", "h100"], env={"COLUMNS": "200"}).stdout
    assert "not tried on 2, 4, 8, 16... GPUs" in table


def test_fit_splits_a_hybrid_over_gpus(tmp_path):
    # Jamba's default (52B in bf16) needs more than one H100: its attention and its Mamba layers split over TP
    config = tmp_path / "config.json"
    config.write_text('{"model_type": "jamba"}')
    doc = json.loads(CliRunner().invoke(cli, ["fit", str(config), "--gpu", "h100", "--json"]).stdout)["models"][0]
    assert doc["fits"] is True and doc["n_gpus"] == 2


