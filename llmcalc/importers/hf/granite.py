"""Granite, Granite-MoE and Granite-MoE-Shared (model_types granite, granitemoe, granitemoeshared): the Llama
layout with scaling multipliers (no parameters); routed SwiGLU experts, and a shared expert beside them."""

from __future__ import annotations

from .blocks import dense_stack, moe_entry
from .config import Config
from .llama_like import LLAMA_BASE, Shape, llama_like
from .registry import register

MULTIPLIERS = frozenset(("embedding_multiplier", "logits_scaling", "residual_multiplier", "attention_multiplier"))


def map_granite(c: Config) -> dict:
    """granite (modeling_granite.py: attention_bias on all four projections, mlp_bias), granitemoe
    (modeling_granitemoe.py: num_local_experts SwiGLU experts of intermediate_size, top num_experts_per_tok, a
    router without bias, no MLP bias) and granitemoeshared (modeling_granitemoeshared.py: plus a shared SwiGLU MLP
    of shared_intermediate_size, none when 0), transformers 5.23.0."""
    moe = c.model_type != "granite"
    spec, att, n_layers = llama_like(c, Shape(mlp_bias=None) if moe else Shape())
    dense_stack(spec, att, n_layers)
    if moe:
        shared = c.integer("shared_intermediate_size", minimum=0) if c.model_type == "granitemoeshared" else 0
        spec["moe"] = moe_entry(c.integer("num_local_experts"), c.integer("num_experts_per_tok"),
                                spec["mlp"]["d_ff"], c, "num_experts_per_tok", n_shared_experts=1 if shared else 0,
                                d_ff_shared=shared)
    return spec


GRANITE = {
    **LLAMA_BASE, "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": None, "head_dim": None, "max_position_embeddings": 2048,
}

register(
    "granite",  # configuration_granite.py (head_dim is no field: modeling reads it, else hidden // heads)
    defaults=GRANITE,
    mapper=map_granite,
    ignored=MULTIPLIERS,
)


register(
    "granitemoe",  # configuration_granitemoe.py
    defaults={**{k: v for k, v in GRANITE.items() if k != "mlp_bias"}, "num_local_experts": 8,
              "num_experts_per_tok": 2},
    mapper=map_granite,
    ignored=MULTIPLIERS,
)


register(
    "granitemoeshared",  # configuration_granitemoeshared.py
    defaults={**{k: v for k, v in GRANITE.items() if k != "mlp_bias"}, "num_local_experts": 8,
              "num_experts_per_tok": 2, "shared_intermediate_size": 0},
    mapper=map_granite,
    ignored=MULTIPLIERS,
)
