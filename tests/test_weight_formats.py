"""Weight formats that checkpoints ship in (llmcalc.formulas.formats): bits per weight re-derived from the formats'
block layouts, which tensors each converts, and the gpt-oss model card's checkpoint sizes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.api import estimate_memory
from llmcalc.cli import cli
from llmcalc.formulas.formats import WEIGHT_FORMATS

FP16, BYTE = 2, 1
# ggml-common.h: each block's fields, in bytes, and the weights it holds
GGML_BLOCKS = {
    "q8_0": (FP16 + 32 * BYTE, 32),                        # d, qs[32]
    "q4_0": (FP16 + 16 * BYTE, 32),                        # d, qs[16] (two 4-bit weights a byte)
    "q4_k": (2 * FP16 + 12 + 128, 256),                    # d, dmin, scales[12], qs[128]
    "q5_k": (2 * FP16 + 12 + 32 + 128, 256),               # d, dmin, scales[12], qh[32], qs[128]
    "q6_k": (128 + 64 + 16 + FP16, 256),                   # ql[128], qh[64], scales[16], d
    "q2_k": (16 + 64 + 2 * FP16, 256),                     # scales[16], qs[64], d, dmin
    "q3_k": (32 + 64 + 12 + FP16, 256),                    # hmask[32], qs[64], scales[12], d
    "q4_1": (2 * FP16 + 16 * BYTE, 32),                    # d, m, qs[16]
    "q5_0": (FP16 + 4 + 16 * BYTE, 32),                    # d, qh[4], qs[16]
    "q5_1": (2 * FP16 + 4 + 16 * BYTE, 32),                # d, m, qh[4], qs[16]
    "iq4_nl": (FP16 + 16 * BYTE, 32),                      # d, qs[16]
    "iq4_xs": (FP16 + 2 + 4 + 128, 256),                   # d, scales_h, scales_l[4], qs[128]
}


@pytest.mark.parametrize("name", sorted(GGML_BLOCKS))
def test_gguf_bits_per_weight_are_ggmls_block_sizes(name):
    block_bytes, weights = GGML_BLOCKS[name]
    assert WEIGHT_FORMATS[name][0] == block_bytes * 8 / weights


def test_other_formats_bits():
    assert WEIGHT_FORMATS["mxfp4"][0] == 4 + 8 / 32            # OCP MX: E2M1 elements, one E8M0 scale per 32
    assert WEIGHT_FORMATS["fp8_block"][0] == 8 + 32 / 128**2   # one fp32 scale per 128 x 128 block
    assert WEIGHT_FORMATS["nf4"][0] == pytest.approx(4.127, abs=0.0005)  # QLoRA: NF4 + double quantization


@pytest.mark.parametrize("name, card_gib", [("gpt-oss-120b", 60.8), ("gpt-oss-20b", 12.8)])
def test_gpt_oss_checkpoints_as_its_model_card_sizes_them(name, card_gib):
    # The gpt-oss model card lists the MXFP4 checkpoints at 60.8 and 12.8 GiB: the experts' matrices in MXFP4,
    # everything else (attention, router, sinks, embeddings, the experts' biases) in bf16.
    weights = estimate_memory(name, dtype="mxfp4", context=4096).part("weights").bytes
    assert weights / 2**30 == pytest.approx(card_gib, abs=0.05)


def test_which_tensors_each_format_converts():
    params = llmcalc.count_params("llama3-8b")
    norms = 65 * 4096
    q4 = estimate_memory("llama3-8b", dtype="q4_k", context=4096).part("weights").bytes
    assert q4 == (params.total - norms) * 4.5 / 8 + norms * 4  # GGUF: every matrix; norms f32
    fp8 = estimate_memory("llama3-8b", dtype="fp8_block", context=4096).part("weights").bytes
    kept = 2 * 128256 * 4096 + norms
    assert fp8 == pytest.approx((params.total - kept) * (8 + 32 / 16384) / 8 + kept * 2)
    dense = estimate_memory("llama3-8b", dtype="mxfp4", context=4096).part("weights").bytes
    assert dense == params.total * 2  # no routed experts: nothing to convert


def test_formats_are_for_serving():
    result = CliRunner().invoke(cli, ["memory", "llama3-8b", "--mode", "training", "--dtype", "q4_k"])
    assert result.exit_code == 2 and "dtype: 'q4_k' is not allowed" in result.output


@pytest.mark.parametrize("quantization, storage", [
    ({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True}, "int4"),
    ({"quant_method": "gptq", "bits": 8}, "int8"),
    ({"quant_method": "fp8", "weight_block_size": [128, 128], "fmt": "e4m3"}, "fp8_block"),
    ({"quant_method": "fp8"}, "fp8"),
    ({"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn"]}, "mxfp4"),
    ({"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"}, "nf4"),
    ({"quant_method": "bitsandbytes", "load_in_8bit": True}, "int8"),
])
def test_a_configs_quantization_config_sets_the_weights_format(quantization, storage, tmp_path):
    import json

    config = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
              "intermediate_size": 128, "vocab_size": 256, "quantization_config": quantization}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    model = llmcalc.load(str(path))
    assert model.weights_format == storage
    default = estimate_memory(model, context=64).part("weights").bytes
    assert default == estimate_memory(model, context=64, dtype=storage).part("weights").bytes
    assert estimate_memory(model, "training", seq=64).settings["weights"] == 2  # training starts from bf16


def test_an_unknown_quantization_is_said_not_read(tmp_path):
    import json

    config = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
              "intermediate_size": 128, "vocab_size": 256, "quantization_config": {"quant_method": "hqq"}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    model = llmcalc.load(str(path))
    assert model.weights_format is None and "quantization_config ('hqq') is not a format llmcalc knows" in model.notes


def test_released_checkpoints_serve_in_their_format():
    assert llmcalc.load("gpt-oss-120b").weights_format == "mxfp4"
    assert llmcalc.load("deepseek-v3").weights_format == "fp8_block"
    served = estimate_memory("gpt-oss-120b", context=4096).part("weights").bytes
    assert served == estimate_memory("gpt-oss-120b", context=4096, dtype="mxfp4").part("weights").bytes


def test_a_spec_may_store_its_weights_in_any_serving_format(tmp_path):
    # a spec describing a GGUF download: its weights_format is memory's default --dtype when serving
    from llmcalc import api
    from llmcalc.model import WEIGHT_STORAGE

    assert set(api.WEIGHT_FORMATS) <= set(WEIGHT_STORAGE)
    spec = tmp_path / "q.yaml"
    spec.write_text("extends: llama3-8b\nweights_format: q4_k_s\n")
    report = api.estimate_memory(str(spec))
    assert report.settings["weight_dtype"] == "q4_k_s"
    assert report.part("weights").per_gpu == api.estimate_memory("llama3-8b", dtype="q4_k_s").part("weights").per_gpu
