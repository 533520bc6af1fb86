"""Memory formulas against ZeRO (Rajbhandari et al. 2020) and Korthikanti et al. 2022."""

from __future__ import annotations

import pytest

import llmcalc
from llmcalc.formulas.activations import training_activations
from llmcalc.formulas.memory import model_states, weight_bytes, zero_partition
from llmcalc.units import GB


def test_mixed_precision_adam_is_16_bytes_and_megatron_18():
    # ZeRO sec. 3.1: 2 (fp16 weights) + 2 (fp16 gradients) + 12 (fp32 master, momentum, variance) = 16 bytes.
    assert model_states("bf16", "bf16", "adamw").per_param == 16
    # Megatron's theoretical_memory_usage.py keeps fp32 gradients: 18 bytes.
    assert model_states("bf16", "fp32", "adamw").per_param == 18
    # fp32 training needs no master copy: 4 + 4 + 8.
    assert model_states("fp32", "fp32", "adamw").per_param == 16
    assert model_states("bf16", "bf16", "sgd").optimizer == 8  # EleutherAI cookbook: SGD + momentum = 8
    # the cookbook's 8-bit Adam = 6 (fp32 master 4 + two 8-bit moments), plus bitsandbytes' block-wise scales: one
    # fp32 absmax per 256 elements of each moment (bitsandbytes/optim/optimizer.py, Optimizer2State.init_state)
    assert model_states("bf16", "bf16", "adam8bit").optimizer == 6 + 2 * 4 / 256


def test_zero_figure_1():
    # ZeRO Figure 1: 7.5B parameters, 64 GPUs, K = 12: 120 GB, 31.4 GB, 16.6 GB, 1.9 GB per device.
    params, dp = 7.5e9, 64
    states = model_states("fp16", "fp16", "adamw")
    per_device = [zero_partition(states, stage, dp).per_param * params / GB for stage in (0, 1, 2, 3)]
    for computed, published in zip(per_device, (120, 31.4, 16.6, 1.9)):
        assert computed == pytest.approx(published, abs=0.05)


# Korthikanti et al. 2022, Table 2, at GPT-3 175B's shape (s = 2048, b = 1, h = 12288, a = 96, t = 8):
# sbh = 25,165,824 and 5as/h = 80. The paper's GPT layer keeps the S x S scores (eager attention) and trains with
# dropout; llmcalc's generalised bookkeeping must give back its table for that layer.
S, B, H, A, T = 2048, 1, 12288, 96, 8
SBH = S * B * H
GPT3 = llmcalc.load("gpt3-175b")


def per_layer(tp, sp, recompute):
    acts = training_activations(GPT3, S, B, tp, 1, sp, recompute, attention_impl="eager", dropout=True)
    return acts.group_bytes_per_token("layers") * S * B


@pytest.mark.parametrize("tp, sp, recompute, factor", [
    (1, False, "none", 34 + 80),                # no parallelism: sbh(34 + 5as/h)
    (T, False, "none", 10 + 24 / T + 80 / T),   # tensor parallel
    (T, True, "none", (34 + 80) / T),           # tensor + sequence parallel
    (T, False, "selective", 10 + 24 / T),       # tensor parallel + selective recomputation
    (T, True, "selective", 34 / T),             # tensor + sequence parallel + selective
])
def test_korthikanti_activations_per_layer(tp, sp, recompute, factor):
    assert per_layer(tp, sp, recompute) == pytest.approx(SBH * factor)


def test_full_recomputation_keeps_each_layers_input_and_one_working_set():
    # Table 2: full recomputation keeps the layer input, 2sbh per layer (t-split under sequence parallelism, where
    # Megatron-LM checkpoints the sequence-parallel hidden state); while one layer is recomputed its whole set is
    # alive, here the tensor-parallel row above: sbh(10 + 24/t + 5as/(ht)).
    acts = training_activations(GPT3, S, B, T, 1, False, "full", attention_impl="eager", dropout=True)
    working = SBH * (10 + 24 / T + 80 / T)
    around = sum(r.bytes_per_token for r in acts.rows if r.group is None) * S * B  # ids, embedding mask, head
    assert acts.bytes == pytest.approx(96 * 2 * SBH + working + around)
    split = training_activations(GPT3, S, B, T, 1, True, "full", attention_impl="eager", dropout=True)
    around_split = sum(r.bytes_per_token for r in split.rows if r.group is None) * S * B
    assert split.bytes == pytest.approx(96 * 2 * SBH / T + SBH * (34 + 80) / T + around_split)


def test_korthikanti_175b_first_stage_gib():
    # All 96 layers' worth on the first pipeline stage (8 micro-batches in flight of 12 layers each): the reference
    # notes derive 9.56 GiB for TP8 + SP + selective (the layers alone, without the embedding's ids and mask).
    acts = training_activations(GPT3, S, B, T, 8, True, "selective", attention_impl="eager", dropout=True)
    assert acts.peak.stage == 0 and acts.peak.in_flight == 8 and dict(acts.peak.layers) == {"layers": 12}
    assert acts.group_bytes_per_token("layers") * S * B * 96 / 2**30 == pytest.approx(9.56, abs=0.01)


def test_int4_weights_carry_group_scales_and_zero_points():
    # AWQ and GPTQ checkpoints: 4-bit weights, and per group of 128 a fp16 scale and a 4-bit zero point (qzeros).
    total, constants = weight_bytes(1280, "int4", group_size=128)
    assert constants == 10 * (16 + 4) // 8 and total == 640 + 25
    assert weight_bytes(1000, "bf16") == (2000, 0)


def test_only_the_linear_layers_are_quantized():
    params = llmcalc.count_params("llama3-8b")
    kept = 2 * 128256 * 4096 + (2 * 32 + 1) * 4096  # embedding, untied head, 65 RMSNorm weights
    linear = params.total - kept
    assert linear == 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336)
    report = llmcalc.estimate_memory("llama3-8b", dtype="int4", context=8192)
    assert report.part("weights").bytes == linear // 2 + linear // 128 * 20 // 8 + kept * 2
    # RedHatAI's Meta-Llama-3.1-8B-Instruct-quantized.w4a16 card: "Only the weights of the linear operators within
    # transformers blocks are quantized", per group of 128; AutoAWQ's default format adds a 4-bit zero point.
    fp8 = llmcalc.estimate_memory("llama3-8b", dtype="fp8", context=8192)
    assert fp8.part("weights").bytes == linear + kept * 2


def test_training_table_wording_on_one_and_many_gpus():
    from click.testing import CliRunner

    from llmcalc.cli import cli

    one = CliRunner().invoke(cli, ["memory", "llama3-8b", "--mode", "training"], env={"COLUMNS": "200"}).output
    assert "stage 1 of 1 holds 1 micro-batch of its 32 layers" in one
    assert "all 1 GPUs" not in one and "replicas included" not in one  # one GPU: the total is the per-GPU row
    many = CliRunner().invoke(cli, ["memory", "llama3-8b", "--mode", "training", "--dp", "8", "--pp", "4"],
                              env={"COLUMNS": "200"}).output
    assert "stage 1 of 4 holds 4 micro-batches of its 8 layers" in many and "all 32 GPUs" in many
