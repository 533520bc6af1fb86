"""Parallel attention + MLP decoders with LayerNorms and biases (model_types gpt_neox, gptj, phi): each layer adds
attn(norm(x)) and mlp(norm(x)) to x at once, GPT-NeoX through two norms, GPT-J and Phi-1/2 through one shared norm;
partial RoPE on each head's leading dims."""

from __future__ import annotations

from .blocks import (
    PLAIN_ACTIVATIONS,
    attention_entry,
    base_spec,
    dense_stack,
    head_width,
    parallel_layers,
    partial_rotary,
    read_heads,
)
from .config import Config
from .registry import register

LAYERNORM = {"kind": "layernorm"}


def map_gpt_neox(c: Config) -> dict:
    """gpt_neox (gpt_neox/modeling_gpt_neox.py), transformers 5.23.0: fused query_key_value and dense with biases by
    attention_bias, an MLP dense_h_to_4h / dense_4h_to_h always biased, two LayerNorms per layer (input_layernorm,
    post_attention_layernorm) read in parallel when use_parallel_residual, else one after the other; RoPE on
    int(head_size x rotary_pct) dims (rope_parameters' partial_rotary_factor first); an lm_head untied by default."""
    d = c.integer("hidden_size")
    d_head = head_width(c, d, "num_attention_heads")
    n_heads = d // d_head
    spec = base_spec(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings")
    partial_rotary(c, spec, d_head, "rotary_pct")
    if c.boolean("use_parallel_residual"):
        parallel_layers(spec, LAYERNORM, shared=False)
    else:
        spec["norm"] = dict(LAYERNORM)
    spec["mlp"] = {"activation": c.choice("hidden_act", PLAIN_ACTIVATIONS), "d_ff": c.integer("intermediate_size"),
                   "bias": True}
    dense_stack(spec, attention_entry(n_heads, n_heads, d_head, c.boolean("attention_bias")), spec["n_layers"])
    return spec


def map_gptj(c: Config) -> dict:
    """gptj (gptj/modeling_gptj.py), transformers 5.23.0: q/k/v/out_proj without biases, fc_in / fc_out with biases
    (n_inner or 4 x n_embd), one LayerNorm ln_1 read by attention and MLP in parallel, RoPE on the first rotary_dim
    dims of each head, and an LM head with a bias of vocab_size (its own even when the weight is tied)."""
    d = c.integer("n_embd")
    d_head = head_width(c, d, "n_head")
    spec = base_spec(c, "vocab_size", d, c.integer("n_layer"), "n_positions")
    rotary = c.integer("rotary_dim")  # GPTJConfig takes a whole number only
    if rotary > d_head:
        raise c.error("rotary_dim", f"{rotary} is more than the head size {d_head} (n_embd / n_head), which GPT-J's "
                                    f"rotary slices cannot fill; allowed: 1 to {d_head}")
    if rotary < d_head:
        spec["rotary_dim"] = rotary
    spec["lm_head_bias"] = True
    parallel_layers(spec, LAYERNORM, shared=True)
    spec["mlp"] = {"activation": c.choice("activation_function", PLAIN_ACTIVATIONS),
                   "d_ff": c.integer("n_inner", derived=4 * d), "bias": True}
    dense_stack(spec, attention_entry(d // d_head, d // d_head, d_head), spec["n_layers"])
    return spec


def map_phi(c: Config) -> dict:
    """phi (phi/modeling_phi.py: Phi-1, Phi-1.5, Phi-2), transformers 5.23.0: q/k/v/dense all biased (GQA by
    num_key_value_heads, heads of hidden_size // num_attention_heads), fc1 / fc2 biased, one input_layernorm read by
    attention and MLP in parallel, qk_layernorm's LayerNorms of the head size on q and k, RoPE on int(head_dim x
    partial_rotary_factor) dims (PhiConfig's default 0.5), and an LM head with a bias."""
    d = c.integer("hidden_size")
    n_heads, n_kv, d_head = read_heads(c, d, head_dim_key=None)  # head_dim is no PhiConfig field
    spec = base_spec(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings")
    partial_rotary(c, spec, d_head, "partial_rotary_factor")
    spec["lm_head_bias"] = True
    parallel_layers(spec, LAYERNORM, shared=True)
    spec["mlp"] = {"activation": c.choice("hidden_act", PLAIN_ACTIVATIONS), "d_ff": c.integer("intermediate_size"),
                   "bias": True}
    att = attention_entry(n_heads, n_kv, d_head, True, qk_norm="layernorm" if c.boolean("qk_layernorm") else None)
    dense_stack(spec, att, spec["n_layers"])
    return spec


register(
    "gpt_neox",  # gpt_neox/configuration_gpt_neox.py (rotary_pct and rotary_emb_base: kwargs it converts)
    defaults={
        "vocab_size": 50432, "hidden_size": 6144, "num_hidden_layers": 44, "num_attention_heads": 64,
        "intermediate_size": 24576, "hidden_act": "gelu", "max_position_embeddings": 2048,
        "tie_word_embeddings": False, "use_parallel_residual": True, "attention_bias": True, "rotary_pct": 0.25,
    },
    mapper=map_gpt_neox,
    ignored=frozenset(("rotary_emb_base", "classifier_dropout")),
)


register(
    "gptj",  # gptj/configuration_gptj.py
    defaults={
        "vocab_size": 50400, "n_positions": 2048, "n_embd": 4096, "n_layer": 28, "n_head": 16, "rotary_dim": 64,
        "n_inner": None, "activation_function": "gelu_new", "tie_word_embeddings": False,
    },
    mapper=map_gptj,
    aliases={"max_position_embeddings": "n_positions", "hidden_size": "n_embd", "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer"},
    # GPT-J-6B's config.json: flags modeling_gptj.py does not read (it always rotates), GPT-2's summary settings
    ignored=frozenset(("rotary", "gradient_checkpointing", "scale_attn_weights", "summary_type", "summary_use_proj",
        "summary_activation", "summary_proj_to_labels", "summary_first_dropout")),
)


register(
    "phi",  # phi/configuration_phi.py (partial_rotary_factor: a kwarg defaulting to 0.5)
    defaults={
        "vocab_size": 51200, "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 24,
        "num_attention_heads": 32, "num_key_value_heads": None, "hidden_act": "gelu_new",
        "max_position_embeddings": 2048, "tie_word_embeddings": False, "qk_layernorm": False,
        "partial_rotary_factor": 0.5,
    },
    mapper=map_phi,
)
