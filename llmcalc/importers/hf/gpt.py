"""GPT-2, GPT-1 and StarCoder 1 / SantaCoder (model_types gpt2, openai-gpt and gpt_bigcode): learned positions,
LayerNorm, biases everywhere."""

from __future__ import annotations

from .blocks import PLAIN_ACTIVATIONS, attention_entry, base_spec, dense_stack
from .config import Config
from .registry import register


def map_gpt(c: Config) -> dict:
    """gpt2 (modeling_gpt2.py: pre-LN, learned positions, Conv1D q/k/v/o and MLP with biases, n_inner or 4d),
    gpt_bigcode (modeling_gpt_bigcode.py: GPT-2's layer with multi-query attention, one K/V head of d / n_head, by
    default) and openai-gpt (openai/modeling_openai.py: post-LN blocks, no final norm, MLP fixed at 4d),
    transformers 5.23.0."""
    d = c.integer("n_embd")
    n_heads = c.integer("n_head")
    if d % n_heads:
        raise c.error("n_head", f"{n_heads} does not divide n_embd={d} (transformers refuses it); "
                                f"allowed: a divisor of {d}")
    gpt2 = c.model_type in ("gpt2", "gpt_bigcode")
    d_ff = c.integer("n_inner", derived=4 * d) if gpt2 else 4 * d
    activation = c.choice("activation_function" if gpt2 else "afn", PLAIN_ACTIVATIONS)
    spec = base_spec(c, "vocab_size", d, c.integer("n_layer"), "n_positions", position="learned")
    spec["norm"] = {"kind": "layernorm", "placement": "pre"} if gpt2 else \
        {"kind": "layernorm", "placement": "post", "final": False}
    spec["mlp"] = {"activation": activation, "d_ff": d_ff, "bias": True}
    n_kv = 1 if c.model_type == "gpt_bigcode" and c.boolean("multi_query") else n_heads
    dense_stack(spec, attention_entry(n_heads, n_kv, d // n_heads, True), spec["n_layers"])
    return spec


register(
    "gpt2",  # configuration_gpt2.py
    defaults={
        "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
        "activation_function": "gelu_new", "tie_word_embeddings": True,
    },
    mapper=map_gpt,
    aliases={"hidden_size": "n_embd", "max_position_embeddings": "n_positions", "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer"},
    ignored=frozenset(("n_ctx", "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels",
        "summary_first_dropout", "scale_attn_weights", "scale_attn_by_inverse_layer_idx",
        "reorder_and_upcast_attn")),
)


register(
    "openai-gpt",  # openai/configuration_openai.py
    defaults={
        "vocab_size": 40478, "n_positions": 512, "n_embd": 768, "n_layer": 12, "n_head": 12, "afn": "gelu",
        "tie_word_embeddings": True,
    },
    mapper=map_gpt,
    aliases={"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
        "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"},
    ignored=frozenset(("n_ctx", "summary_type", "summary_use_proj", "summary_activation",
        "summary_proj_to_labels", "summary_first_dropout")),
)


register(
    "gpt_bigcode",  # gpt_bigcode/configuration_gpt_bigcode.py (SantaCoder's and StarCoder's)
    defaults={
        "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
        "activation_function": "gelu_pytorch_tanh", "multi_query": True, "tie_word_embeddings": True,
    },
    mapper=map_gpt,
    aliases={"hidden_size": "n_embd", "max_position_embeddings": "n_positions", "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer"},
    ignored=frozenset(("scale_attn_weights", "attention_softmax_in_fp32", "scale_attention_softmax_in_fp32",
        "num_key_value_heads")),
)
