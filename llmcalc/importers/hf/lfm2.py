"""LFM2 and LFM2-MoE (model_types lfm2, lfm2_moe): short-convolution layers and attention layers with q/k RMSNorms,
each followed by a SwiGLU MLP (LFM2: its width adjusted from intermediate_size) or, past LFM2-MoE's dense layers,
experts."""

from __future__ import annotations

from .blocks import attention_entry, hybrid_stack, moe_entry, read_heads, read_layer_types, rmsnorm_gated_spec
from .config import Config, got
from .registry import TRANSFORMERS_VERSION, register

# norm_eps, theta: numerics; the rest are the LFM2 checkpoints' own keys that transformers 5.23.0 never reads (the
# widths they repeat are hidden_size's, the initialisation scales change no count)
LFM2_IGNORED = frozenset(("norm_eps", "theta", "block_dim", "block_norm_eps", "block_mlp_init_scale",
                          "block_out_init_scale", "block_use_swiglu", "block_use_xavier_init", "conv_dim",
                          "conv_dim_out", "conv_use_xavier_init", "num_heads", "use_pos_enc"))


def lfm2_d_ff(c: Config) -> int:
    """Lfm2MLP's width (lfm2/modeling_lfm2.py, transformers 5.23.0): with block_auto_adjust_ff_dim,
    int(2 x intermediate_size / 3), then int(block_ffn_dim_multiplier x that) rounded up to a multiple of
    block_multiple_of; else intermediate_size as it is. (Lfm2MLP skips the multiplier when it is None, which
    Lfm2Config's strict types refuse, as this does.)"""
    d_ff = c.integer("intermediate_size")
    if not c.boolean("block_auto_adjust_ff_dim"):
        return d_ff
    d_ff = int(2 * d_ff / 3)
    multiplier = c.raw("block_ffn_dim_multiplier")
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or multiplier <= 0:
        raise c.error("block_ffn_dim_multiplier", f"must be a number > 0, got {got(multiplier)}")
    multiple = c.integer("block_multiple_of")
    d_ff = multiple * -(-int(multiplier * d_ff) // multiple)
    if d_ff < 1:
        raise c.error("intermediate_size", f"leaves the MLP {d_ff} wide after LFM2's adjustment (2/3, multiplier, "
                                           "multiple); allowed: a larger intermediate_size")
    return d_ff


def _mixers(c: Config, n_layers: int, default: list[str] | None) -> list[dict]:
    """Each layer's token mixer: Lfm2ShortConv on the layers layer_types names "conv" (in_proj to 3 x hidden_size, a
    depthwise conv of conv_L_cache taps, out_proj; biases on all three with conv_bias), attention on the others (GQA
    without biases, RoPE, RMSNorms of head_dim on q and k)."""
    if default is None and c.raw("layer_types") is None:
        raise c.error("layer_types", "is required: Lfm2MoeConfig has no default for it and transformers "
                                     f"{TRANSFORMERS_VERSION} cannot build the model without it; allowed: a list of "
                                     f"{n_layers} names, each conv or full_attention")
    n_heads, n_kv, d_head = read_heads(c, c.integer("hidden_size"))
    attention = attention_entry(n_heads, n_kv, d_head, qk_norm="rmsnorm")
    types = read_layer_types(c, n_layers, default or [], ("full_attention", "conv"))
    mixer = {"kind": "short_conv", "d_conv": c.integer("conv_L_cache"), "bias": c.boolean("conv_bias")}
    return [{"attention": attention if t == "full_attention" else None, "mixer": mixer if t == "conv" else None}
            for t in types]


def map_lfm2(c: Config) -> dict:
    """lfm2 (lfm2/modeling_lfm2.py), transformers 5.23.0: short conv or attention per layer_types (_mixers); without
    layer_types, attention on full_attn_idxs (every layer when that is null too: Lfm2Config.__post_init__). Every
    layer has an RMSNorm before its mixer and one before its SwiGLU MLP (lfm2_d_ff); the RMSNorm the model calls
    embedding_norm runs after the last layer (the final norm); embeddings tied by default."""
    spec = rmsnorm_gated_spec(c, lfm2_d_ff(c), "swiglu")
    n_layers = spec["n_layers"]
    indices = c.integer_list("full_attn_idxs")
    default = ["full_attention" if indices is None or i in indices else "conv" for i in range(n_layers)]
    hybrid_stack(spec, _mixers(c, n_layers, default))
    return spec


def map_lfm2_moe(c: Config) -> dict:
    """lfm2_moe (lfm2_moe/modeling_lfm2_moe.py), transformers 5.23.0: LFM2's layers (_mixers, layer_types required),
    a SwiGLU MLP of intermediate_size as it is on the first num_dense_layers, then num_experts SwiGLU experts of
    moe_intermediate_size, top num_experts_per_tok by a bias-free sigmoid router, with use_expert_bias a
    load-balancing bias per expert added to the routing scores (Lfm2MoeSparseMoeBlock's expert_bias: a buffer, as
    DeepSeek-V3's); the norms and the tied embeddings of LFM2."""
    spec = rmsnorm_gated_spec(c, c.integer("intermediate_size"), "swiglu")
    n_layers = spec["n_layers"]
    moe = moe_entry(c.integer("num_experts"), c.integer("num_experts_per_tok"), c.integer("moe_intermediate_size"),
                    c, "num_experts_per_tok", routing_bias=c.boolean("use_expert_bias"))
    dense = c.integer("num_dense_layers", minimum=0)
    hybrid_stack(spec, [{**layer, "moe": moe if i >= dense else None}
                        for i, layer in enumerate(_mixers(c, n_layers, None))])
    return spec


register(
    "lfm2",  # lfm2/configuration_lfm2.py (head_dim: no field, but Lfm2Attention reads it when set)
    defaults={
        "vocab_size": 65536, "hidden_size": 2560, "intermediate_size": 12288, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None, "max_position_embeddings": 128000,
        "tie_word_embeddings": True, "conv_bias": False, "conv_L_cache": 3, "block_multiple_of": 256,
        "block_ffn_dim_multiplier": 1.0, "block_auto_adjust_ff_dim": True, "full_attn_idxs": None,
        "layer_types": None,
    },
    mapper=map_lfm2,
    # Lfm2Config.__post_init__ takes the LFM2 checkpoints' own names for these two
    aliases={"tie_embedding": "tie_word_embeddings", "block_ff_dim": "intermediate_size"},
    ignored=LFM2_IGNORED,
)


register(
    "lfm2_moe",  # lfm2_moe/configuration_lfm2_moe.py (head_dim: no field, but Lfm2MoeAttention reads it when set)
    defaults={
        "vocab_size": 65536, "hidden_size": 2048, "intermediate_size": 7168, "moe_intermediate_size": 1792,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None,
        "max_position_embeddings": 128000, "tie_word_embeddings": True, "conv_bias": False, "conv_L_cache": 3,
        "num_dense_layers": 2, "num_experts_per_tok": 4, "num_experts": 32, "use_expert_bias": True,
        "layer_types": None,
    },
    mapper=map_lfm2_moe,
    aliases={"tie_embedding": "tie_word_embeddings"},  # Lfm2MoeConfig.__post_init__ takes it
    # routed_scaling_factor and norm_topk_prob scale the routing weights: no parameter, no matmul
    ignored=LFM2_IGNORED | {"routed_scaling_factor", "norm_topk_prob"},
)
