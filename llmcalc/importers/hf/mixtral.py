"""Mixtral (model_type mixtral): Llama attention with routed SwiGLU experts on every layer."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, LLAMA_LIKE, attention_entry, base_spec, moe_entry, read_heads, stack
from .config import Config
from .registry import register


def map_mixtral(c: Config) -> dict:
    """mixtral (modeling_mixtral.py): llama attention (sliding_window on every layer), num_local_experts
    SwiGLU experts of intermediate_size, top num_experts_per_tok, router without bias; transformers 5.23.0."""
    d = c.integer("hidden_size")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    d_ff = c.integer("intermediate_size")
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": d_ff}
    moe = moe_entry(c.integer("num_local_experts"), c.integer("num_experts_per_tok"), d_ff, c, "num_experts_per_tok")
    att = attention_entry(n_heads, n_kv, d_head, sliding_window=c.optional_integer("sliding_window"))
    stack(spec, [att] * spec["n_layers"], [moe] * spec["n_layers"])
    return spec


register(
    "mixtral",  # configuration_mixtral.py
    defaults={
        **LLAMA_LIKE, "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "max_position_embeddings": 4096 * 32, "sliding_window": None, "num_experts_per_tok": 2,
        "num_local_experts": 8,
    },
    mapper=map_mixtral,
    aliases={"num_experts": "num_local_experts"},
    ignored=frozenset(("router_jitter_noise",)),
)
