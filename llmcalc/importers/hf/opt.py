"""OPT (model_type opt): learned positions with an offset of 2, LayerNorm before or after each block, a word
embedding that may be narrower than the model behind project_in / project_out (OPT-350m), a plain MLP of ffn_dim."""

from __future__ import annotations

from .blocks import PLAIN_ACTIVATIONS, attention_entry, base_spec, dense_stack, head_width
from .config import Config
from .registry import register

POSITION_OFFSET = 2  # OPTLearnedPositionalEmbedding: num_embeddings + 2 rows, positions looked up at + 2


def map_opt(c: Config) -> dict:
    """opt (opt/modeling_opt.py, transformers 5.23.0): embed_tokens vocab x word_embed_proj_dim, project_in and
    project_out (no bias) when that differs from hidden_size, positions max_position_embeddings + 2 rows of
    hidden_size; q, k, v, out_proj and fc1, fc2 with biases when enable_bias; LayerNorms (without parameters unless
    layer_norm_elementwise_affine) before each block with do_layer_norm_before, after each residual add without;
    the final LayerNorm only with do_layer_norm_before and not _remove_final_layer_norm; the LM head
    word_embed_proj_dim x vocab, tied by default."""
    d = c.integer("hidden_size")
    n_heads = c.integer("num_attention_heads")
    d_head = head_width(c, d, "num_attention_heads")
    spec = base_spec(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings",
                     position="learned")
    spec["position_offset"] = POSITION_OFFSET
    d_embed = c.integer("word_embed_proj_dim", derived=d)
    if d_embed != d:
        spec["d_embed"] = d_embed
    pre = c.boolean("do_layer_norm_before")
    final = pre and not c.boolean("_remove_final_layer_norm")
    norm: dict = {"kind": "layernorm", "placement": "pre" if pre else "post"}
    if final != pre:  # pre-norm without its final norm (checkpoints fine-tuned before transformers 4.20.1)
        norm["final"] = final
    if not c.boolean("layer_norm_elementwise_affine"):
        norm.update(bias=False, affine=False)
    spec["norm"] = norm
    bias = c.boolean("enable_bias")
    spec["mlp"] = {"activation": c.choice("activation_function", PLAIN_ACTIVATIONS), "d_ff": c.integer("ffn_dim")}
    if bias:
        spec["mlp"]["bias"] = True
    dense_stack(spec, attention_entry(n_heads, n_heads, d_head, bias), spec["n_layers"])
    return spec


register(
    "opt",  # opt/configuration_opt.py (word_embed_proj_dim null: hidden_size)
    defaults={
        "vocab_size": 50272, "hidden_size": 768, "num_hidden_layers": 12, "ffn_dim": 3072,
        "max_position_embeddings": 2048, "do_layer_norm_before": True, "_remove_final_layer_norm": False,
        "word_embed_proj_dim": None, "num_attention_heads": 12, "activation_function": "relu", "enable_bias": True,
        "layer_norm_elementwise_affine": True, "tie_word_embeddings": True,
    },
    mapper=map_opt,
    # layerdrop skips whole layers in training only, activation_dropout is a dropout (no OPTConfig field) and
    # init_std an initialiser
    ignored=frozenset(("layerdrop", "init_std", "activation_dropout")),
)
