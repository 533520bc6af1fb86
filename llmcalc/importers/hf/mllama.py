"""Llama 3.2 Vision (model_type mllama): a Llama language model whose cross_attention_layers attend to the images in
place of self-attention, a tiled two-stage vision tower and a one-Linear projector; the nested configs
mllama_text_model and mllama_vision_model are read by their parent."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, attention_entry, base_spec, read_heads, stack
from .config import Config, got
from .registry import register
from .vision import VISION_ACTIVATIONS

EXTRA_EMBEDDINGS = 8  # MllamaTextModel's embed_tokens has vocab_size + 8 rows (the <|image|> token is row vocab_size)
TILE_PADDING = 8  # MllamaVisionModel pads each tile's tokens to a multiple of 8 before its layers
DEFAULT_RATIOS = [[1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [2, 2], [3, 1], [4, 1]]


def map_mllama(top: Config) -> dict:
    """mllama (mllama/modeling_mllama.py, MllamaForConditionalGeneration), transformers 5.23.0.

    Language model (MllamaTextModel): Llama's self-attention layers (RMSNorm, RoPE, GQA, SwiGLU, no biases), except
    at cross_attention_layers, MllamaCrossAttentionDecoderLayer: q, k, v, o of the same shapes with an RMSNorm of the
    head size on q and on k, K and V projected from the images' states, tanh gates on its attention and MLP outputs,
    no self-attention. The token embedding has vocab_size + 8 rows, the LM head vocab_size; nothing is tied
    (MllamaForConditionalGeneration's _tied_weights_keys is commented out), whatever tie_word_embeddings says.

    Vision tower (MllamaVisionModel): a bias-free patch convolution, a class token per tile, gated position and tile
    position embeddings, a LayerNorm before and after num_hidden_layers CLIP-like layers (no attention biases, fc1
    and fc2 with biases), then num_global_layers gated layers; the outputs of intermediate_layers_indices join the
    last one, vision_output_dim wide. Projector: one Linear(vision_output_dim, hidden_size) with a bias."""
    text = top.child("text_config", "mllama_text_model")
    spec = _text(text)
    text.check_keys()
    v = top.child("vision_config", "mllama_vision_model")
    spec["vision"] = _tower(v, spec["d_model"])
    v.check_keys()
    return spec


def _text(c: Config) -> dict:
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, _ = read_heads(c, d, head_dim_key=None)
    if d % n_heads:
        raise c.error("num_attention_heads", f"{n_heads} does not divide hidden_size={d} (the head size is "
                                             "hidden_size // num_attention_heads); allowed: a divisor of it")
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings", tied=False)
    spec["family"] = "mllama"
    spec["input_vocab_size"] = spec["vocab_size"] + EXTRA_EMBEDDINGS
    spec["norm"] = {"kind": "rmsnorm"}
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    listed = c.integer_list("cross_attention_layers")
    cross = set(listed if listed is not None else [3, 8, 13, 18, 23, 28, 33, 38])
    if not cross & set(range(n_layers)):
        raise c.error("cross_attention_layers", f"names no layer below num_hidden_layers={n_layers}: nothing would "
                                                "attend to the images; allowed: at least one layer index 0 to "
                                                f"{n_layers - 1}")
    self_attention = attention_entry(n_heads, n_kv, d // n_heads)
    to_images = {**self_attention, "qk_norm": "rmsnorm", "source": "images"}
    stack(spec, [to_images if i in cross else self_attention for i in range(n_layers)], [None] * n_layers)
    return spec


def _tower(v: Config, text_width: int) -> dict:
    d = v.integer("hidden_size")
    heads = v.integer("attention_heads")
    if d % heads:
        raise v.error("attention_heads", f"{heads} does not divide hidden_size={d}")
    n_layers = v.integer("num_hidden_layers")
    image, patch, tiles = v.integer("image_size"), v.integer("patch_size"), v.integer("max_num_tiles")
    if patch > image:
        raise v.error("patch_size", f"{patch} is larger than image_size={image}: no patch fits a tile")
    ratios = v.raw("supported_aspect_ratios")
    if ratios is None:
        ratios = DEFAULT_RATIOS
        if tiles != 4:  # MllamaVisionConfig.validate_architecture
            raise v.error("max_num_tiles", f"{tiles} with the default supported_aspect_ratios, which are 4 tiles' "
                                           "layouts; allowed: 4, or give supported_aspect_ratios")
    if not isinstance(ratios, list) or not ratios or not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                                                          for n in r) for r in ratios):
        raise v.error("supported_aspect_ratios", f"must be a non-empty list of [rows, columns] tile layouts, got "
                                                 f"{got(ratios)}")
    indices = v.integer_list("intermediate_layers_indices", minimum=-n_layers)
    indices = [3, 7, 15, 23, 30] if indices is None else indices
    if not indices or any(i >= n_layers for i in indices):  # none: MllamaVisionModel.forward stacks no features
        raise v.error("intermediate_layers_indices", f"must index one or more of the {n_layers} layers (-{n_layers} "
                                                     f"to {n_layers - 1}), got {got(indices)}")
    width = d * (1 + len(indices))
    if v.integer("vision_output_dim") != width:
        raise v.error("vision_output_dim", f"{v.integer('vision_output_dim')} is not the width of the features the "
                                           f"tower outputs: hidden_size {d} x (1 + {len(indices)} "
                                           f"intermediate_layers_indices) = {width}; allowed: {width}")
    return {"d_model": d, "n_layers": n_layers, "global_layers": v.integer("num_global_layers", minimum=0),
            "image_size": image, "patch_size": patch, "channels": v.integer("num_channels"),
            "class_token": True, "pre_norm": True, "tiles": tiles, "aspect_ratios": len(ratios),
            "pad_multiple": TILE_PADDING,
            "attention": {"n_heads": heads},
            "mlp": {"activation": v.choice("hidden_act", VISION_ACTIVATIONS), "d_ff": v.integer("intermediate_size"),
                    "bias": True},
            "norm": {"kind": "layernorm"},
            "projector": {"d_in": width, "d_out": text_width}}


register(
    "mllama",  # mllama/configuration_mllama.py, MllamaConfig
    defaults={"text_config": None, "vision_config": None},
    mapper=map_mllama,
    aliases={"image_token_id": "image_token_index"},
    # the <|image|> token's id; tie_word_embeddings ties nothing in MllamaForConditionalGeneration (see map_mllama)
    ignored=frozenset(("image_token_index", "tie_word_embeddings")),
)
register(  # nested: map_mllama reads it
    "mllama_text_model",  # MllamaTextConfig
    defaults={"vocab_size": 128256, "hidden_size": 4096, "hidden_act": "silu", "num_hidden_layers": 40,
              "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
              "max_position_embeddings": 131072, "cross_attention_layers": None},
    ignored=frozenset(("tie_word_embeddings",)),  # nothing is tied (map_mllama)
)
register(  # nested: map_mllama reads it
    "mllama_vision_model",  # MllamaVisionConfig
    defaults={"hidden_size": 1280, "hidden_act": "gelu", "num_hidden_layers": 32, "num_global_layers": 8,
              "attention_heads": 16, "num_channels": 3, "intermediate_size": 5120, "vision_output_dim": 7680,
              "image_size": 448, "patch_size": 14, "max_num_tiles": 4, "intermediate_layers_indices": None,
              "supported_aspect_ratios": None},
    aliases={"num_attention_heads": "attention_heads"},
    ignored=frozenset(("norm_eps",)),  # the LayerNorms' epsilon
)
