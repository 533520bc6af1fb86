"""EXAONE 4 (model_type exaone4): post-norm (RMSNorms after attention and after the MLP) with a final norm, q/k
RMSNorm per head, three sliding layers in four."""

from __future__ import annotations

from .blocks import read_layer_types, stack, windows_of
from .config import Config, got
from .llama_like import Shape, llama_like, windowed
from .registry import register


def map_exaone4(c: Config) -> dict:
    """exaone4 (modeling_exaone4.py), transformers 5.23.0: no biases, q_norm and k_norm of head_dim, RMSNorms after
    attention and after the MLP (none before), sliding window on the layer_types' sliding layers (default: all but
    every sliding_window_pattern-th)."""
    spec, att, n_layers = llama_like(c, Shape(qkv_bias=None, o_bias=None, mlp_bias=None, qk_norm="rmsnorm",
                                              placement="post"))
    window = c.optional_integer("sliding_window")
    default: list[str] = []
    if c.raw("layer_types") is None:
        pattern = c.raw("sliding_window_pattern")
        if window is None or isinstance(pattern, bool) or not isinstance(pattern, int) or pattern < 1:
            # transformers: no window sets the pattern to 0, and a pattern must be a number to derive the layers
            raise c.error("sliding_window_pattern", f"cannot derive layer_types from {got(pattern)} with "
                          f"sliding_window={window}; allowed: a whole number >= 1 with a window, or set layer_types")
        default = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n_layers)]
    types = read_layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
    stack(spec, windowed(att, windows_of(c, types, window)), [None] * n_layers)
    return spec


register(
    "exaone4",  # configuration_exaone4.py (head_dim is no field: modeling reads it, else hidden // heads)
    defaults={
        "vocab_size": 102400, "hidden_size": 4096, "intermediate_size": 16384, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 32, "head_dim": None, "hidden_act": "silu",
        "max_position_embeddings": 2048, "tie_word_embeddings": False, "sliding_window": 4096,
        "sliding_window_pattern": 4, "layer_types": None,
    },
    mapper=map_exaone4,
)
