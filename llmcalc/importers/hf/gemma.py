"""Gemma and Gemma 3's language model (model_types gemma, gemma3_text; gemma3, the vision-language model, is
importers/hf/vision.py's): Llama-shaped with GeGLU and tied embeddings; Gemma 3 adds sandwich RMSNorms, q/k RMSNorm
and five sliding layers to a full one."""

from __future__ import annotations

from .blocks import dense_stack
from .config import Config
from .llama_like import Shape, llama_like, stack_window_pattern
from .registry import register


def map_gemma(c: Config) -> dict:
    """gemma (modeling_gemma.py), transformers 5.23.0: the Llama layout with head_dim, attention_bias on all four
    projections and no MLP bias."""
    spec, att, n_layers = llama_like(c, Shape(mlp_bias=None))
    dense_stack(spec, att, n_layers)
    return spec


def map_gemma3_text(c: Config) -> dict:
    """gemma3_text (gemma3/modeling_gemma3.py, Gemma3ForCausalLM), transformers 5.23.0: sandwich RMSNorms (four
    per layer), q/k RMSNorm of head_dim, sliding window on the layer_types' sliding layers (default: all but every
    sliding_window_pattern-th, 6)."""
    spec, att, n_layers = llama_like(c, Shape(mlp_bias=None, qk_norm="rmsnorm", placement="sandwich",
                                              activation="hidden_activation"))
    stack_window_pattern(c, spec, att, n_layers)
    return spec


register(
    "gemma",  # configuration_gemma.py
    defaults={
        "vocab_size": 256000, "hidden_size": 3072, "intermediate_size": 24576, "num_hidden_layers": 28,
        "num_attention_heads": 16, "num_key_value_heads": 16, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
        "max_position_embeddings": 8192, "tie_word_embeddings": True, "attention_bias": False,
    },
    mapper=map_gemma,
    ignored=frozenset(("hidden_activation",)),  # Gemma 1.1's configs: modeling_gemma.py reads hidden_act
    fixed={"use_bidirectional_attention": (None, False)},
)


register(
    "gemma3_text",  # gemma3/configuration_gemma3.py, Gemma3TextConfig (sliding_window_pattern: a kwarg, 6)
    defaults={
        "vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 131072, "tie_word_embeddings": True, "attention_bias": False,
        "sliding_window": 4096, "layer_types": None, "sliding_window_pattern": 6,
    },
    mapper=map_gemma3_text,
    # _sliding_window_pattern: the attribute Gemma3TextConfig saves, which it does not read back (its argument is
    # sliding_window_pattern, and the saved file's layer_types decide the layers)
    ignored=frozenset(("hidden_act", "query_pre_attn_scalar", "final_logit_softcapping", "attn_logit_softcapping",
        "rope_local_base_freq", "_sliding_window_pattern")),
    fixed={"use_bidirectional_attention": (None, False)},
)


