"""Llama and Mistral (model_types llama, mistral, ministral and ministral3): RMSNorm, RoPE, GQA, gated MLP;
Mistral's and Ministral 3's sliding window on every layer, Ministral's on the layer_types' sliding layers."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, LLAMA_LIKE, attention_entry, base_spec, dense_stack, read_heads
from .blocks import read_layer_types, stack, windows_of
from .config import Config
from .llama_like import windowed
from .registry import register


def map_llama(c: Config) -> dict:
    """llama (modeling_llama.py), mistral (modeling_mistral.py: sliding_window on every layer), ministral3
    (ministral3/modeling_ministral3.py: the same), ministral (ministral/modeling_ministral.py: sliding_window on the
    layer_types' sliding layers, by default every layer when a window is set) and phi3 (modeling_phi3.py: fused qkv
    and gate_up, same counts; sliding_window on every layer), transformers 5.23.0."""
    d = c.integer("hidden_size")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    bias = c.model_type == "llama" and c.boolean("attention_bias")
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    if c.model_type == "llama" and c.boolean("mlp_bias"):
        spec["mlp"]["bias"] = True
    window = None if c.model_type == "llama" else c.optional_integer("sliding_window")
    if c.model_type in ("mistral", "ministral3") and "layer_types" in c.data:
        raise c.error("layer_types", f"transformers' {c.model_type} attention ignores layer_types (its cache does "
                                     "not): the count would be ambiguous; allowed: no layer_types (model_type "
                                     "ministral reads them, for alternating windows)")
    n_layers = spec["n_layers"]
    if c.model_type == "ministral":
        default = ["full_attention" if window is None else "sliding_attention"] * n_layers
        types = read_layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
        stack(spec, windowed(attention_entry(n_heads, n_kv, d_head, bias), windows_of(c, types, window)),
              [None] * n_layers)
        return spec
    dense_stack(spec, attention_entry(n_heads, n_kv, d_head, bias, sliding_window=window), n_layers)
    return spec


register(
    "llama",  # configuration_llama.py
    defaults={
        **LLAMA_LIKE, "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": None,
        "max_position_embeddings": 2048, "attention_bias": False, "mlp_bias": False,
    },
    mapper=map_llama,
    ignored=frozenset(("is_llama_config", "rope_interleaved")),  # SmolLM2's configs: flags that change no count
)


register(
    "mistral",  # configuration_mistral.py
    defaults={
        **LLAMA_LIKE, "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "max_position_embeddings": 4096 * 32, "sliding_window": 4096,
    },
    mapper=map_llama,
    reads_also=("layer_types",),
)


register(
    "ministral",  # ministral/configuration_ministral.py (Ministral-8B-Instruct-2410's alternating windows)
    defaults={
        **LLAMA_LIKE, "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "max_position_embeddings": 4096 * 32, "sliding_window": 4096, "layer_types": None,
    },
    mapper=map_llama,
)


register(
    "ministral3",  # ministral3/configuration_ministral3.py (Ministral 3's language model; rope: yarn, no parameter)
    defaults={
        **LLAMA_LIKE, "vocab_size": 131072, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 34, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
        "max_position_embeddings": 262144, "sliding_window": None,
    },
    mapper=map_llama,
)
