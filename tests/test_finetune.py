"""LoRA and QLoRA fine-tuning memory: adapter sizes by hand (PEFT's LoraLayer shapes; the exact cross-check against
PEFT itself is tests/test_peft_crosscheck.py), a frozen base, NF4 with double quantization (QLoRA paper, sec. 3),
and the QLoRA paper's 65B model on one 48 GB GPU."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.api import estimate_memory
from llmcalc.cli import cli
from llmcalc.errors import LlmcalcError
from llmcalc.formulas.finetune import NF4_CONSTANT_BITS, lora_params


def test_lora_adapter_sizes_by_hand():
    model = llmcalc.load("llama3-8b")
    h, kv, ffn, layers = 4096, 1024, 14336, 32
    # PEFT's defaults for Llama: rank 8 on q_proj and v_proj: A (r x d_in) and B (d_out x r) each
    assert lora_params(model, 8, ("q", "v")) == layers * 8 * ((h + h) + (h + kv))
    assert lora_params(model, 16, ("q", "k", "v", "o", "gate", "up", "down")) == layers * 16 * (
        (h + h) + 2 * (h + kv) + (h + h) + 3 * (h + ffn))


def test_lora_on_mla_and_moe_layers():
    v3 = llmcalc.load("deepseek-v3")
    h, heads = 7168, 128
    q = 8 * ((h + 1536) + (1536 + heads * 192))  # q_a and q_b
    kv = 8 * ((h + 512 + 64) + (512 + heads * (128 + 128)))  # kv_a (latent + rope key) and kv_b
    assert lora_params(v3, 8, ("q_a", "q_b", "kv_a", "kv_b")) == 61 * (q + kv)
    mixtral = llmcalc.load("mixtral-8x7b")
    per_expert = 8 * 3 * (4096 + 14336)
    assert lora_params(mixtral, 8, ("experts",)) == 32 * 8 * per_expert
    assert lora_params(mixtral, 8, ("router",)) == 32 * 8 * (4096 + 8)


def test_nf4_double_quantization_constants_are_the_papers():
    # QLoRA sec. 3: block 64 with fp32 constants is 32/64 = 0.5 bits per parameter; double quantization (8-bit
    # constants, one fp32 second-level constant per 256 blocks) brings it to 8/64 + 32/(64 x 256) = 0.127.
    assert NF4_CONSTANT_BITS[False] == 0.5
    assert NF4_CONSTANT_BITS[True] == pytest.approx(0.127, abs=0.0005)


def test_the_frozen_base_has_no_gradients_or_optimizer_states():
    full = estimate_memory("llama3-8b", "training", seq=2048)
    lora = estimate_memory("llama3-8b", "training", seq=2048, finetune="lora")
    adapters = lora_params(llmcalc.load("llama3-8b"), 8, ("q", "v"))
    assert lora.trainable_params == adapters and full.trainable_params == llmcalc.count_params("llama3-8b").total
    assert lora.part("gradients").per_gpu == adapters * 4  # fp32 adapters (PEFT upcasts them)
    assert lora.part("optimizer").per_gpu == adapters * 8  # AdamW's two fp32 moments, no master copy
    assert lora.part("weights").per_gpu == llmcalc.count_params("llama3-8b").total * 2 + adapters * 4
    assert lora.part("activations").per_gpu == full.part("activations").per_gpu  # the stated upper bound
    qlora = estimate_memory("llama3-8b", "training", seq=2048, finetune="qlora")
    assert qlora.part("weights").per_gpu < lora.part("weights").per_gpu / 2.5
    assert qlora.part("dequantization").per_gpu == 4096 * 14336 * 2  # one MLP matrix in bf16


def test_qlora_65b_fits_one_48_gb_gpu():
    # QLoRA paper (Dettmers et al. 2023): LLaMA 65B, NF4 + double quantization, LoRA r = 64 on every linear layer
    # (qlora.py casts the adapters to bf16), 32-bit paged AdamW, gradient checkpointing, fine-tunes on one 48 GB
    # GPU. Paging moves optimizer states out only under pressure: the peak without it must already fit.
    report = estimate_memory("llama-65b", "training", finetune="qlora", lora_rank=64, lora_targets="all-linear",
                             adapter_dtype="bf16", recompute="full", seq=512)
    assert 40e9 < report.per_gpu < 48e9
    # the NF4 base alone: 4.127 bits for each linear weight, bf16 for the embedding, head and norms
    linear = sum(r.total for r in llmcalc.count_params("llama-65b").rows if r.group)  # every layer row is linear
    norms = 80 * 2 * 8192
    assert report.part("weights").bytes == pytest.approx((linear - norms) * (4 + 0.12695) / 8
                                                         + (2 * 32000 * 8192 + norms + 8192) * 2
                                                         + report.trainable_params * 2, rel=1e-6)


def test_finetune_json_and_option_errors():
    out = CliRunner().invoke(cli, ["memory", "llama3-8b", "--mode", "training", "--finetune", "lora",
                                   "--lora-targets", "all-linear", "--lora-rank", "16", "--json"]).output
    model = json.loads(out)["models"][0]
    assert model["trainable_params"] == lora_params(llmcalc.load("llama3-8b"), 16,
                                                    ("q", "k", "v", "o", "gate", "up", "down"))
    assert model["settings"]["lora_targets"] == "q,k,v,o,gate,up,down"
    for args, message in ((["--lora-rank", "4"], "--lora-rank applies to --finetune lora or qlora only"),
                          (["--finetune", "lora", "--grad-dtype", "fp32"], "--grad-dtype applies to --finetune full")):
        result = CliRunner().invoke(cli, ["memory", "llama3-8b", "--mode", "training", *args])
        assert result.exit_code == 2 and message in result.output
    result = CliRunner().invoke(cli, ["memory", "deepseek-v3", "--mode", "training", "--finetune", "lora"])
    assert result.exit_code == 2 and "deepseek-v3 has no q, v layer; allowed: o, q_a, q_b" in result.output


def test_lora_under_the_transformers_profile_covers_what_is_measured():
    # measured exactly in tests/test_activations_crosscheck.py; here: what it refuses, and that it is its own count
    lora = dict(context=2048, finetune="lora", lora_targets="q,v", framework="transformers")
    report = estimate_memory("llama3-8b", "training", **lora)
    assert "measured" in report.part("activations").note
    rows = {r.group for r in report.activations.rows}
    assert {"layers (first)", "layers", None} <= rows  # the first layer apart: no gradient flows into it
    assert dict(report.activations.peak.layers) == {"layers (first)": 1, "layers": 31}
    for change, reason in (({"finetune": "qlora"}, "QLoRA is not measured"),
                           ({"attention_impl": "eager"}, "measured under sdpa"),
                           ({"recompute": "full"}, "without recomputation")):
        with pytest.raises(LlmcalcError, match=reason):
            estimate_memory("llama3-8b", "training", **{**lora, **change})
    with pytest.raises(LlmcalcError, match="Llama code"):
        estimate_memory("gpt2-small", "training", **lora)


def test_lora_on_moe_models_under_the_transformers_profile_from_the_cli():
    # the frozen MoE block and the router's adapters (measured in tests/test_activations_crosscheck.py); LoRA on the
    # fused routed experts is refused in one line
    base = ["memory", "mixtral-8x7b", "--mode", "training", "--framework", "transformers", "--finetune", "lora"]
    for targets in ("q,v", "q,k,v,o,router", "all-linear"):
        result = CliRunner().invoke(cli, [*base, "--lora-targets", targets])
        assert result.exit_code == 0 and "measured" in result.output, result.output
    result = CliRunner().invoke(cli, [*base, "--lora-targets", "q,v,experts"])
    assert result.exit_code == 2 and "routed experts is not measured" in result.output
    assert len(result.output.strip().splitlines()) == 1
    for name in ("qwen1.5-moe-a2.7b", "qwen3-30b-a3b"):
        report = estimate_memory(name, "training", context=2048, finetune="lora", lora_targets="all-linear",
                                 framework="transformers")
        assert {r.component for r in report.activations.rows} >= {"moe.router", "moe.experts", "lora.router"}
