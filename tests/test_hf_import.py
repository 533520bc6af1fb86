"""Hugging Face config.json import (llmcalc.importers.hf, `llmcalc import`): no torch, no transformers.

Every supported model_type imports from a small config into the spec mapping worked out by hand from its
transformers 5.23.0 modeling file, with the exact total worked out by hand; missing keys take the transformers
defaults; published configs give their checkpoints' exact totals; anything the import cannot represent is a
one-line error naming the file and the key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import llmcalc
from llmcalc.importers import hf
from llmcalc.cli import cli
from llmcalc.errors import SpecError
from llmcalc.formulas.kv import kv_cache
from llmcalc.formulas.params import count_params

DATA = Path(__file__).parent / "data" / "hf_configs"

# Checkpoint totals (as transformers counts them: DeepSeek-V3 without its MTP layer and routing-bias buffers,
# Llama 4 text models without vision) of the published configs in tests/data/hf_configs.
PUBLISHED = {
    "DeepSeek-V3": 671_026_404_352,
    "DeepSeek-V2": 235_741_434_880,
    "DeepSeek-V2-Lite": 15_706_484_224,
    "Qwen3-30B-A3B": 30_532_122_624,
    "Qwen3-235B-A22B": 235_093_634_560,
    "Qwen2-57B-A14B": 57_408_658_944,
    "gpt-oss-120b": 116_829_156_672,
    # the Hub's safetensors total of Llama-4-Scout-17B-16E-Instruct (the same architecture), its vision encoder,
    # pixel-shuffle adapter and projector (871,932,416) included
    "Llama-4-Scout-17B-16E": 108_641_793_536,
    "gemma-2-2b": 2_614_341_888,
    "gemma-2-9b": 9_241_705_984,
    "gemma-2-27b": 27_227_128_320,
    "dbrx-instruct": 131_596_523_520,
    "Meta-Llama-3-8B": 8_030_261_248,
    "Mixtral-8x7B-v0.1": 46_702_792_704,
    "gpt2": 124_439_808,
    "Mistral-7B-v0.1": 7_241_732_096,
    "Qwen2.5-0.5B": 494_032_768,
    "Phi-3-mini-4k-instruct": 3_821_079_552,
    "opt-125m": 125_239_296,
    "opt-350m": 331_196_416,  # a 512-wide word embedding projected in and out, post-LN
    # the Hub's safetensors total of ERNIE-4.5-21B-A3B-Thinking (its e_score_correction_bias parameters included)
    "ERNIE-4.5-21B-A3B": 21_825_437_888,
    # MiniMax-M2.7's weight tensors (scales and the e_score_correction_bias buffers left out)
    "MiniMax-M2.7": 228_689_748_992,
    "phi-2": 2_779_683_840,
    "falcon-7b-instruct": 6_921_720_704,  # multi-query attention, parallel attention and MLP
    # the totals of the Pythia README's table
    "pythia-6.9b-deduped": 6_857_302_016,
    "pythia-12b-deduped": 11_846_072_320,
    "SmolLM2-135M": 134_515_008,  # tied embeddings
    "AI21-Jamba-1.5-Mini": 51_570_323_328,  # Mamba and attention 7:1, 16 experts on every other layer
    # Mamba-2, MoE and attention layers, one block each (23 + 23 + 6)
    "NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4": 31_577_937_344,
    "gemma-3-270m": 268_098_176,  # five sliding-window layers to one global, tied embeddings
    # CLIP ViT-L/14-336 tower, two-layer projector and the Vicuna-7B text model (its 32064-token vocabulary)
    "llava-1.5-7b-hf": 7_063_427_072,
    "Qwen2.5-VL-7B-Instruct": 8_292_166_656,  # its vision tower (windowed attention, 4 full blocks) included
    "mamba-130m-hf": 129_135_360,  # Mamba-1 layers only, tied embeddings
    "mamba-2.8b-hf": 2_768_345_600,
    "Mamba-Codestral-7B-v0.1": 7_285_403_648,  # Mamba-2 layers only, untied
    "bloomz-560m": 559_214_592,  # ALiBi (no position weights), an embedding LayerNorm, tied embeddings
    "gemma-3-1b-pt": 999_885_952,  # one KV head, five sliding-window layers to one global
    # SigLIP tower (27 layers over 64 x 64 patches), the pooling projector and the text model, tied
    "gemma-3-12b-it": 12_187_325_040,
    "LFM2-350M": 354_483_968,  # short-convolution layers between 6 attention layers, tied embeddings
    "LFM2-1.2B": 1_170_340_608,
    "SmolLM3-3B": 3_075_098_624,  # NoPE on every 4th layer, tied embeddings
    "OLMo-2-1124-13B": 13_716_198_400,  # full-width q/k RMSNorms, post-norm (after attention and MLP)
}

# Published config.json files whose checkpoint total no source found here states: transformers' count of the same
# file is their check (tests/test_hf_crosscheck.py, every file of DATA), as for the random configs.
NO_PUBLISHED_TOTAL = {
    "starcoder2-3b": "no copy of the Hub's safetensors total found",
    "c4ai-command-r-08-2024": "no copy of the Hub's safetensors total found",
    "c4ai-command-a-03-2025": "no copy of the Hub's safetensors total found",
    "OLMo-2-1124-7B-Instruct": "no copy of the Hub's safetensors total found",
    "granite-3.3-8b-instruct": "no copy of the Hub's safetensors total found",
    "Qwen3-Next-80B-A3B-Thinking": "no copy of the Hub's safetensors total found",
    # its text model is 400,711,848,960, transformers' Llama4ForCausalLM count of its text_config
    "Llama-4-Maverick-17B-128E": "the copy sets vision_config.num_hidden_layers to 0 (a test's two-layer config)",
    "Bamba-9B": "no exact total found (transformers' model page rounds it: 9.78B)",
    "Nemotron-H-56B-Base-8K": "no copy of the Hub's safetensors total found",
    "EXAONE-4.0-1.2B": "no exact total found (its model card: 1.07B without embeddings)",
    "ERNIE-4.5-0.3B-Base-PT": "no exact total found (its model card: 0.36B)",
    "granite-3.1-1b-a400m-instruct": "no copy of the Hub's safetensors total found",
    "granite-4.0-1b": "no exact total found (its model card: 1.6B)",
    "internlm3-8b-instruct": "no copy of the Hub's safetensors total found",
    "GLM-4.7": "no exact total found (355B, rounded, for GLM-4.5's shape)",
}

SMALL = dict(vocab_size=100, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4)
LLAMA4_TEXT = dict(vocab_size=100, hidden_size=32, intermediate_size=16, intermediate_size_mlp=48,
                   num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                   num_local_experts=4, num_experts_per_tok=1, interleave_moe_layer_step=2,
                   no_rope_layer_interval=2, attention_chunk_size=16)
EMBED = 100 * 32  # token embedding, and an untied LM head, of the small configs
MOE_4x16 = 4 * 3 * 32 * 16  # four SwiGLU experts of width 16

# (config, expected spec mapping without family/sources/notes, exact total worked out by hand)
CASES = {
    "gpt2": (
        dict(model_type="gpt2", vocab_size=100, n_embd=32, n_layer=2, n_head=4, n_positions=64, n_inner=48,
             activation_function="relu", tie_word_embeddings=False),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=64, position="learned", tied_embeddings=False,
             norm={"kind": "layernorm", "placement": "pre"},
             attention={"n_heads": 4, "n_kv_heads": 4, "d_head": 8, "bias": True},
             mlp={"activation": "relu", "d_ff": 48, "bias": True}),
        # token + positions + 2 x (attention 4*32*32 + 4*32 biases, 2 LayerNorms, MLP 2*32*48 + 48 + 32)
        # + final LayerNorm + LM head
        EMBED + 64 * 32 + 2 * (4224 + 128 + 3152) + 64 + EMBED,
    ),
    "openai-gpt": (
        dict(model_type="openai-gpt", vocab_size=100, n_embd=32, n_layer=2, n_head=4, n_positions=64),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=64, position="learned", tied_embeddings=True,
             norm={"kind": "layernorm", "placement": "post", "final": False},
             attention={"n_heads": 4, "n_kv_heads": 4, "d_head": 8, "bias": True},
             mlp={"activation": "gelu", "d_ff": 128, "bias": True}),
        EMBED + 64 * 32 + 2 * (4224 + 128 + 2 * 32 * 128 + 128 + 32),
    ),
    "gpt_bigcode": (
        dict(model_type="gpt_bigcode", vocab_size=100, n_embd=32, n_layer=2, n_head=4, n_positions=64, n_inner=48,
             tie_word_embeddings=False),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=64, position="learned", tied_embeddings=False,
             norm={"kind": "layernorm", "placement": "pre"},
             attention={"n_heads": 4, "n_kv_heads": 1, "d_head": 8, "bias": True},
             mlp={"activation": "gelu_tanh", "d_ff": 48, "bias": True}),
        # multi-query: c_attn 32 -> 32 + 2 x 8 with its bias, c_proj 32 x 32 + 32; 2 LayerNorms; MLP as GPT-2's
        EMBED + 64 * 32 + 2 * (32 * 48 + 48 + 32 * 32 + 32 + 128 + 3152) + 64 + EMBED,
    ),
    "bloom": (
        dict(model_type="bloom", vocab_size=100, n_embed=32, n_layer=2, n_head=4, seq_length=64),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=64, position="alibi", tied_embeddings=True,
             embedding_norm=True, norm={"kind": "layernorm", "placement": "pre"},
             attention={"n_heads": 4, "n_kv_heads": 4, "d_head": 8, "bias": True},
             mlp={"activation": "gelu_tanh", "d_ff": 128, "bias": True}),
        # token embedding and its LayerNorm + 2 x (query_key_value and dense 4*32*32 + 4*32, 2 LayerNorms, MLP
        # 2*32*128 + 128 + 32) + ln_f; tied head
        EMBED + 64 + 2 * (4224 + 128 + 2 * 32 * 128 + 160) + 64,
    ),
    "llama": (
        dict(model_type="llama", **SMALL, num_key_value_heads=2, attention_bias=True, mlp_bias=True,
             tie_word_embeddings=True),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=2048, position="rope", tied_embeddings=True,
             norm={"kind": "rmsnorm"}, attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8, "bias": True},
             mlp={"activation": "swiglu", "d_ff": 48, "bias": True}),
        # 2 x (q, k, v, o 3072 + biases 32+16+16+32, 2 RMSNorms, SwiGLU 3*32*48 + 2*48 + 32) + final norm; tied
        EMBED + 2 * (3072 + 96 + 64 + 4608 + 128) + 32,
    ),
    "arcee": (
        dict(model_type="arcee", **SMALL, num_key_value_heads=2),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=4096, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"}, attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8},
             mlp={"activation": "relu2", "d_ff": 48}),
        # 2 x (q, k, v, o 3072, 2 RMSNorms, up and down 2 x 32 x 48 with a squared ReLU between) + final norm + head
        EMBED + 2 * (3072 + 64 + 3072) + 32 + EMBED,
    ),
    "olmo": (
        dict(model_type="olmo", **SMALL, num_key_value_heads=2, attention_bias=True, clip_qkv=8.0),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=2048, position="rope", tied_embeddings=False,
             norm={"kind": "layernorm", "bias": False, "affine": False},
             attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8, "bias": True},
             mlp={"activation": "swiglu", "d_ff": 48}),
        # 2 x (q, k, v, o 3072 + their biases 96, SwiGLU 4608); LayerNorms without parameters; untied head
        EMBED + 2 * (3072 + 96 + 4608) + EMBED,
    ),
    "mistral": (
        dict(model_type="mistral", **SMALL, num_key_value_heads=1, head_dim=16, sliding_window=8),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=131072, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "n_kv_heads": 1, "d_head": 16, "sliding_window": 8},
             mlp={"activation": "swiglu", "d_ff": 48}),
        EMBED + 2 * (2048 + 512 + 512 + 2048 + 64 + 4608) + 32 + EMBED,
    ),
    "ministral": (  # Ministral-8B's pattern: layer_types pick the sliding layers
        dict(model_type="ministral", **SMALL, num_key_value_heads=1, head_dim=16, sliding_window=8,
             layer_types=["sliding_attention", "full_attention"]),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=131072, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"}, attention={"n_heads": 4, "n_kv_heads": 1, "d_head": 16, "sliding_window": 8},
             mlp={"activation": "swiglu", "d_ff": 48}, layers=[{"count": 1}, {"count": 1, "attention":
                                                                            {"sliding_window": None}}]),
        EMBED + 2 * (2048 + 512 + 512 + 2048 + 64 + 4608) + 32 + EMBED,
    ),
    "ministral3": (  # Mistral's layer, no window by default
        dict(model_type="ministral3", **SMALL, num_key_value_heads=1, head_dim=16),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=262144, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"}, attention={"n_heads": 4, "n_kv_heads": 1, "d_head": 16},
             mlp={"activation": "swiglu", "d_ff": 48}),
        EMBED + 2 * (2048 + 512 + 512 + 2048 + 64 + 4608) + 32 + EMBED,
    ),
    "mixtral": (
        dict(model_type="mixtral", **SMALL, num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=131072, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"}, attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8},
             mlp={"activation": "swiglu", "d_ff": 48}, moe={"n_experts": 4, "top_k": 2, "d_ff": 48}),
        EMBED + 2 * (3072 + 64 + 32 * 4 + 4 * 4608) + 32 + EMBED,
    ),
    "qwen2": (
        dict(model_type="qwen2", **{**SMALL, "num_hidden_layers": 4}, num_key_value_heads=2, use_sliding_window=True,
             sliding_window=16, max_window_layers=2),
        dict(vocab_size=100, d_model=32, n_layers=4, context_length=32768, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8, "bias": {"q": True, "k": True, "v": True}},
             mlp={"activation": "swiglu", "d_ff": 48},
             layers=[{"count": 2}, {"count": 2, "attention": {"sliding_window": 16}}]),
        EMBED + 4 * (3072 + 32 + 16 + 16 + 64 + 4608) + 32 + EMBED,
    ),
    "qwen2_moe": (
        dict(model_type="qwen2_moe", vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=4,
             num_attention_heads=4, num_key_value_heads=4, num_experts=4, num_experts_per_tok=2,
             moe_intermediate_size=16, shared_expert_intermediate_size=24, decoder_sparse_step=2,
             mlp_only_layers=[3]),
        dict(vocab_size=100, d_model=32, n_layers=4, context_length=32768, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "n_kv_heads": 4, "d_head": 8, "bias": {"q": True, "k": True, "v": True}},
             mlp={"activation": "swiglu", "d_ff": 64},
             layers=[{"count": 1},
                     {"count": 1, "moe": {"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1,
                                          "d_ff_shared": 24, "shared_gate": True}},
                     {"count": 2}]),
        # layer 1 (sparse step 2; layer 3 is in mlp_only_layers) has router, experts, a shared expert of 24 and
        # its gate 32 -> 1; the others a dense SwiGLU of 64
        EMBED + 3 * (4096 + 96 + 64 + 3 * 32 * 64) + (4096 + 96 + 64 + 128 + MOE_4x16 + 3 * 32 * 24 + 32)
        + 32 + EMBED,
    ),
    "qwen3": (
        dict(model_type="qwen3", **SMALL, num_key_value_heads=2, head_dim=16, tie_word_embeddings=True),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=32768, position="rope", tied_embeddings=True,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 16, "qk_norm": "rmsnorm"},
             mlp={"activation": "swiglu", "d_ff": 48}),
        EMBED + 2 * (2048 + 1024 + 1024 + 2048 + 32 + 64 + 4608) + 32,
    ),
    "qwen3_moe": (  # num_local_experts: the name transformers 5 writes for num_experts
        dict(model_type="qwen3_moe", **SMALL, num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2,
             moe_intermediate_size=16),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=32768, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8, "qk_norm": "rmsnorm"},
             mlp={"activation": "swiglu", "d_ff": 48}, moe={"n_experts": 4, "top_k": 2, "d_ff": 16}),
        EMBED + 2 * (3072 + 16 + 64 + 128 + MOE_4x16) + 32 + EMBED,
    ),
    "deepseek_v2": (
        dict(model_type="deepseek_v2", vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
             num_attention_heads=4, kv_lora_rank=8, q_lora_rank=None, qk_nope_head_dim=4, qk_rope_head_dim=2,
             v_head_dim=4, n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2, moe_intermediate_size=16,
             first_k_dense_replace=1),
        dict(vocab_size=100, d_model=32, n_layers=3, context_length=2048, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "mla": {"kv_lora_rank": 8, "qk_nope_head_dim": 4, "qk_rope_head_dim": 2,
                                              "v_head_dim": 4}},
             mlp={"activation": "swiglu", "d_ff": 64},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1},
             layers=[{"count": 1, "moe": None}, {"count": 2}]),
        # MLA: q 32*4*6, kv_a 32*(8+2), kv_norm 8, kv_b 8*4*(4+4), o 4*4*32 = 1864
        EMBED + (1864 + 64 + 3 * 32 * 64) + 2 * (1864 + 64 + 128 + MOE_4x16 + 3 * 32 * 16) + 32 + EMBED,
    ),
    "deepseek_v3": (
        dict(model_type="deepseek_v3", vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
             num_attention_heads=4, kv_lora_rank=8, q_lora_rank=12, qk_nope_head_dim=4, qk_rope_head_dim=2,
             v_head_dim=4, n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2, moe_intermediate_size=16,
             first_k_dense_replace=1, num_nextn_predict_layers=1),
        dict(vocab_size=100, d_model=32, n_layers=3, context_length=4096, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "mla": {"q_lora_rank": 12, "kv_lora_rank": 8, "qk_nope_head_dim": 4,
                                              "qk_rope_head_dim": 2, "v_head_dim": 4}},
             mlp={"activation": "swiglu", "d_ff": 64},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "routing_bias": True},
             layers=[{"count": 1, "moe": None}, {"count": 2}], mtp={"n_modules": 1}),
        # MLA with q_a 32*12, q_norm 12, q_b 12*24: 1780
        EMBED + (1780 + 64 + 3 * 32 * 64) + 2 * (1780 + 64 + 128 + MOE_4x16 + 3 * 32 * 16) + 32 + EMBED,
    ),
    "deepseek_v32": (
        dict(model_type="deepseek_v32", vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
             num_attention_heads=4, kv_lora_rank=8, q_lora_rank=12, qk_nope_head_dim=4, qk_rope_head_dim=2,
             v_head_dim=4, n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2, moe_intermediate_size=16,
             mlp_layer_types=["dense", "sparse", "sparse"], num_nextn_predict_layers=1, index_n_heads=2,
             index_head_dim=4, index_topk=8),
        dict(vocab_size=100, d_model=32, n_layers=3, context_length=163840, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "mla": {"q_lora_rank": 12, "kv_lora_rank": 8, "qk_nope_head_dim": 4,
                                              "qk_rope_head_dim": 2, "v_head_dim": 4,
                                              "indexer": {"n_heads": 2, "head_dim": 4, "topk": 8}}},
             mlp={"activation": "swiglu", "d_ff": 64},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "routing_bias": True},
             layers=[{"count": 1, "moe": None}, {"count": 2}], mtp={"n_modules": 1}),
        # V3's, and the indexer: wq_b 12*2*4, wk 32*4, k_norm 2*4 (LayerNorm), weights_proj 32*2: 296
        EMBED + (1780 + 296 + 64 + 3 * 32 * 64) + 2 * (1780 + 296 + 64 + 128 + MOE_4x16 + 3 * 32 * 16) + 32 + EMBED,
    ),
    "gpt_oss": (
        dict(model_type="gpt_oss", vocab_size=100, hidden_size=32, intermediate_size=16, num_hidden_layers=4,
             num_attention_heads=4, num_key_value_heads=2, head_dim=8, num_local_experts=4, num_experts_per_tok=2,
             sliding_window=8),
        dict(vocab_size=100, d_model=32, n_layers=4, context_length=131072, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8, "bias": True, "sinks": True,
                        "sliding_window": 8},
             mlp={"activation": "swiglu", "d_ff": 16, "bias": True},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "router_bias": True},
             layers=[{"repeat": 2, "pattern": [{}, {"attention": {"sliding_window": None}}]}]),
        # attention + 96 biases + 4 sinks, router 128 + 4 bias, experts with biases 2*16 + 32
        EMBED + 4 * (3072 + 96 + 4 + 64 + 132 + 4 * (3 * 32 * 16 + 2 * 16 + 32)) + 32 + EMBED,
    ),
    "gemma2": (
        dict(model_type="gemma2", **{**SMALL, "num_hidden_layers": 3}, num_key_value_heads=2, head_dim=16,
             sliding_window=8, layer_types=["full_attention", "sliding_attention", "sliding_attention"]),
        dict(vocab_size=100, d_model=32, n_layers=3, context_length=8192, position="rope", tied_embeddings=True,
             norm={"kind": "rmsnorm", "placement": "sandwich"},
             attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 16, "sliding_window": 8},
             mlp={"activation": "geglu", "d_ff": 48},
             layers=[{"count": 1, "attention": {"sliding_window": None}}, {"count": 2}]),
        EMBED + 3 * (6144 + 4 * 32 + 4608) + 32,
    ),
    "llama4_text": (
        dict(model_type="llama4_text", **LLAMA4_TEXT),
        dict(vocab_size=100, d_model=32, n_layers=4, context_length=131072, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8, "qk_norm": "l2", "chunk_size": 16},
             mlp={"activation": "swiglu", "d_ff": 48},
             layers=[{"repeat": 2, "pattern": [
                 {}, {"attention": {"qk_norm": None, "chunk_size": None},
                      "moe": {"n_experts": 4, "top_k": 1, "d_ff": 16, "n_shared_experts": 1, "d_ff_shared": 16}}]}]),
        # MoE on layers 1, 3 (step 2); RoPE (so chunked attention and the L2 qk-norm) on layers 0, 2 (interval 2)
        EMBED + 2 * (3072 + 64 + 4608) + 2 * (3072 + 64 + 128 + MOE_4x16 + 3 * 32 * 16) + 32 + EMBED,
    ),
    "phi3": (
        dict(model_type="phi3", **SMALL, sliding_window=15),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=4096, position="rope", tied_embeddings=False,
             norm={"kind": "rmsnorm"},
             attention={"n_heads": 4, "n_kv_heads": 4, "d_head": 8, "sliding_window": 15},
             mlp={"activation": "swiglu", "d_ff": 48}),
        EMBED + 2 * (4096 + 64 + 4608) + 32 + EMBED,
    ),
    "dbrx": (
        dict(model_type="dbrx", vocab_size=100, d_model=32, n_heads=4, n_layers=2, max_seq_len=64,
             attn_config={"kv_n_heads": 2}, ffn_config={"ffn_hidden_size": 16, "moe_num_experts": 4, "moe_top_k": 2}),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=64, position="rope", tied_embeddings=False,
             norm={"kind": "layernorm", "bias": False}, attention={"n_heads": 4, "n_kv_heads": 2, "d_head": 8},
             mlp={"activation": "swiglu", "d_ff": 16}, moe={"n_experts": 4, "top_k": 2, "d_ff": 16}),
        EMBED + 2 * (3072 + 64 + 128 + MOE_4x16) + 32 + EMBED,
    ),
}
CASES["llama4"] = (
    dict(model_type="llama4", text_config=LLAMA4_TEXT, vision_config={"hidden_size": 8}, image_token_index=7),
    CASES["llama4_text"][1], CASES["llama4_text"][2],
)

# Llama-shaped families: a layer of SMALL with 2 kv heads of 8 has q, k, v, o 3072, two RMSNorms 64, SwiGLU 4608
LAYER = 3072 + 64 + 4608
KV2 = dict(SMALL, num_key_value_heads=2)
ROPE = dict(position="rope", vocab_size=100, d_model=32)
GQA = {"n_heads": 4, "n_kv_heads": 2, "d_head": 8}
SWIGLU = {"activation": "swiglu", "d_ff": 48}
POST = {"kind": "rmsnorm", "placement": "post", "final": True}
GEMMA3_TEXT = dict(KV2, num_hidden_layers=3, head_dim=8, sliding_window=8, sliding_window_pattern=3)
GEMMA3_SPEC = dict(ROPE, n_layers=3, context_length=131072, tied_embeddings=True,
                   norm={"kind": "rmsnorm", "placement": "sandwich"},
                   attention={**GQA, "qk_norm": "rmsnorm", "sliding_window": 8},
                   mlp={"activation": "geglu", "d_ff": 48},
                   layers=[{"count": 2}, {"count": 1, "attention": {"sliding_window": None}}])
CASES.update({
    "smollm3": (  # NoPE on every 2nd layer (1, 3): those slide
        dict(model_type="smollm3", **{**KV2, "num_hidden_layers": 4}, mlp_bias=True, use_sliding_window=True,
             sliding_window=8, no_rope_layer_interval=2),
        dict(ROPE, n_layers=4, context_length=32768, tied_embeddings=True, norm={"kind": "rmsnorm"},
             attention=GQA, mlp={**SWIGLU, "bias": True},
             layers=[{"repeat": 2, "pattern": [{}, {"attention": {"sliding_window": 8}}]}]),
        EMBED + 4 * (LAYER + 48 + 48 + 32) + 32,  # MLP biases: gate, up, down
    ),
    "internlm3": (  # qkv_bias and bias: InternLM3's names for attention_bias and mlp_bias
        dict(model_type="internlm3", **KV2, head_dim=8, qkv_bias=True, bias=True),
        dict(ROPE, n_layers=2, context_length=32768, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "bias": True}, mlp={**SWIGLU, "bias": True}),
        EMBED + 2 * (LAYER + 96 + 128) + 32 + EMBED,
    ),
    "helium": (
        dict(model_type="helium", **KV2, head_dim=8, attention_bias=True),
        dict(ROPE, n_layers=2, context_length=4096, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "bias": {"q": True, "k": True, "v": True}}, mlp=SWIGLU),
        EMBED + 2 * (LAYER + 64) + 32 + EMBED,
    ),
    "seed_oss": (
        dict(model_type="seed_oss", **KV2, head_dim=8, attention_bias=False, attention_out_bias=True),
        dict(ROPE, n_layers=2, context_length=524288, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "bias": {"o": True}}, mlp=SWIGLU),
        EMBED + 2 * (LAYER + 32) + 32 + EMBED,
    ),
    "ernie4_5": (
        dict(model_type="ernie4_5", **KV2, head_dim=8, use_bias=True),
        dict(ROPE, n_layers=2, context_length=131072, tied_embeddings=True, norm={"kind": "rmsnorm"},
             attention={**GQA, "bias": True}, mlp={**SWIGLU, "bias": True}),
        EMBED + 2 * (LAYER + 96 + 128) + 32,
    ),
    "hunyuan_v1_dense": (  # q/k RMSNorm of head_dim 16
        dict(model_type="hunyuan_v1_dense", **KV2, head_dim=16),
        dict(ROPE, n_layers=2, context_length=2048, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "d_head": 16, "qk_norm": "rmsnorm"}, mlp=SWIGLU),
        EMBED + 2 * (6144 + 32 + 64 + 4608) + 32 + EMBED,
    ),
    "gemma": (  # MQA: q and o 1024, k and v 256
        dict(model_type="gemma", **SMALL, num_key_value_heads=1, head_dim=8, hidden_act="gelu"),
        dict(ROPE, n_layers=2, context_length=8192, tied_embeddings=True, norm={"kind": "rmsnorm"},
             attention={**GQA, "n_kv_heads": 1}, mlp={"activation": "geglu", "d_ff": 48}),
        EMBED + 2 * (2560 + 64 + 4608) + 32,
    ),
    "gemma3_text": (  # pattern 3: layers 0, 1 slide, layer 2 is global; four norms and q/k norms of 8
        dict(model_type="gemma3_text", **GEMMA3_TEXT),
        GEMMA3_SPEC,
        EMBED + 3 * (LAYER + 64 + 16) + 32,
    ),
    "gemma3": (  # the top level unties the LM head; a SigLIP tower of 4 x 4 patches, pooled 2 x 2 into 4 tokens
        dict(model_type="gemma3", text_config=GEMMA3_TEXT, tie_word_embeddings=False,
             vision_config={"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
                            "intermediate_size": 12, "image_size": 16, "patch_size": 4, "vision_use_head": False},
             mm_tokens_per_image=4, image_token_index=7),
        dict(GEMMA3_SPEC, tied_embeddings=False, vision={
            "d_model": 8, "n_layers": 1, "image_size": 16, "patch_size": 4, "channels": 3, "patch_bias": True,
            "class_token": False, "pre_norm": False, "pool_head": False, "attention": {"n_heads": 2, "bias": True},
            "mlp": {"activation": "gelu_tanh", "d_ff": 12, "bias": True}, "norm": {"kind": "layernorm"},
            "projector": {"d_in": 8, "bias": False, "norm": "rmsnorm", "pool": 2}}),
        # the tower: patch conv 3*4*4*8 + 8, 16 positions x 8, one layer (q, k, v, o 4*64 + biases 32, 2 LayerNorms 32,
        # fc1 8*12 + 12, fc2 12*8 + 8), post LayerNorm 16; the projector: RMSNorm 8, projection 8*32
        EMBED + 3 * (LAYER + 64 + 16) + 32 + EMBED + 392 + 128 + 532 + 16 + 8 + 256,
    ),
    "granite": (
        dict(model_type="granite", **KV2, attention_bias=True, residual_multiplier=0.22, logits_scaling=8.0),
        dict(ROPE, n_layers=2, context_length=2048, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "bias": True}, mlp=SWIGLU),
        EMBED + 2 * (LAYER + 96) + 32 + EMBED,
    ),
    "granitemoe": (
        dict(model_type="granitemoe", **{**KV2, "intermediate_size": 16}, num_local_experts=4,
             num_experts_per_tok=2),
        dict(ROPE, n_layers=2, context_length=2048, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention=GQA, mlp={"activation": "swiglu", "d_ff": 16}, moe={"n_experts": 4, "top_k": 2, "d_ff": 16}),
        EMBED + 2 * (3072 + 64 + 128 + MOE_4x16) + 32 + EMBED,
    ),
    "granitemoeshared": (  # plus a shared SwiGLU of 24
        dict(model_type="granitemoeshared", **{**KV2, "intermediate_size": 16}, num_local_experts=4,
             num_experts_per_tok=2, shared_intermediate_size=24),
        dict(ROPE, n_layers=2, context_length=2048, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention=GQA, mlp={"activation": "swiglu", "d_ff": 16},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "d_ff_shared": 24}),
        EMBED + 2 * (3072 + 64 + 128 + MOE_4x16 + 3 * 32 * 24) + 32 + EMBED,
    ),
    "olmo2": (  # q_norm 4 x 8, k_norm 2 x 8
        dict(model_type="olmo2", **KV2),
        dict(ROPE, n_layers=2, context_length=2048, tied_embeddings=False, norm=POST,
             attention={**GQA, "qk_norm": "rmsnorm_full"}, mlp=SWIGLU),
        EMBED + 2 * (LAYER + 48) + 32 + EMBED,
    ),
    "olmo3": (  # layers 0-2 slide, layer 3 is global
        dict(model_type="olmo3", **{**KV2, "num_hidden_layers": 4}, sliding_window=8),
        dict(ROPE, n_layers=4, context_length=2048, tied_embeddings=False, norm=POST,
             attention={**GQA, "qk_norm": "rmsnorm_full", "sliding_window": 8}, mlp=SWIGLU,
             layers=[{"count": 3}, {"count": 1, "attention": {"sliding_window": None}}]),
        EMBED + 4 * (LAYER + 48) + 32 + EMBED,
    ),
    "olmoe": (  # q_norm hidden_size 32, k_norm 32 // 4 x 2
        dict(model_type="olmoe", **{**KV2, "intermediate_size": 16}, num_experts=4, num_experts_per_tok=2),
        dict(ROPE, n_layers=2, context_length=4096, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "qk_norm": "rmsnorm_full"}, mlp={"activation": "swiglu", "d_ff": 16},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16}),
        EMBED + 2 * (3072 + 48 + 64 + 128 + MOE_4x16) + 32 + EMBED,
    ),
    "glm4": (  # q, k, v biases (attention_bias defaults to true), four norms per layer
        dict(model_type="glm4", **KV2, head_dim=8),
        dict(ROPE, n_layers=2, context_length=131072, tied_embeddings=False, rotary_dim=4,
             norm={"kind": "rmsnorm", "placement": "sandwich"},
             attention={**GQA, "bias": {"q": True, "k": True, "v": True}}, mlp=SWIGLU),
        EMBED + 2 * (LAYER + 64 + 64) + 32 + EMBED,
    ),
    "glm4_moe": (  # layer 0 dense; MTP counted apart; the routing bias is a buffer
        dict(model_type="glm4_moe", **{**KV2, "num_hidden_layers": 3, "intermediate_size": 64},
             n_routed_experts=4, num_experts_per_tok=2, moe_intermediate_size=16, n_shared_experts=1,
             first_k_dense_replace=1, use_qk_norm=True),
        dict(ROPE, n_layers=3, context_length=131072, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "qk_norm": "rmsnorm"}, mlp={"activation": "swiglu", "d_ff": 64},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "routing_bias": True},
             layers=[{"count": 1, "moe": None}, {"count": 2}], mtp={"n_modules": 1}),
        EMBED + (3072 + 16 + 64 + 3 * 32 * 64) + 2 * (3072 + 16 + 64 + 128 + MOE_4x16 + 3 * 32 * 16) + 32 + EMBED,
    ),
    "starcoder2": (  # LayerNorms with biases, biases everywhere, a plain MLP 2 x 32 x 48 + 48 + 32
        dict(model_type="starcoder2", **KV2, sliding_window=8),
        dict(ROPE, n_layers=2, context_length=4096, tied_embeddings=True, norm={"kind": "layernorm"},
             attention={**GQA, "bias": True, "sliding_window": 8}, mlp={"activation": "gelu_tanh", "d_ff": 48,
                                                                         "bias": True}),
        EMBED + 2 * (3072 + 96 + 128 + 3072 + 80) + 64,
    ),
    "exaone4": (  # pattern 2: layers 0, 2 slide; q/k norms of 8; post-norm
        dict(model_type="exaone4", **{**KV2, "num_hidden_layers": 4}, sliding_window=8, sliding_window_pattern=2),
        dict(ROPE, n_layers=4, context_length=2048, tied_embeddings=False, norm=POST,
             attention={**GQA, "qk_norm": "rmsnorm", "sliding_window": 8}, mlp=SWIGLU,
             layers=[{"repeat": 2, "pattern": [{}, {"attention": {"sliding_window": None}}]}]),
        EMBED + 4 * (LAYER + 16) + 32 + EMBED,
    ),
})


LAYERNORM_SHARED = {"kind": "layernorm", "shared": True}
MHA = {"n_heads": 4, "n_kv_heads": 4, "d_head": 8}
QWEN3_NEXT_ATTENTION = {**GQA, "qk_norm": "rmsnorm", "output_gate": True}
LFM2_MOE = {"n_experts": 4, "top_k": 2, "d_ff": 16, "routing_bias": True}
PLAIN_48 = 2 * 32 * 48 + 48 + 32  # a biased two-matrix MLP of width 48
CASES.update({
    "gpt_neox": (  # two LayerNorms read in parallel, biases everywhere, RoPE on half of each 8-wide head
        dict(model_type="gpt_neox", **SMALL, rotary_pct=0.5),
        dict(ROPE, n_layers=2, context_length=2048, rotary_dim=4, tied_embeddings=False, residual="parallel",
             norm={"kind": "layernorm"}, attention={**MHA, "bias": True},
             mlp={"activation": "gelu", "d_ff": 48, "bias": True}),
        EMBED + 2 * (4096 + 128 + 2 * 64 + PLAIN_48) + 64 + EMBED,
    ),
    "gptj": (  # one shared LayerNorm, no attention biases, an LM head with a bias of 100
        dict(model_type="gptj", vocab_size=100, n_embd=32, n_layer=2, n_head=4, rotary_dim=4, n_inner=48),
        dict(ROPE, n_layers=2, context_length=2048, rotary_dim=4, tied_embeddings=False, lm_head_bias=True,
             residual="parallel", norm=LAYERNORM_SHARED, attention=MHA,
             mlp={"activation": "gelu_tanh", "d_ff": 48, "bias": True}),
        EMBED + 2 * (4096 + 64 + PLAIN_48) + 64 + EMBED + 100,
    ),
    "phi": (  # GQA with biases, q/k LayerNorms of 8 (weight and bias), RoPE on half (PhiConfig's default 0.5)
        dict(model_type="phi", **KV2, qk_layernorm=True),
        dict(ROPE, n_layers=2, context_length=2048, rotary_dim=4, tied_embeddings=False, lm_head_bias=True,
             residual="parallel", norm=LAYERNORM_SHARED, attention={**GQA, "bias": True, "qk_norm": "layernorm"},
             mlp={"activation": "gelu_tanh", "d_ff": 48, "bias": True}),
        EMBED + 2 * (3072 + 96 + 32 + 64 + PLAIN_48) + 64 + EMBED + 100,
    ),
    "cohere": (  # one bias-free LayerNorm shared, q/k norms with a weight per head: (4 + 2) x 8
        dict(model_type="cohere", **KV2, use_qk_norm=True),
        dict(ROPE, n_layers=2, context_length=8192, tied_embeddings=True, residual="parallel",
             norm={"kind": "layernorm", "bias": False, "shared": True},
             attention={**GQA, "qk_norm": "layernorm_heads"}, mlp=SWIGLU),
        EMBED + 2 * (3072 + 48 + 32 + 4608) + 32,
    ),
    "cohere2": (  # pattern 2: layers 0, 2 slide, 1, 3 are global
        dict(model_type="cohere2", **{**KV2, "num_hidden_layers": 4}, sliding_window=8, sliding_window_pattern=2),
        dict(ROPE, n_layers=4, context_length=8192, tied_embeddings=True, residual="parallel",
             norm={"kind": "layernorm", "bias": False, "shared": True}, attention={**GQA, "sliding_window": 8},
             mlp=SWIGLU, layers=[{"repeat": 2, "pattern": [{}, {"attention": {"sliding_window": None}}]}]),
        EMBED + 4 * (3072 + 32 + 4608) + 32,
    ),
    "falcon": (  # new decoder architecture: 2 KV heads, ln_attn and ln_mlp in parallel; ALiBi; biases
        dict(model_type="falcon", vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
             new_decoder_architecture=True, num_kv_heads=2, bias=True, alibi=True, ffn_hidden_size=48),
        dict(vocab_size=100, d_model=32, n_layers=2, context_length=2048, position="alibi", tied_embeddings=True,
             residual="parallel", norm={"kind": "layernorm"}, attention={**GQA, "bias": True},
             mlp={"activation": "gelu", "d_ff": 48, "bias": True}),
        EMBED + 2 * (3072 + 96 + 2 * 64 + PLAIN_48) + 64,
    ),
    "falcon_mamba": (  # Mamba's mixer with weightless norms on dt, B and C: the same counts
        dict(model_type="falcon_mamba", vocab_size=100, hidden_size=8, num_hidden_layers=2, state_size=4,
             conv_kernel=3, mixer_rms_eps=1e-6),
        dict(vocab_size=100, d_model=8, n_layers=2, context_length=2048, position="none", tied_embeddings=True,
             norm={"kind": "rmsnorm"}, mixer={"kind": "mamba", "d_inner": 16, "d_state": 4, "d_conv": 3,
                                              "dt_rank": 1, "conv_bias": True, "bias": False}),
        800 + 2 * (256 + 64 + 144 + 32 + 64 + 16 + 128 + 8) + 8,
    ),
    "mamba": (  # d_inner 2 x 8; dt_rank "auto" = ceil(8 / 16); tied by default
        dict(model_type="mamba", vocab_size=100, hidden_size=8, num_hidden_layers=2, state_size=4, conv_kernel=3),
        dict(vocab_size=100, d_model=8, n_layers=2, context_length=2048, position="none", tied_embeddings=True,
             norm={"kind": "rmsnorm"}, mixer={"kind": "mamba", "d_inner": 16, "d_state": 4, "d_conv": 3,
                                              "dt_rank": 1, "conv_bias": True, "bias": False}),
        # in_proj 8 x 32, conv 16 x 3 + 16, x_proj 16 x (1 + 2 x 4), dt_proj 1 x 16 + 16, A_log 16 x 4, D 16,
        # out_proj 16 x 8, norm 8; embedding 100 x 8, final norm 8
        800 + 2 * (256 + 64 + 144 + 32 + 64 + 16 + 128 + 8) + 8,
    ),
    "mamba2": (  # 4 heads of 4, 2 groups of B and C; biases on in_proj and out_proj; untied by default
        dict(model_type="mamba2", vocab_size=100, hidden_size=8, expand=2, num_heads=4, head_dim=4,
             num_hidden_layers=2, state_size=4, n_groups=2, conv_kernel=3, chunk_size=8, use_bias=True),
        dict(vocab_size=100, d_model=8, n_layers=2, context_length=2048, position="none", tied_embeddings=False,
             norm={"kind": "rmsnorm"}, mixer={"kind": "mamba2", "d_inner": 16, "d_state": 4, "d_conv": 3,
                                              "n_heads": 4, "n_groups": 2, "chunk_size": 8, "conv_bias": True,
                                              "bias": True}),
        # in_proj 8 x (2 x 16 + 2 x 2 x 4 + 4) + 52, conv (16 + 16) x 3 + 32, dt_bias, A_log, D 4 each, gated norm
        # 16, out_proj 16 x 8 + 8, norm 8; embedding and LM head 100 x 8, final norm 8
        1600 + 2 * (416 + 52 + 128 + 12 + 16 + 128 + 8 + 8) + 8,
    ),
    "jamba": (  # attention on layers 1 and 3, experts on layers 0 and 2: Mamba + MoE, attention + MLP, twice
        dict(KV2, model_type="jamba", num_hidden_layers=4, attn_layer_period=2, attn_layer_offset=1,
             expert_layer_period=2, expert_layer_offset=0, num_experts=4, mamba_d_state=4, mamba_d_conv=3),
        dict(vocab_size=100, d_model=32, n_layers=4, context_length=262144, position="none", tied_embeddings=False,
             norm={"kind": "rmsnorm"}, mlp=SWIGLU, moe={"n_experts": 4, "top_k": 2, "d_ff": 48},
             mixer={"kind": "mamba", "d_inner": 64, "d_state": 4, "d_conv": 3, "dt_rank": 2, "inner_norms": True,
                    "conv_bias": True, "bias": False},
             layers=[{"repeat": 2, "pattern": [{}, {"attention": GQA, "mixer": None, "moe": None}]}]),
        # Mamba: in_proj 32 x 128, conv 64 x 3 + 64, x_proj 64 x (2 + 8), dt_proj 2 x 64 + 64, A_log 64 x 4, D 64,
        # dt/B/C norms 2 + 4 + 4, out_proj 64 x 32; router 4 x 32, 4 SwiGLU experts of 48; attention 3072, MLP 4608;
        # two norms per layer, a final one, an untied LM head
        2 * EMBED + 2 * (7562 + 128 + 4 * 4608 + 64) + 2 * (3072 + 4608 + 64) + 32,
    ),
    "opt": (  # OPT-350m's shape: a 16-wide word embedding projected in and out, post-LN, no final norm
        dict(model_type="opt", vocab_size=100, hidden_size=32, num_attention_heads=4, num_hidden_layers=2, ffn_dim=48,
             max_position_embeddings=64, word_embed_proj_dim=16, do_layer_norm_before=False),
        dict(vocab_size=100, d_model=32, d_embed=16, n_layers=2, context_length=64, position="learned",
             position_offset=2, tied_embeddings=True, norm={"kind": "layernorm", "placement": "post"},
             attention={**MHA, "bias": True}, mlp={"activation": "relu", "d_ff": 48, "bias": True}),
        # tokens 100 x 16, positions (64 + 2) x 32, project_in 16 x 32, 2 x (q, k, v, out_proj 4*32*32 + 4*32, two
        # LayerNorms, fc1 and fc2 with biases), project_out 32 x 16; tied head
        100 * 16 + 66 * 32 + 512 + 2 * (4224 + 128 + PLAIN_48) + 512,
    ),
    "ernie4_5_moe": (  # layer 0 dense, 1 and 2 MoE; use_bias: every projection but the routed experts, the LM head too
        dict(model_type="ernie4_5_moe", **{**KV2, "num_hidden_layers": 3}, head_dim=8, moe_num_experts=4, moe_k=2,
             moe_intermediate_size=16, moe_num_shared_experts=2, use_bias=True),
        dict(ROPE, n_layers=3, context_length=131072, tied_embeddings=True, lm_head_bias=True,
             norm={"kind": "rmsnorm"}, attention={**GQA, "bias": True}, mlp={**SWIGLU, "bias": True},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "d_ff_shared": 32,
                  "routing_bias": "parameter", "expert_bias": False},
             layers=[{"count": 1, "moe": None}, {"count": 2}]),
        # tied embedding + the head's bias 100; the dense layer with q/k/v/o biases 96 and MLP biases 128; each MoE
        # layer: attention 3072 + 96, two norms, router 4 x 32, e_score_correction_bias 4, four bare experts of 16,
        # the shared MLP 3 x 32 x 32 + biases 2 x 32 + 32; final norm
        EMBED + 100 + (LAYER + 96 + 128) + 2 * (3072 + 96 + 64 + 128 + 4 + MOE_4x16 + 3072 + 96) + 32,
    ),
    "minimax_m2": (  # every layer MoE; q/k norms over the whole projections; rotary_dim 4 of each 8-wide head
        dict(model_type="minimax_m2", **KV2, head_dim=8, num_local_experts=4, num_experts_per_tok=2, rotary_dim=4),
        dict(ROPE, n_layers=2, context_length=196608, rotary_dim=4, tied_embeddings=False,
             norm={"kind": "rmsnorm"}, attention={**GQA, "qk_norm": "rmsnorm_full"}, mlp=SWIGLU,
             moe={"n_experts": 4, "top_k": 2, "d_ff": 48, "routing_bias": True}),
        # 2 x (attention 3072, q_norm 32 + k_norm 16, two norms, router 4 x 32, four experts of 48) + final norm
        # + head; the e_score_correction_bias buffers are in no total
        2 * EMBED + 2 * (3072 + 48 + 64 + 128 + 4 * 4608) + 32,
    ),
    "hunyuan_v1_moe": (  # top-1 on layer 0, top-2 on layer 1; q/k RMSNorms of head_dim; one shared MLP of 48
        dict(model_type="hunyuan_v1_moe", **KV2, head_dim=8, num_experts=4, moe_topk=[1, 2]),
        dict(ROPE, n_layers=2, context_length=2048, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "qk_norm": "rmsnorm"}, mlp=SWIGLU,
             moe={"n_experts": 4, "top_k": 1, "d_ff": 48, "n_shared_experts": 1},
             layers=[{"count": 1}, {"count": 1, "moe": {"top_k": 2}}]),
        # 2 x (attention 3072, q/k norms 16, two norms, router 4 x 32, four experts and the shared MLP of 48)
        2 * EMBED + 2 * (3072 + 16 + 64 + 128 + 5 * 4608) + 32,
    ),
    "lfm2": (  # short conv on layers 0 and 2, attention with q/k norms on 1 and 3; int(2 x 66 / 3) = 44 -> 48
        dict(KV2, model_type="lfm2", num_hidden_layers=4, intermediate_size=66, block_multiple_of=16, conv_bias=True,
             layer_types=["conv", "full_attention"] * 2),
        dict(vocab_size=100, d_model=32, n_layers=4, context_length=128000, position="rope", tied_embeddings=True,
             norm={"kind": "rmsnorm"}, mlp=SWIGLU, mixer={"kind": "short_conv", "d_conv": 3, "bias": True},
             layers=[{"repeat": 2, "pattern": [{}, {"attention": {**GQA, "qk_norm": "rmsnorm"}, "mixer": None}]}]),
        # short conv: in_proj 32 x 96 + 96, conv 32 x 3 + 32, out_proj 32 x 32 + 32; attention 3072 + q/k norms 16;
        # SwiGLU 4608 and two norms on every layer, a final norm, the LM head tied
        EMBED + 2 * (3072 + 128 + 1024 + 128 + 4608 + 64) + 2 * (3088 + 4608 + 64) + 32,
    ),
    "lfm2_moe": (  # LFM2's layers; the first two with the MLP of intermediate_size, the others with 4 experts of 16
        dict(KV2, model_type="lfm2_moe", num_hidden_layers=4, layer_types=["conv", "full_attention"] * 2,
             num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16),
        dict(vocab_size=100, d_model=32, n_layers=4, context_length=128000, position="rope", tied_embeddings=True,
             norm={"kind": "rmsnorm"}, mlp=SWIGLU, mixer={"kind": "short_conv", "d_conv": 3, "bias": False},
             layers=[{"count": 1}, {"count": 1, "attention": {**GQA, "qk_norm": "rmsnorm"}, "mixer": None},
                     {"count": 1, "moe": LFM2_MOE},
                     {"count": 1, "attention": {**GQA, "qk_norm": "rmsnorm"}, "mixer": None, "moe": LFM2_MOE}]),
        # short conv 3072 + 96 + 1024, attention 3088; SwiGLU 4608 on layers 0-1, router 4 x 32 and 4 experts of 16
        # on 2-3 (the expert bias a buffer); two norms per layer, a final one, the LM head tied
        EMBED + (4192 + 4608) + (3088 + 4608) + (4192 + 128 + MOE_4x16) + (3088 + 128 + MOE_4x16) + 4 * 64 + 32,
    ),
    "minimax": (  # softmax attention on layers 0 and 2, lightning attention on 1 and 3; experts on every layer
        dict(KV2, model_type="minimax", num_hidden_layers=4, num_local_experts=4, block_size=8),
        dict(ROPE, n_layers=4, context_length=131072, tied_embeddings=False, norm={"kind": "rmsnorm"}, mlp=SWIGLU,
             attention=GQA, moe={"n_experts": 4, "top_k": 2, "d_ff": 48},
             layers=[{"repeat": 2, "pattern": [{}, {"attention": None, "mixer": {"kind": "lightning", "n_heads": 4,
                                                                                  "head_dim": 8, "block_size": 8}}]}]),
        # lightning: qkv_proj 32 x 96, the output gate 32 x 32, the norm 32, out_proj 32 x 32; attention 3072; router
        # 4 x 32 and 4 SwiGLU experts of 48 everywhere; two norms per layer, a final one, an untied LM head
        2 * EMBED + 2 * (3072 + 128 + 4 * 4608 + 64) + 2 * (5152 + 128 + 4 * 4608 + 64) + 32,
    ),
    "qwen3_next": (  # Gated DeltaNet on layers 0 and 2, gated attention on 1 and 3; experts except on layer 3
        dict(KV2, model_type="qwen3_next", num_hidden_layers=4, head_dim=8, full_attention_interval=2,
             linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=4, linear_value_head_dim=6,
             linear_conv_kernel_dim=3, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
             shared_expert_intermediate_size=24, mlp_only_layers=[3]),
        dict(vocab_size=100, d_model=32, n_layers=4, context_length=32768, position="rope", rotary_dim=2,
             tied_embeddings=False, norm={"kind": "rmsnorm"}, mlp=SWIGLU,
             mixer={"kind": "gated_deltanet", "n_key_heads": 2, "n_value_heads": 4, "key_head_dim": 4,
                    "value_head_dim": 6, "d_conv": 3, "chunk_size": 64},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "d_ff_shared": 24,
                  "shared_gate": True},
             layers=[{"count": 1}, {"count": 1, "attention": QWEN3_NEXT_ATTENTION, "mixer": None}, {"count": 1},
                     {"count": 1, "attention": QWEN3_NEXT_ATTENTION, "mixer": None, "moe": None}]),
        # DeltaNet: in_proj_qkvz 32 x (2 x 8 + 2 x 24), in_proj_ba 32 x 8, conv 40 x 3, dt_bias 4, A_log 4, norm 6,
        # out_proj 24 x 32; attention 3072 + the gate's 1024 + q/k norms 16; router 128, 4 experts of 16, the shared
        # expert of 24 and its gate 32; the dense layer's MLP 4608; two norms per layer, a final one, untied head
        2 * EMBED + 2 * (3206 + 128 + MOE_4x16 + 2304 + 32 + 64) + (4112 + 128 + MOE_4x16 + 2304 + 32 + 64)
        + (4112 + 4608 + 64) + 32,
    ),
})
QWEN3_5_KEYS = dict(KV2, num_hidden_layers=4, head_dim=8, full_attention_interval=2, linear_num_key_heads=2,
                    linear_num_value_heads=4, linear_key_head_dim=4, linear_value_head_dim=6, linear_conv_kernel_dim=3,
                    rope_parameters={"rope_type": "default", "rope_theta": 1e7, "partial_rotary_factor": 0.25,
                                     "mrope_section": [1, 0, 0], "mrope_interleaved": True},
                    mtp_num_hidden_layers=1, mtp_use_dedicated_embeddings=False, attn_output_gate=True)
QWEN3_5_SPEC = dict(vocab_size=100, d_model=32, n_layers=4, context_length=128, position="rope", rotary_dim=2,
                    tied_embeddings=False, norm={"kind": "rmsnorm"}, mlp=SWIGLU,
                    mixer={"kind": "gated_deltanet", "n_key_heads": 2, "n_value_heads": 4, "key_head_dim": 4,
                           "value_head_dim": 6, "d_conv": 3, "chunk_size": 64},
                    layers=[{"repeat": 2, "pattern": [{}, {"attention": QWEN3_NEXT_ATTENTION, "mixer": None}]}])
CASES.update({
    "qwen3_5_text": (  # Gated DeltaNet on layers 0 and 2, gated attention on 1 and 3; a SwiGLU MLP on every layer; the
        # MTP layer's keys (not built by transformers) and M-RoPE's sections read as nothing
        dict(QWEN3_5_KEYS, model_type="qwen3_5_text", max_position_embeddings=128),
        QWEN3_5_SPEC,
        # DeltaNet 3206 (in_proj_qkv 32 x 40, in_proj_z 32 x 24, in_proj_b and in_proj_a 32 x 4 each, conv 40 x 3,
        # dt_bias 4, A_log 4, norm 6, out_proj 24 x 32), attention 3072 + the gate's 1024 + q/k norms 16; SwiGLU 4608
        # and two norms on every layer, a final norm, an untied LM head
        2 * EMBED + 2 * 3206 + 2 * 4112 + 4 * (4608 + 64) + 32,
    ),
    "qwen3_5_moe_text": (  # the same layers, 4 experts of 16 and a shared expert of 24 behind its gate on every layer
        dict(QWEN3_5_KEYS, model_type="qwen3_5_moe_text", max_position_embeddings=128, num_experts=4,
             num_experts_per_tok=2, moe_intermediate_size=16, shared_expert_intermediate_size=24),
        dict(QWEN3_5_SPEC, mlp={"activation": "swiglu", "d_ff": 16},
             moe={"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "d_ff_shared": 24,
                  "shared_gate": True}),
        # router 4 x 32, four experts of 16, the shared expert 3 x 32 x 24 and its gate 32 on every layer
        2 * EMBED + 2 * 3206 + 2 * 4112 + 4 * (128 + MOE_4x16 + 2304 + 32 + 64) + 32,
    ),
})
QWEN3_5_VISION = {"model_type": "qwen3_5", "depth": 2, "hidden_size": 16, "num_heads": 2, "intermediate_size": 24,
                  "patch_size": 4, "spatial_merge_size": 2, "temporal_patch_size": 2, "num_position_embeddings": 16,
                  "out_hidden_size": 32, "deepstack_visual_indexes": []}
QWEN3_5_TOWER = {"d_model": 16, "n_layers": 2, "image_size": 8, "patch_size": 4, "channels": 3, "temporal_patch": 2,
                 "patch_bias": True, "position": "interpolated", "position_rows": 16,
                 "attention": {"n_heads": 2, "bias": True},
                 "mlp": {"activation": "gelu_tanh", "d_ff": 24, "bias": True},
                 "norm": {"kind": "layernorm", "final": False}, "resize": "smart", "min_pixels": 65536,
                 "max_pixels": 16777216, "projector": {"merge": 2, "d_hidden": 64, "d_out": 32, "norm": "layernorm"}}
# the tower: patch embedding 3 x 2 x 4 x 4 x 16 + 16, the position table 16 x 16, two blocks of two LayerNorms 64,
# qkv 816, proj 272 and an MLP 808; the merger: LayerNorm 32, linear_fc1 64 x 64 + 64, linear_fc2 64 x 32 + 32
QWEN3_5_IMAGE_SIDE = 1552 + 256 + 2 * 1960 + 32 + 4160 + 2080
CASES.update({
    "qwen3_5": (  # the text model of qwen3_5_text's case, tied by the top level, and the vision tower and merger
        {"model_type": "qwen3_5", "tie_word_embeddings": True, "vision_config": QWEN3_5_VISION,
         "text_config": {k: v for k, v in CASES["qwen3_5_text"][0].items() if k != "max_position_embeddings"}},
        dict(QWEN3_5_SPEC, context_length=32768, tied_embeddings=True, vision=QWEN3_5_TOWER),
        CASES["qwen3_5_text"][2] - EMBED + QWEN3_5_IMAGE_SIDE,
    ),
    "qwen3_5_moe": (  # the same around qwen3_5_moe_text's case
        {"model_type": "qwen3_5_moe", "tie_word_embeddings": True, "vision_config": QWEN3_5_VISION,
         "text_config": {k: v for k, v in CASES["qwen3_5_moe_text"][0].items() if k != "max_position_embeddings"}},
        dict(CASES["qwen3_5_moe_text"][1], context_length=32768, tied_embeddings=True, vision=QWEN3_5_TOWER),
        CASES["qwen3_5_moe_text"][2] - EMBED + QWEN3_5_IMAGE_SIDE,
    ),
})
PIXTRAL_SMALL = {"model_type": "pixtral", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2,
                 "intermediate_size": 24, "image_size": 32, "patch_size": 4, "head_dim": 64}
CASES["mistral3"] = (  # mistral's case untied, a Pixtral tower of 2 layers, Mistral 3's projector merging 2 x 2
    {"model_type": "mistral3", "tie_word_embeddings": False, "text_config": CASES["mistral"][0],
     "vision_config": PIXTRAL_SMALL, "image_token_index": 10},
    dict(CASES["mistral"][1], vision={
        "d_model": 16, "n_layers": 2, "image_size": 32, "patch_size": 4, "channels": 3, "position": "rope",
        "pre_norm": True, "attention": {"n_heads": 2, "bias": False}, "mlp": {"activation": "geglu", "d_ff": 24},
        "norm": {"kind": "rmsnorm", "final": False}, "resize": "longest", "row_break": True,
        "projector": {"norm": "rmsnorm", "merge": 2, "merger": True, "d_in": 16, "d_hidden": 32, "activation": "gelu",
                      "bias": False}}),
    # the tower: patch conv 3*4*4*16, ln_pre 16, 2 x (q, k, v, o 4*256, 2 RMSNorms 32, gated MLP 3*16*24); the
    # projector: its RMSNorm 16, the patch merger 64*16, linear_1 16*32, linear_2 32*32, no biases
    CASES["mistral"][2] + 768 + 16 + 2 * (1024 + 32 + 1152) + 16 + 1024 + 512 + 1024,
)
MAMBA2_KEYS = dict(mamba_n_heads=4, mamba_d_state=4, mamba_d_conv=3, mamba_n_groups=2, mamba_expand=1)
MAMBA2_MIXER = {"kind": "mamba2", "d_inner": 32, "d_state": 4, "d_conv": 3, "n_heads": 4, "n_groups": 2,
                "chunk_size": 256, "conv_bias": True, "bias": False}
# Mamba-2 of 32 channels: in_proj 32 x (2 x 32 + 2 x 2 x 4 + 4), conv (32 + 16) x 3 + 48, dt_bias, A_log, D 4 each,
# gated norm 32, out_proj 32 x 32
MAMBA2_PARAMS = 32 * 84 + 48 * 4 + 12 + 32 + 1024
HYBRID_LAYERS = [{"count": 1}, {"count": 1, "attention": GQA, "mixer": None}, {"count": 1}]
RELU2 = {"activation": "relu2", "d_ff": 48, "bias": False}
CASES.update({
    "bamba": (  # attention on layer 1 (RoPE on half of each head: BambaConfig's 0.5), Mamba-2 on 0 and 2, MLPs
        dict(KV2, model_type="bamba", num_hidden_layers=3, attn_layer_indices=[1], **MAMBA2_KEYS),
        dict(ROPE, n_layers=3, context_length=262144, rotary_dim=4, tied_embeddings=False, norm={"kind": "rmsnorm"},
             mixer=MAMBA2_MIXER, mlp=dict(SWIGLU, bias=False), layers=HYBRID_LAYERS),
        # two Mamba-2 layers, one attention (3072), a SwiGLU MLP and two norms on each layer, a final norm, untied
        2 * EMBED + 2 * MAMBA2_PARAMS + 3072 + 3 * (4608 + 64) + 32,
    ),
    "granitemoehybrid": (  # layer_types' legacy names; 4 experts of 48 beside a shared MLP of 24 on every layer
        dict(KV2, model_type="granitemoehybrid", num_hidden_layers=3, layer_types=["mamba", "attention", "mamba"],
             num_local_experts=4, shared_intermediate_size=24, position_embedding_type="rope",
             tie_word_embeddings=True, residual_multiplier=0.22, **MAMBA2_KEYS),
        dict(ROPE, n_layers=3, context_length=2048, tied_embeddings=True, norm={"kind": "rmsnorm"},
             mixer=MAMBA2_MIXER, mlp=SWIGLU, moe={"n_experts": 4, "top_k": 2, "d_ff": 48, "n_shared_experts": 1,
                                                  "d_ff_shared": 24}, layers=HYBRID_LAYERS),
        # router 4 x 32, experts 4 x 4608, shared 3 x 32 x 24 on each layer; tied embeddings
        EMBED + 2 * MAMBA2_PARAMS + 3072 + 3 * (128 + 4 * 4608 + 2304 + 64) + 32,
    ),
    "falcon_h1": (  # attention and a Mamba-2 mixer of 16 channels (mamba_d_ssm) on each layer, no gated norm
        dict(KV2, model_type="falcon_h1", mamba_d_ssm=16, projectors_bias=True, ssm_multipliers=[1, 2, 1, 1, 1],
             **{k: v for k, v in MAMBA2_KEYS.items() if k != "mamba_expand"}),
        dict(ROPE, n_layers=2, context_length=8192, tied_embeddings=False, norm={"kind": "rmsnorm"},
             mixer=dict(MAMBA2_MIXER, d_inner=16, gated_norm=False, out_bias=True), attention=GQA,
             mlp=dict(SWIGLU, bias=False)),
        # mixer: in_proj 32 x (2 x 16 + 2 x 2 x 4 + 4), conv (16 + 16) x 3 + 32, dt_bias, A_log, D 4 each, out_proj
        # 16 x 32 and its bias 32; attention 3072, MLP 4608, two norms on each layer, a final norm, untied
        2 * EMBED + 2 * (32 * 52 + 128 + 12 + 512 + 32 + 3072 + 4608 + 64) + 32,
    ),
    "nemotron_h": (  # one norm and one block per layer: Mamba-2, a squared-ReLU MLP, Mamba-2, attention, experts
        dict(KV2, model_type="nemotron_h", head_dim=8, hybrid_override_pattern="M-M*E", mamba_num_heads=4,
             mamba_head_dim=8, n_groups=2, ssm_state_size=4, conv_kernel=3, n_routed_experts=4,
             moe_intermediate_size=16, moe_shared_expert_intermediate_size=24, tie_word_embeddings=True),
        dict(vocab_size=100, d_model=32, n_layers=5, context_length=4096, position="none", tied_embeddings=False,
             norm={"kind": "rmsnorm"}, mixer=dict(MAMBA2_MIXER, chunk_size=128), layers=[
                 {"count": 1},
                 {"count": 1, "mixer": None, "mlp": RELU2, "attention": None},
                 {"count": 1},
                 {"count": 1, "attention": GQA, "mixer": None, "mlp": None},
                 {"count": 1, "mixer": None, "mlp": RELU2, "attention": None,
                  "moe": {"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "d_ff_shared": 24,
                          "routing_bias": True}}]),
        # MLP up and down 2 x 32 x 48, attention 3072; experts: router 4 x 32, 4 x 2 x 32 x 16, shared 2 x 32 x 24;
        # a norm per layer, a final one; the LM head never tied (tie_word_embeddings changes nothing)
        2 * EMBED + 2 * MAMBA2_PARAMS + 3072 + 3072 + 128 + 4 * 1024 + 1536 + 5 * 32 + 32,
    ),
})


def write(tmp_path: Path, config, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    return path


def imported(tmp_path: Path, config: dict, name: str = "model.json"):
    return llmcalc.load(str(write(tmp_path, config, name)))


def error_for(tmp_path: Path, config, name: str = "bad.json") -> SpecError:
    path = write(tmp_path, config, name)
    with pytest.raises(SpecError) as info:
        llmcalc.load(str(path))
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return info.value


CLIP_SMALL = dict(hidden_size=16, num_attention_heads=2, num_hidden_layers=2, intermediate_size=24, image_size=8,
                  patch_size=4)
QWEN_VL_VISION = dict(depth=2, hidden_size=16, num_heads=2, intermediate_size=24, patch_size=4, spatial_merge_size=2,
                      temporal_patch_size=2, window_size=16, out_hidden_size=32, fullatt_block_indexes=[1, 5])
MLLAMA_VISION = dict(hidden_size=16, attention_heads=2, num_hidden_layers=2, num_global_layers=1, intermediate_size=24,
                     image_size=8, patch_size=4, max_num_tiles=2, supported_aspect_ratios=[[1, 1], [1, 2], [2, 1]],
                     intermediate_layers_indices=[0], vision_output_dim=32)
CASES.update({
    "llava": (  # a CLIP tower of 2 layers over 2 x 2 patches of 4 pixels, the two-layer projector, a Llama
        dict(model_type="llava", text_config=dict(model_type="llama", **KV2), vision_config=CLIP_SMALL),
        dict(ROPE, n_layers=2, context_length=2048, tied_embeddings=False, norm={"kind": "rmsnorm"}, attention=GQA,
             mlp=SWIGLU, vision={
                 "d_model": 16, "n_layers": 2, "image_size": 8, "patch_size": 4, "channels": 3, "patch_bias": False,
                 "class_token": True, "pre_norm": True, "pool_head": False, "attention": {"n_heads": 2, "bias": True},
                 "mlp": {"activation": "gelu", "d_ff": 24, "bias": True}, "norm": {"kind": "layernorm"},
                 "drop_class_token": True,
                 "projector": {"d_in": 16, "d_hidden": 32, "activation": "gelu", "bias": True}}),
        # the Llama (LAYER holds its two norms); the tower: patch conv 3*4*4*16, class token 16, 5 positions x 16, pre and post LayerNorms 32
        # each, 2 x (q, k, v, o 4*256 + biases 64, 2 LayerNorms 64, fc1 and fc2 2*16*24 + 24 + 16); the projector:
        # 16*32 + 32 and 32*32 + 32
        EMBED + 2 * LAYER + 32 + EMBED + 768 + 16 + 80 + 32 + 2 * (1024 + 64 + 64 + 768 + 40) + 32
        + 544 + 1056,
    ),
    "qwen2_5_vl": (  # the Hub's flat form (text keys at the top level); windows of 2 merged patches but on layer 1
        dict(model_type="qwen2_5_vl", **KV2, vision_config=QWEN_VL_VISION),
        dict(ROPE, n_layers=2, context_length=32768, tied_embeddings=False, norm={"kind": "rmsnorm"},
             attention={**GQA, "bias": {"q": True, "k": True, "v": True}}, mlp=SWIGLU, vision={
                 "d_model": 16, "n_layers": 2, "image_size": 8, "patch_size": 4, "channels": 3, "temporal_patch": 2,
                 "position": "rope", "attention": {"n_heads": 2, "bias": True},
                 "mlp": {"activation": "swiglu", "d_ff": 24, "bias": True}, "norm": {"kind": "rmsnorm", "final": False},
                 "window": 4, "full_layers": [1], "resize": "smart", "min_pixels": 3136, "max_pixels": 1003520,
                 "projector": {"merge": 2, "d_hidden": 64, "d_out": 32, "norm": "rmsnorm"}}),
        # Qwen2 (q, k, v biases 64); the tower: Conv3d 3*2*4*4*16, 2 x (q, k, v, o 4*256 + biases 64, 2 RMSNorms 32,
        # gated MLP 3*16*24 + biases 2*24 + 16); the merger: ln_q 16, 64*64 + 64, 64*32 + 32
        EMBED + 2 * (LAYER + 64) + 32 + EMBED + 1536 + 2 * (1024 + 64 + 32 + 1152 + 64) + 16 + 4160 + 2080,
    ),
    "mllama": (  # a Llama of 3 layers whose layer 1 cross-attends to the images; a tower of 2 + 1 global layers over
        # 2 tiles of 2 x 2 patches of 4 pixels, 3 tile layouts, one intermediate layer's features joining the last
        dict(model_type="mllama", text_config=dict(KV2, num_hidden_layers=3, cross_attention_layers=[1, 7]),
             vision_config=MLLAMA_VISION),
        dict(ROPE, input_vocab_size=108, n_layers=3, context_length=131072, tied_embeddings=False,
             norm={"kind": "rmsnorm"}, attention=GQA, mlp=SWIGLU,
             layers=[{"count": 1}, {"count": 1, "attention": {"qk_norm": "rmsnorm", "source": "images"}},
                     {"count": 1}],
             vision={"d_model": 16, "n_layers": 2, "global_layers": 1, "image_size": 8, "patch_size": 4,
                     "channels": 3, "class_token": True, "pre_norm": True, "tiles": 2, "aspect_ratios": 3,
                     "pad_multiple": 8, "attention": {"n_heads": 2},
                     "mlp": {"activation": "gelu", "d_ff": 24, "bias": True}, "norm": {"kind": "layernorm"},
                     "projector": {"d_in": 32, "d_out": 32}}),
        # the token embedding has 8 more rows than the LM head; the cross-attention layer adds q/k RMSNorms 2*8 and two
        # gates; the tower: patch conv 3*4*4*16, class token 16, 5 positions x 16, tile positions (3 + 1) x 2 x 5 x 16
        # and 2 x (3 + 1) x 2 x 16, 3 gates, pre and post LayerNorms 32 each, 2 + 1 layers of (q, k, v, o 4*256,
        # 2 LayerNorms 64, fc1 and fc2 2*16*24 + 24 + 16) and 2 gates on the global one; the projector 32*32 + 32
        108 * 32 + 3 * LAYER + 18 + 32 + EMBED + 768 + 16 + 80 + 640 + 256 + 3 + 32 + 3 * 1896 + 2 + 32 + 1056,
    ),
})

# Gemma 4: sliding layers 0, 2 of 8-wide heads and full layers 1, 3 of 16-wide heads with one kv head (k_eq_v: no
# v_proj); layers 2, 3 reuse K and V of 0, 1 (no k/v projections, no k norm) and have MLPs twice as wide; experts
# beside every MLP; per-layer inputs of width 4
GEMMA4_TEXT = dict(KV2, num_hidden_layers=4, head_dim=8, global_head_dim=16, num_global_key_value_heads=1,
                   attention_k_eq_v=True, sliding_window=8, layer_types=["sliding_attention", "full_attention"] * 2,
                   num_kv_shared_layers=2, use_double_wide_mlp=True, enable_moe_block=True, num_experts=4,
                   top_k_experts=2, moe_intermediate_size=16, hidden_size_per_layer_input=4,
                   vocab_size_per_layer_input=100)
GEMMA4_MOE = {"n_experts": 4, "top_k": 2, "d_ff": 16, "n_shared_experts": 1, "d_ff_shared": 48, "router_scales": True,
              "norms": 3}
GEMMA4_SPEC = dict(ROPE, n_layers=4, context_length=131072, tied_embeddings=True,
                   per_layer_input={"vocab_size": 100, "width": 4}, norm={"kind": "rmsnorm", "placement": "sandwich"},
                   attention={**GQA, "qk_norm": "rmsnorm", "sliding_window": 8},
                   mlp={"activation": "geglu", "d_ff": 48}, moe=GEMMA4_MOE,
                   layers=[{"count": 1},
                           {"count": 1, "attention": {"n_kv_heads": 1, "d_head": 16, "k_eq_v": True,
                                                      "sliding_window": None}},
                           {"count": 1, "attention": {"kv_shared": True}, "mlp": {"d_ff": 96},
                            "moe": {"d_ff_shared": 96}},
                           {"count": 1, "attention": {"n_kv_heads": 1, "d_head": 16, "kv_shared": True,
                                                      "sliding_window": None}, "mlp": {"d_ff": 96},
                            "moe": {"d_ff_shared": 96}}])
# the tied embedding 3200; the per-layer table 100 x 4 x 4, its projection 32 x 16 and norm 4; each layer: 4 norms 128,
# gate and projection 2 x 32 x 4 and a norm 32, router 32 x 4 + scales 32 + 4, 3 more norms 96, experts 4 x 3 x 32 x 16;
# attention: q 1024, k 512, v 512, o 1024, q/k norms 16 | q 2048, k 512, o 2048, norms 32 | q 1024, o 1024, q norm 8 |
# q 2048, o 2048, q norm 16; MLPs 3 x 32 x 48 twice and 3 x 32 x 96 twice; the final norm 32
GEMMA4_TOTAL = (3200 + 1600 + 512 + 4 + 4 * (128 + 288 + 164 + 96 + 6144) + 3088 + 4640 + 2056 + 4112
                + 2 * 4608 + 2 * 9216 + 32)
CASES.update({
    "gemma4_text": (dict(model_type="gemma4_text", **GEMMA4_TEXT), GEMMA4_SPEC, GEMMA4_TOTAL),
    # the top level's tie_word_embeddings ties the LM head (Gemma4ForConditionalGeneration); the towers are not read
    "gemma4": (dict(model_type="gemma4", text_config=dict(GEMMA4_TEXT, tie_word_embeddings=False),
                    vision_config={"hidden_size": 8}, audio_config={"hidden_size": 8}, image_token_id=7),
               GEMMA4_SPEC, GEMMA4_TOTAL),
})


# ------------------------------------------------------------------------------ every model_type


def test_cases_cover_every_supported_model_type():
    assert set(CASES) == set(hf.SUPPORTED)


@pytest.mark.parametrize("model_type", sorted(CASES))
def test_small_config_imports_to_the_expected_spec(model_type, tmp_path):
    config, expected, total = CASES[model_type]
    data = hf.spec_from_config(json.loads(json.dumps(config)), "small.json")
    assert {k: v for k, v in data.items() if k not in ("family", "sources", "notes")} == expected
    assert data["family"] == {"llama4": "llama4_text", "gemma3": "gemma3_text", "gemma4": "gemma4_text",
                              "llava": "llama",
                              "qwen2_5_vl": "qwen2_5_vl_text", "qwen3_5": "qwen3_5_text",
                              "qwen3_5_moe": "qwen3_5_moe_text", "mistral3": "mistral"}.get(model_type, model_type)
    assert count_params(imported(tmp_path, config)).total == total


def test_llama4_counts_the_text_model_only_and_says_so():
    data = hf.spec_from_config(CASES["llama4"][0], "x.json")  # a vision_config whose widths do not chain
    assert "the vision tower is not counted" in data["notes"]


def test_mistral3_says_its_lm_head_is_tied_by_default():
    """Mistral3Config's tie_word_embeddings defaults to true, which transformers 5.23.0 ties by: a config.json without
    the key (Mistral Small 3.1's, written by transformers 4) counts a tied head, and the note says how to count the
    untied head its checkpoint saves; the key set either way says nothing."""
    config = {k: v for k, v in CASES["mistral3"][0].items() if k != "tie_word_embeddings"}
    data = hf.spec_from_config(json.loads(json.dumps(config)), "x.json")
    assert data["tied_embeddings"] is True and "set tie_word_embeddings false" in data["notes"]
    assert "tie_word_embeddings" not in hf.spec_from_config(json.loads(json.dumps(CASES["mistral3"][0])),
                                                            "x.json").get("notes", "")


def test_gemma4_counts_the_text_model_only_and_says_so():
    data = hf.spec_from_config(CASES["gemma4"][0], "x.json")
    assert "vision and audio towers" in data["notes"] and "not counted" in data["notes"]


@pytest.mark.parametrize("change, key", [
    (dict(num_kv_shared_layers=3), "num_kv_shared_layers"),  # layer 0 alone cannot produce a full layer's K and V
    (dict(use_bidirectional_attention="all"), "use_bidirectional_attention"),
    (dict(per_layer_config={"1": {"sliding_window": 4}}), "per_layer_config"),
    (dict(enable_moe_block=True, num_experts=None), "num_experts"),
])
def test_gemma4_refusals_name_the_key(change, key, tmp_path):
    with pytest.raises(SpecError, match=key):
        imported(tmp_path, dict(model_type="gemma4_text", **{**GEMMA4_TEXT, **change}))


def test_gemma4_reads_a_saved_per_layer_config(tmp_path):
    """A config transformers saved writes per_layer_config (global_head_dim is a kwarg it consumed): the same model."""
    saved = dict(GEMMA4_TEXT, per_layer_config={"1": {"head_dim": 16, "num_key_value_heads": 1},
                                                "3": {"head_dim": 16, "num_key_value_heads": 1}})
    del saved["global_head_dim"], saved["num_global_key_value_heads"]
    assert count_params(imported(tmp_path, dict(model_type="gemma4_text", **saved))).total == GEMMA4_TOTAL


# ------------------------------------------------------------------------------ defaults


@pytest.mark.parametrize("model_type, total", [
    ("llama", 6_738_415_616),        # LlamaConfig() is LLaMA-7B
    ("gpt2", 124_439_808),           # GPT2Config() is GPT-2 small
    ("mixtral", 46_702_792_704),     # MixtralConfig() is Mixtral 8x7B
    ("gemma2", 2_614_341_888),       # Gemma2Config() is Gemma 2 2B
    ("gpt_oss", 116_829_156_672),    # GptOssConfig() is gpt-oss-120b
    ("deepseek_v3", 671_026_404_352),  # DeepseekV3Config() is DeepSeek-V3
    ("deepseek_v32", 671_877_929_216),  # DeepseekV32Config() is DeepSeek-V3.2-Exp (its indexers, without MTP)
    ("llama4_text", 107_769_861_120),  # Llama4TextConfig() is Llama 4 Scout's text model
    ("llama4", 107_769_861_120),     # ... and Llama4Config() too, through its default text_config
    ("gemma", 8_537_680_896),        # GemmaConfig() is Gemma 7B
    ("olmo2", 6_888_624_128),        # transformers 5.23 num_parameters() of Olmo2Config()
    ("olmoe", 13_361_612_800),       # ... of OlmoeConfig() (q_norm and k_norm over the projections)
    ("glm4_moe", 103_481_200_640),   # ... of Glm4MoeConfig() (without its MTP layer)
    ("gemma3", 2_723_312_896),       # Gemma3Config(): Gemma3TextConfig() and SiglipVisionConfig() (its head)
    ("gpt_neox", 20_554_567_680),    # ... of GPTNeoXConfig() (GPT-NeoX-20B: two norms per layer, in parallel)
    ("gptj", 6_050_882_784),         # ... of GPTJConfig() (GPT-J 6B: one norm per layer, a biased LM head)
    ("phi", 1_418_270_720),          # ... of PhiConfig() (Phi-1.5's shape)
    ("cohere", 34_980_831_232),      # ... of CohereConfig() (Command R)
    ("falcon", 6_921_720_704),       # ... of FalconConfig() (Falcon-7B: multi-query, one shared norm)
    ("gpt_bigcode", 111_446_784),    # ... of GPTBigCodeConfig() (GPT-2 small's shape, multi-query)
    ("arcee", 4_022_766_080),        # ... of ArceeConfig() (AFM-4.5B's shape: squared ReLU, no gate)
    ("bloom", 16_156_544),           # ... of BloomConfig() (a tiny BLOOM: width 64, vocabulary 250,880)
    ("olmo", 6_888_095_744),         # ... of OlmoConfig() (OLMo-7B's shape: LayerNorms without parameters)
    ("mamba", 159_308_544),          # ... of MambaConfig() (tied, 32 layers of 768)
    ("falcon_mamba", 159_308_544),   # ... of FalconMambaConfig(), the same shape
    ("mamba2", 7_285_403_648),       # ... of Mamba2Config()
    ("jamba", 51_570_323_328),       # ... of JambaConfig() (Jamba v0.1's 52B: attention 1 layer in 8, experts in 2)
    ("lfm2", 2_705_497_600),         # ... of Lfm2Config() (every layer attention: full_attn_idxs null)
    ("qwen3_next", 79_674_391_296),  # ... of Qwen3NextConfig() (Qwen3-Next-80B-A3B's shape)
    ("qwen3_5_text", 8_953_803_264),  # ... of Qwen3_5TextConfig() (Qwen3.5-9B's text shape)
    ("qwen3_5_moe_text", 34_660_610_688),  # ... of Qwen3_5MoeTextConfig() (Qwen3.5-35B-A3B's text shape)
    ("qwen3_5", 9_407_453_936),      # ... of Qwen3_5Config() (its 27-layer tower, the merger, Qwen3_5TextConfig())
    ("qwen3_5_moe", 35_114_261_360),  # ... of Qwen3_5MoeConfig() (the same tower around Qwen3_5MoeTextConfig())
    ("minimax", 47_373_946_880),     # ... of MiniMaxConfig() (a Mixtral-8x7B-shaped stack, every other layer lightning)
    ("bamba", 9_992_765_440),        # ... of BambaConfig() (no attn_layer_indices: 32 Mamba-2 layers with MLPs)
    ("granitemoehybrid", 38_601_064_448),  # ... of GraniteMoeHybridConfig() (32 Mamba-2 layers, 8 experts + shared)
    ("falcon_h1", 8_514_961_408),    # ... of FalconH1Config() (attention and a 1,024-wide Mamba-2 on every layer)
    ("nemotron_h", 1_968_355_712),   # ... of NemotronHConfig() (four blocks: Mamba-2, experts, attention, MLP)
    ("llava", 7_062_902_784),        # ... of LlavaConfig() (CLIP ViT-L/14-336, the projector, LLaMA-7B)
    ("qwen2_5_vl", 75_789_228_800),  # ... of Qwen2_5_VLConfig() (its 32-layer tower, the merger, a 72B-shaped text)
    ("mistral3", 23_340_272_640),    # ... of Mistral3Config() (Mistral Small 3.1's shape, tied by its default)
    ("opt", 125_239_296),            # ... of OPTConfig() (OPT-125m's shape)
    ("ernie4_5_moe", 21_825_437_888),  # ... of Ernie4_5_MoeConfig() (ERNIE-4.5-21B-A3B's shape)
    ("minimax_m2", 228_689_748_992),  # ... of MiniMaxM2Config() (MiniMax-M2's shape)
    ("mllama", 10_642_941_475),      # ... of MllamaConfig() (Llama 3.2 11B Vision's shape, with 448-pixel tiles)
    ("gemma4_text", 5_077_177_856),  # ... of Gemma4TextConfig() (per-layer inputs of 256: a 2,013,265,920 table)
    ("gemma4", 5_077_177_856),       # ... of Gemma4Config()'s text model (its towers are not counted)
])
def test_missing_keys_take_the_transformers_defaults(model_type, total, tmp_path):
    assert count_params(imported(tmp_path, {"model_type": model_type})).total == total


def test_defaults_taken_are_listed_in_the_notes():
    data = hf.spec_from_config({"model_type": "qwen3", "hidden_size": 64, "num_attention_heads": 4,
                                "num_key_value_heads": 4}, "x.json")
    assert data["attention"]["d_head"] == 128  # Qwen3Config's head_dim, not hidden_size // heads
    assert "transformers 5.23.0 defaults" in data["notes"] and "head_dim=128" in data["notes"]
    assert "hidden_size" not in data["notes"]


def test_derived_defaults():
    data = hf.spec_from_config({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 8}, "x.json")
    assert data["attention"] == {"n_heads": 8, "n_kv_heads": 8, "d_head": 8}  # kv heads and head_dim derived
    data = hf.spec_from_config({"model_type": "gpt2", "n_embd": 64, "n_head": 8}, "x.json")
    assert data["mlp"]["d_ff"] == 256  # n_inner null: 4 x n_embd


# ------------------------------------------------------------------------------ the layer stack


def test_qwen2_moe_default_sliding_layers_and_dense_layers(tmp_path):
    config = dict(CASES["qwen2_moe"][0], use_sliding_window=True, sliding_window=8, max_window_layers=3,
                  decoder_sparse_step=1, mlp_only_layers=[0])
    model = imported(tmp_path, config)
    # transformers: sliding on even layers below max_window_layers; MoE where not in mlp_only_layers
    assert [layer.attention.sliding_window for layer in model.layers] == [8, None, 8, None]
    assert [layer.moe is not None for layer in model.layers] == [False, True, True, True]


def test_qwen2_layer_types_override_max_window_layers(tmp_path):
    config = dict(CASES["qwen2"][0], layer_types=["sliding_attention", "full_attention"] * 2)
    model = imported(tmp_path, config)
    assert [layer.attention.sliding_window for layer in model.layers] == [16, None, 16, None]


def test_qwen_window_only_with_use_sliding_window(tmp_path):
    model = imported(tmp_path, dict(CASES["qwen2"][0], use_sliding_window=False))
    assert all(layer.attention.sliding_window is None for layer in model.layers)
    model = imported(tmp_path, dict(CASES["qwen3_moe"][0], use_sliding_window=True, sliding_window=5))
    assert all(layer.attention.sliding_window == 5 for layer in model.layers)  # qwen3_moe: every layer


def test_deepseek_moe_layer_freq_follows_deepseek_code(tmp_path):
    config = dict(CASES["deepseek_v2"][0], num_hidden_layers=6, first_k_dense_replace=1, moe_layer_freq=2)
    model = imported(tmp_path, config)
    assert [layer.moe is not None for layer in model.layers] == [False, False, True, False, True, False]


def test_deepseek_v3_without_mtp_and_routing_bias_is_a_buffer(tmp_path):
    model = imported(tmp_path, dict(CASES["deepseek_v3"][0], num_nextn_predict_layers=0))
    assert model.mtp_modules == 0
    counted = count_params(model)
    assert counted.buffer_total == 2 * 4 and counted.optional_total == 0
    with_mtp = count_params(imported(tmp_path, CASES["deepseek_v3"][0]))
    assert with_mtp.total == counted.total and with_mtp.optional_total > 0


def test_llama4_explicit_moe_layers_and_no_rope_layers(tmp_path):
    config = dict(model_type="llama4_text", **{**LLAMA4_TEXT, "moe_layers": [0], "no_rope_layers": [0, 1, 1, 1],
                                               "use_qk_norm": False})
    model = imported(tmp_path, config)
    assert [layer.moe is not None for layer in model.layers] == [True, False, False, False]
    assert [layer.attention.chunk_size for layer in model.layers] == [None, 16, 16, 16]
    assert all(layer.attention.qk_norm is None for layer in model.layers)


def test_gpt_oss_layer_types(tmp_path):
    config = dict(CASES["gpt_oss"][0], layer_types=["full_attention"] * 3 + ["sliding_attention"])
    model = imported(tmp_path, config)
    assert [layer.attention.sliding_window for layer in model.layers] == [None, None, None, 8]


def test_legacy_layer_type_name(tmp_path):
    config = dict(CASES["gemma2"][0], layer_types=["attention", "sliding_attention", "attention"])
    model = imported(tmp_path, config)
    assert [layer.attention.sliding_window for layer in model.layers] == [None, 8, None]


def test_kv_cache_of_an_imported_windowed_model(tmp_path):
    model = imported(tmp_path, CASES["gemma2"][0])
    # one full layer holding 100 tokens and two sliding layers holding 8, 2 x 2 kv heads x 16 each
    assert kv_cache(model, context=100, dtype="fp32").bytes == 4 * 2 * 2 * 16 * (100 + 2 * 8)


# ------------------------------------------------------------------------------ published configs


def test_every_published_config_has_a_total_or_says_why_not():
    assert {p.stem for p in DATA.glob("*.json")} == set(PUBLISHED) | set(NO_PUBLISHED_TOTAL)
    assert not set(PUBLISHED) & set(NO_PUBLISHED_TOTAL)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_config_gives_the_checkpoint_total(name):
    model = llmcalc.load(str(DATA / f"{name}.json"))
    assert model.name == name
    assert count_params(model).total == PUBLISHED[name]


def test_published_architectures():
    scout = llmcalc.load(str(DATA / "Llama-4-Scout-17B-16E.json"))
    assert [g.count for g in scout.groups] == [36, 12]  # RoPE + chunked + L2 qk-norm, and NoPE global layers
    assert {g.layer.attention.chunk_size for g in scout.groups} == {8192, None}
    v3 = llmcalc.load(str(DATA / "DeepSeek-V3.json"))
    assert [g.count for g in v3.groups] == [3, 58] and v3.mtp_modules == 1
    assert count_params(v3).buffer_total == (58 + 1) * 256  # 58 MoE layers and the MTP layer
    oss = llmcalc.load(str(DATA / "gpt-oss-120b.json"))
    assert [g.layer.attention.sliding_window for g in oss.groups] == [128, None]
    phi3 = llmcalc.load(str(DATA / "Phi-3-mini-4k-instruct.json"))
    assert phi3.layers[0].attention.sliding_window == 2047


def test_name_is_the_checkpoint_folder(tmp_path):
    folder = tmp_path / "Mixtral-8x7B-v0.1"
    folder.mkdir()
    (folder / "config.json").write_text((DATA / "Mixtral-8x7B-v0.1.json").read_text())
    model = llmcalc.load(str(folder / "config.json"))
    assert model.name == "Mixtral-8x7B-v0.1" and model.origin == str(folder / "config.json")


# ------------------------------------------------------------------------------ errors


def test_unsupported_model_type_lists_the_supported_ones(tmp_path):
    err = error_for(tmp_path, {"model_type": "bert", "hidden_size": 8})
    assert err.key == "model_type"
    for name in hf.SUPPORTED:
        assert name in err.message
    assert error_for(tmp_path, {"hidden_size": 8}).key == "model_type"  # no model_type at all


@pytest.mark.parametrize("text, needle", [
    ('{"model_type": "llama",', "not valid JSON (line 1"),
    ("[1, 2]", "must be a JSON object"),
    ('"llama"', "must be a JSON object"),
    ('{"model_type": "llama", "model_type": "gpt2"}', "key given twice"),
])
def test_bad_json(text, needle, tmp_path):
    assert needle in str(error_for(tmp_path, text))


def test_not_utf8_and_oversize(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"model_type": "llama", "x": "\xe9"}')
    with pytest.raises(SpecError, match="not UTF-8"):
        llmcalc.load(str(path))
    from llmcalc.spec import MAX_SPEC_BYTES

    big = write(tmp_path, '{"model_type": "llama", "pad": "' + "x" * MAX_SPEC_BYTES + '"}', "big.json")
    with pytest.raises(SpecError, match="a config.json may be at most"):
        llmcalc.load(str(big))


@pytest.mark.parametrize("config, key, needle", [
    ({"model_type": "llama", "hidden_size": "big"}, "hidden_size", "whole number"),
    ({"model_type": "llama", "hidden_size": 32.0, "num_attention_heads": 4}, "hidden_size", "whole number"),
    ({"model_type": "llama", "num_hidden_layers": 0}, "num_hidden_layers", "whole number >= 1"),
    ({"model_type": "llama", "attention_bias": "yes"}, "attention_bias", "true or false"),
    ({"model_type": "llama", "hidden_size": 32, "num_attention_heads": 4, "num_key_value_heads": 3},
     "num_key_value_heads", "does not divide"),
    ({"model_type": "llama", "hidden_act": "tanh"}, "hidden_act", "allowed: gelu"),
    ({"model_type": "phi3", "attention_bias": True}, "attention_bias", "allowed: false"),
    ({"model_type": "gpt2", "add_cross_attention": True}, "add_cross_attention", "allowed: false"),
    ({"model_type": "llama", "pruned_heads": {"0": [1]}}, "pruned_heads", "not supported"),
    ({"model_type": "gemma2", "use_bidirectional_attention": True}, "use_bidirectional_attention", "allowed"),
    ({"model_type": "deepseek_v3", "attention_bias": True}, "attention_bias", "allowed: false"),
    ({"model_type": "deepseek_v2", "num_experts_per_tok": None}, "num_experts_per_tok", "is needed"),
    ({"model_type": "deepseek_v2", "num_experts_per_tok": 6, "mlp_bias": True}, "mlp_bias", "allowed: false"),
    ({"model_type": "deepseek_v2", "num_experts_per_tok": 6, "moe_layer_freq": 0}, "moe_layer_freq", ">= 1"),
    ({"model_type": "mixtral", "num_local_experts": 2, "num_experts_per_tok": 3}, "num_experts_per_tok",
     "more than the 2 experts"),
    ({"model_type": "mixtral", "num_local_experts": 2, "num_experts": 3}, "num_experts", "contradicts"),
    ({"model_type": "gpt_oss", "experts_per_token": 2}, "experts_per_token", "contradicts num_experts_per_tok=4"),
    ({"model_type": "mistral", "layer_types": ["full_attention"] * 32}, "layer_types", "ignores layer_types"),
    ({"model_type": "qwen2", "layer_types": ["full_attention"]}, "layer_types", "list of 32"),
    ({"model_type": "qwen2", "layer_types": ["sliding_attention"] * 32}, "sliding_window", "no window is in force"),
    ({"model_type": "gemma2", "layer_types": ["chunked_attention"] * 26}, "layer_types", "allowed: full_attention"),
    ({"model_type": "gemma2", "sliding_window": None}, "sliding_window", "no window is in force"),
    ({"model_type": "llama4_text", "attention_chunk_size": None}, "attention_chunk_size", "no window is in force"),
    ({"model_type": "llama4_text", "no_rope_layers": [1, 0]}, "no_rope_layers", "list of 48 flags"),
    ({"model_type": "llama4", "tie_word_embeddings": True}, "tie_word_embeddings", "allowed: false"),
    ({"model_type": "llama4", "text_config": []}, "text_config", "JSON object"),
    ({"model_type": "dbrx", "tie_word_embeddings": True}, "tie_word_embeddings", "allowed: false"),
    ({"model_type": "dbrx", "attn_config": {"kv_n_heads": 5}}, "attn_config.kv_n_heads", "does not divide"),
    ({"model_type": "dbrx", "ffn_config": {"ffn_act_fn": {"name": "tanh"}}}, "ffn_config.ffn_act_fn", "allowed"),
    ({"model_type": "gpt2", "n_embd": 30, "n_head": 4}, "n_head", "does not divide"),
    ({"model_type": "hunyuan_v1_dense"}, "head_dim", "cannot build hunyuan_v1_dense"),
    ({"model_type": "internlm3", "qkv_bias": True}, "mlp_bias", "allowed: equal values"),
    ({"model_type": "internlm3", "hidden_size": 100}, "num_attention_heads", "does not divide"),
    ({"model_type": "helium", "head_dim": 64}, "head_dim", "num_attention_heads x head_dim = hidden_size"),
    ({"model_type": "olmoe", "head_dim": 64}, "head_dim", "olmoe's q_norm"),
    ({"model_type": "smollm3", "num_hidden_layers": 2, "sliding_window": 4,
      "layer_types": ["sliding_attention", "full_attention"]}, "layer_types", "use_sliding_window true"),
    ({"model_type": "smollm3", "no_rope_layers": []}, "no_rope_layers", "list of 36 flags"),
    ({"model_type": "exaone4", "sliding_window_pattern": "LLLG"}, "sliding_window_pattern", "set layer_types"),
    ({"model_type": "exaone4", "sliding_window": None}, "sliding_window_pattern", "with sliding_window=None"),
    ({"model_type": "olmo3", "sliding_window": None}, "sliding_window", "no window is in force"),
    ({"model_type": "gemma3_text", "use_bidirectional_attention": True}, "use_bidirectional_attention",
     "allowed"),
    ({"model_type": "gemma3", "text_config": {"tie_word_embeddings": "yes"}}, "text_config.tie_word_embeddings",
     "true or false"),
    ({"model_type": "glm4_moe", "n_routed_experts": 2, "num_experts_per_tok": 3}, "num_experts_per_tok",
     "more than the 2 experts"),
    ({"model_type": "starcoder2", "hidden_act": "silu_x"}, "hidden_act", "allowed: gelu"),
    ({"model_type": "gptj", "n_embd": 32, "n_head": 4, "rotary_dim": 16}, "rotary_dim", "more than the head size 8"),
    ({"model_type": "gpt_neox", "rotary_pct": 1.5}, "rotary_pct", "a fraction from 0 to 1"),
    ({"model_type": "phi", "rope_parameters": {"partial_rotary_factor": "half"}},
     "rope_parameters.partial_rotary_factor", "a fraction from 0 to 1"),
    ({"model_type": "falcon", "new_decoder_architecture": True, "parallel_attn": False}, "parallel_attn",
     "forward pass fails"),
    ({"model_type": "falcon", "num_ln_in_parallel_attn": 2}, "num_ln_in_parallel_attn", "runs input_layernorm"),
    ({"model_type": "falcon", "num_ln_in_parallel_attn": 3}, "num_ln_in_parallel_attn", "allowed: 1, 2 or null"),
    ({"model_type": "falcon", "multi_query": False, "num_kv_heads": 1}, "num_kv_heads", "a K and V per head"),
    ({"model_type": "falcon", "apply_residual_connection_post_layernorm": True},
     "apply_residual_connection_post_layernorm", "allowed: false"),
    ({"model_type": "opt", "hidden_size": 100}, "num_attention_heads", "does not divide"),
    ({"model_type": "opt", "word_embed_proj_dim": 0}, "word_embed_proj_dim", ">= 1"),
    ({"model_type": "ernie4_5_moe", "moe_layer_interval": 0}, "moe_layer_interval", ">= 1"),
    ({"model_type": "ernie4_5_moe", "moe_k": 65}, "moe_k", "more than the 64 experts"),
    ({"model_type": "ernie4_5_moe", "use_rmsnorm": False}, "use_rmsnorm", "allowed: true"),
    ({"model_type": "minimax_m2", "attn_type_list": [0] * 62}, "attn_type_list", "lightning attention"),
    ({"model_type": "minimax_m2", "rotary_dim": 256}, "rotary_dim", "more than head_dim=128"),
    ({"model_type": "minimax_m2", "use_qk_norm": False}, "use_qk_norm", "allowed: true"),
    ({"model_type": "minimax_m2", "shared_intermediate_size": 1536}, "shared_intermediate_size", "allowed: 0"),
    ({"model_type": "hunyuan_v1_moe"}, "head_dim", "cannot build hunyuan_v1_moe"),
    ({"model_type": "hunyuan_v1_moe", "head_dim": 128, "moe_topk": [1, 2]}, "moe_topk", "a list of 32"),
    ({"model_type": "hunyuan_v1_moe", "head_dim": 128, "num_experts": [4] * 32}, "num_experts", "whole number"),
    ({"model_type": "mllama", "text_config": {"num_hidden_layers": 3}}, "text_config.cross_attention_layers",
     "names no layer below num_hidden_layers=3"),
    ({"model_type": "mllama", "text_config": {"hidden_size": 100}}, "text_config.num_attention_heads",
     "does not divide"),
    ({"model_type": "mllama", "vision_config": {"vision_output_dim": 1280}}, "vision_config.vision_output_dim",
     "allowed: 7680"),
    ({"model_type": "mllama", "vision_config": {"max_num_tiles": 2}}, "vision_config.max_num_tiles",
     "give supported_aspect_ratios"),
    ({"model_type": "mllama", "vision_config": {"supported_aspect_ratios": []}},
     "vision_config.supported_aspect_ratios", "non-empty list"),
    ({"model_type": "mllama", "vision_config": {"intermediate_layers_indices": [32]}},
     "vision_config.intermediate_layers_indices", "-32 to 31"),
    ({"model_type": "lfm2", "block_ffn_dim_multiplier": None}, "block_ffn_dim_multiplier", "a number > 0"),
    ({"model_type": "lfm2", "num_hidden_layers": 2, "layer_types": ["conv", "mamba"]}, "layer_types",
     "allowed: full_attention, conv"),
    ({"model_type": "lfm2", "tie_embedding": False, "tie_word_embeddings": True}, "tie_embedding", "contradicts"),
    ({"model_type": "lfm2_moe"}, "layer_types", "cannot build the model without it"),
    ({"model_type": "qwen3_next", "linear_num_key_heads": 3, "linear_num_value_heads": 4}, "linear_num_key_heads",
     "does not divide linear_num_value_heads=4"),
])
def test_what_cannot_be_represented_is_an_error(config, key, needle, tmp_path):
    err = error_for(tmp_path, config)
    assert err.key == key and needle in err.message, str(err)


@pytest.mark.parametrize("config, key", [
    ({"model_type": "llama", "mystery_layers": 3}, "mystery_layers"),
    ({"model_type": "mistral", "attention_bias": True}, "attention_bias"),  # llama's key, not mistral's
    ({"model_type": "llama4", "text_config": {"mystery": 1}}, "text_config.mystery"),
    ({"model_type": "gemma3", "text_config": {"mystery": 1}}, "text_config.mystery"),
    ({"model_type": "dbrx", "attn_config": {"mystery": 1}}, "attn_config.mystery"),
    ({"model_type": "granitemoe", "mlp_bias": True}, "mlp_bias"),
    ({"model_type": "phi", "head_dim": 16}, "head_dim"),  # PhiConfig has none: hidden_size // heads
    ({"model_type": "cohere2", "use_qk_norm": True}, "use_qk_norm"),  # Cohere's key, not Cohere2's
])
def test_an_unknown_key_is_noted_and_an_error_when_strict(config, key, tmp_path):
    """An unknown key of a config.json is listed (the count as without it); strict=True makes it the error."""
    model = imported(tmp_path, config)
    assert model.unread_keys == (key,)
    assert f"Not read (assumed to change no count): {key}." in model.notes
    outer, _, inner = key.rpartition(".")
    without = {k: ({} if k == outer else v) for k, v in config.items() if k != inner}
    assert count_params(model).total == count_params(imported(tmp_path, without, "without.json")).total
    assert imported(tmp_path, without, "without.json").unread_keys == ()
    path = write(tmp_path, config, "strict.json")
    with pytest.raises(SpecError) as info:
        llmcalc.load(str(path), strict=True)
    assert info.value.key == key and "unknown key for model_type" in info.value.message
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_known_keys_with_unsupported_values_stay_errors_without_strict(tmp_path):
    assert "allowed: false" in error_for(tmp_path, {"model_type": "phi3", "attention_bias": True}).message
    assert "not supported" in error_for(tmp_path, {"model_type": "llama", "pruned_heads": {"0": [1]}}).message


def test_ignored_keys_are_only_the_known_ones(tmp_path):
    base = {"model_type": "llama", "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 48,
            "num_hidden_layers": 1, "vocab_size": 10}
    quiet = {**base, "rope_theta": 1.0, "rope_scaling": {"type": "linear", "factor": 2}, "rms_norm_eps": 1e-5,
             "attention_dropout": 0.1, "bos_token_id": 1, "eos_token_id": [2, 3], "torch_dtype": "bfloat16",
             "architectures": ["LlamaForCausalLM"], "quantization_config": {"quant_method": "fp8"},
             "pretraining_tp": 1, "use_cache": True, "transformers_version": "4.40.0"}
    assert count_params(imported(tmp_path, quiet)).total == count_params(imported(tmp_path, base)).total


def test_missing_json_file_is_no_such_file():
    with pytest.raises(SpecError, match="no such file"):
        llmcalc.load("no/such/config.json")


# ------------------------------------------------------------------------------ the CLI


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_import_prints_a_spec_with_its_origin(tmp_path):
    path = write(tmp_path, CASES["gpt_oss"][0])
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"# Imported by `llmcalc import` from {path}")
    assert yaml.safe_load(result.output)["moe"] == {"n_experts": 4, "top_k": 2, "d_ff": 16, "router_bias": True}
    assert "&id" not in result.output  # no YAML anchors


@pytest.mark.parametrize("name", ["DeepSeek-V3", "Llama-4-Scout-17B-16E", "gemma-2-27b", "dbrx-instruct",
                                  "gemma-3-12b-it"])
def test_import_output_round_trips(name, tmp_path):
    out = tmp_path / f"{name}.yaml"
    result = run("import", str(DATA / f"{name}.json"), "-o", str(out))
    assert result.exit_code == 0, result.output
    from_yaml = llmcalc.load(str(out))
    from_json = llmcalc.load(str(DATA / f"{name}.json"))
    assert count_params(from_yaml).total == PUBLISHED[name]
    assert from_yaml.layers == from_json.layers and from_yaml.mtp_modules == from_json.mtp_modules
    assert from_yaml.vision == from_json.vision
    assert from_yaml.norm == from_json.norm and from_yaml.tied_embeddings == from_json.tied_embeddings


def test_import_json_is_the_yaml_mapping_and_loads_back(tmp_path):
    config = DATA / "DeepSeek-V3.json"
    as_yaml = yaml.safe_load(run("import", str(config)).output)
    as_json = json.loads(run("import", str(config), "--json").output)
    assert as_json == as_yaml == json.loads(run("import", str(config), "--format", "json").output)
    out = tmp_path / "v3-spec.json"
    assert run("import", str(config), "--json", "-o", str(out)).exit_code == 0
    assert count_params(llmcalc.load(str(out))).total == PUBLISHED["DeepSeek-V3"]
    conflict = run("import", str(config), "--json", "--format", "yaml")
    assert conflict.exit_code == 2 and "two different formats" in conflict.output


def test_import_applies_set_validated_and_says_so():
    config = DATA / "Meta-Llama-3-8B.json"
    result = run("import", str(config), "--set", "n_layers=48", "--set", "attention.n_kv_heads=4")
    assert result.exit_code == 0, result.output
    assert "# With --set n_layers=48, attention.n_kv_heads=4" in result.output.splitlines()[:4]
    spec = yaml.safe_load(result.output)
    assert spec["n_layers"] == 48 and spec["attention"]["n_kv_heads"] == 4
    assert llmcalc.count_params(str(config), overrides=["n_layers=48", "attention.n_kv_heads=4"]).total == \
        llmcalc.count_params(llmcalc.load(str(config), ["n_layers=48", "attention.n_kv_heads=4"])).total
    bad = run("import", str(config), "--set", "attention.n_kv_heads=5")
    assert bad.exit_code == 2 and bad.output.startswith("error: --set: attention.n_kv_heads: 5 does not divide")


def test_every_command_takes_a_config_json(tmp_path):
    folder = tmp_path / "tiny-moe"
    folder.mkdir()
    config = str(write(folder, CASES["qwen2_moe"][0]))
    doc = json.loads(run("count", config, "--json").output)
    assert doc["models"][0]["name"] == "tiny-moe" and doc["models"][0]["params"]["total"] == CASES["qwen2_moe"][2]
    for args in (["compare", config, "gpt2-small"], ["flops", config, "--context", "16"],
                 ["memory", config, "--context", "64"], ["fit", config], ["verify", config]):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)


@pytest.mark.parametrize("config, strict", [('{"model_type": ', ()), ('{"model_type": "bert"}', ()),
                                            ('{"model_type": "llama", "x": 1}', ("--strict",))])
def test_bad_configs_exit_2_with_one_line(config, strict, tmp_path):
    path = write(tmp_path, config, "bad.json")
    for args in (["import", str(path), *strict], ["count", str(path), *strict]):
        result = run(*args)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.output.startswith(f"error: {path}") and result.output.count("\n") == 1
        assert "Traceback" not in result.output


SMALL = {"model_type": "llama", "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 48,
         "num_hidden_layers": 1, "vocab_size": 10}


def test_an_unknown_key_is_a_warning_on_stderr_and_the_numbers_still_come(tmp_path):
    plain = write(tmp_path, SMALL, "plain.json")
    odd = write(tmp_path, {**SMALL, "mystery_layers": 3}, "odd.json")
    result = run("count", str(odd), "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"warning: {odd}: not read: mystery_layers; the count assumes it changes nothing\n"
    expected = json.loads(run("count", str(plain), "--json").stdout)["models"][0]
    got = json.loads(result.stdout)["models"][0]  # stdout stays one JSON document
    assert got["params"] == expected["params"] and got["params"]["total"] > 0
    assert got["components"] == expected["components"]
    two = write(tmp_path, {**SMALL, "zeta": 1, "alpha": [2]}, "two.json")
    for args in (["flops", str(two)], ["show", str(two)], ["import", str(two)], ["memory", str(two), "--format",
                                                                                    "csv"]):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        assert result.stderr == f"warning: {two}: not read: zeta, alpha; the count assumes they change nothing\n"
    assert "Not read (assumed to change no count): zeta, alpha." in run("import", str(two)).stdout


def test_strict_makes_an_unknown_key_an_error_on_every_command_that_reads_a_model(tmp_path):
    odd = write(tmp_path, {**SMALL, "mystery_layers": 3}, "odd.json")
    takes_a_model = [name for name in cli.list_commands(None) if name != "list"]
    assert len(takes_a_model) > 10
    for name in takes_a_model:
        args = {"check": [str(odd), "x.safetensors"], "plan": [str(odd), "--n-gpus", "8", "--gpu", "h100"],
                "speed": [str(odd), "--gpu", "h100"], "sweep": [str(odd), "--vary", "batch=1,2"],
                "compare": [str(odd), "gpt2-small"]}.get(name, [str(odd)])
        result = run(name, *args, "--strict")
        assert result.exit_code == 2 and result.stdout == "", (name, result.output)
        assert result.stderr.startswith(f"error: {odd}: mystery_layers: unknown key for model_type llama")
        assert result.stderr.count("\n") == 1, name
    assert run("count", "llama3-8b", "--strict").exit_code == 0  # a spec's unknown keys are errors anyway


def test_import_of_a_missing_file_exits_2(tmp_path):
    result = run("import", str(tmp_path / "config.json"))
    assert result.exit_code == 2 and "no such file" in result.output


def test_no_torch_no_transformers_and_hf_only_on_demand():
    code = ("import sys, llmcalc.cli, llmcalc.spec, llmcalc.sources; assert 'llmcalc.importers.hf' not in sys.modules; "
            "import llmcalc.importers.hf; assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_keys_transformers_derives_and_writes_are_read_and_checked(tmp_path):
    """transformers writes derived keys into config.json (DeepSeek's qk_head_dim, DBRX's num_key_value_heads) and
    SmolLM2 ships two flags of its own: each is accepted when it agrees, refused when it contradicts."""
    def load(config):
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        return CliRunner().invoke(cli, ["count", str(path), "--json"])

    v3 = {"model_type": "deepseek_v3", "num_hidden_layers": 4, "first_k_dense_replace": 1, "hidden_size": 256,
          "num_attention_heads": 4, "n_routed_experts": 8, "num_experts_per_tok": 2, "vocab_size": 1000}
    assert load({**v3, "qk_head_dim": 192}).exit_code == 0  # 128 + 64
    bad = load({**v3, "qk_head_dim": 191})
    assert bad.exit_code == 2 and "qk_head_dim: 191 is not qk_nope_head_dim + qk_rope_head_dim = 192" in bad.output
    dbrx = {"model_type": "dbrx", "d_model": 256, "n_heads": 4, "n_layers": 2, "vocab_size": 1000,
            "attn_config": {"kv_n_heads": 2}, "ffn_config": {"ffn_hidden_size": 512, "moe_num_experts": 4}}
    assert load({**dbrx, "num_key_value_heads": 2}).exit_code == 0
    assert "contradicts attn_config.kv_n_heads=2" in load({**dbrx, "num_key_value_heads": 1}).output
    smol = {"model_type": "llama", "hidden_size": 576, "intermediate_size": 1536, "num_attention_heads": 9,
            "num_key_value_heads": 3, "num_hidden_layers": 30, "vocab_size": 49152, "tie_word_embeddings": True,
            "is_llama_config": True, "rope_interleaved": False}
    result = load(smol)
    assert result.exit_code == 0, result.output
    # transformers 5.23 num_parameters() of this config (SmolLM2-135M's shape): 134,515,008
    assert json.loads(result.stdout)["models"][0]["params"]["total"] == 134515008


def test_an_error_names_the_key_as_the_file_writes_it(tmp_path):
    """BLOOM's files write num_attention_heads, which BloomConfig reads as n_head: a bad value is named as written."""
    assert "num_attention_heads" in str(error_for(tmp_path, {"model_type": "bloom", "num_attention_heads": -1}))
    assert ": n_head:" in str(error_for(tmp_path, {"model_type": "bloom", "n_head": -1}))


def test_cohere2_refuses_a_bad_head_dim_it_would_ignore(tmp_path):
    """Cohere2Config sets head_dim to hidden_size // heads whatever the file says; a head_dim that is no count at all
    is still refused, naming it."""
    assert "head_dim" in str(error_for(tmp_path, {"model_type": "cohere2", "head_dim": -1}))
    assert imported(tmp_path, {"model_type": "cohere2", "head_dim": 7}).layers[0].attention.d_head == 128


def test_gemma3_ties_by_its_top_level(tmp_path):
    """Gemma3ForConditionalGeneration ties the LM head by the top-level tie_word_embeddings; the text_config's, which
    transformers writes as Gemma3TextConfig's default (true) whatever the top level says, ties nothing."""
    for top in (True, False):
        for inner in (True, False):
            config = {"model_type": "gemma3", "tie_word_embeddings": top, "text_config": {"tie_word_embeddings": inner}}
            assert imported(tmp_path, config).tied_embeddings is top


def test_llama4_counts_its_vision_tower_when_its_widths_chain(tmp_path):
    """Llama4ForConditionalGeneration's vision side, by hand: a 2-layer tower of width 8 over 4 x 4 patches of 4
    pixels, pixel-shuffled 2 x 2 into 4 tokens of 32, the adapter (32 -> 12 -> 12) and linear_1 (12 -> 32); widths
    that do not chain (Llama4VisionConfig()'s defaults) leave the text model alone, and the note says why."""
    text = dict(LLAMA4_TEXT, use_qk_norm=False)
    vision = {"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 32,
              "image_size": 16, "patch_size": 4, "pixel_shuffle_ratio": 0.5, "projector_input_dim": 12,
              "projector_output_dim": 12, "vision_output_dim": 12}
    with_tower = count_params(imported(tmp_path, {"model_type": "llama4", "text_config": text,
                                                  "vision_config": vision}))
    text_only = count_params(imported(tmp_path, {"model_type": "llama4_text", **text}))
    # patch linear 3*4*4*8, class token 8, 17 positions x 8, pre and post LayerNorms 16 each; per layer q, k, v, o
    # 4*(64 + 8), two LayerNorms 32, fc1 8*32 + 32, fc2 32*8 + 8; the adapter 32*12 and 12*12, linear_1 12*32
    tower = 384 + 8 + 136 + 32 + 2 * (288 + 32 + 288 + 264)
    assert with_tower.total - text_only.total == tower + 384 + 144 + 384
    assert {r.component for r in with_tower.rows if r.group == "projector" and r.total} == {
        "projector.linear_1", "projector.linear_2", "projector.linear_3"}
    data = hf.spec_from_config({"model_type": "llama4", "text_config": text}, "x.json")
    assert "vision" not in data and "vision tower is not counted" in data["notes"]
