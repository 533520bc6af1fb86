"""GLM-4 and GLM-4.5 (model_types glm4, glm4_moe): q/k/v biases, fused gate_up MLP; GLM-4's sandwich RMSNorms;
GLM-4.5's dense first layers, routed experts with a shared one and a routing bias, optional q/k norm, MTP."""

from __future__ import annotations

from .blocks import dense_stack, moe_entry, partial_rotary, stack
from .config import Config
from .llama_like import Shape, llama_like
from .registry import register


def map_glm4(c: Config) -> dict:
    """glm4 (modeling_glm4.py), transformers 5.23.0: attention_bias on q, k and v (never o), gate_up_proj and
    down_proj without bias, four RMSNorms per layer (input, post_self_attn, post_attention, post_mlp), RoPE on
    int(head_dim x partial_rotary_factor) dims (0.5: the kwarg Glm4Config sets by default)."""
    spec, att, n_layers = llama_like(c, Shape(o_bias=None, mlp_bias=None, placement="sandwich"))
    partial_rotary(c, spec, att["d_head"], "partial_rotary_factor")
    dense_stack(spec, att, n_layers)
    return spec


def map_glm4_moe(c: Config) -> dict:
    """glm4_moe (modeling_glm4_moe.py), transformers 5.23.0: attention_bias on q, k and v, q/k RMSNorm of head_dim
    with use_qk_norm, dense MLPs of intermediate_size on the first first_k_dense_replace layers, then
    n_routed_experts SwiGLU experts of moe_intermediate_size (top num_experts_per_tok) with the shared experts as
    one MLP of n_shared_experts x moe_intermediate_size and e_score_correction_bias (a buffer); its
    num_nextn_predict_layers MTP layers are not built by transformers (counted apart, as DeepSeek-V3's)."""
    qk_norm = "rmsnorm" if c.boolean("use_qk_norm") else None
    spec, att, n_layers = llama_like(c, Shape(o_bias=None, mlp_bias=None, qk_norm=qk_norm))
    first_dense = c.integer("first_k_dense_replace", minimum=0)
    moe = moe_entry(c.integer("n_routed_experts"), c.integer("num_experts_per_tok"),
                    c.integer("moe_intermediate_size"), c, "num_experts_per_tok",
                    n_shared_experts=c.integer("n_shared_experts", minimum=0), routing_bias=True)
    stack(spec, [att] * n_layers, [moe if i >= first_dense else None for i in range(n_layers)])
    n_mtp = c.integer("num_nextn_predict_layers", minimum=0)
    if n_mtp:
        spec["mtp"] = {"n_modules": n_mtp}
    return spec


register(
    "glm4",  # configuration_glm4.py
    defaults={
        "vocab_size": 151552, "hidden_size": 4096, "intermediate_size": 13696, "num_hidden_layers": 40,
        "num_attention_heads": 32, "num_key_value_heads": 2, "head_dim": 128, "hidden_act": "silu",
        "max_position_embeddings": 131072, "tie_word_embeddings": False, "attention_bias": True,
        "partial_rotary_factor": 0.5,
    },
    mapper=map_glm4,
)


register(
    "glm4_moe",  # configuration_glm4_moe.py (head_dim is no field: modeling reads it, else hidden // heads)
    defaults={
        "vocab_size": 151552, "hidden_size": 4096, "intermediate_size": 10944, "num_hidden_layers": 46,
        "num_attention_heads": 96, "num_key_value_heads": 8, "head_dim": None, "hidden_act": "silu",
        "max_position_embeddings": 131072, "tie_word_embeddings": False, "attention_bias": False,
        "moe_intermediate_size": 1408, "num_experts_per_tok": 8, "n_shared_experts": 1, "n_routed_experts": 128,
        "first_k_dense_replace": 1, "use_qk_norm": False, "num_nextn_predict_layers": 1,
    },
    mapper=map_glm4_moe,
    aliases={"num_local_experts": "n_routed_experts", "num_mtp_layers": "num_nextn_predict_layers"},
    ignored=frozenset(("routed_scaling_factor", "n_group", "topk_group", "norm_topk_prob")),
)
