"""Llama-shaped decoders (model_types smollm3, internlm3, helium, seed_oss, ernie4_5, hunyuan_v1_dense): RMSNorm,
RoPE, GQA, a gated MLP, differing only in which projections carry biases, q/k norms and windows. `llama_like` is
the mapping other families of the same shape (gemma, granite, olmo, glm) build on."""

from __future__ import annotations

from dataclasses import dataclass

from .blocks import (
    GATED_ACTIVATIONS,
    PLAIN_ACTIVATIONS,
    attention_entry,
    base_spec,
    bias_entry,
    dense_stack,
    read_heads,
    read_layer_types,
    require_width,
    stack,
    windows_of,
)
from .config import Config, got
from .registry import register


@dataclass(frozen=True)
class Shape:
    """What sets one Llama-shaped model_type apart: the config keys switching the q/k/v, o and MLP biases (None:
    never a bias), its q/k norm (the spec's qk_norm), where its norms sit and its activation key."""

    qkv_bias: str | None = "attention_bias"
    o_bias: str | None = "attention_bias"
    mlp_bias: str | None = "mlp_bias"
    qk_norm: str | None = None
    placement: str = "pre"
    activation: str = "hidden_act"
    gated: bool = True  # gate, up and down; False: up and down only (Arcee's squared ReLU)


def llama_like(c: Config, shape: Shape) -> tuple[dict, dict, int]:
    """The spec's top level, one layer's attention entry (no window) and the number of layers."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    if shape.placement != "pre":  # a post-norm stack still ends in a final norm (OLMo 2, EXAONE 4)
        spec["norm"].update(placement=shape.placement, **({"final": True} if shape.placement == "post" else {}))
    activations = GATED_ACTIVATIONS if shape.gated else PLAIN_ACTIVATIONS
    spec["mlp"] = {"activation": c.choice(shape.activation, activations), "d_ff": c.integer("intermediate_size")}
    if shape.mlp_bias and c.boolean(shape.mlp_bias):
        spec["mlp"]["bias"] = True
    qkv = bool(shape.qkv_bias) and c.boolean(shape.qkv_bias)
    o = bool(shape.o_bias) and c.boolean(shape.o_bias)
    return spec, attention_entry(n_heads, n_kv, d_head, bias_entry(qkv, qkv, qkv, o), qk_norm=shape.qk_norm), n_layers


def windowed(att: dict, windows: list[int | None]) -> list[dict]:
    """The attention entry of each layer: with its window, or without one."""
    return [{**att, "sliding_window": w} if w else att for w in windows]


def stack_window_pattern(c: Config, spec: dict, att: dict, n_layers: int) -> None:
    """Stack layers that slide on the layer_types' sliding layers, by default all but every
    sliding_window_pattern-th (Gemma 3's configuration, 6; Cohere 2's, 4)."""
    default: list[str] = []
    if c.raw("layer_types") is None:
        pattern = c.integer("sliding_window_pattern")
        default = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n_layers)]
    types = read_layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
    stack(spec, windowed(att, windows_of(c, types, c.optional_integer("sliding_window"))), [None] * n_layers)


def rope_flags(c: Config, n_layers: int) -> list[int]:
    """no_rope_layers (1: the layer uses RoPE), by default all but every no_rope_layer_interval-th layer."""
    value = c.raw("no_rope_layers")
    if value is None:
        interval = c.integer("no_rope_layer_interval")
        return [int((i + 1) % interval != 0) for i in range(n_layers)]
    if not isinstance(value, list) or len(value) != n_layers or \
            not all(v in (0, 1) and not isinstance(v, float) for v in value):
        raise c.error("no_rope_layers", f"must be a list of {n_layers} flags 0 or 1 (1: the layer uses RoPE), "
                                        f"got {got(value)}")
    return value


SHAPES = {
    "smollm3": Shape(),
    "internlm3": Shape(),
    "helium": Shape(o_bias=None),  # o_proj: hidden_size -> hidden_size, never a bias
    "seed_oss": Shape(o_bias="attention_out_bias"),
    "ernie4_5": Shape(qkv_bias="use_bias", o_bias="use_bias", mlp_bias="use_bias"),
    "hunyuan_v1_dense": Shape(mlp_bias=None, qk_norm="rmsnorm"),
    "arcee": Shape(gated=False),
}


def map_llama_like(c: Config) -> dict:
    """smollm3 (modeling_smollm3.py: windows only with use_sliding_window, on the layer_types' sliding layers, by
    default the NoPE layers), internlm3 (transformers builds LlamaForCausalLM: qkv_bias = bias on all four
    projections and the MLP), helium (modeling_helium.py: q/k/v biases, o_proj hidden_size wide), seed_oss
    (modeling_seed_oss.py: o_proj's bias apart), ernie4_5 (modeling_ernie4_5.py: use_bias everywhere but the LM
    head), hunyuan_v1_dense (modeling_hunyuan_v1_dense.py: q/k RMSNorm per head, head_dim needed) and arcee
    (modeling_arcee.py: an MLP of up and down only, squared ReLU by default), transformers 5.23.0."""
    mt = c.model_type
    spec, att, n_layers = llama_like(c, SHAPES[mt])
    if mt == "internlm3":
        if c.boolean("attention_bias") != c.boolean("mlp_bias"):
            raise c.error("mlp_bias", "differs from attention_bias (qkv_bias), which transformers refuses for "
                                      "internlm3; allowed: equal values")
        if spec["d_model"] % att["n_heads"]:
            raise c.error("num_attention_heads", f"{att['n_heads']} does not divide hidden_size={spec['d_model']} "
                                                 "(transformers refuses it); allowed: a divisor")
    if mt == "helium":
        require_width(c, att["n_heads"], att["d_head"], spec["d_model"], "helium's o_proj (hidden_size wide) needs")
    if mt == "hunyuan_v1_dense" and c.raw("head_dim") is None:
        raise c.error("head_dim", "is null, which transformers 5.23.0 cannot build hunyuan_v1_dense with; "
                                  "allowed: a whole number >= 1")
    if mt != "smollm3":
        dense_stack(spec, att, n_layers)
        return spec
    use_window = c.boolean("use_sliding_window")
    window = c.optional_integer("sliding_window")
    rope = rope_flags(c, n_layers)
    default = ["sliding_attention" if use_window and window is not None and not r else "full_attention"
               for r in rope]
    types = read_layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
    if "sliding_attention" in types and not use_window:
        raise c.error("layer_types", "has sliding_attention layers but use_sliding_window is false: transformers' "
                                     "smollm3 attention would not slide while its cache does; allowed: "
                                     "use_sliding_window true, or only full_attention layers")
    stack(spec, windowed(att, windows_of(c, types, window)), [None] * n_layers)
    return spec


LLAMA_BASE = {"tie_word_embeddings": False, "hidden_act": "silu", "attention_bias": False, "mlp_bias": False}

register(
    "smollm3",  # configuration_smollm3.py (head_dim is no field: modeling reads it, else hidden // heads)
    defaults={
        **LLAMA_BASE, "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 11008,
        "num_hidden_layers": 36, "num_attention_heads": 16, "num_key_value_heads": 4, "head_dim": None,
        "max_position_embeddings": 32768, "use_sliding_window": False, "sliding_window": None,
        "no_rope_layers": None, "no_rope_layer_interval": 4, "layer_types": None, "tie_word_embeddings": True,
    },
    mapper=map_llama_like,
    # SmolLM3-3B's config.json carries Qwen2's max_window_layers, which SmolLM3Config does not take: its layer_types
    # follow use_sliding_window and the NoPE layers alone
    ignored=frozenset(("max_window_layers",)),
)


register(
    "internlm3",  # internlm3/configuration_internlm3.py (the model is LlamaForCausalLM)
    defaults={
        **LLAMA_BASE, "vocab_size": 128512, "hidden_size": 4096, "intermediate_size": 10240,
        "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 2, "head_dim": 128,
        "max_position_embeddings": 32768,
    },
    mapper=map_llama_like,
    aliases={"qkv_bias": "attention_bias", "bias": "mlp_bias"},
)


register(
    "helium",  # configuration_helium.py
    defaults={
        **LLAMA_BASE, "vocab_size": 48000, "hidden_size": 2560, "intermediate_size": 7040, "num_hidden_layers": 24,
        "num_attention_heads": 20, "num_key_value_heads": 20, "head_dim": 128, "max_position_embeddings": 4096,
    },
    mapper=map_llama_like,
)


register(
    "seed_oss",  # configuration_seed_oss.py
    defaults={
        **LLAMA_BASE, "vocab_size": 155136, "hidden_size": 4096, "intermediate_size": 27648,
        "num_hidden_layers": 64, "num_attention_heads": 80, "num_key_value_heads": 8, "head_dim": 128,
        "max_position_embeddings": 524288, "attention_bias": True, "attention_out_bias": False,
    },
    mapper=map_llama_like,
    ignored=frozenset(("residual_dropout",)),
)


register(
    "ernie4_5",  # configuration_ernie4_5.py
    defaults={
        "tie_word_embeddings": True, "hidden_act": "silu", "use_bias": False, "vocab_size": 103424,
        "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 18, "num_attention_heads": 16,
        "num_key_value_heads": 2, "head_dim": 128, "max_position_embeddings": 131072,
    },
    mapper=map_llama_like,
)


register(
    "hunyuan_v1_dense",  # configuration_hunyuan_v1_dense.py (head_dim null: modeling cannot build it)
    defaults={
        "tie_word_embeddings": False, "hidden_act": "silu", "attention_bias": False, "vocab_size": 290943,
        "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": None, "head_dim": None, "max_position_embeddings": 2048,
    },
    mapper=map_llama_like,
)

register(
    "arcee",  # configuration_arcee.py (AFM-4.5B's shape)
    defaults={
        **LLAMA_BASE, "vocab_size": 32000, "hidden_size": 2560, "intermediate_size": 18432,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": None, "head_dim": None,
        "hidden_act": "relu2", "max_position_embeddings": 4096,
    },
    mapper=map_llama_like,
)
