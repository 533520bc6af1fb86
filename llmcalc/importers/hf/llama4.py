"""Llama 4 (model_types llama4_text, and llama4 whose text_config is read): chunked attention on RoPE layers
with L2 qk-norm, interleaved MoE layers with one shared expert."""

from __future__ import annotations

from .blocks import (
    GATED_ACTIVATIONS,
    attention_entry,
    base_spec,
    moe_entry,
    read_heads,
    read_layer_types,
    stack,
    windows_of,
)
from .config import Config, got
from .registry import register


def map_llama4_text(c: Config) -> dict:
    """llama4_text (llama4/modeling_llama4.py, Llama4ForCausalLM), transformers 5.23.0: MoE on moe_layers
    (default every interleave_moe_layer_step-th layer) with num_local_experts experts and one shared expert of
    intermediate_size, dense layers of intermediate_size_mlp; RoPE layers (no_rope_layers[i] = 1, default all
    but every no_rope_layer_interval-th) carry the L2 qk-norm (use_qk_norm) and, per layer_types, chunked
    attention of attention_chunk_size."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS),
                   "d_ff": c.integer("intermediate_size_mlp")}
    rope = c.raw("no_rope_layers")
    if not rope:  # transformers: an empty or missing list takes the default
        interval = c.integer("no_rope_layer_interval")
        rope = [int((i + 1) % interval != 0) for i in range(n_layers)]
    elif (not isinstance(rope, list) or len(rope) != n_layers
          or not all(v in (0, 1) and not isinstance(v, float) for v in rope)):
        raise c.error("no_rope_layers", f"must be a list of {n_layers} flags 0 or 1 (1: the layer uses RoPE), "
                                        f"got {got(rope)}")
    step = c.integer("interleave_moe_layer_step")
    moe_layers = c.integer_list("moe_layers")
    if moe_layers is None:
        moe_layers = list(range(step - 1, n_layers, step))
    default = ["chunked_attention" if r else "full_attention" for r in rope]
    types = read_layer_types(c, n_layers, default, ("full_attention", "chunked_attention"))
    chunks = windows_of(c, types, c.optional_integer("attention_chunk_size"), "attention_chunk_size",
                        "chunked_attention")
    qk_norm = c.boolean("use_qk_norm")
    bias = c.boolean("attention_bias")
    d_ff = c.integer("intermediate_size")
    moe = moe_entry(c.integer("num_local_experts"), c.integer("num_experts_per_tok"), d_ff, c,
                    "num_experts_per_tok", n_shared_experts=1, d_ff_shared=d_ff)
    attentions = [attention_entry(n_heads, n_kv, d_head, bias, qk_norm="l2" if qk_norm and r else None, chunk_size=ch)
                  for r, ch in zip(rope, chunks)]
    stack(spec, attentions, [moe if i in moe_layers else None for i in range(n_layers)])
    return spec


register(
    "llama4_text",  # llama4/configuration_llama4.py, Llama4TextConfig
    defaults={
        "vocab_size": 202048, "hidden_size": 5120, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
        "num_hidden_layers": 48, "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
        "hidden_act": "silu", "max_position_embeddings": 4096 * 32, "tie_word_embeddings": False,
        "num_experts_per_tok": 1, "num_local_experts": 16, "moe_layers": None, "interleave_moe_layer_step": 1,
        "use_qk_norm": True, "no_rope_layers": None, "no_rope_layer_interval": 4, "attention_chunk_size": 8192,
        "layer_types": None, "attention_bias": False,
    },
    mapper=map_llama4_text,
    ignored=frozenset(("attn_temperature_tuning", "attn_scale", "floor_scale", "for_llm_compressor",
        "router_jitter_noise")),
)


def llama4_text_model(top: Config) -> tuple[Config, str]:
    """llama4 (Llama4Config): the text model is its text_config; the vision encoder and projector are not read."""
    if top.boolean("tie_word_embeddings"):
        raise top.error("tie_word_embeddings", "tying at the multimodal level is not read by the text model; "
                                               "allowed: false (set text_config.tie_word_embeddings)")
    top.check_keys()
    return (top.child("text_config", "llama4_text"),
            "Text model only (text_config): the vision encoder and the multimodal projector are not counted.")


register(
    "llama4",  # llama4/configuration_llama4.py, Llama4Config: the text model is its text_config
    defaults={
        "text_config": None, "tie_word_embeddings": False,
    },
    text_model=llama4_text_model,
    ignored=frozenset(("vision_config", "boi_token_index", "eoi_token_index", "image_token_index")),
)
