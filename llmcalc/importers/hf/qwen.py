"""Qwen2, Qwen2-MoE, Qwen3 and Qwen3-MoE (model_types qwen2, qwen2_moe, qwen3, qwen3_moe): q/k/v biases or
q/k norms, per-layer sliding windows, routed and shared experts."""

from __future__ import annotations

from .blocks import (
    GATED_ACTIVATIONS,
    LLAMA_LIKE,
    attention_entry,
    base_spec,
    moe_entry,
    read_heads,
    read_layer_types,
    stack,
    windows_of,
)
from .config import Config
from .registry import register


def map_qwen(c: Config) -> dict:
    """qwen2 (modeling_qwen2.py: q, k, v biases), qwen2_moe (modeling_qwen2_moe.py: qkv_bias, routed experts
    and one gated shared expert on layers (i+1) % decoder_sparse_step == 0 outside mlp_only_layers), qwen3
    (modeling_qwen3.py: q/k RMSNorm) and qwen3_moe (modeling_qwen3_moe.py), transformers 5.23.0. Sliding
    windows: qwen2/qwen3 on layers >= max_window_layers, qwen2_moe on even layers below it, qwen3_moe on all;
    always only with use_sliding_window, and per layer_types where the model_type has them."""
    mt = c.model_type
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    if mt in ("qwen2", "qwen2_moe", "qwen2_5_vl_text"):
        qkv = mt != "qwen2_moe" or c.boolean("qkv_bias")
        bias: bool | dict = {"q": True, "k": True, "v": True} if qkv else False
    else:
        bias = c.boolean("attention_bias")
    use_window = c.boolean("use_sliding_window")
    window = c.optional_integer("sliding_window") if use_window else None
    if mt == "qwen3_moe":
        windows: list[int | None] = [window] * n_layers
    else:
        max_window_layers = c.integer("max_window_layers", minimum=0)
        if mt == "qwen2_moe":
            default = ["sliding_attention" if (i + 1) % 2 and i < max_window_layers and use_window
                       else "full_attention" for i in range(n_layers)]
        else:
            default = ["sliding_attention" if window is not None and i >= max_window_layers
                       else "full_attention" for i in range(n_layers)]
        types = read_layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
        windows = windows_of(c, types, window)
    qk_norm = "rmsnorm" if mt.startswith("qwen3") else None
    attentions = [attention_entry(n_heads, n_kv, d_head, bias, qk_norm=qk_norm, sliding_window=w) for w in windows]
    moes: list[dict | None] = [None] * n_layers
    if mt.endswith("_moe"):
        step = c.integer("decoder_sparse_step")
        dense = set(c.integer_list("mlp_only_layers") or [])
        n_experts = c.integer("num_experts", minimum=0)
        moe = None
        if n_experts:
            extra: dict = {}
            if mt == "qwen2_moe":
                shared = c.integer("shared_expert_intermediate_size", minimum=0)
                extra = {"n_shared_experts": 1 if shared else 0, "d_ff_shared": shared or None, "shared_gate": True}
            moe = moe_entry(n_experts, c.integer("num_experts_per_tok"), c.integer("moe_intermediate_size"), c,
                            "num_experts_per_tok", **extra)
        moes = [moe if i not in dense and (i + 1) % step == 0 else None for i in range(n_layers)]
    stack(spec, attentions, moes)
    return spec


register(
    "qwen2",  # configuration_qwen2.py (q, k, v biases are hard-coded in modeling_qwen2.py)
    defaults={
        **LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
        "max_position_embeddings": 32768, "use_sliding_window": False, "sliding_window": 4096,
        "max_window_layers": 28, "layer_types": None,
    },
    mapper=map_qwen,
    ignored=frozenset(("use_mrope",)),
)


register(
    "qwen2_moe",  # configuration_qwen2_moe.py
    defaults={
        **LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
        "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16,
        "max_position_embeddings": 32768, "use_sliding_window": False, "sliding_window": 4096,
        "max_window_layers": 28, "decoder_sparse_step": 1, "moe_intermediate_size": 1408,
        "shared_expert_intermediate_size": 5632, "num_experts_per_tok": 4, "num_experts": 60,
        "mlp_only_layers": None, "qkv_bias": True, "layer_types": None,
    },
    mapper=map_qwen,
    ignored=frozenset(("norm_topk_prob",)),
)


register(
    "qwen3",  # configuration_qwen3.py
    defaults={
        **LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32, "head_dim": 128,
        "max_position_embeddings": 32768, "attention_bias": False, "use_sliding_window": False,
        "sliding_window": 4096, "max_window_layers": 28, "layer_types": None,
    },
    mapper=map_qwen,
)


register(
    "qwen3_moe",  # configuration_qwen3_moe.py (head_dim is no field: modeling uses hidden // heads)
    defaults={
        **LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 6144,
        "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 4,
        "max_position_embeddings": 32768, "attention_bias": False, "use_sliding_window": False,
        "sliding_window": 4096, "decoder_sparse_step": 1, "moe_intermediate_size": 768,
        "num_experts_per_tok": 8, "num_experts": 128, "mlp_only_layers": None,
    },
    mapper=map_qwen,
    aliases={"num_local_experts": "num_experts"},
    ignored=frozenset(("norm_topk_prob", "max_window_layers")),
)
