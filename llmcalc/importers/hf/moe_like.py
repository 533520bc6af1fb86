"""Llama-shaped mixtures of experts (model_types ernie4_5_moe, minimax_m2, hunyuan_v1_moe): the attention and norms
of llama_like.py's families, with routed experts (and shared ones) in place of the MLP on some or all layers."""

from __future__ import annotations

from .blocks import moe_entry, partial_rotary, stack
from .config import Config, got
from .llama_like import Shape, llama_like
from .registry import register

SHAPES = {
    "ernie4_5_moe": Shape(qkv_bias="use_bias", o_bias="use_bias", mlp_bias="use_bias"),
    "minimax_m2": Shape(qkv_bias=None, o_bias=None, mlp_bias=None, qk_norm="rmsnorm_full"),
    "hunyuan_v1_moe": Shape(mlp_bias=None, qk_norm="rmsnorm"),
}


def map_ernie4_5_moe(c: Config) -> dict:
    """ernie4_5_moe (ernie4_5_moe/modeling_ernie4_5_moe.py, transformers 5.23.0): layer i is a MoE layer when
    (i + 1) % moe_layer_interval == 0 and moe_layer_start_index <= i <= moe_layer_end_index (-1: the last layer),
    else a dense MLP of intermediate_size; routed experts of moe_intermediate_size without biases, the shared
    experts one MLP of moe_num_shared_experts x moe_intermediate_size, the router's e_score_correction_bias an
    nn.Parameter without gradient (counted, as num_parameters() counts it); use_bias gives q, k, v, o, the dense
    MLPs, the shared experts and the LM head (tied weight, its own bias) biases."""
    spec, att, n_layers = llama_like(c, SHAPES["ernie4_5_moe"])
    bias = c.boolean("use_bias")
    if bias:
        spec["lm_head_bias"] = True
    start = c.integer("moe_layer_start_index", minimum=0)
    end = c.integer("moe_layer_end_index", minimum=-1)
    end = n_layers - 1 if end == -1 else end  # Ernie4_5_MoeConfig.__post_init__
    interval = c.integer("moe_layer_interval")
    sparse = [(i + 1) % interval == 0 and start <= i <= end for i in range(n_layers)]
    moe = None
    if any(sparse):
        n_experts = c.integer("moe_num_experts")
        d_ff = c.integer("moe_intermediate_size")
        n_shared = c.integer("moe_num_shared_experts", minimum=0)
        # one shared MLP of n x d_ff: as n experts of d_ff, unless its one set of biases tells them apart
        shared = {"n_shared_experts": 1, "d_ff_shared": n_shared * d_ff} if bias and n_shared > 1 else \
            {"n_shared_experts": n_shared}
        moe = moe_entry(n_experts, c.integer("moe_k"), d_ff, c, "moe_k", **shared, routing_bias="parameter")
        if bias:  # the routed experts are bare weights (gate_up_proj, down_proj)
            moe["expert_bias"] = False
    stack(spec, [att] * n_layers, [moe if s else None for s in sparse])
    return spec


def map_minimax_m2(c: Config) -> dict:
    """minimax_m2 (minimax_m2/modeling_minimax_m2.py, transformers 5.23.0): every layer a MoE of
    num_local_experts experts of intermediate_size (no shared expert), sigmoid routing with the
    e_score_correction_bias buffer; q_norm and k_norm RMSNorms over the whole q and k projections; partial RoPE of
    partial_rotary_factor (rope_parameters first), else the released checkpoints' rotary_dim / head_dim."""
    spec, att, n_layers = llama_like(c, SHAPES["minimax_m2"])
    kinds = c.data.get("attn_type_list")  # the released configs' 1 per layer: full attention (0: lightning)
    if kinds is not None and kinds != [1] * n_layers:
        raise c.error("attn_type_list", f"must be 1 (full attention) on each of the {n_layers} layers, got "
                                        f"{got(kinds)}: transformers' minimax_m2 builds full attention on every "
                                        "layer (lightning attention is MiniMax-Text-01's, model_type minimax)")
    rope = [c.data.get(name) for name in ("rope_scaling", "rope_parameters")]
    if any(isinstance(r, dict) and r.get("partial_rotary_factor") is not None for r in rope) or \
            c.data.get("partial_rotary_factor") is not None:
        partial_rotary(c, spec, att["d_head"], "partial_rotary_factor")
    elif c.raw("rotary_dim") is not None:
        rotary = c.integer("rotary_dim", minimum=0)
        if rotary > att["d_head"]:
            raise c.error("rotary_dim", f"{rotary} is more than head_dim={att['d_head']}; allowed: 0 to "
                                        f"{att['d_head']} (the leading dims of each head rotated)")
        rotated = int(att["d_head"] * (rotary / att["d_head"]))  # as modeling_rope_utils derives it
        if rotated == 0:
            spec["position"] = "none"
        elif rotated < att["d_head"]:
            spec["rotary_dim"] = rotated
    moe = moe_entry(c.integer("num_local_experts"), c.integer("num_experts_per_tok"),
                    c.integer("intermediate_size"), c, "num_experts_per_tok", routing_bias=True)
    stack(spec, [att] * n_layers, [moe] * n_layers)
    return spec


def map_hunyuan_v1_moe(c: Config) -> dict:
    """hunyuan_v1_moe (hunyuan_v1_moe/modeling_hunyuan_v1_moe.py, transformers 5.23.0): every layer a MoE of
    num_experts experts and one shared MLP, all of intermediate_size, without biases; moe_topk one top-k or one per
    layer; q/k RMSNorms of head_dim (which it needs: null cannot be built); attention_bias on q, k, v and o."""
    if c.raw("head_dim") is None:
        raise c.error("head_dim", "is null, which transformers 5.23.0 cannot build hunyuan_v1_moe with; "
                                  "allowed: a whole number >= 1")
    spec, att, n_layers = llama_like(c, SHAPES["hunyuan_v1_moe"])
    n_experts = c.integer("num_experts")
    top_k = c.raw("moe_topk")
    if isinstance(top_k, list):
        if len(top_k) != n_layers or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1
                                             for k in top_k):
            raise c.error("moe_topk", f"must be a whole number >= 1 or a list of {n_layers} of them (one per "
                                      f"layer), got {got(top_k)}")
        top_ks = top_k
    else:
        top_ks = [c.integer("moe_topk")] * n_layers
    d_ff = c.integer("intermediate_size")
    moes = [moe_entry(n_experts, k, d_ff, c, "moe_topk", n_shared_experts=1) for k in top_ks]
    stack(spec, [att] * n_layers, moes)
    return spec


register(
    "ernie4_5_moe",  # configuration_ernie4_5_moe.py (head_dim is no field: modeling reads it, else hidden // heads)
    defaults={
        "tie_word_embeddings": True, "hidden_act": "silu", "use_bias": False, "vocab_size": 103424,
        "hidden_size": 2560, "intermediate_size": 12288, "num_hidden_layers": 28, "num_attention_heads": 20,
        "num_key_value_heads": 4, "head_dim": None, "max_position_embeddings": 131072,
        "moe_intermediate_size": 1536, "moe_k": 6, "moe_num_experts": 64, "moe_num_shared_experts": 2,
        "moe_layer_start_index": 1, "moe_layer_end_index": -1, "moe_layer_interval": 1,
    },
    mapper=map_ernie4_5_moe,
    aliases={"num_experts": "moe_num_experts", "num_experts_per_tok": "moe_k"},
    # the clamp of the routing weights' sum; the released configs' routing settings (capacity, gate kind, the
    # aux-free correction bias, which transformers builds either way); their MTP layer and its loss weight, which
    # transformers does not build and the released checkpoints do not hold (ERNIE-4.5-21B-A3B: 21,825,437,888
    # parameters, this count)
    ignored=frozenset(("moe_norm_min", "moe_capacity", "moe_gate", "moe_use_aux_free", "num_nextn_predict_layers",
                       "multi_token_pred_lambda")),
    fixed={"use_rmsnorm": (True,)},
)


register(
    "minimax_m2",  # configuration_minimax_m2.py (rotary_dim is no field: its rope conversion reads it)
    defaults={
        "tie_word_embeddings": False, "hidden_act": "silu", "vocab_size": 200064, "hidden_size": 3072,
        "intermediate_size": 1536, "num_hidden_layers": 62, "num_attention_heads": 48, "num_key_value_heads": 8,
        "head_dim": 128, "max_position_embeddings": 196608, "num_experts_per_tok": 8, "num_local_experts": 256,
        "rotary_dim": None,
    },
    mapper=map_minimax_m2,
    aliases={"num_experts": "num_local_experts"},
    # noise on the hidden states in training, the routing function; the MTP modules, which transformers does not
    # build and the released checkpoint (MiniMax-M2.7, 228,689,748,992 weights) does not hold
    ignored=frozenset(("router_jitter_noise", "scoring_func", "use_mtp", "num_mtp_modules",
                       "mtp_transformer_layers")),
    # the released configs' switches for what transformers always builds: q/k norms over the projections, the
    # routing bias, no shared expert
    fixed={"use_qk_norm": (True,), "qk_norm_type": ("per_layer",), "use_routing_bias": (True,),
           "shared_intermediate_size": (0,)},
    reads_also=("attn_type_list",),
)


register(
    "hunyuan_v1_moe",  # configuration_hunyuan_v1_moe.py (head_dim null: modeling cannot build it)
    defaults={
        "tie_word_embeddings": False, "hidden_act": "silu", "attention_bias": False, "vocab_size": 290943,
        "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": None, "head_dim": None, "max_position_embeddings": 2048, "num_experts": 1,
        "moe_topk": 1,
    },
    mapper=map_hunyuan_v1_moe,
    aliases={"num_experts_per_tok": "moe_topk", "num_local_experts": "num_experts"},
    ignored=frozenset(("eod_token_id",)),  # a token id
)
