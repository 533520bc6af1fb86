"""Cohere's Command R family (model_types cohere and cohere2): parallel attention + SwiGLU MLP reading one shared
bias-free LayerNorm, GQA, tied embeddings; Command R+ adds per-head q/k LayerNorms, Command R7B (cohere2) three
sliding-window layers to every full one."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, attention_entry, base_spec, dense_stack, parallel_layers, read_heads
from .config import Config
from .llama_like import stack_window_pattern
from .registry import register


def _cohere_base(c: Config, qk_norm: str | None = None) -> tuple[dict, dict, int]:
    """The spec's top level, one layer's attention entry (no window) and the number of layers."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = read_heads(c, d, head_dim_key=None)  # head_dim is hidden_size // heads in both
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    parallel_layers(spec, {"kind": "layernorm", "bias": False}, shared=True)
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    return spec, attention_entry(n_heads, n_kv, d_head, c.boolean("attention_bias"), qk_norm=qk_norm), n_layers


def map_cohere(c: Config) -> dict:
    """cohere (cohere/modeling_cohere.py), transformers 5.23.0: CohereLayerNorm (a weight, no bias) as
    input_layernorm, read by attention and by the gate/up/down MLP in parallel, and as the final norm; q/k/v/o biased
    by attention_bias; with use_qk_norm, q_norm and k_norm are CohereLayerNorms over (heads, head_dim): a weight per
    head. logit_scale multiplies the logits (no parameter)."""
    spec, att, n_layers = _cohere_base(c, "layernorm_heads" if c.boolean("use_qk_norm") else None)
    dense_stack(spec, att, n_layers)
    return spec


def map_cohere2(c: Config) -> dict:
    """cohere2 (cohere2/modeling_cohere2.py), transformers 5.23.0: cohere's layer without q/k norms; the layer_types'
    sliding layers (default: all but every sliding_window_pattern-th, 4) attend within sliding_window and rotate q
    and k, the full layers have no position encoding (NoPE; no parameter either way)."""
    c.ignored_count("head_dim", "Cohere2Config sets hidden_size // num_attention_heads in its place")
    spec, att, n_layers = _cohere_base(c)
    stack_window_pattern(c, spec, att, n_layers)
    return spec


COHERE = {
    "vocab_size": 256000, "hidden_size": 8192, "intermediate_size": 22528, "num_hidden_layers": 40,
    "num_attention_heads": 64, "num_key_value_heads": None, "hidden_act": "silu", "max_position_embeddings": 8192,
    "tie_word_embeddings": True, "attention_bias": False,
}

register(
    "cohere",  # cohere/configuration_cohere.py
    defaults={**COHERE, "use_qk_norm": False},
    mapper=map_cohere,
    ignored=frozenset(("logit_scale",)),
)


register(
    "cohere2",  # cohere2/configuration_cohere2.py (sliding_window_pattern: a kwarg, 4; head_dim: overwritten)
    defaults={**COHERE, "sliding_window": 4096, "layer_types": None, "sliding_window_pattern": 4},
    mapper=map_cohere2,
    # Command R7B's and Command A's config.json: head_dim (Cohere2Config sets hidden_size // heads) and the flags
    # of Cohere's own code, which modeling_cohere2.py does not read
    ignored=frozenset(("logit_scale", "head_dim", "layer_switch", "order_of_interleaved_layers",
        "position_embedding_type", "rotary_pct", "use_embedding_sharing", "use_gated_activation",
        "use_parallel_attention", "use_parallel_block", "use_parallel_embedding")),
)
