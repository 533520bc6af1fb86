"""Mistral 3's vision-language models (model_type mistral3: Mistral Small 3.1 and 3.2, Magistral Small, the Ministral 3
VLMs): the language model of text_config (mistral or ministral3), the Pixtral vision tower (the nested pixtral config)
and Mistral3MultiModalProjector."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS
from .config import Config, got
from .registry import register
from .vision import VISION_ACTIVATIONS, text_tied_by_top, text_type

# Mistral3Config's sub_configs_defaults: the text and vision configs a config.json without them gets (Mistral Small
# 3.1's), where a text_config or vision_config given takes its own class's defaults instead
_TEXT_DEFAULT = {"model_type": "mistral", "head_dim": 128, "hidden_act": "silu", "hidden_size": 5120,
                 "intermediate_size": 32768, "max_position_embeddings": 131072, "num_attention_heads": 32,
                 "num_hidden_layers": 40, "num_key_value_heads": 8, "sliding_window": None, "vocab_size": 131072}
_VISION_DEFAULT = {"model_type": "pixtral", "intermediate_size": 4096, "hidden_size": 1024, "patch_size": 14,
                   "image_size": 1540, "num_hidden_layers": 24, "num_attention_heads": 16, "hidden_act": "gelu"}


def _text(top: Config) -> Config:
    """The language model's config (text_config, its model_type's own defaults; Mistral3Config's default text model
    without one), tied by the top level's tie_word_embeddings as Mistral3ForConditionalGeneration is
    (PreTrainedModel.get_expanded_tied_weights_keys reads the wrapper's config, transformers 5.23.0)."""
    if top.raw("text_config") is None:
        top.data = {**top.data, "text_config": dict(_TEXT_DEFAULT)}
    return text_tied_by_top(top, text_type(top, "mistral"))


def pixtral_tower(v: Config) -> dict:
    """PixtralVisionModel (pixtral/modeling_pixtral.py, transformers 5.23.0): a bias-free patch convolution, ln_pre
    (an RMSNorm) before the layers, 2-D RoPE (no parameters), no class token and no norm after the layers; each layer
    an RMSNorm before a bias-free attention (q, k, v, o of hidden_size, head_dim hidden_size // heads) and before a
    gated, bias-free MLP (gate_proj, up_proj, down_proj, hidden_act)."""
    d = v.integer("hidden_size")
    heads = v.integer("num_attention_heads")
    if d % heads:
        raise v.error("num_attention_heads", f"{heads} does not divide hidden_size={d}")
    patch = v.integer("patch_size")
    side = v.raw("image_size")
    if isinstance(side, bool) or not isinstance(side, int) or side < 1:
        raise v.error("image_size", f"must be a whole number >= 1 (the processor's longest edge), got {got(side)}")
    return {"d_model": d, "n_layers": v.integer("num_hidden_layers", minimum=0), "image_size": side,
            "patch_size": patch, "channels": v.integer("num_channels"), "position": "rope", "pre_norm": True,
            "attention": {"n_heads": heads, "bias": False},
            "mlp": {"activation": v.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": v.integer("intermediate_size")},
            "norm": {"kind": "rmsnorm", "final": False}}


def map_mistral3(top: Config) -> dict:
    """mistral3 (mistral3/modeling_mistral3.py, Mistral3ForConditionalGeneration), transformers 5.23.0: the language
    model (text_config), the Pixtral tower (vision_config) and Mistral3MultiModalProjector: an RMSNorm over the
    tower's width, the patch merger (spatial_merge_size^2 neighbouring patches side by side, Linear(width x merge^2,
    width), no bias), linear_1 (tower width -> text width), projector_hidden_act, linear_2 (text width square), both
    with multimodal_projector_bias. An image is resized as PixtralImageProcessor does for Mistral 3's processor
    (longest edge within image_size, sides multiples of patch x merge) and takes rows x (cols + 1) tokens of merged
    patches, [IMG_BREAK] ending each row and [IMG_END] the last (pixtral/processing_pixtral.py). The processor's
    size.longest_edge lives in preprocessor_config.json, which a config.json does not carry: vision_config.image_size
    stands for it (both 1540 in Mistral 3's published files: patches of 14, longest_edge 1540)."""
    explicit_tie = "tie_word_embeddings" in top.data
    text = _text(top)
    spec = text.mapped()
    if top.raw("vision_config") is None:
        top.data = {**top.data, "vision_config": dict(_VISION_DEFAULT)}
    v = top.child("vision_config", "pixtral")
    tower = pixtral_tower(v)
    v.check_keys()
    layers = top.raw("vision_feature_layer")
    if isinstance(layers, list) and len(layers) == 1:
        layers = layers[0]
    if isinstance(layers, bool) or not isinstance(layers, int):
        raise top.error("vision_feature_layer", f"must be one layer index, got {got(layers)}: Mistral 3's patch "
                        "merger takes the tower's width, so features of several layers cannot pass it")
    merge = top.integer("spatial_merge_size")
    tower.update(resize="longest", row_break=True)
    tower["projector"] = {"norm": "rmsnorm", "merge": merge, "merger": True, "d_in": tower["d_model"],
                          "d_hidden": spec["d_model"], "activation": top.choice("projector_hidden_act",
                                                                                VISION_ACTIVATIONS),
                          "bias": top.boolean("multimodal_projector_bias")}
    spec["vision"] = tower
    if not explicit_tie:
        note = ("tie_word_embeddings is not set at the top level: transformers 5.23.0 ties the LM head to "
                         "the embedding (Mistral3Config's default), as counted; a checkpoint saving lm_head.weight "
                         "apart (Mistral Small 3.1 and 3.2) loads untied: set tie_word_embeddings false to count it.")
        spec["notes"] = f"{spec['notes']} {note}" if spec.get("notes") else note
    return spec


register(
    "mistral3",  # mistral3/configuration_mistral3.py, Mistral3Config
    defaults={"text_config": None, "vision_config": None, "tie_word_embeddings": True, "vision_feature_layer": -1,
              "projector_hidden_act": "gelu", "multimodal_projector_bias": False, "spatial_merge_size": 2},
    mapper=map_mistral3,
    aliases={"image_token_id": "image_token_index"},
    ignored=frozenset(("image_token_index",)),
)
register(  # pixtral/configuration_pixtral.py, PixtralVisionConfig: nested, read by mistral3's mapping
    "pixtral",
    defaults={"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
              "num_channels": 3, "image_size": 1024, "patch_size": 16, "hidden_act": "gelu"},
    # head_dim: PixtralVisionConfig.__post_init__ overwrites it with hidden_size // num_attention_heads (and
    # PixtralAttention computes that itself); vocab_size: Mistral3Config's default vision kwargs carry it, unused;
    # rope_theta: the old name of rope_parameters' theta (RoPE has no parameters)
    ignored=frozenset(("head_dim", "vocab_size", "rope_theta")),
)
