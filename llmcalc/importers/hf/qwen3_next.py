"""Qwen3-Next (model_type qwen3_next): Gated DeltaNet layers and gated full-attention layers, experts with a gated
shared expert."""

from __future__ import annotations

from .blocks import (
    LLAMA_LIKE,
    attention_entry,
    hybrid_stack,
    moe_entry,
    partial_rotary,
    read_heads,
    read_layer_types,
    rmsnorm_gated_spec,
)
from .config import Config
from .registry import register

# torch_chunk_gated_delta_rule's chunk_size, which Qwen3NextGatedDeltaNet leaves at its default (so does fla's kernel)
CHUNK = 64


def deltanet_layers(c: Config, spec: dict) -> tuple[dict, dict, list[str]]:
    """The token mixers Qwen3-Next and Qwen3.5 share (qwen3_next/modeling_qwen3_next.py, qwen3_5/modeling_qwen3_5.py,
    transformers 5.23.0): the gated attention entry, the Gated DeltaNet mixer entry, and each layer's type
    (layer_types, default full attention on every full_attention_interval-th layer); partial RoPE set on `spec`."""
    n_layers = spec["n_layers"]
    n_heads, n_kv, d_head = read_heads(c, spec["d_model"])
    attention = attention_entry(n_heads, n_kv, d_head, c.boolean("attention_bias"), qk_norm="rmsnorm",
                                output_gate=True)
    n_key, n_value = c.integer("linear_num_key_heads"), c.integer("linear_num_value_heads")
    if n_value % n_key:
        raise c.error("linear_num_key_heads", f"{n_key} does not divide linear_num_value_heads={n_value} (each key "
                                              f"head serves a whole number of value heads); allowed: a divisor of "
                                              f"{n_value}")
    mixer = {"kind": "gated_deltanet", "n_key_heads": n_key, "n_value_heads": n_value,
             "key_head_dim": c.integer("linear_key_head_dim"), "value_head_dim": c.integer("linear_value_head_dim"),
             "d_conv": c.integer("linear_conv_kernel_dim"), "chunk_size": CHUNK}
    interval = c.integer("full_attention_interval")
    default = ["full_attention" if (i + 1) % interval == 0 else "linear_attention" for i in range(n_layers)]
    types = read_layer_types(c, n_layers, default, ("full_attention", "linear_attention"))
    if "full_attention" in types:
        partial_rotary(c, spec, d_head, "partial_rotary_factor")
    return attention, mixer, types


def map_qwen3_next(c: Config) -> dict:
    """qwen3_next (qwen3_next/modeling_qwen3_next.py), transformers 5.23.0: layer_types (default: full attention on
    every full_attention_interval-th layer, Gated DeltaNet on the others) chooses each layer's mixer.
    Qwen3NextGatedDeltaNet: linear_num_key_heads / linear_num_value_heads of linear_key_head_dim /
    linear_value_head_dim, a conv of linear_conv_kernel_dim taps. Qwen3NextAttention: GQA of head_dim whose q_proj
    also outputs a sigmoid gate on the attention output (twice n_heads x head_dim), attention_bias on q, k, v and o,
    RMSNorms of head_dim on q and k, RoPE on partial_rotary_factor of each head (0.25 unless rope_parameters says).
    num_experts experts of moe_intermediate_size, top num_experts_per_tok, a bias-free router and one shared expert
    of shared_expert_intermediate_size behind a sigmoid gate on the layers (i + 1) % decoder_sparse_step == 0 outside
    mlp_only_layers (none with num_experts 0); a SwiGLU MLP of intermediate_size elsewhere. Two RMSNorms per layer,
    a final one; embeddings untied by default."""
    spec = rmsnorm_gated_spec(c, c.integer("intermediate_size"))
    attention, mixer, types = deltanet_layers(c, spec)
    step = c.integer("decoder_sparse_step")
    dense = set(c.integer_list("mlp_only_layers") or [])
    n_experts = c.integer("num_experts", minimum=0)
    moe = None
    if n_experts:
        shared = c.integer("shared_expert_intermediate_size", minimum=0)
        moe = moe_entry(n_experts, c.integer("num_experts_per_tok"), c.integer("moe_intermediate_size"), c,
                        "num_experts_per_tok", n_shared_experts=1 if shared else 0, d_ff_shared=shared or None,
                        shared_gate=True)
    hybrid_stack(spec, [{"attention": attention if t == "full_attention" else None,
                         "mixer": mixer if t == "linear_attention" else None,
                         "moe": moe if i not in dense and (i + 1) % step == 0 else None}
                        for i, t in enumerate(types)])
    return spec


register(
    "qwen3_next",  # qwen3_next/configuration_qwen3_next.py (full_attention_interval and partial_rotary_factor: kwargs)
    defaults={
        **LLAMA_LIKE, "head_dim": 256, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
        "num_hidden_layers": 48, "num_attention_heads": 16, "num_key_value_heads": 2, "max_position_embeddings": 32768,
        "attention_bias": False, "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_value_head_dim": 128,
        "linear_num_key_heads": 16, "linear_num_value_heads": 32, "decoder_sparse_step": 1, "moe_intermediate_size": 512,
        "shared_expert_intermediate_size": 512, "num_experts_per_tok": 10, "num_experts": 512, "mlp_only_layers": None,
        "layer_types": None, "full_attention_interval": 4, "partial_rotary_factor": 0.25,
    },
    mapper=map_qwen3_next,
    # norm_topk_prob renormalises the top-k weights (no parameter, no matmul); use_sliding_window (false in Qwen3-Next's
    # checkpoints) is no Qwen3NextConfig field and no layer reads it
    ignored=frozenset(("norm_topk_prob", "use_sliding_window")),
)
