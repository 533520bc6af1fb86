"""Hugging Face ``config.json`` in, the equivalent llmcalc spec out.

``spec_from_config`` turns a parsed config.json into the plain mapping a YAML spec holds (keys exactly as
specs/README.md documents them); ``load_config`` reads the file, maps it and validates the mapping with the
spec builder, so what ``llmcalc import`` writes is exactly what gets counted.

A key missing from config.json takes the default that transformers 5.23.0 gives it for that model_type
(``DEFAULTS`` below, read from transformers/models/<type>/configuration_<type>.py). Every key a config sets is
either mapped, or known not to change any count (rope settings, dropout, eps, token ids, softcaps...), or an
error naming the file and the key: an unknown key may change the architecture, and a silently wrong number is
worse than a refusal.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import SpecError
from .model import ModelSpec

TRANSFORMERS_VERSION = "5.23.0"

# ----------------------------------------------------------------------------------- defaults

# transformers 5.23.0 defaults of every key the import reads, per model_type, from
# transformers/models/<type>/configuration_<type>.py. None means "derived": num_key_value_heads -> the number
# of attention heads, head_dim -> hidden_size // num_attention_heads, n_inner -> 4 x n_embd, and so on.
_LLAMA_LIKE = {"tie_word_embeddings": False, "hidden_act": "silu", "head_dim": None}
DEFAULTS: dict[str, dict[str, Any]] = {
    "gpt2": {  # configuration_gpt2.py
        "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
        "activation_function": "gelu_new", "tie_word_embeddings": True,
    },
    "openai-gpt": {  # openai/configuration_openai.py
        "vocab_size": 40478, "n_positions": 512, "n_embd": 768, "n_layer": 12, "n_head": 12, "afn": "gelu",
        "tie_word_embeddings": True,
    },
    "llama": {  # configuration_llama.py
        **_LLAMA_LIKE, "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": None,
        "max_position_embeddings": 2048, "attention_bias": False, "mlp_bias": False,
    },
    "mistral": {  # configuration_mistral.py
        **_LLAMA_LIKE, "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "max_position_embeddings": 4096 * 32, "sliding_window": 4096,
    },
    "mixtral": {  # configuration_mixtral.py
        **_LLAMA_LIKE, "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "max_position_embeddings": 4096 * 32, "sliding_window": None, "num_experts_per_tok": 2,
        "num_local_experts": 8,
    },
    "qwen2": {  # configuration_qwen2.py (q, k, v biases are hard-coded in modeling_qwen2.py)
        **_LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
        "max_position_embeddings": 32768, "use_sliding_window": False, "sliding_window": 4096,
        "max_window_layers": 28, "layer_types": None,
    },
    "qwen2_moe": {  # configuration_qwen2_moe.py
        **_LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
        "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16,
        "max_position_embeddings": 32768, "use_sliding_window": False, "sliding_window": 4096,
        "max_window_layers": 28, "decoder_sparse_step": 1, "moe_intermediate_size": 1408,
        "shared_expert_intermediate_size": 5632, "num_experts_per_tok": 4, "num_experts": 60,
        "mlp_only_layers": None, "qkv_bias": True, "layer_types": None,
    },
    "qwen3": {  # configuration_qwen3.py
        **_LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32, "head_dim": 128,
        "max_position_embeddings": 32768, "attention_bias": False, "use_sliding_window": False,
        "sliding_window": 4096, "max_window_layers": 28, "layer_types": None,
    },
    "qwen3_moe": {  # configuration_qwen3_moe.py (head_dim is no field: modeling uses hidden // heads)
        **_LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 6144,
        "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 4,
        "max_position_embeddings": 32768, "attention_bias": False, "use_sliding_window": False,
        "sliding_window": 4096, "decoder_sparse_step": 1, "moe_intermediate_size": 768,
        "num_experts_per_tok": 8, "num_experts": 128, "mlp_only_layers": None,
    },
    "deepseek_v2": {  # configuration_deepseek_v2.py; moe_layer_freq is no field there (see _deepseek)
        "vocab_size": 102400, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
        "num_attention_heads": 32, "hidden_act": "silu", "max_position_embeddings": 2048,
        "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "first_k_dense_replace": 0,
        "kv_lora_rank": 512, "q_lora_rank": 1536, "n_routed_experts": 64, "n_shared_experts": 2,
        "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "num_experts_per_tok": None,
        "moe_intermediate_size": 1407,
    },
    "deepseek_v3": {  # configuration_deepseek_v3.py (num_mtp_layers, alias num_nextn_predict_layers: 1)
        "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
        "num_hidden_layers": 61, "num_attention_heads": 128, "n_shared_experts": 1, "n_routed_experts": 256,
        "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64, "v_head_dim": 128,
        "qk_nope_head_dim": 128, "num_experts_per_tok": 8, "first_k_dense_replace": 3, "hidden_act": "silu",
        "max_position_embeddings": 4096, "tie_word_embeddings": False, "attention_bias": False,
        "num_nextn_predict_layers": 1,
    },
    "gpt_oss": {  # configuration_gpt_oss.py
        "num_hidden_layers": 36, "num_local_experts": 128, "vocab_size": 201088, "hidden_size": 2880,
        "intermediate_size": 2880, "head_dim": 64, "num_attention_heads": 64, "num_key_value_heads": 8,
        "sliding_window": 128, "tie_word_embeddings": False, "max_position_embeddings": 131072,
        "num_experts_per_tok": 4, "layer_types": None, "attention_bias": True,
    },
    "gemma2": {  # configuration_gemma2.py
        "vocab_size": 256000, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
        "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 8192, "tie_word_embeddings": True,
        "attention_bias": False, "sliding_window": 4096, "layer_types": None,
    },
    "llama4_text": {  # llama4/configuration_llama4.py, Llama4TextConfig
        "vocab_size": 202048, "hidden_size": 5120, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
        "num_hidden_layers": 48, "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
        "hidden_act": "silu", "max_position_embeddings": 4096 * 32, "tie_word_embeddings": False,
        "num_experts_per_tok": 1, "num_local_experts": 16, "moe_layers": None, "interleave_moe_layer_step": 1,
        "use_qk_norm": True, "no_rope_layers": None, "no_rope_layer_interval": 4, "attention_chunk_size": 8192,
        "layer_types": None, "attention_bias": False,
    },
    "llama4": {  # llama4/configuration_llama4.py, Llama4Config: the text model is its text_config
        "text_config": None, "tie_word_embeddings": False,
    },
    "phi3": {  # configuration_phi3.py (head_dim is no field: modeling uses hidden // heads)
        **_LLAMA_LIKE, "vocab_size": 32064, "hidden_size": 3072, "intermediate_size": 8192,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": None,
        "max_position_embeddings": 4096, "sliding_window": None,
    },
    "dbrx": {  # configuration_dbrx.py (DbrxConfig; attn_config and ffn_config below)
        "d_model": 2048, "n_heads": 16, "n_layers": 24, "max_seq_len": 2048, "vocab_size": 32000,
        "tie_word_embeddings": False, "attn_config": None, "ffn_config": None,
    },
    "dbrx.attn_config": {"kv_n_heads": 1},  # DbrxAttentionConfig
    "dbrx.ffn_config": {  # DbrxFFNConfig
        "ffn_hidden_size": 3584, "moe_num_experts": 4, "moe_top_k": 1, "ffn_act_fn": None,
    },
}
SUPPORTED = ("gpt2", "openai-gpt", "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe",
             "deepseek_v2", "deepseek_v3", "gpt_oss", "gemma2", "llama4_text", "llama4", "phi3", "dbrx")

# Other names transformers accepts for a key (the configs' attribute_map): alias -> key.
ALIASES: dict[str, dict[str, str]] = {
    "gpt2": {"hidden_size": "n_embd", "max_position_embeddings": "n_positions", "num_attention_heads": "n_head",
             "num_hidden_layers": "n_layer"},
    "openai-gpt": {"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
                   "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"},
    "mixtral": {"num_experts": "num_local_experts"},
    "qwen3_moe": {"num_local_experts": "num_experts"},
    "deepseek_v2": {"num_experts": "n_routed_experts"},
    "deepseek_v3": {"num_local_experts": "n_routed_experts", "num_mtp_layers": "num_nextn_predict_layers"},
    "gpt_oss": {"num_experts": "num_local_experts"},
    "dbrx": {"num_attention_heads": "n_heads", "hidden_size": "d_model", "num_hidden_layers": "n_layers",
             "max_position_embeddings": "max_seq_len"},
}

# Keys that change no count, accepted for every model_type: bookkeeping, runtime switches, token ids, the
# generation settings old configs carry, position-encoding settings (RoPE has no parameters), eps, dropout.
COMMON_IGNORED = frozenset((
    "architectures", "auto_map", "model_type", "transformers_version", "torch_dtype", "dtype", "_name_or_path",
    "name_or_path", "use_cache", "return_dict", "output_hidden_states", "output_attentions", "torchscript",
    "use_bfloat16", "tf_legacy_loss", "chunk_size_feed_forward", "is_decoder", "cross_attention_hidden_size",
    "tie_encoder_decoder", "id2label", "label2id", "num_labels", "problem_type", "finetuning_task",
    "tokenizer_class", "prefix", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id",
    "decoder_start_token_id", "task_specific_params", "initializer_range", "quantization_config",
    "quantization",  # MLX's quantization settings: storage of the same weights
    "_attn_implementation", "_attn_implementation_autoset", "attn_implementation", "_experts_implementation",
    "experts_implementation", "output_router_logits", "router_aux_loss_coef", "router_z_loss_coef",
    "rope_theta", "rope_scaling", "rope_parameters", "partial_rotary_factor", "rms_norm_eps", "layer_norm_eps",
    "layer_norm_epsilon", "attention_dropout", "hidden_dropout", "dropout", "resid_pdrop", "embd_pdrop",
    "emb_pdrop", "attn_pdrop", "cache_implementation", "pretraining_tp", "unsloth_fixed", "unsloth_version",
    # generation settings (transformers pops them from the model config)
    "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups",
    "diversity_penalty", "temperature", "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty",
    "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences",
    "output_scores", "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id",
    "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens",
    "epsilon_cutoff", "eta_cutoff", "encoder_repetition_penalty", "num_assistant_tokens",
    "num_assistant_tokens_schedule", "assistant_confidence_threshold",
))
# Keys of one model_type that change no count there (routing details, softcaps, scalings, the odd unused key).
IGNORED: dict[str, frozenset] = {
    "gpt2": frozenset(("n_ctx", "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels",
                       "summary_first_dropout", "scale_attn_weights", "scale_attn_by_inverse_layer_idx",
                       "reorder_and_upcast_attn")),
    "openai-gpt": frozenset(("n_ctx", "summary_type", "summary_use_proj", "summary_activation",
                             "summary_proj_to_labels", "summary_first_dropout")),
    "mixtral": frozenset(("router_jitter_noise",)),
    "qwen2": frozenset(("use_mrope",)),
    "qwen2_moe": frozenset(("norm_topk_prob",)),
    "qwen3_moe": frozenset(("norm_topk_prob", "max_window_layers")),  # the latter is read by no qwen3_moe code
    "deepseek_v2": frozenset(("topk_method", "n_group", "topk_group", "routed_scaling_factor", "norm_topk_prob",
                              "scoring_func", "aux_loss_alpha", "seq_aux", "ep_size", "head_dim",
                              "num_key_value_heads")),
    "deepseek_v3": frozenset(("topk_method", "n_group", "topk_group", "routed_scaling_factor", "norm_topk_prob",
                              "scoring_func", "aux_loss_alpha", "seq_aux", "ep_size", "head_dim",
                              "num_key_value_heads", "rope_interleave")),
    "gpt_oss": frozenset(("hidden_act", "swiglu_alpha", "swiglu_limit", "initial_context_length")),
    "gemma2": frozenset(("hidden_act", "query_pre_attn_scalar", "final_logit_softcapping",
                         "attn_logit_softcapping", "sliding_window_size")),
    "llama4_text": frozenset(("attn_temperature_tuning", "attn_scale", "floor_scale", "for_llm_compressor",
                              "router_jitter_noise")),
    "llama4": frozenset(("vision_config", "boi_token_index", "eoi_token_index", "image_token_index")),
    "phi3": frozenset(("original_max_position_embeddings",)),
    # A sub-config's own tie_word_embeddings (a serialised PretrainedConfig default) ties nothing.
    "dbrx.attn_config": frozenset(("attn_pdrop", "clip_qkv", "rope_theta", "tie_word_embeddings")),
    "dbrx.ffn_config": frozenset(("hidden_size", "moe_jitter_eps", "moe_loss_weight", "tie_word_embeddings",
                                  "moe_normalize_expert_weights", "uniform_expert_assignment")),
}
# Keys a model_type does not read but which would change the architecture if set otherwise: only the value
# its transformers code hard-codes is accepted.
FIXED: dict[str, dict[str, tuple]] = {
    "phi3": {"attention_bias": (False,)},
    "gemma2": {"use_bidirectional_attention": (None, False)},
}
_EVERYWHERE_FIXED = {"add_cross_attention": (False,), "is_encoder_decoder": (False,), "pruned_heads": ({},)}

# HF activation names -> the spec's activation, for plain (two-matrix) and gated (three-matrix) MLPs.
PLAIN_ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh",
                     "gelu_fast": "gelu_tanh", "relu": "relu", "silu": "silu", "swish": "silu"}
GATED_ACTIVATIONS = {"silu": "swiglu", "swish": "swiglu", "gelu": "geglu", "gelu_new": "geglu",
                     "gelu_pytorch_tanh": "geglu", "gelu_fast": "geglu", "relu": "reglu"}
_LEGACY_LAYER_TYPES = {"attention": "full_attention"}  # configuration_utils.remap_legacy_layer_types

_MISSING = object()


# ------------------------------------------------------------------------------------ reading


class _Config:
    """One config mapping (or a nested text_config / attn_config) with typed getters that raise SpecError."""

    def __init__(self, data: dict, source: str, model_type: str, prefix: str = ""):
        self.data = data
        self.source = source
        self.model_type = model_type
        self.prefix = prefix
        self.defaults_used: list[str] = []
        for alias, key in ALIASES.get(model_type, {}).items():
            if alias in data:
                if key in data and data[key] != data[alias]:
                    raise self.error(alias, f"{_show(data[alias])} contradicts {key}={_show(data[key])}; "
                                            "allowed: one of the two, or equal values")
                data = {**{k: v for k, v in data.items() if k != alias}, key: data[alias]}
        self.data = data

    def error(self, key: str | None, message: str) -> SpecError:
        return SpecError(self.source, (self.prefix + key) if key else (self.prefix.rstrip(".") or None), message)

    def raw(self, key: str) -> Any:
        """The value as set, or the transformers default (noted) when the key is missing."""
        if key in self.data:
            return self.data[key]
        default = DEFAULTS[self.model_type].get(key, _MISSING)
        if default is _MISSING:  # pragma: no cover - a mapping function reading an undeclared key
            raise AssertionError(f"{self.model_type}: no default for {key}")
        if default is not None:
            self.defaults_used.append(f"{key}={default!r}")
        return default

    def integer(self, key: str, minimum: int = 1, derived: int | None = None) -> int:
        """A whole number >= minimum; a null or derived (None) default takes `derived`."""
        value = self.raw(key)
        if value is None and derived is not None:
            return derived
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be a whole number >= {minimum}, got {_got(value)}")
        return value

    def optional_integer(self, key: str, minimum: int = 1) -> int | None:
        value = self.raw(key)
        return None if value is None else self.integer(key, minimum)

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {_got(value)}")
        return value

    def choice(self, key: str, mapping: dict[str, str]) -> str:
        value = self.raw(key)
        if value not in mapping:
            raise self.error(key, f"{_show(value)} is not an activation llmcalc knows here; "
                                  f"allowed: {', '.join(sorted(mapping))}")
        return mapping[value]

    def integer_list(self, key: str, minimum: int = 0) -> list[int] | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum
                                                  for v in value):
            raise self.error(key, f"must be a list of whole numbers >= {minimum}, got {_got(value)}")
        return value

    def mapping(self, key: str) -> dict:
        value = self.raw(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, f"must be a JSON object, got {_got(value)}")
        return value

    def child(self, key: str, model_type: str) -> "_Config":
        return _Config(self.mapping(key), self.source, model_type, f"{self.prefix}{key}.")

    def check_keys(self, used: tuple[str, ...] = ()) -> None:
        """Every key must be read by the mapping, or known to change no count; fixed keys keep their value."""
        known = set(DEFAULTS[self.model_type]) | set(used) | COMMON_IGNORED | IGNORED.get(self.model_type, set())
        fixed = {**_EVERYWHERE_FIXED, **FIXED.get(self.model_type, {})}
        for key, value in self.data.items():
            if key in fixed:
                if value not in fixed[key]:
                    allowed = ", ".join("null" if v is None else json.dumps(v) for v in fixed[key])
                    raise self.error(key, f"{_show(value)} is not supported: transformers {TRANSFORMERS_VERSION} "
                                          f"builds {self.model_type} without it; allowed: {allowed}")
                continue
            if key not in known:
                allowed = ", ".join(sorted(set(DEFAULTS[self.model_type]) | set(used) | set(fixed)))
                raise self.error(key, f"unknown key for model_type {self.model_type}: llmcalc cannot tell whether "
                                      f"it changes the count; keys it maps: {allowed} (and settings known to "
                                      "change no count: rope, dropout, eps, token ids...)")


def _got(value: Any) -> str:
    return "null" if value is None else f"{_kind(value)} {_show(value)}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return (text[:60] + "...") if len(text) > 60 else text


# ----------------------------------------------------------------------------- building blocks


def _heads(c: _Config, d_model: int, heads_key: str = "num_attention_heads", kv_key: str | None = "num_key_value_heads",
           head_dim_key: str | None = "head_dim") -> tuple[int, int, int]:
    """(heads, kv heads, head size), kv heads defaulting to the heads and head size to d_model // heads."""
    n_heads = c.integer(heads_key)
    n_kv = c.integer(kv_key, derived=n_heads) if kv_key else n_heads
    if n_heads % n_kv:
        raise c.error(kv_key, f"{n_kv} does not divide {heads_key}={n_heads}; allowed: a divisor of {n_heads}")
    d_head = c.integer(head_dim_key, derived=d_model // n_heads) if head_dim_key else d_model // n_heads
    if d_head < 1:
        raise c.error(heads_key, f"{n_heads} heads leave hidden_size={d_model} no head size; set head_dim")
    return n_heads, n_kv, d_head


def _attention(n_heads: int, n_kv: int, d_head: int, bias: bool | dict = False, **extra: Any) -> dict:
    att = {"n_heads": n_heads, "n_kv_heads": n_kv, "d_head": d_head}
    if bias:
        att["bias"] = bias
    att.update({k: v for k, v in extra.items() if v is not None and v is not False})
    return att


def _layer_types(c: _Config, n_layers: int, default: list[str], allowed: tuple[str, ...]) -> list[str]:
    """The config's layer_types (legacy names remapped), or the model_type's default pattern."""
    value = c.raw("layer_types")
    if value is None:
        return default
    if not isinstance(value, list) or len(value) != n_layers or not all(isinstance(v, str) for v in value):
        raise c.error("layer_types", f"must be a list of {n_layers} layer type names (one per layer), got "
                                     f"{_got(value)}")
    types = [_LEGACY_LAYER_TYPES.get(v, v) for v in value]
    for index, kind in enumerate(types):
        if kind not in allowed:
            raise c.error("layer_types", f"item {index} {kind!r} is not supported for {c.model_type}; "
                                         f"allowed: {', '.join(allowed)}")
    return types


def _windowed(c: _Config, types: list[str], window: int | None, window_key: str = "sliding_window",
              kind: str = "sliding_attention") -> list[int | None]:
    """The window of each layer: `window` on layers of `kind`, none elsewhere."""
    if kind in types and window is None:
        off = " or use_sliding_window is false" if "use_sliding_window" in DEFAULTS[c.model_type] else ""
        raise c.error(window_key, f"layer_types has {kind} layers but no window is in force ({window_key} is "
                                  f"null{off}); allowed: a window >= 1, or only full_attention layers")
    return [window if t == kind else None for t in types]


def _moe(n_experts: int, top_k: int, d_ff: int, c: _Config, top_k_key: str, **extra: Any) -> dict:
    if top_k > n_experts:
        raise c.error(top_k_key, f"{top_k} is more than the {n_experts} experts; allowed: 1 to {n_experts}")
    moe = {"n_experts": n_experts, "top_k": top_k, "d_ff": d_ff}
    moe.update({k: v for k, v in extra.items() if v})
    return moe


def _stack(spec: dict, attentions: list[dict], moes: list[dict | None]) -> None:
    """Put the commonest layer at the top level and the others in `layers:` groups (count or repeat/pattern)."""
    layers = [(_freeze(a), _freeze(m)) for a, m in zip(attentions, moes)]
    counts = Counter(layers)
    base = max(layers, key=lambda layer: (counts[layer], -layers.index(layer)))
    base_att, base_moe = attentions[layers.index(base)], moes[layers.index(base)]
    spec["attention"] = base_att
    if base_moe is not None:
        spec["moe"] = base_moe
    if len(counts) == 1:
        return
    overrides = [_override(a, m, base_att, base_moe) for a, m in zip(attentions, moes)]
    spec["layers"] = _groups(overrides)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _diff(layer: dict, base: dict) -> dict:
    out = {k: v for k, v in layer.items() if base.get(k) != v}
    out.update({k: None for k in base if k not in layer})  # null takes the key's default
    return out


def _override(att: dict, moe: dict | None, base_att: dict, base_moe: dict | None) -> dict:
    out: dict = {}
    if _diff(att, base_att):
        out["attention"] = _diff(att, base_att)
    if moe is None and base_moe is not None:
        out["moe"] = None
    elif moe is not None and base_moe is None:
        out["moe"] = moe
    elif moe is not None and _diff(moe, base_moe):
        out["moe"] = _diff(moe, base_moe)
    return out


def _groups(overrides: list[dict]) -> list[dict]:
    """Run-length and cycle encoding: at each position the (pattern, repeats) covering the most layers."""
    groups, i, n = [], 0, len(overrides)
    while i < n:
        best_period, best_repeat = 1, 1
        for period in range(1, (n - i) // 2 + 1):
            repeat = 1
            while overrides[i + repeat * period:i + (repeat + 1) * period] == overrides[i:i + period]:
                repeat += 1
            if repeat > 1 and period * repeat > best_period * best_repeat:
                best_period, best_repeat = period, repeat
        if best_period == 1:
            groups.append({"count": best_repeat, **overrides[i]})
        else:
            groups.append({"repeat": best_repeat, "pattern": [dict(o) for o in overrides[i:i + best_period]]})
        i += best_period * best_repeat
    return groups


def _base(c: _Config, vocab: str, d_model: int, n_layers: int, context: str, position: str = "rope",
          tied: bool | None = None) -> dict:
    return {
        "family": c.model_type,
        "vocab_size": c.integer(vocab),
        "d_model": d_model,
        "n_layers": n_layers,
        "context_length": c.integer(context),
        "position": position,
        "tied_embeddings": c.boolean("tie_word_embeddings") if tied is None else tied,
    }


def _dense_stack(spec: dict, att: dict, n_layers: int) -> None:
    _stack(spec, [att] * n_layers, [None] * n_layers)


# -------------------------------------------------------------------------- one per model_type


def _gpt(c: _Config) -> dict:
    """gpt2 (modeling_gpt2.py: pre-LN, learned positions, Conv1D q/k/v/o and MLP with biases, n_inner or 4d) and
    openai-gpt (openai/modeling_openai.py: post-LN blocks, no final norm, MLP fixed at 4d), transformers 5.23.0."""
    d = c.integer("n_embd")
    n_heads = c.integer("n_head")
    if d % n_heads:
        raise c.error("n_head", f"{n_heads} does not divide n_embd={d} (transformers refuses it); "
                                f"allowed: a divisor of {d}")
    gpt2 = c.model_type == "gpt2"
    d_ff = c.integer("n_inner", derived=4 * d) if gpt2 else 4 * d
    activation = c.choice("activation_function" if gpt2 else "afn", PLAIN_ACTIVATIONS)
    spec = _base(c, "vocab_size", d, c.integer("n_layer"), "n_positions", position="learned")
    spec["norm"] = {"kind": "layernorm", "placement": "pre"} if gpt2 else \
        {"kind": "layernorm", "placement": "post", "final": False}
    spec["mlp"] = {"activation": activation, "d_ff": d_ff, "bias": True}
    _dense_stack(spec, _attention(n_heads, n_heads, d // n_heads, True), spec["n_layers"])
    return spec


def _llama(c: _Config) -> dict:
    """llama (modeling_llama.py), mistral (modeling_mistral.py: sliding_window on every layer) and phi3
    (modeling_phi3.py: fused qkv and gate_up, same counts; sliding_window on every layer), transformers 5.23.0."""
    d = c.integer("hidden_size")
    n_heads, n_kv, d_head = _heads(c, d)
    spec = _base(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    bias = c.model_type == "llama" and c.boolean("attention_bias")
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    if c.model_type == "llama" and c.boolean("mlp_bias"):
        spec["mlp"]["bias"] = True
    window = None if c.model_type == "llama" else c.optional_integer("sliding_window")
    if c.model_type == "mistral" and "layer_types" in c.data:
        raise c.error("layer_types", "transformers' mistral attention ignores layer_types (its cache does not): "
                                     "the count would be ambiguous; allowed: no layer_types (use model_type "
                                     "ministral for alternating windows, which llmcalc does not import)")
    _dense_stack(spec, _attention(n_heads, n_kv, d_head, bias, sliding_window=window), spec["n_layers"])
    return spec


def _mixtral(c: _Config) -> dict:
    """mixtral (modeling_mixtral.py): llama attention (sliding_window on every layer), num_local_experts
    SwiGLU experts of intermediate_size, top num_experts_per_tok, router without bias; transformers 5.23.0."""
    d = c.integer("hidden_size")
    n_heads, n_kv, d_head = _heads(c, d)
    spec = _base(c, "vocab_size", d, c.integer("num_hidden_layers"), "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    d_ff = c.integer("intermediate_size")
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": d_ff}
    moe = _moe(c.integer("num_local_experts"), c.integer("num_experts_per_tok"), d_ff, c, "num_experts_per_tok")
    att = _attention(n_heads, n_kv, d_head, sliding_window=c.optional_integer("sliding_window"))
    _stack(spec, [att] * spec["n_layers"], [moe] * spec["n_layers"])
    return spec


def _qwen(c: _Config) -> dict:
    """qwen2 (modeling_qwen2.py: q, k, v biases), qwen2_moe (modeling_qwen2_moe.py: qkv_bias, routed experts
    and one gated shared expert on layers (i+1) % decoder_sparse_step == 0 outside mlp_only_layers), qwen3
    (modeling_qwen3.py: q/k RMSNorm) and qwen3_moe (modeling_qwen3_moe.py), transformers 5.23.0. Sliding
    windows: qwen2/qwen3 on layers >= max_window_layers, qwen2_moe on even layers below it, qwen3_moe on all;
    always only with use_sliding_window, and per layer_types where the model_type has them."""
    mt = c.model_type
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = _heads(c, d)
    spec = _base(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    if mt in ("qwen2", "qwen2_moe"):
        qkv = mt == "qwen2" or c.boolean("qkv_bias")
        bias: bool | dict = {"q": True, "k": True, "v": True} if qkv else False
    else:
        bias = c.boolean("attention_bias")
    use_window = c.boolean("use_sliding_window")
    window = c.optional_integer("sliding_window") if use_window else None
    if mt == "qwen3_moe":
        windows: list[int | None] = [window] * n_layers
    else:
        max_window_layers = c.integer("max_window_layers", minimum=0)
        if mt == "qwen2_moe":
            default = ["sliding_attention" if (i + 1) % 2 and i < max_window_layers and use_window
                       else "full_attention" for i in range(n_layers)]
        else:
            default = ["sliding_attention" if window is not None and i >= max_window_layers
                       else "full_attention" for i in range(n_layers)]
        types = _layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
        windows = _windowed(c, types, window)
    qk_norm = "rmsnorm" if mt.startswith("qwen3") else None
    attentions = [_attention(n_heads, n_kv, d_head, bias, qk_norm=qk_norm, sliding_window=w) for w in windows]
    moes: list[dict | None] = [None] * n_layers
    if mt.endswith("_moe"):
        step = c.integer("decoder_sparse_step")
        dense = set(c.integer_list("mlp_only_layers") or [])
        n_experts = c.integer("num_experts", minimum=0)
        moe = None
        if n_experts:
            extra: dict = {}
            if mt == "qwen2_moe":
                shared = c.integer("shared_expert_intermediate_size", minimum=0)
                extra = {"n_shared_experts": 1 if shared else 0, "d_ff_shared": shared or None, "shared_gate": True}
            moe = _moe(n_experts, c.integer("num_experts_per_tok"), c.integer("moe_intermediate_size"), c,
                       "num_experts_per_tok", **extra)
        moes = [moe if i not in dense and (i + 1) % step == 0 else None for i in range(n_layers)]
    _stack(spec, attentions, moes)
    return spec


def _deepseek(c: _Config) -> dict:
    """deepseek_v2 (modeling_deepseek_v2.py) and deepseek_v3 (modeling_deepseek_v3.py), transformers 5.23.0:
    MLA; MoE layers from first_k_dense_replace on with n_routed_experts experts of moe_intermediate_size and the
    shared experts as one MLP of n_shared_experts x moe_intermediate_size; V3 adds the routing bias (a buffer)
    and num_nextn_predict_layers MTP modules (counted apart). transformers ignores moe_layer_freq; DeepSeek's own
    modeling_deepseek.py makes layer i MoE only when i % moe_layer_freq == 0, and so does this import."""
    mt = c.model_type
    for unused in ("num_key_value_heads", "head_dim"):  # MLA does not read them, but a value must still be sane
        if c.data.get(unused) is not None:
            c.integer(unused)
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    spec = _base(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    if c.boolean("attention_bias"):
        raise c.error("attention_bias", "biases on MLA's q_a, kv_a and o projections are not in the spec schema; "
                                        "allowed: false")
    mla = {"kv_lora_rank": c.integer("kv_lora_rank"), "qk_nope_head_dim": c.integer("qk_nope_head_dim"),
           "qk_rope_head_dim": c.integer("qk_rope_head_dim"), "v_head_dim": c.integer("v_head_dim")}
    q_lora = c.optional_integer("q_lora_rank")
    if q_lora:
        mla = {"q_lora_rank": q_lora, **mla}
    att = {"n_heads": c.integer("num_attention_heads"), "mla": mla}
    first_dense = c.integer("first_k_dense_replace", minimum=0)
    freq = c.data.get("moe_layer_freq", 1)  # DeepSeek's configuration_deepseek.py default; no transformers field
    if isinstance(freq, bool) or not isinstance(freq, int) or freq < 1:
        raise c.error("moe_layer_freq", f"must be a whole number >= 1, got {_got(freq)}")
    is_moe = [i >= first_dense and i % freq == 0 for i in range(n_layers)]
    mlp_bias = mt == "deepseek_v2" and c.boolean("mlp_bias")
    if mlp_bias and any(is_moe):
        raise c.error("mlp_bias", "with MoE layers the routed experts have no bias but the shared experts do, "
                                  "which the spec schema cannot say; allowed: false (or no MoE layers)")
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    if mlp_bias:
        spec["mlp"]["bias"] = True
    moe = None
    if any(is_moe):
        top_k = c.raw("num_experts_per_tok")
        if top_k is None:
            raise c.error("num_experts_per_tok", "is needed to route the MoE layers (the transformers default is "
                                                 "null); allowed: a whole number >= 1")
        n_shared = c.raw("n_shared_experts")
        n_shared = 0 if n_shared is None else c.integer("n_shared_experts", minimum=0)
        moe = _moe(c.integer("n_routed_experts"), c.integer("num_experts_per_tok"), c.integer("moe_intermediate_size"),
                   c, "num_experts_per_tok", n_shared_experts=n_shared, routing_bias=mt == "deepseek_v3")
    _stack(spec, [att] * n_layers, [moe if m else None for m in is_moe])
    if mt == "deepseek_v3":
        n_mtp = c.integer("num_nextn_predict_layers", minimum=0)
        if n_mtp:
            spec["mtp"] = {"n_modules": n_mtp}
    return spec


def _gpt_oss(c: _Config) -> dict:
    """gpt_oss (modeling_gpt_oss.py), transformers 5.23.0: GQA with biases (attention_bias) and a sink logit per
    head, sliding window on the layer_types' sliding layers (default: even layers), num_local_experts SwiGLU
    experts with biases, router with bias."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = _heads(c, d)
    top_k = c.integer("num_experts_per_tok")
    legacy = c.data.get("experts_per_token")
    if legacy is not None and legacy != top_k:
        raise c.error("experts_per_token", f"{_show(legacy)} contradicts num_experts_per_tok={top_k}, the key "
                                           "transformers routes with; allowed: equal values, or leave it out")
    spec = _base(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    d_ff = c.integer("intermediate_size")
    spec["mlp"] = {"activation": "swiglu", "d_ff": d_ff, "bias": True}
    default = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n_layers)]
    types = _layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
    windows = _windowed(c, types, c.optional_integer("sliding_window"))
    bias = c.boolean("attention_bias")
    moe = _moe(c.integer("num_local_experts"), top_k, d_ff, c, "num_experts_per_tok", router_bias=True)
    _stack(spec, [_attention(n_heads, n_kv, d_head, bias, sinks=True, sliding_window=w) for w in windows],
           [moe] * n_layers)
    return spec


def _gemma2(c: _Config) -> dict:
    """gemma2 (modeling_gemma2.py), transformers 5.23.0: GQA with head_dim, sandwich RMSNorms (four per layer),
    GeGLU, tied embeddings by default, sliding window on the layer_types' sliding layers (default: even ones)."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = _heads(c, d)
    spec = _base(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm", "placement": "sandwich"}
    spec["mlp"] = {"activation": c.choice("hidden_activation", GATED_ACTIVATIONS),
                   "d_ff": c.integer("intermediate_size")}
    default = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n_layers)]
    types = _layer_types(c, n_layers, default, ("full_attention", "sliding_attention"))
    windows = _windowed(c, types, c.optional_integer("sliding_window"))
    bias = c.boolean("attention_bias")
    _stack(spec, [_attention(n_heads, n_kv, d_head, bias, sliding_window=w) for w in windows], [None] * n_layers)
    return spec


def _llama4_text(c: _Config) -> dict:
    """llama4_text (llama4/modeling_llama4.py, Llama4ForCausalLM), transformers 5.23.0: MoE on moe_layers
    (default every interleave_moe_layer_step-th layer) with num_local_experts experts and one shared expert of
    intermediate_size, dense layers of intermediate_size_mlp; RoPE layers (no_rope_layers[i] = 1, default all
    but every no_rope_layer_interval-th) carry the L2 qk-norm (use_qk_norm) and, per layer_types, chunked
    attention of attention_chunk_size."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    n_heads, n_kv, d_head = _heads(c, d)
    spec = _base(c, "vocab_size", d, n_layers, "max_position_embeddings")
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
                                        f"got {_got(rope)}")
    step = c.integer("interleave_moe_layer_step")
    moe_layers = c.integer_list("moe_layers")
    if moe_layers is None:
        moe_layers = list(range(step - 1, n_layers, step))
    default = ["chunked_attention" if r else "full_attention" for r in rope]
    types = _layer_types(c, n_layers, default, ("full_attention", "chunked_attention"))
    chunks = _windowed(c, types, c.optional_integer("attention_chunk_size"), "attention_chunk_size",
                       "chunked_attention")
    qk_norm = c.boolean("use_qk_norm")
    bias = c.boolean("attention_bias")
    d_ff = c.integer("intermediate_size")
    moe = _moe(c.integer("num_local_experts"), c.integer("num_experts_per_tok"), d_ff, c, "num_experts_per_tok",
               n_shared_experts=1, d_ff_shared=d_ff)
    attentions = [_attention(n_heads, n_kv, d_head, bias, qk_norm="l2" if qk_norm and r else None, chunk_size=ch)
                  for r, ch in zip(rope, chunks)]
    _stack(spec, attentions, [moe if i in moe_layers else None for i in range(n_layers)])
    return spec


def _dbrx(c: _Config) -> dict:
    """dbrx (modeling_dbrx.py), transformers 5.23.0: LayerNorms without bias, fused Wqkv of d_model + 2 x kv heads
    (attn_config.kv_n_heads) x head size, no biases, ffn_config.moe_num_experts GLU experts of ffn_hidden_size,
    top moe_top_k; embeddings never tied."""
    d = c.integer("d_model")
    n_heads = c.integer("n_heads")
    if d % n_heads:
        raise c.error("n_heads", f"{n_heads} does not divide d_model={d}; allowed: a divisor of {d}")
    if c.boolean("tie_word_embeddings"):
        raise c.error("tie_word_embeddings", "transformers refuses tied embeddings for DBRX; allowed: false")
    attn = c.child("attn_config", "dbrx.attn_config")
    ffn = c.child("ffn_config", "dbrx.ffn_config")
    n_kv = attn.integer("kv_n_heads")
    if n_heads % n_kv:
        raise attn.error("kv_n_heads", f"{n_kv} does not divide n_heads={n_heads}; allowed: a divisor of {n_heads}")
    act = ffn.mapping("ffn_act_fn") or {"name": "silu"}
    if set(act) - {"name"}:
        raise ffn.error("ffn_act_fn", f"{_show(act)} has keys llmcalc does not know; allowed: {{\"name\": ...}}")
    if act.get("name") not in GATED_ACTIVATIONS:
        raise ffn.error("ffn_act_fn", f"{_show(act.get('name'))} is not an activation llmcalc knows here; "
                                      f"allowed: {', '.join(sorted(GATED_ACTIVATIONS))}")
    n_layers = c.integer("n_layers")
    spec = _base(c, "vocab_size", d, n_layers, "max_seq_len", tied=False)
    spec["norm"] = {"kind": "layernorm", "bias": False}
    d_ff = ffn.integer("ffn_hidden_size")
    spec["mlp"] = {"activation": GATED_ACTIVATIONS[act["name"]], "d_ff": d_ff}
    moe = _moe(ffn.integer("moe_num_experts"), ffn.integer("moe_top_k"), d_ff, ffn, "moe_top_k")
    _stack(spec, [_attention(n_heads, n_kv, d // n_heads)] * n_layers, [moe] * n_layers)
    attn.check_keys()
    ffn.check_keys()
    c.defaults_used += [f"attn_config.{k}" for k in attn.defaults_used] + \
        [f"ffn_config.{k}" for k in ffn.defaults_used]
    return spec


MAPPERS: dict[str, Callable[[_Config], dict]] = {
    "gpt2": _gpt, "openai-gpt": _gpt, "llama": _llama, "mistral": _llama, "phi3": _llama, "mixtral": _mixtral,
    "qwen2": _qwen, "qwen2_moe": _qwen, "qwen3": _qwen, "qwen3_moe": _qwen, "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek, "gpt_oss": _gpt_oss, "gemma2": _gemma2, "llama4_text": _llama4_text, "dbrx": _dbrx,
}
# Keys a mapping reads that are not in its DEFAULTS table (checked, not defaulted).
_READ_ALSO = {"mistral": ("layer_types",), "gpt_oss": ("experts_per_token",), "deepseek_v2": ("moe_layer_freq",),
              "deepseek_v3": ("moe_layer_freq",)}
_KEY_ORDER = ("family", "sources", "notes", "vocab_size", "d_model", "n_layers", "context_length", "position",
              "tied_embeddings", "norm", "attention", "mlp", "moe", "layers", "mtp")


# --------------------------------------------------------------------------------- public API


def spec_from_config(config: dict, source: str) -> dict:
    """The llmcalc spec mapping (the keys a YAML spec holds) of a parsed Hugging Face config.json."""
    if not isinstance(config, dict):
        raise SpecError(source, None, f"a config.json must be a JSON object, got {_kind(config)}")
    model_type = config.get("model_type")
    if model_type not in SUPPORTED:
        raise SpecError(source, "model_type", f"{_show(model_type)} is not supported; allowed: {', '.join(SUPPORTED)}")
    notes = []
    if model_type == "llama4":
        top = _Config(config, source, "llama4")
        if top.boolean("tie_word_embeddings"):
            raise top.error("tie_word_embeddings", "tying at the multimodal level is not read by the text model; "
                                                   "allowed: false (set text_config.tie_word_embeddings)")
        top.check_keys()
        c = top.child("text_config", "llama4_text")
        notes.append("Text model only (text_config): the vision encoder and the multimodal projector are not "
                     "counted.")
    else:
        c = _Config(config, source, model_type)
    spec = MAPPERS[c.model_type](c)
    c.check_keys(_READ_ALSO.get(c.model_type, ()))
    if c.defaults_used:
        notes.append(f"Keys missing from config.json took the transformers {TRANSFORMERS_VERSION} defaults: "
                     f"{', '.join(dict.fromkeys(c.defaults_used))}.")
    spec["sources"] = [f"{source} (Hugging Face config.json, model_type {model_type})"]
    if notes:
        spec["notes"] = " ".join(notes)
    return {key: spec[key] for key in _KEY_ORDER if key in spec}


def read_config(path: Path) -> dict:
    """Read config.json: a JSON object of at most spec.MAX_SPEC_BYTES, no key given twice."""
    from .spec import read_text

    source = str(path)
    text = read_text(path, "a config.json")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise SpecError(source, None, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except _DuplicateKey as exc:
        raise SpecError(source, str(exc), "key given twice in one JSON object") from None
    if not isinstance(data, dict):
        raise SpecError(source, None, f"a config.json must be a JSON object of keys to values, got {_kind(data)}")
    return data


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def model_name(path: Path) -> str:
    """The config's parent folder when the file is called config.json (a checkpoint folder), else its stem."""
    if path.name == "config.json":
        return path.parent.name or path.resolve().parent.name or "config"
    return path.stem


def load_config(path: str | Path) -> ModelSpec:
    """Read a Hugging Face config.json and validate its spec mapping with the spec builder."""
    from .spec import _Builder

    path = Path(path)
    data = spec_from_config(read_config(path), str(path))
    return _Builder(model_name(path), str(path), data, {(): str(path)}).build()


def spec_yaml(data: dict, source: str, overrides: Sequence[str] = ()) -> str:
    """The spec mapping as YAML, with a leading comment saying where it came from (and which --set changed it)."""
    from .spec import dump_yaml

    header = (f"# Imported by `llmcalc import` from {source}\n"
              f"# (Hugging Face config.json; missing keys take the transformers {TRANSFORMERS_VERSION} defaults).\n")
    if overrides:
        header += f"# With --set {', '.join(overrides)}\n"
    return dump_yaml(data, header)
