"""Llama 4 (model_types llama4_text, and llama4: its text_config and its vision tower): chunked attention on RoPE
layers with L2 qk-norm, interleaved MoE layers with one shared expert; the vision encoder, its pixel-shuffle adapter
and the projector."""

from __future__ import annotations

from .blocks import (
    GATED_ACTIVATIONS,
    attention_entry,
    base_spec,
    moe_entry,
    read_heads,
    read_layer_types,
    stack,
    windows_of,
)
from .config import Config, got
from .registry import register


def map_llama4_text(c: Config) -> dict:
    """llama4_text (llama4/modeling_llama4.py, Llama4ForCausalLM), transformers 5.23.0: MoE on moe_layers
    (default every interleave_moe_layer_step-th layer) with num_local_experts experts and one shared expert of
    intermediate_size, dense layers of intermediate_size_mlp; RoPE layers (no_rope_layers[i] = 1, default all
    but every no_rope_layer_interval-th) carry the L2 qk-norm (use_qk_norm) and, per layer_types, chunked
    attention of attention_chunk_size."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS),
                   "d_ff": c.integer("intermediate_size_mlp")}
    rope = c.raw("no_rope_layers")
    if not rope:  # transformers: an empty or missing list takes the default
        interval = c.integer("no_rope_layer_interval")
        rope = [int((i + 1) % interval != 0) for i in range(n_layers)]
    elif (not isinstance(rope, list) or len(rope) != n_layers
          or not all(v in (0, 1) and not isinstance(v, float) for v in rope)):
        raise c.error("no_rope_layers", f"must be a list of {n_layers} flags 0 or 1 (1: the layer uses RoPE), "
                                        f"got {got(rope)}")
    step = c.integer("interleave_moe_layer_step")
    moe_layers = c.integer_list("moe_layers")
    if moe_layers is None:
        moe_layers = list(range(step - 1, n_layers, step))
    default = ["chunked_attention" if r else "full_attention" for r in rope]
    types = read_layer_types(c, n_layers, default, ("full_attention", "chunked_attention"))
    chunks = windows_of(c, types, c.optional_integer("attention_chunk_size"), "attention_chunk_size",
                        "chunked_attention")
    qk_norm = c.boolean("use_qk_norm")
    bias = c.boolean("attention_bias")
    d_ff = c.integer("intermediate_size")
    moe = moe_entry(c.integer("num_local_experts"), c.integer("num_experts_per_tok"), d_ff, c,
                    "num_experts_per_tok", n_shared_experts=1, d_ff_shared=d_ff)
    attentions = [attention_entry(n_heads, n_kv, d_head, bias, qk_norm="l2" if qk_norm and r else None, chunk_size=ch)
                  for r, ch in zip(rope, chunks)]
    stack(spec, attentions, [moe if i in moe_layers else None for i in range(n_layers)])
    return spec


register(
    "llama4_text",  # llama4/configuration_llama4.py, Llama4TextConfig
    defaults={
        "vocab_size": 202048, "hidden_size": 5120, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
        "num_hidden_layers": 48, "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
        "hidden_act": "silu", "max_position_embeddings": 4096 * 32, "tie_word_embeddings": False,
        "num_experts_per_tok": 1, "num_local_experts": 16, "moe_layers": None, "interleave_moe_layer_step": 1,
        "use_qk_norm": True, "no_rope_layers": None, "no_rope_layer_interval": 4, "attention_chunk_size": 8192,
        "layer_types": None, "attention_bias": False,
    },
    mapper=map_llama4_text,
    ignored=frozenset(("attn_temperature_tuning", "attn_scale", "floor_scale", "for_llm_compressor",
        "router_jitter_noise")),
)


def _vision(top: Config, d_text: int) -> tuple[dict | None, str | None]:
    """Llama4VisionModel and Llama4MultiModalProjector (llama4/modeling_llama4.py, transformers 5.23.0): a bias-free
    linear over each patch's pixels (Llama4UnfoldConvolution), a class token appended and a learned position table
    of (image_size / patch_size)^2 + 1 rows, LayerNorms before and after the layers (LayerNorms, q, k, v, o and
    fc1, fc2 with biases, GELU), the class token dropped, then Llama4VisionPixelShuffleMLP: pixel_shuffle by
    pixel_shuffle_ratio (1/ratio x 1/ratio patches side by side) and fc1 (intermediate_size -> projector_input_dim),
    GELU, fc2 (projector_output_dim square), GELU, all bias-free; then linear_1 (vision_output_dim -> the text
    width, bias-free). The tower and its projector are counted when those widths chain as its forward pass needs
    (every published configuration); otherwise (Llama4VisionConfig()'s defaults) the count is the text model's and
    the note says why. An image is one image_size tile here: (336 / 14)^2 / 4 = 144 tokens for Llama 4's."""
    v = top.child("vision_config", "llama4_vision_model")
    d, ratio = v.integer("hidden_size"), v.raw("pixel_shuffle_ratio")
    merge = round(1 / ratio) if isinstance(ratio, (int, float)) and not isinstance(ratio, bool) and ratio > 0 else 0
    inner, out = v.integer("intermediate_size"), v.integer("vision_output_dim")
    side, patch = v.integer("image_size"), v.integer("patch_size")
    v.check_keys()
    fc1_out, fc2 = v.integer("projector_input_dim"), v.integer("projector_output_dim")
    if (merge < 1 or merge * ratio != 1 or (side // patch) % merge or inner != d * merge * merge
            or not fc1_out == fc2 == out):
        return None, ("Text model only: vision_config's widths do not chain (pixel_shuffle_ratio, hidden_size x "
                      "(1 / ratio)^2 = intermediate_size, projector_input_dim = projector_output_dim = "
                      "vision_output_dim, as Llama 4's forward pass needs), so the vision tower is not counted.")
    heads = v.integer("num_attention_heads")
    if d % heads:
        raise v.error("num_attention_heads", f"{heads} does not divide hidden_size={d}")
    return {"d_model": d, "n_layers": v.integer("num_hidden_layers", minimum=0), "image_size": side,
            "patch_size": patch, "channels": v.integer("num_channels"), "class_token": True,
            "drop_class_token": True, "pre_norm": True, "attention": {"n_heads": heads, "bias": True},
            "mlp": {"activation": "gelu", "d_ff": inner, "bias": True}, "norm": {"kind": "layernorm"},
            "projector": {"merge": merge, "d_in": inner, "d_hidden": out, "n_hidden": 2, "d_out": d_text,
                          "activation": "gelu", "bias": False}}, None


def map_llama4(top: Config) -> dict:
    """llama4 (Llama4ForConditionalGeneration, llama4/modeling_llama4.py, transformers 5.23.0): the text model of
    text_config and the vision tower of vision_config (_vision)."""
    if top.boolean("tie_word_embeddings"):
        raise top.error("tie_word_embeddings", "tying at the multimodal level is not read by the text model; "
                                               "allowed: false (set text_config.tie_word_embeddings)")
    spec = top.child("text_config", "llama4_text").mapped()
    vision, note = _vision(top, spec["d_model"])
    if vision:
        spec["vision"] = vision
        note = (f"An image is one {vision['image_size']}-pixel tile here (--images); Llama 4's image processor "
                "cuts a larger image into up to max_patches tiles and adds a global one, which is not modelled.")
    spec["notes"] = note
    return spec


register(
    "llama4",  # llama4/configuration_llama4.py, Llama4Config
    defaults={"text_config": None, "vision_config": None, "tie_word_embeddings": False},
    mapper=map_llama4,
    ignored=frozenset(("boi_token_index", "eoi_token_index", "image_token_index")),
)
register(  # llama4/configuration_llama4.py, Llama4VisionConfig: nested, read by llama4's mapping
    "llama4_vision_model",
    defaults={"hidden_size": 768, "hidden_act": "gelu", "num_hidden_layers": 34, "num_attention_heads": 16,
              "num_channels": 3, "intermediate_size": 5632, "vision_output_dim": 7680, "image_size": 448,
              "patch_size": 14, "pixel_shuffle_ratio": 0.5, "projector_input_dim": 4096,
              "projector_output_dim": 4096},
    # hidden_act: the encoder's MLP and the adapter run GELU whatever it says (nn.GELU, ACT2FN["gelu"]);
    # multi_modal_projector_bias: every projector linear is bias-free regardless; vision_feature_layer and
    # vision_feature_select_strategy: the last layer's output is taken, its class token dropped, in any case
    ignored=frozenset(("multi_modal_projector_bias", "vision_feature_layer", "vision_feature_select_strategy",
                       "projector_dropout", "norm_eps")),
)
