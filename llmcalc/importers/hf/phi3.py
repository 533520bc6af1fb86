"""Phi-3 (model_type phi3): fused qkv and gate_up projections with the counts of Llama's separate ones, so it
maps through llama.map_llama."""

from __future__ import annotations

from .blocks import LLAMA_LIKE
from .llama import map_llama
from .registry import register


register(
    "phi3",  # configuration_phi3.py (head_dim is no field: modeling uses hidden // heads)
    defaults={
        **LLAMA_LIKE, "vocab_size": 32064, "hidden_size": 3072, "intermediate_size": 8192,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": None,
        "max_position_embeddings": 4096, "sliding_window": None,
    },
    mapper=map_llama,
    ignored=frozenset(("original_max_position_embeddings",)),
    fixed={"attention_bias": (False,)},
)
