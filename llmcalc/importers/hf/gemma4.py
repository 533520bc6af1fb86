"""Gemma 4's language model (model_type gemma4_text; gemma4, the multimodal model, counts its text_config): Gemma 3's
sandwich-normed layers with q/k RMSNorms and a weightless v norm, sliding and full layers of their own head size
(and kv heads), per-layer input embeddings (PLE), keys reused as values on full layers, the last layers reusing K and
V of earlier ones, and experts beside the dense MLP."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, attention_entry, base_spec, hybrid_stack, moe_entry, read_heads, \
    read_layer_types, windows_of
from .config import Config, got
from .registry import register
from .vision import text_tied_by_top

LAYER_TYPES = ("sliding_attention", "full_attention")
OVERRIDABLE = ("head_dim", "num_key_value_heads")  # what per_layer_config may set per layer here


def _overrides(c: Config, types: list[str], k_eq_v: bool) -> list[dict]:
    """Each layer's head_dim and num_key_value_heads overrides: per_layer_config as written (a saved config), else
    Gemma4TextConfig.__post_init__'s: global_head_dim on full layers, and num_global_key_value_heads there when
    attention_k_eq_v (configuration_gemma4.py, transformers 5.23.0)."""
    written = c.raw("per_layer_config")
    if written is None:
        full = {"head_dim": c.integer("global_head_dim")}
        n_global = c.optional_integer("num_global_key_value_heads")
        if k_eq_v and n_global is not None:
            full["num_key_value_heads"] = n_global
        return [dict(full) if t == "full_attention" else {} for t in types]
    if not isinstance(written, dict):
        raise c.error("per_layer_config", f"must be a JSON object of layer index -> overrides, got {got(written)}")
    out: list[dict] = [{} for _ in types]
    for index, values in written.items():
        if not str(index).isdigit() or int(index) >= len(types) or not isinstance(values, dict):
            raise c.error("per_layer_config", f"{index!r}: must be a layer index below {len(types)} with an object "
                                              "of overrides")
        for key, value in values.items():
            if key not in OVERRIDABLE or isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise c.error("per_layer_config", f"layer {index}: {key}={got(value)} is not read; allowed: "
                                                  f"{', '.join(OVERRIDABLE)} as whole numbers >= 1")
            out[int(index)][key] = value
    return out


def _shared(c: Config, types: list[str]) -> list[bool]:
    """Layers reusing K and V (kv_sharing_modes "reuse"): the last num_kv_shared_layers; each of their layer types
    must be produced by an earlier layer, as Gemma4TextConfig.kv_sharing_modes requires."""
    n_shared = c.integer("num_kv_shared_layers", minimum=0)
    first = len(types) - n_shared
    if first < 0 or (n_shared and set(types[:first]) != set(types)):
        raise c.error("num_kv_shared_layers", f"{n_shared} leaves a layer type with no earlier layer producing its "
                                              "K and V (transformers refuses it); allowed: fewer shared layers")
    return [i >= first for i in range(len(types))]


def map_gemma4_text(c: Config) -> dict:
    """gemma4_text (gemma4/modeling_gemma4.py, Gemma4ForCausalLM), transformers 5.23.0: Gemma4TextAttention's q/k
    RMSNorms of its head_dim (v_norm has no weight), no v_proj on full layers under attention_k_eq_v, no k_proj,
    v_proj or k_norm on the last num_kv_shared_layers (they read an earlier layer's K and V, and cache nothing);
    Gemma4TextMLP twice as wide on those under use_double_wide_mlp; enable_moe_block: Gemma4TextRouter (a d x E
    projection, a scale of d and one per expert) and Gemma4TextExperts (gated, moe_intermediate_size) beside the
    dense MLP, with three more RMSNorms; hidden_size_per_layer_input: the per-layer input embedding of
    vocab_size_per_layer_input rows, its model projection and norm, and each layer's gate, projection and norm."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = read_heads(c, d)
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm", "placement": "sandwich"}
    activation = c.choice("hidden_activation", GATED_ACTIVATIONS)
    default = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(n_layers)]
    types = list(read_layer_types(c, n_layers, default, LAYER_TYPES))
    types[-1] = "full_attention"  # Gemma4TextConfig.__post_init__ forces it
    windows = windows_of(c, types, c.integer("sliding_window"))
    k_eq_v = c.boolean("attention_k_eq_v")
    shared = _shared(c, types)
    wide = c.boolean("use_double_wide_mlp")
    bias = c.boolean("attention_bias")
    d_ff = c.integer("intermediate_size")
    moe_on = c.boolean("enable_moe_block")
    if moe_on:
        n_experts, moe_ff = c.integer("num_experts"), c.integer("moe_intermediate_size")
        top_k = c.integer("top_k_experts")
    layers = []
    for kind, window, reuse, override in zip(types, windows, shared, _overrides(c, types, k_eq_v)):
        heads_kv, size = override.get("num_key_value_heads", n_kv), override.get("head_dim", d_head)
        if n_heads % heads_kv:
            raise c.error("num_key_value_heads", f"{heads_kv} kv heads do not divide num_attention_heads={n_heads} "
                                                 f"on {kind} layers; allowed: a divisor of {n_heads}")
        att = attention_entry(n_heads, heads_kv, size, bias, qk_norm="rmsnorm", sliding_window=window,
                              kv_shared=reuse, k_eq_v=k_eq_v and kind == "full_attention" and not reuse)
        width = d_ff * (2 if wide and reuse else 1)
        moe = moe_entry(n_experts, top_k, moe_ff, c, "top_k_experts", n_shared_experts=1, d_ff_shared=width,
                        router_scales=True, norms=3) if moe_on else None
        layers.append({"attention": att, "mlp": {"activation": activation, "d_ff": width}, "moe": moe})
    hybrid_stack(spec, layers)
    per_layer = c.integer("hidden_size_per_layer_input", minimum=0)
    if per_layer:  # Gemma4TextModel: `if self.hidden_size_per_layer_input` (0: no PLE)
        spec["per_layer_input"] = {"vocab_size": c.integer("vocab_size_per_layer_input"), "width": per_layer}
    return spec


register(
    "gemma4_text",  # gemma4/configuration_gemma4.py, Gemma4TextConfig (global_head_dim, num_global_key_value_heads:
    # kwargs its __post_init__ pops, turned into per_layer_config, which a saved config writes instead)
    defaults={
        "vocab_size": 262144, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 30,
        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 131072, "tie_word_embeddings": True, "attention_bias": False,
        "sliding_window": 512, "layer_types": None, "vocab_size_per_layer_input": 262144,
        "hidden_size_per_layer_input": 256, "attention_k_eq_v": False, "num_kv_shared_layers": 0,
        "enable_moe_block": False, "use_double_wide_mlp": False, "num_experts": None, "top_k_experts": None,
        "moe_intermediate_size": None, "global_head_dim": 512, "num_global_key_value_heads": None,
        "per_layer_config": None,
    },
    mapper=map_gemma4_text,
    # final_logit_softcapping: a tanh on the logits, no weight
    ignored=frozenset(("final_logit_softcapping",)),
    # "all": bidirectional attention with a halved window (not counted here); "vision": image tokens only
    fixed={"use_bidirectional_attention": (None, "vision")},
)


def gemma4_text_model(top: Config) -> tuple[Config, str]:
    """gemma4 (Gemma4Config): the text model is its text_config, its LM head tied as the top level's
    tie_word_embeddings says (Gemma4ForConditionalGeneration); the vision and audio towers and their embedders are
    not read."""
    top.check_keys()
    return (text_tied_by_top(top, "gemma4_text"),
            "Text model only (text_config): the vision and audio towers and their embedders are not counted.")


register(
    "gemma4",  # gemma4/configuration_gemma4.py, Gemma4Config: the text model is its text_config
    defaults={"text_config": None, "tie_word_embeddings": True},
    text_model=gemma4_text_model,
    ignored=frozenset(("vision_config", "audio_config", "boi_token_id", "eoi_token_id", "image_token_id",
                       "video_token_id", "boa_token_id", "eoa_token_index", "audio_token_id")),
)
