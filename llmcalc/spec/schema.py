"""The keys a spec may hold, level by level. specs/README.md documents each one (tests/test_package.py checks it);
adding a key means adding it here, reading it in builder.py, and documenting it there."""

from __future__ import annotations


# The keys a spec may hold, level by level. specs/README.md documents each one (a test checks it).
TOP_KEYS = (
    "extends", "display_name", "family", "year", "aliases", "sources", "notes",
    "vocab_size", "input_vocab_size", "d_model", "n_layers", "context_length", "position", "rotary_dim", "tied_embeddings",
    "lm_head_bias", "embedding_norm", "d_embed", "position_offset", "residual", "attention", "mixer", "mlp", "moe", "norm", "layers", "encoder",
    "relative_attention_buckets", "mtp", "training", "vision", "per_layer_input",
    "published", "rumour", "weights_format",
)


ENCODER_KEYS = ("n_layers", "layers")


VISION_KEYS = ("d_model", "n_layers", "attention", "mlp", "norm", "projector", "image_size", "patch_size", "channels",
               "temporal_patch", "patch_bias", "class_token", "position", "pre_norm", "pool_head", "window",
               "full_layers", "resize", "min_pixels", "max_pixels", "drop_class_token", "tiles", "aspect_ratios",
               "global_layers", "pad_multiple", "position_rows", "row_break")


PROJECTOR_KEYS = ("d_in", "d_hidden", "d_out", "activation", "bias", "merge", "norm", "pool", "n_hidden", "merger")


ATTENTION_KEYS = ("n_heads", "n_kv_heads", "d_head", "bias", "qk_norm", "sinks", "sliding_window", "chunk_size",
                  "output_gate", "mla", "source", "kv_shared", "k_eq_v")


MLA_ATTENTION_KEYS = ("n_heads", "sliding_window", "mla")


MLA_KEYS = ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "indexer")


INDEXER_KEYS = ("n_heads", "head_dim", "topk")


ATTENTION_BIAS_KEYS = ("q", "k", "v", "o")


# A recurrent token mixer in place of attention, and the keys each kind takes.
MIXER_KEYS_OF = {
    "mamba": ("kind", "d_inner", "d_state", "d_conv", "dt_rank", "inner_norms", "conv_bias", "bias", "out_bias"),
    "mamba2": ("kind", "d_inner", "d_state", "d_conv", "n_heads", "n_groups", "chunk_size", "gated_norm", "conv_bias",
               "bias", "out_bias"),
    "short_conv": ("kind", "d_conv", "bias"),
    "gated_deltanet": ("kind", "n_key_heads", "n_value_heads", "key_head_dim", "value_head_dim", "d_conv",
                       "chunk_size"),
    "lightning": ("kind", "n_heads", "head_dim", "block_size"),
}


MIXER_KEYS = tuple(dict.fromkeys(key for keys in MIXER_KEYS_OF.values() for key in keys))


MLP_KEYS = ("activation", "d_ff", "bias")


MOE_KEYS = ("n_experts", "top_k", "d_ff", "n_shared_experts", "d_ff_shared", "shared_gate", "router_bias",
            "routing_bias", "expert_bias", "router_scales", "norms")


PER_LAYER_INPUT_KEYS = ("vocab_size", "width")


MTP_KEYS = ("n_modules",)


NORM_KEYS = ("kind", "bias", "placement", "final", "shared", "affine")


LAYER_GROUP_KEYS = ("count", "name", "attention", "mixer", "mlp", "moe")


LAYER_REPEAT_KEYS = ("repeat", "pattern")


LAYER_PATTERN_KEYS = ("name", "attention", "mixer", "mlp", "moe")


TRAINING_KEYS = ("tokens", "context")


FIGURE_KEYS = ("figure", "value", "tolerance", "source", "note", "discrepancy")


# Figures that `verify` knows how to compute (llmcalc.formulas.published.FIGURE_FUNCTIONS).
FIGURES = ("params_total", "params_active", "params_active_no_input_embedding", "params_embedding",
           "params_non_embedding", "params_active_non_embedding", "params_mtp", "params_with_mtp")


# A variant inherits everything from its parent except what names or describes the parent itself.
NOT_INHERITED = ("display_name", "aliases", "published", "notes", "rumour")

# Where a key given on the command line (`--set KEY=VALUE`) came from, in errors and in the origin map.
OVERRIDE_SOURCE = "--set"

# Layers a spec may have: a million count exactly in every command; far more would take minutes to build.
MAX_LAYERS = 1_000_000
