"""Qwen3.5 (model_types qwen3_5_text, qwen3_5_moe_text): Qwen3-Next's Gated DeltaNet and gated attention layers, with
a dense SwiGLU MLP on every layer or experts with a gated shared expert on every layer; the vision-language wrappers
qwen3_5 and qwen3_5_moe with their vision tower and patch merger (the spec's `vision` section); the vision config
qwen3_5_vision is a nested config its parent reads."""

from __future__ import annotations

from .blocks import LLAMA_LIKE, PLAIN_ACTIVATIONS, hybrid_stack, moe_entry, rmsnorm_gated_spec
from .config import Config
from .qwen3_next import deltanet_layers
from .registry import register
from .vision import text_tied_by_top


def map_qwen3_5_text(c: Config) -> dict:
    """qwen3_5_text (qwen3_5/modeling_qwen3_5.py) and qwen3_5_moe_text (qwen3_5_moe/modeling_qwen3_5_moe.py),
    transformers 5.23.0: Qwen3-Next's layers (qwen3_next.deltanet_layers). Qwen3_5GatedDeltaNet splits Qwen3-Next's
    in_proj_qkvz and in_proj_ba into in_proj_qkv, in_proj_z, in_proj_b and in_proj_a of the same widths (the same
    parameters and matmuls); Qwen3_5Attention is Qwen3NextAttention; the text RoPE is M-RoPE (mrope_section, a text
    token's three position ids equal), partial_rotary_factor of each head. Qwen3_5DecoderLayer: a SwiGLU MLP of
    intermediate_size on every layer. Qwen3_5MoeDecoderLayer: Qwen3NextSparseMoeBlock on every layer (no
    decoder_sparse_step, no mlp_only_layers): num_experts experts of moe_intermediate_size, top num_experts_per_tok,
    a bias-free router, one shared expert of shared_expert_intermediate_size behind a sigmoid gate. Two RMSNorms per
    layer, a final one; embeddings untied by default. The checkpoints' MTP weights (mtp.*) are not built."""
    moe = c.model_type == "qwen3_5_moe_text"
    spec = rmsnorm_gated_spec(c, c.integer("moe_intermediate_size" if moe else "intermediate_size"))
    attention, mixer, types = deltanet_layers(c, spec)
    experts = None
    if moe:
        n_experts = c.integer("num_experts")
        experts = moe_entry(n_experts, c.integer("num_experts_per_tok"), c.integer("moe_intermediate_size"), c,
                            "num_experts_per_tok", n_shared_experts=1,
                            d_ff_shared=c.integer("shared_expert_intermediate_size"), shared_gate=True)
    hybrid_stack(spec, [{"attention": attention if t == "full_attention" else None,
                         "mixer": mixer if t == "linear_attention" else None, "moe": experts} for t in types])
    return spec


_TEXT = {
    **LLAMA_LIKE, "head_dim": 256, "vocab_size": 248320, "max_position_embeddings": 32768, "num_attention_heads": 16,
    "attention_bias": False, "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_value_head_dim": 128,
    "linear_num_key_heads": 16, "linear_num_value_heads": 32, "layer_types": None, "full_attention_interval": 4,
    "partial_rotary_factor": 0.25,
}
# mtp_num_hidden_layers, mtp_use_dedicated_embeddings: the checkpoints' multi-token-prediction layer, which
# Qwen3_5ForCausalLM and Qwen3_5ForConditionalGeneration do not build (_keys_to_ignore_on_load_unexpected: ^mtp.*);
# mrope_section, mrope_interleaved: which of the rotated dims follow the temporal, height and width positions (no
# parameter, no matmul); mamba_ssm_dtype: the dtype serving engines keep the recurrent state in, which transformers
# does not read (the state's bytes follow the cache dtype asked for here)
_TEXT_IGNORED = frozenset(("mtp_num_hidden_layers", "mtp_use_dedicated_embeddings", "mrope_section",
                           "mrope_interleaved", "use_sliding_window", "mamba_ssm_dtype"))
# Qwen3_5TextConfig and Qwen3_5MoeTextConfig delete mlp_only_layers; attn_output_gate is no field (the gate is
# always built)
_TEXT_FIXED = {"mlp_only_layers": (None, []), "attn_output_gate": (True,)}
register(
    "qwen3_5_text",  # qwen3_5/configuration_qwen3_5.py, Qwen3_5TextConfig (full_attention_interval,
    # partial_rotary_factor: kwargs)
    defaults={**_TEXT, "hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 32,
              "num_key_value_heads": 4},
    mapper=map_qwen3_5_text,
    ignored=_TEXT_IGNORED,
    fixed=_TEXT_FIXED,
)
register(
    "qwen3_5_moe_text",  # qwen3_5_moe/configuration_qwen3_5_moe.py, Qwen3_5MoeTextConfig
    defaults={**_TEXT, "hidden_size": 2048, "num_hidden_layers": 40, "num_key_value_heads": 2,
              "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512, "num_experts_per_tok": 8,
              "num_experts": 256},
    mapper=map_qwen3_5_text,
    # norm_topk_prob: Qwen3_5MoeTopKRouter always renormalises the top-k weights (no parameter, no matmul);
    # intermediate_size: no Qwen3_5MoeTextConfig field, no layer reads it (every layer holds experts)
    ignored=_TEXT_IGNORED | {"norm_topk_prob", "intermediate_size"},
    fixed={**_TEXT_FIXED, "decoder_sparse_step": (1,)},
)


def map_qwen3_5(top: Config) -> dict:
    """qwen3_5 and qwen3_5_moe (Qwen3_5ForConditionalGeneration, Qwen3_5MoeForConditionalGeneration; qwen3_5/
    modeling_qwen3_5.py, qwen3_5_moe/modeling_qwen3_5_moe.py), transformers 5.23.0: the language model of text_config
    (qwen3_5_text, qwen3_5_moe_text), tied as the top level says; the vision tower Qwen3_5VisionModel (Qwen3-VL's
    without its deepstack mergers): a Conv3d with bias over temporal_patch_size frames of patch_size^2 pixels, a
    learned table of num_position_embeddings positions interpolated bilinearly to each image's grid, depth blocks of
    LayerNorms, qkv and proj with biases, a plain MLP with biases (linear_fc1, hidden_act, linear_fc2), 2-D RoPE,
    each image attended whole; Qwen3_5VisionPatchMerger: a LayerNorm over the tower's width, Linear(4 x width,
    4 x width), GELU, Linear(4 x width, out_hidden_size), both with biases. Image tokens follow the image processor's
    smart_resize with Qwen3.5's preprocessor_config.json (Qwen2VLImageProcessor; patch_size 16, merge_size 2,
    size shortest_edge 65,536 and longest_edge 16,777,216 pixels, as Qwen/Qwen3.5-2B-Base ships it)."""
    moe = top.model_type == "qwen3_5_moe"
    text = text_tied_by_top(top, "qwen3_5_moe_text" if moe else "qwen3_5_text")
    spec = text.mapped()
    v = top.child("vision_config", "qwen3_5_vision")
    d, heads = v.integer("hidden_size"), v.integer("num_heads")
    if d % heads:
        raise v.error("num_heads", f"{heads} does not divide hidden_size={d}")
    patch, merge = v.integer("patch_size"), v.integer("spatial_merge_size")
    spec["vision"] = {
        "d_model": d, "n_layers": v.integer("depth"), "image_size": patch * merge, "patch_size": patch,
        "channels": v.integer("in_channels"), "temporal_patch": v.integer("temporal_patch_size"), "patch_bias": True,
        "position": "interpolated", "position_rows": v.integer("num_position_embeddings"),
        "attention": {"n_heads": heads, "bias": True},
        "mlp": {"activation": v.choice("hidden_act", PLAIN_ACTIVATIONS), "d_ff": v.integer("intermediate_size"),
                "bias": True},
        "norm": {"kind": "layernorm", "final": False},
        "resize": "smart", "min_pixels": 65536, "max_pixels": 16777216,
        "projector": {"merge": merge, "d_hidden": d * merge * merge, "d_out": v.integer("out_hidden_size"),
                      "norm": "layernorm"},
    }
    v.check_keys()
    return spec


_WRAPPER = {"text_config": None, "vision_config": None, "tie_word_embeddings": False}
_WRAPPER_IGNORED = frozenset(("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id"))
register("qwen3_5", defaults=_WRAPPER, mapper=map_qwen3_5, ignored=_WRAPPER_IGNORED)  # Qwen3_5Config
register("qwen3_5_moe", defaults=_WRAPPER, mapper=map_qwen3_5, ignored=_WRAPPER_IGNORED)  # Qwen3_5MoeConfig
register(  # nested: Qwen3_5VisionConfig (Qwen3_5MoeVisionConfig is the same)
    "qwen3_5_vision",
    defaults={"depth": 27, "hidden_size": 1152, "hidden_act": "gelu_pytorch_tanh", "intermediate_size": 4304,
              "num_heads": 16, "in_channels": 3, "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
              "out_hidden_size": 3584, "num_position_embeddings": 2304},
    aliases={"num_attention_heads": "num_heads", "num_hidden_layers": "depth"},
    # Qwen3_5VisionConfig deletes Qwen3-VL's deepstack_visual_indexes and the model its deepstack mergers
    fixed={"deepstack_visual_indexes": (None, [])},
)
