"""Vision-language models (model_types llava, gemma3, qwen2_5_vl): the language model through its own family's
mapping, and the vision tower and projector as the spec's `vision` section; the vision configs clip_vision_model,
siglip_vision_model and qwen2_5_vl_vision are nested configs their parent reads."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, PLAIN_ACTIVATIONS, LLAMA_LIKE
from .config import Config, got, show
from .qwen import map_qwen
from .registry import TYPES, register

# CLIP's quick_gelu (x * sigmoid(1.702 x)) counts like GELU here: the same matmuls, an estimate of its elementwise cost
VISION_ACTIVATIONS = {**PLAIN_ACTIVATIONS, "quick_gelu": "gelu"}


def text_type(top: Config, default_type: str) -> str:
    """The model_type of the language model's config, text_config (the wrapper's default when it names none),
    refused unless llmcalc imports it."""
    model_type = top.mapping("text_config").get("model_type", default_type)
    kind = TYPES.get(model_type) if isinstance(model_type, str) else None
    if kind is None or (kind.mapper is None and model_type != default_type):
        raise top.error("text_config", f"model_type {show(model_type)} is not a language model llmcalc imports")
    return model_type


def text_of(top: Config, default_type: str) -> Config:
    """The language model's config: text_config, of its model_type (text_type), tied when either level says so
    (LlavaConfig and Qwen2_5_VLConfig forward a tied text_config to the top level)."""
    text = top.child("text_config", text_type(top, default_type))
    tied = top.boolean("tie_word_embeddings") or text.boolean("tie_word_embeddings")
    text.data = {**text.data, "tie_word_embeddings": tied}
    return text


def text_tied_by_top(top: Config, model_type: str) -> Config:
    """The language model's config (text_config, read as `model_type`), tied as the top level's tie_word_embeddings
    says: Gemma3ForConditionalGeneration, Gemma 4's, Qwen3.5's and Mistral 3's wrappers tie their LM head by it alone (checked against
    transformers 5.23.0), and transformers writes the text_config's own flag as its class default whatever the top
    level says, so that flag (still a flag) ties nothing."""
    tied = top.boolean("tie_word_embeddings")
    text = top.child("text_config", model_type)
    text.boolean("tie_word_embeddings")
    text.data = {**text.data, "tie_word_embeddings": tied}
    return text


def _side(c: Config, key: str) -> int:
    value = c.raw(key)
    if isinstance(value, list) and len(value) == 2 and value[0] == value[1]:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise c.error(key, f"must be a whole number >= 1 (a square), got {got(value)}")
    return value


def vit_tower(v: Config) -> dict:
    """CLIPVisionModel (clip/modeling_clip.py: a class token, a bias-free patch convolution, LayerNorms before and
    after the layers) or SiglipVisionModel (siglip/modeling_siglip.py: no class token, a patch convolution with bias,
    a LayerNorm after the layers, the attention-pooling head with vision_use_head), transformers 5.23.0; every
    projection has a bias, the MLP is fc1, activation, fc2."""
    d = v.integer("hidden_size")
    heads = v.integer("num_attention_heads")
    if d % heads:
        raise v.error("num_attention_heads", f"{heads} does not divide hidden_size={d}")
    clip = v.model_type == "clip_vision_model"
    return {"d_model": d, "n_layers": v.integer("num_hidden_layers"), "image_size": _side(v, "image_size"),
            "patch_size": _side(v, "patch_size"), "channels": v.integer("num_channels"),
            "patch_bias": not clip, "class_token": clip, "pre_norm": clip,
            "pool_head": (not clip) and v.boolean("vision_use_head"),
            "attention": {"n_heads": heads, "bias": True},
            "mlp": {"activation": v.choice("hidden_act", VISION_ACTIVATIONS), "d_ff": v.integer("intermediate_size"),
                    "bias": True},
            "norm": {"kind": "layernorm"}}


def map_llava(top: Config) -> dict:
    """llava (llava/modeling_llava.py, LlavaForConditionalGeneration), transformers 5.23.0: the vision tower
    (vision_config), LlavaMultiModalProjector (vision width x feature layers -> text width, activation, text width
    -> text width) and the language model (text_config). vision_feature_select_strategy "default" drops the first
    token of each image (the class token)."""
    text = text_of(top, "llama")
    spec = text.mapped()
    data = top.mapping("vision_config")
    model_type = data.get("model_type", "clip_vision_model")
    if model_type not in ("clip_vision_model", "siglip_vision_model"):
        raise top.error("vision_config", f"model_type {show(model_type)} is not a vision tower llmcalc imports; "
                        "allowed: clip_vision_model, siglip_vision_model")
    v = top.child("vision_config", model_type)
    tower = vit_tower(v)
    v.check_keys()
    layers = top.raw("vision_feature_layer")
    n_feature = len(layers) if isinstance(layers, list) and layers else 1
    if not isinstance(layers, (int, list)) or isinstance(layers, bool):
        raise top.error("vision_feature_layer", f"must be a layer index or a list of them, got {got(layers)}")
    strategy = top.raw("vision_feature_select_strategy")
    if strategy not in ("default", "full"):
        raise top.error("vision_feature_select_strategy", f"{show(strategy)}; allowed: default, full")
    tower["drop_class_token"] = strategy == "default"
    tower["projector"] = {"d_in": tower["d_model"] * n_feature, "d_hidden": spec["d_model"],
                          "activation": top.choice("projector_hidden_act", VISION_ACTIVATIONS),
                          "bias": top.boolean("multimodal_projector_bias")}
    spec["vision"] = tower
    return spec


register(
    "llava",  # llava/configuration_llava.py, LlavaConfig
    defaults={"text_config": None, "vision_config": None, "tie_word_embeddings": False,
              "vision_feature_layer": -2, "vision_feature_select_strategy": "default",
              "projector_hidden_act": "gelu", "multimodal_projector_bias": True},
    mapper=map_llava,
    aliases={"image_token_id": "image_token_index"},
    ignored=frozenset(("image_token_index", "image_seq_length")),
)


def map_gemma3(top: Config) -> dict:
    """gemma3 (gemma3/modeling_gemma3.py, Gemma3ForConditionalGeneration), transformers 5.23.0: the language model
    (text_config, Gemma3TextModel) with the LM head tied as the top level says (the text_config's own
    tie_word_embeddings, which transformers writes as Gemma3TextConfig's default, ties nothing), the SigLIP vision
    tower (vision_config,
    AutoModel: SiglipVisionModel) and Gemma3MultiModalProjector: the patch grid (image_size // patch_size a side)
    average-pooled by a kernel of grid // int(sqrt(mm_tokens_per_image)), its stride the kernel, then
    mm_soft_emb_norm (an RMSNorm of the tower's width) and mm_input_projection_weight (tower width x text width, no
    bias). An image is mm_tokens_per_image tokens of the sequence when the kernel divides the grid (Gemma 3: 896 / 14
    = 64 patches a side, pooled by 4 into 16 x 16 = 256)."""
    text = text_tied_by_top(top, "gemma3_text")
    spec = text.mapped()
    v = top.child("vision_config", "siglip_vision_model")
    tower = vit_tower(v)
    v.check_keys()
    tokens = top.integer("mm_tokens_per_image")
    side = int(tokens ** 0.5)  # Gemma3MultiModalProjector.tokens_per_side
    tower["projector"] = {"d_in": tower["d_model"], "bias": False, "norm": "rmsnorm",
                          "pool": tower["image_size"] // tower["patch_size"] // side}
    spec["vision"] = tower
    return spec


register(
    "gemma3",  # gemma3/configuration_gemma3.py, Gemma3Config
    defaults={"text_config": None, "vision_config": None, "tie_word_embeddings": True, "mm_tokens_per_image": 256},
    mapper=map_gemma3,
    aliases={"image_token_id": "image_token_index", "boi_token_id": "boi_token_index",
             "eoi_token_id": "eoi_token_index"},
    ignored=frozenset(("boi_token_index", "eoi_token_index", "image_token_index")),
)


_VIT = {"hidden_act": "quick_gelu", "num_channels": 3, "image_size": 224, "vocab_size": 32000}
register(  # clip/configuration_clip.py, CLIPVisionConfig, with LlavaConfig's vision_config defaults (ViT-L/14-336)
    "clip_vision_model",
    defaults={**_VIT, "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
              "num_attention_heads": 16, "image_size": 336, "patch_size": 14},
    ignored=frozenset(("projection_dim", "initializer_factor", "vocab_size")),
)
register(  # siglip/configuration_siglip.py, SiglipVisionConfig
    "siglip_vision_model",
    defaults={"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
              "num_channels": 3, "image_size": 224, "patch_size": 16, "hidden_act": "gelu_pytorch_tanh",
              "vision_use_head": True},
)


def map_qwen2_5_vl(top: Config) -> dict:
    """qwen2_5_vl (qwen2_5_vl/modeling_qwen2_5_vl.py, Qwen2_5_VLForConditionalGeneration), transformers 5.23.0: the
    language model is Qwen2's (q, k, v biases), read from text_config or, in the Hub's flat configs, from the top
    level; the vision tower (Qwen2_5_VisionTransformerPretrainedModel): a bias-free Conv3d over temporal_patch_size
    frames of patch_size^2 pixels, depth blocks of RMSNorms, qkv and proj with biases and a gated MLP with biases,
    2-D RoPE, windowed attention except on fullatt_block_indexes; the patch merger (Qwen2_5_VLPatchMerger). Image
    tokens follow the image processor's smart_resize with its defaults (min_pixels 56 x 56, max_pixels 28 x 28 x
    1280, qwen2_vl/image_processing_qwen2_vl.py)."""
    if "text_config" in top.data:
        text = text_of(top, "qwen2_5_vl_text")
    else:  # Qwen2_5_VLConfig pops the text keys from the top level
        flat = {k: v for k, v in top.data.items() if k not in ("text_config", "vision_config")}
        text = Config(flat, top.source, "qwen2_5_vl_text", "", top.strict, top.unread)
        text.data = {**text.data, "tie_word_embeddings": top.boolean("tie_word_embeddings")}
        top.data = {k: v for k, v in top.data.items() if k in ("vision_config", "tie_word_embeddings")}
    spec = map_qwen(text)
    text.check_keys(tuple(TYPES["qwen2_5_vl"].defaults) + tuple(TYPES["qwen2_5_vl"].ignored))
    v = top.child("vision_config", "qwen2_5_vl_vision")
    d = v.integer("hidden_size")
    heads = v.integer("num_heads")
    if d % heads:
        raise v.error("num_heads", f"{heads} does not divide hidden_size={d}")
    depth, patch, merge = v.integer("depth"), v.integer("patch_size"), v.integer("spatial_merge_size")
    units = v.integer("window_size") // merge // patch
    if units < 1:
        raise v.error("window_size", f"must hold at least one merged patch of {merge * patch} pixels")
    full = v.integer_list("fullatt_block_indexes") or []
    spec["vision"] = {
        "d_model": d, "n_layers": depth, "image_size": patch * merge, "patch_size": patch,
        "channels": v.integer("in_channels"), "temporal_patch": v.integer("temporal_patch_size"), "position": "rope",
        "attention": {"n_heads": heads, "bias": True},
        "mlp": {"activation": v.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": v.integer("intermediate_size"),
                "bias": True},
        "norm": {"kind": "rmsnorm", "final": False},
        "window": units * merge, "full_layers": sorted({i for i in full if i < depth}),
        "resize": "smart", "min_pixels": 56 * 56, "max_pixels": 28 * 28 * 1280,
        "projector": {"merge": merge, "d_hidden": d * merge * merge, "d_out": v.integer("out_hidden_size"),
                      "norm": "rmsnorm"},
    }
    if not spec["vision"]["full_layers"]:
        del spec["vision"]["full_layers"]
    v.check_keys()
    return spec


_QWEN_VL_TOP = {"text_config": None, "vision_config": None, "tie_word_embeddings": False}
register(
    "qwen2_5_vl",  # qwen2_5_vl/configuration_qwen2_5_vl.py, Qwen2_5_VLConfig
    defaults=_QWEN_VL_TOP,
    mapper=map_qwen2_5_vl,
    ignored=frozenset(("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id",
                       "vision_token_id")),
)
register(  # nested: its parent's mapping reads it with map_qwen
    "qwen2_5_vl_text",  # Qwen2_5_VLTextConfig (q, k, v biases as modeling_qwen2_5_vl.py's Qwen2_5_VLAttention)
    defaults={
        **LLAMA_LIKE, "vocab_size": 152064, "hidden_size": 8192, "intermediate_size": 29568,
        "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
        "max_position_embeddings": 32768, "use_sliding_window": False, "sliding_window": 4096,
        "max_window_layers": 80, "layer_types": None,
    },
    ignored=frozenset(("use_mrope", "mrope_section", "image_token_id", "video_token_id")),
)
register(
    "qwen2_5_vl_vision",  # Qwen2_5_VLVisionConfig
    defaults={"depth": 32, "hidden_size": 3584, "hidden_act": "silu", "intermediate_size": 3420, "num_heads": 16,
              "in_channels": 3, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2,
              "window_size": 112, "out_hidden_size": 3584, "fullatt_block_indexes": [7, 15, 23, 31]},
    aliases={"num_attention_heads": "num_heads", "num_hidden_layers": "depth"},
    ignored=frozenset(("tokens_per_second", "initializer_range", "rope_parameters")),
)
