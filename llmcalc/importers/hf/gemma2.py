"""Gemma 2 (model_type gemma2): sandwich RMSNorms, GeGLU, alternating sliding/full layers, tied embeddings."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, attention_entry, base_spec, read_heads, read_layer_types, stack, windows_of
from .config import Config
from .registry import register


def map_gemma2(c: Config) -> dict:
    """gemma2 (modeling_gemma2.py), transformers 5.23.0: GQA with head_dim, sandwich RMSNorms (four per layer),
    GeGLU, tied embeddings by default, sliding window on the layer_types' sliding layers (default: even ones)."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm", "placement": "sandwich"}
    spec["mlp"] = {"activation": c.choice("hidden_activation", GATED_ACTIVATIONS),
                   "d_ff": c.integer("intermediate_size")}
    default = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n_layers)]
    types = read_layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
    windows = windows_of(c, types, c.optional_integer("sliding_window"))
    bias = c.boolean("attention_bias")
    stack(spec, [attention_entry(n_heads, n_kv, d_head, bias, sliding_window=w) for w in windows], [None] * n_layers)
    return spec


register(
    "gemma2",  # configuration_gemma2.py
    defaults={
        "vocab_size": 256000, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
        "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 8192, "tie_word_embeddings": True,
        "attention_bias": False, "sliding_window": 4096, "layer_types": None,
    },
    mapper=map_gemma2,
    ignored=frozenset(("hidden_act", "query_pre_attn_scalar", "final_logit_softcapping",
        "attn_logit_softcapping", "sliding_window_size")),
    fixed={"use_bidirectional_attention": (None, False)},
)
