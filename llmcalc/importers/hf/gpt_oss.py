"""gpt-oss (model_type gpt_oss): GQA with attention sinks, alternating sliding/full layers, biased experts."""

from __future__ import annotations

from .blocks import attention_entry, base_spec, moe_entry, read_heads, read_layer_types, stack, windows_of
from .config import Config, show
from .registry import register


def map_gpt_oss(c: Config) -> dict:
    """gpt_oss (modeling_gpt_oss.py), transformers 5.23.0: GQA with biases (attention_bias) and a sink logit per
    head, sliding window on the layer_types' sliding layers (default: even layers), num_local_experts SwiGLU
    experts with biases, router with bias."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = read_heads(c, d)
    top_k = c.integer("num_experts_per_tok")
    legacy = c.data.get("experts_per_token")
    if legacy is not None and legacy != top_k:
        raise c.error("experts_per_token", f"{show(legacy)} contradicts num_experts_per_tok={top_k}, the key "
                                           "transformers routes with; allowed: equal values, or leave it out")
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    d_ff = c.integer("intermediate_size")
    spec["mlp"] = {"activation": "swiglu", "d_ff": d_ff, "bias": True}
    default = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n_layers)]
    types = read_layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
    windows = windows_of(c, types, c.optional_integer("sliding_window"))
    bias = c.boolean("attention_bias")
    moe = moe_entry(c.integer("num_local_experts"), top_k, d_ff, c, "num_experts_per_tok", router_bias=True)
    stack(spec, [attention_entry(n_heads, n_kv, d_head, bias, sinks=True, sliding_window=w) for w in windows],
           [moe] * n_layers)
    return spec


register(
    "gpt_oss",  # configuration_gpt_oss.py
    defaults={
        "num_hidden_layers": 36, "num_local_experts": 128, "vocab_size": 201088, "hidden_size": 2880,
        "intermediate_size": 2880, "head_dim": 64, "num_attention_heads": 64, "num_key_value_heads": 8,
        "sliding_window": 128, "tie_word_embeddings": False, "max_position_embeddings": 131072,
        "num_experts_per_tok": 4, "layer_types": None, "attention_bias": True,
    },
    mapper=map_gpt_oss,
    aliases={"num_experts": "num_local_experts"},
    ignored=frozenset(("hidden_act", "swiglu_alpha", "swiglu_limit", "initial_context_length")),
    reads_also=("experts_per_token",),
)
