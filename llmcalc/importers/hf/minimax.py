"""MiniMax-Text-01 (model_type minimax): lightning-attention layers and softmax-attention layers, experts on every
layer."""

from __future__ import annotations

from .blocks import attention_entry, hybrid_stack, moe_entry, read_heads, read_layer_types, rmsnorm_gated_spec
from .config import Config
from .registry import register


def map_minimax(c: Config) -> dict:
    """minimax (minimax/modeling_minimax.py), transformers 5.23.0: layer_types (default: full attention on the even
    layers, lightning attention on the odd ones) chooses each layer's mixer. MiniMaxAttention: GQA of head_dim
    (hidden_size // num_attention_heads when null; num_key_value_heads null: a K/V head per head) without biases,
    RoPE, sliding_window on every full-attention layer when set. MiniMaxLightningAttention: qkv_proj, an RMSNorm over the heads, a sigmoid output gate and
    out_proj, of num_attention_heads x head_dim, the attention in blocks of block_size. Every layer has
    num_local_experts experts of intermediate_size (top num_experts_per_tok, a bias-free softmax router), two
    RMSNorms (the residual scalings by the alpha and beta factors have no parameters), and a final one; embeddings
    untied by default."""
    spec = rmsnorm_gated_spec(c, c.integer("intermediate_size"))
    n_layers = spec["n_layers"]
    n_heads, n_kv, d_head = read_heads(c, spec["d_model"])
    attention = attention_entry(n_heads, n_kv, d_head, sliding_window=c.optional_integer("sliding_window"))
    mixer = {"kind": "lightning", "n_heads": n_heads, "head_dim": d_head, "block_size": c.integer("block_size")}
    moe = moe_entry(c.integer("num_local_experts"), c.integer("num_experts_per_tok"), spec["mlp"]["d_ff"], c,
                    "num_experts_per_tok")
    default = ["full_attention" if (i + 1) % 2 else "linear_attention" for i in range(n_layers)]
    types = read_layer_types(c, n_layers, default, ("full_attention", "linear_attention"))
    hybrid_stack(spec, [{"attention": attention if t == "full_attention" else None,
                         "mixer": mixer if t == "linear_attention" else None, "moe": moe} for t in types])
    return spec


register(
    "minimax",  # minimax/configuration_minimax.py
    defaults={
        "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None, "hidden_act": "silu",
        "max_position_embeddings": 131072, "tie_word_embeddings": False, "sliding_window": None,
        "num_experts_per_tok": 2, "num_local_experts": 8, "layer_types": None, "block_size": 256,
    },
    mapper=map_minimax,
    aliases={"num_experts": "num_local_experts"},
    # router_jitter_noise: training noise on the inputs; the alpha and beta factors scale the residual adds
    ignored=frozenset(("router_jitter_noise", "full_attn_alpha_factor", "full_attn_beta_factor",
                       "linear_attn_alpha_factor", "linear_attn_beta_factor", "mlp_alpha_factor", "mlp_beta_factor")),
)
