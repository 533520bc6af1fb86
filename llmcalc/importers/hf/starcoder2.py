"""StarCoder2 (model_type starcoder2): LayerNorms with biases, GQA with biases, a plain (two-matrix) MLP, RoPE,
and Mistral's sliding window on every layer."""

from __future__ import annotations

from .blocks import PLAIN_ACTIVATIONS, attention_entry, base_spec, dense_stack, read_heads
from .config import Config
from .registry import register


def map_starcoder2(c: Config) -> dict:
    """starcoder2 (modeling_starcoder2.py), transformers 5.23.0: nn.LayerNorm (weight and bias) before attention
    and MLP and at the end, q/k/v/o and c_fc/c_proj biased with use_bias, sliding_window on every layer."""
    d = c.integer("hidden_size")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings")
    spec["norm"] = {"kind": "layernorm"}
    bias = c.boolean("use_bias")
    spec["mlp"] = {"activation": c.choice("hidden_act", PLAIN_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    if bias:
        spec["mlp"]["bias"] = True
    att = attention_entry(n_heads, n_kv, d_head, bias, sliding_window=c.optional_integer("sliding_window"))
    dense_stack(spec, att, spec["n_layers"])
    return spec


register(
    "starcoder2",  # configuration_starcoder2.py (head_dim is no field: modeling reads it, else hidden // heads)
    defaults={
        "vocab_size": 49152, "hidden_size": 3072, "intermediate_size": 12288, "num_hidden_layers": 30,
        "num_attention_heads": 24, "num_key_value_heads": 2, "head_dim": None, "hidden_act": "gelu_pytorch_tanh",
        "max_position_embeddings": 4096, "sliding_window": None, "use_bias": True, "tie_word_embeddings": True,
    },
    mapper=map_starcoder2,
    # the published files' mlp_type ("default") and norm_type ("layer_norm") name the only MLP and norm that
    # modeling_starcoder2.py builds; it reads neither
    ignored=frozenset(("norm_epsilon", "residual_dropout", "embedding_dropout", "mlp_type", "norm_type")),
)
