"""OLMo, OLMo 2, OLMo 3 and OLMoE (model_types olmo, olmo2, olmo3, olmoe). OLMo's LayerNorms have no parameters.
OLMo 2, 3 and OLMoE: q/k RMSNorms over the whole projections; OLMo 2
and 3 normalise each sub-block's output (post-norm, with a final norm), OLMo 3 slides three layers in four,
OLMoE routes SwiGLU experts on every layer."""

from __future__ import annotations

from .blocks import dense_stack, moe_entry, read_layer_types, require_width, stack, windows_of
from .config import Config
from .llama_like import Shape, llama_like, windowed
from .registry import register

POST = Shape(mlp_bias=None, qk_norm="rmsnorm_full", placement="post")


def map_olmo(c: Config) -> dict:
    """olmo2 (modeling_olmo2.py) and olmo3 (modeling_olmo3.py), transformers 5.23.0: attention_bias on all four
    projections, q_norm over n_heads x head_dim and k_norm over n_kv_heads x head_dim, RMSNorms after attention
    and after the MLP (none before), a final norm; olmo3's sliding window on the layer_types' sliding layers
    (default: all but every 4th)."""
    spec, att, n_layers = llama_like(c, POST)
    if c.model_type == "olmo2":
        dense_stack(spec, att, n_layers)
        return spec
    default = ["sliding_attention" if (i + 1) % 4 else "full_attention" for i in range(n_layers)]
    types = read_layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
    stack(spec, windowed(att, windows_of(c, types, c.optional_integer("sliding_window"))), [None] * n_layers)
    return spec


def map_olmo_v1(c: Config) -> dict:
    """olmo (modeling_olmo.py, transformers 5.23.0): Llama's layer with OlmoLayerNorm, a LayerNorm without weight or
    bias, before attention, before the MLP and at the end; attention_bias on all four projections (clip_qkv only
    clamps them)."""
    spec, att, n_layers = llama_like(c, Shape(mlp_bias=None))
    spec["norm"] = {"kind": "layernorm", "bias": False, "affine": False}
    dense_stack(spec, att, n_layers)
    return spec


def map_olmoe(c: Config) -> dict:
    """olmoe (modeling_olmoe.py), transformers 5.23.0: pre-norm, q_norm over hidden_size and k_norm over
    hidden_size // heads x kv heads (so the heads must span hidden_size), num_experts SwiGLU experts of
    intermediate_size, top num_experts_per_tok, a router without bias."""
    spec, att, n_layers = llama_like(c, Shape(mlp_bias=None, qk_norm="rmsnorm_full"))
    require_width(c, att["n_heads"], att["d_head"], spec["d_model"], "olmoe's q_norm (hidden_size wide) needs")
    dense_stack(spec, att, n_layers)
    spec["moe"] = moe_entry(c.integer("num_experts"), c.integer("num_experts_per_tok"), spec["mlp"]["d_ff"], c,
                            "num_experts_per_tok")
    return spec


OLMO2 = {
    "vocab_size": 50304, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": None, "head_dim": None, "hidden_act": "silu",
    "max_position_embeddings": 2048, "tie_word_embeddings": False, "attention_bias": False,
}

register(
    "olmo2",  # configuration_olmo2.py (head_dim is no field: modeling reads it, else hidden // heads)
    defaults=OLMO2,
    mapper=map_olmo,
)


register(
    "olmo3",  # configuration_olmo3.py
    defaults={**OLMO2, "sliding_window": 4096, "layer_types": None},
    mapper=map_olmo,
)


register(
    "olmoe",  # configuration_olmoe.py
    defaults={**OLMO2, "hidden_size": 2048, "intermediate_size": 2048, "num_hidden_layers": 16,
              "num_attention_heads": 16, "max_position_embeddings": 4096, "num_experts_per_tok": 8,
              "num_experts": 64},
    mapper=map_olmoe,
    aliases={"num_local_experts": "num_experts"},
    ignored=frozenset(("clip_qkv", "norm_topk_prob")),
)


register(
    "olmo",  # configuration_olmo.py (OLMo-7B's shape; head_dim is no field: hidden // heads)
    defaults={**OLMO2, "head_dim": None},
    mapper=map_olmo_v1,
    ignored=frozenset(("clip_qkv",)),
)
