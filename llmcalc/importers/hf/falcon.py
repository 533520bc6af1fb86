"""Falcon (model_type falcon): LayerNorms, a fused query_key_value, a plain MLP; the original architecture (Falcon-7B:
multi-query, one norm read by attention and MLP in parallel) or the new one (Falcon-40B/180B: num_kv_heads, two
norms ln_attn and ln_mlp, or one); RoPE or ALiBi."""

from __future__ import annotations

from .blocks import PLAIN_ACTIVATIONS, attention_entry, base_spec, dense_stack, head_width, parallel_layers
from .config import Config
from .registry import register

LAYERNORM = {"kind": "layernorm"}


def map_falcon(c: Config) -> dict:
    """falcon (falcon/modeling_falcon.py), transformers 5.23.0. query_key_value holds q and the K/V heads:
    num_kv_heads of them in the new decoder architecture, one with multi_query, else one per head; query_key_value,
    dense and the MLP (ffn_hidden_size, default 4 x hidden_size) are biased by `bias`. FalconDecoderLayer: with
    parallel_attn, attention and MLP read the layer input at once, through input_layernorm (the original
    architecture, or num_ln_in_parallel_attn 1) or ln_attn and ln_mlp (the new one, num_ln_in_parallel_attn 2, its
    default); without it, input_layernorm and post_attention_layernorm one after the other. RoPE on whole heads, or
    ALiBi (no parameters). Combinations whose forward pass fails in transformers are refused."""
    d = c.integer("hidden_size")
    d_head = head_width(c, d, "num_attention_heads")
    n_heads = d // d_head
    new = c.boolean("new_decoder_architecture")
    parallel = c.boolean("parallel_attn")
    norms = c.optional_integer("num_ln_in_parallel_attn")
    if norms not in (None, 1, 2):
        raise c.error("num_ln_in_parallel_attn", f"{norms} is not a number of norms FalconDecoderLayer runs; "
                                                 "allowed: 1, 2 or null")
    if new and not parallel:
        raise c.error("parallel_attn", "false with new_decoder_architecture: transformers 5.23.0's FalconDecoderLayer "
                                       "builds it but its forward pass fails; allowed: true")
    if not new and parallel and norms == 2:
        raise c.error("num_ln_in_parallel_attn", "2 without new_decoder_architecture: FalconDecoderLayer builds "
                                                 "ln_attn and ln_mlp but runs input_layernorm, and fails; allowed: "
                                                 "1 or null")
    n_kv = c.integer("num_kv_heads", derived=n_heads)
    if new:
        if n_heads % n_kv:
            raise c.error("num_kv_heads", f"{n_kv} does not divide num_attention_heads={n_heads}; allowed: a divisor")
    elif c.boolean("multi_query"):
        n_kv = 1  # num_kv_heads is not read
    elif n_kv != n_heads:
        raise c.error("num_kv_heads", f"{n_kv} with multi_query false and the original architecture, whose fused "
                                      f"projection has a K and V per head and fails on any other number; allowed: "
                                      f"{n_heads} or null")
    alibi = c.boolean("alibi")
    spec = base_spec(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings",
                     position="alibi" if alibi else "rope")
    if parallel:
        parallel_layers(spec, LAYERNORM, shared=not new or norms == 1)
    else:
        spec["norm"] = dict(LAYERNORM)
    bias = c.boolean("bias")
    spec["mlp"] = {"activation": c.choice("activation", PLAIN_ACTIVATIONS),
                   "d_ff": c.integer("ffn_hidden_size", derived=4 * d)}
    if bias:
        spec["mlp"]["bias"] = True
    dense_stack(spec, attention_entry(n_heads, n_kv, d_head, bias), spec["n_layers"])
    return spec


register(
    "falcon",  # falcon/configuration_falcon.py (n_embed: a kwarg for hidden_size)
    defaults={
        "vocab_size": 65024, "hidden_size": 4544, "num_hidden_layers": 32, "num_attention_heads": 71,
        "num_ln_in_parallel_attn": None, "num_kv_heads": None, "alibi": False, "new_decoder_architecture": False,
        "multi_query": True, "parallel_attn": True, "bias": False, "max_position_embeddings": 2048,
        "ffn_hidden_size": None, "activation": "gelu", "tie_word_embeddings": True,
    },
    mapper=map_falcon,
    aliases={"n_embed": "hidden_size"},
    # the flag of the original RefinedWeb code, which modeling_falcon.py does not read (it is false in every
    # published config)
    fixed={"apply_residual_connection_post_layernorm": (False,)},
)
