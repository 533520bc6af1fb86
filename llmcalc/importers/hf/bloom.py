"""BLOOM (model_type bloom): ALiBi, a LayerNorm on the token embedding, fused q/k/v, biases everywhere, a GELU MLP of
4 d."""

from __future__ import annotations

from .blocks import attention_entry, base_spec, dense_stack
from .config import Config
from .registry import register


def map_bloom(c: Config) -> dict:
    """bloom (modeling_bloom.py, transformers 5.23.0): word_embeddings then word_embeddings_layernorm, ALiBi (no
    position parameters), pre-LN layers with query_key_value (d -> 3d) and dense with biases, dense_h_to_4h and
    dense_4h_to_h with biases and GELU (its tanh form, bloom_gelu_forward), ln_f, the LM head tied. BLOOM configs give
    no context length (ALiBi has none); `seq_length`, which the BigScience configs carry, else the 2,048 tokens the
    BLOOM models were trained on."""
    d = c.integer("hidden_size")
    n_heads = c.integer("n_head")
    if d % n_heads:
        raise c.error("n_head", f"{n_heads} does not divide hidden_size={d} (transformers refuses it); "
                                f"allowed: a divisor of {d}")
    spec = base_spec(c, "vocab_size", d, c.integer("n_layer"), "seq_length", position="alibi")
    spec["norm"] = {"kind": "layernorm", "placement": "pre"}
    spec["embedding_norm"] = True
    spec["mlp"] = {"activation": "gelu_tanh", "d_ff": 4 * d, "bias": True}
    dense_stack(spec, attention_entry(n_heads, n_heads, d // n_heads, True), spec["n_layers"])
    return spec


register(
    "bloom",  # configuration_bloom.py (n_embed: the old name of hidden_size, which it still reads)
    defaults={"vocab_size": 250880, "hidden_size": 64, "n_layer": 2, "n_head": 8, "tie_word_embeddings": True,
              "seq_length": 2048},
    mapper=map_bloom,
    aliases={"n_embed": "hidden_size", "num_hidden_layers": "n_layer", "num_attention_heads": "n_head"},
    fixed={"apply_residual_connection_post_layernorm": (False,)},  # the residual from the norm's output: not modelled
    ignored=frozenset(("pretraining_tp", "slow_but_exact", "offset_alibi", "skip_bias_add", "skip_bias_add_qkv", "attention_softmax_in_fp32",
                       "masked_softmax_fusion", "bias_dropout_fusion", "unk_token_id", "n_inner")),
)
