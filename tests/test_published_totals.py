"""Published checkpoint totals read by a third party, for architectures whose config.json the test data lacks.

A public test suite (a Hub model-card tool's `CatalogParameterTests`, stored copy 70181782850 in the code index
searched) quotes the architecture keys of three published configs, with the Hub's published parameter totals
(the safetensors headers' `totalParameters`) and the active counts it derives: Qwen3-Coder-Next
(https://huggingface.co/Qwen/Qwen3-Coder-Next/blob/main/config.json), OLMoE-1B-7B-0125-Instruct
(https://huggingface.co/allenai/OLMoE-1B-7B-0125-Instruct/blob/main/config.json) and OPT-125m
(https://huggingface.co/facebook/opt-125m/blob/main/config.json). The keys it leaves out take transformers 5.23.0's
defaults here, as they did there; the totals are the checkpoints', not that tool's arithmetic. Its MTP module
(Qwen3-Coder-Next has one, which transformers does not load) is not in the total either.
"""

from __future__ import annotations

import json

import pytest

import llmcalc

QUOTED = {
    "Qwen3-Coder-Next": ({"model_type": "qwen3_next", "hidden_size": 2048, "num_hidden_layers": 48,
                          "vocab_size": 151936, "head_dim": 256, "num_attention_heads": 16, "num_key_value_heads": 2,
                          "num_experts": 512, "num_experts_per_tok": 10, "moe_intermediate_size": 512,
                          "shared_expert_intermediate_size": 512, "linear_num_key_heads": 16,
                          "linear_key_head_dim": 128, "linear_num_value_heads": 32, "linear_value_head_dim": 128,
                          "linear_conv_kernel_dim": 4, "full_attention_interval": 4, "tie_word_embeddings": False},
                         79_674_391_296, 3_874_929_408),
    "OLMoE-1B-7B-0125-Instruct": ({"model_type": "olmoe", "hidden_size": 2048, "num_hidden_layers": 16,
                                   "vocab_size": 50304, "intermediate_size": 1024, "num_attention_heads": 16,
                                   "num_key_value_heads": 16, "num_experts": 64, "num_experts_per_tok": 8,
                                   "tie_word_embeddings": False}, 6_919_161_856, 1_282_017_280),
    "opt-125m": ({"model_type": "opt", "hidden_size": 768, "num_hidden_layers": 12, "vocab_size": 50272,
                  "ffn_dim": 3072, "max_position_embeddings": 2048, "word_embed_proj_dim": 768,
                  "do_layer_norm_before": True}, 125_239_296, 125_239_296),
}


@pytest.mark.parametrize("name", sorted(QUOTED))
def test_the_published_total_and_the_active_count(tmp_path, name):
    config, total, active = QUOTED[name]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    count = llmcalc.count_params(llmcalc.load(str(path)))
    assert count.total == total
    assert count.active == active
