"""The registry of Hugging Face model_types: for each, the transformers defaults of every key its mapping reads,
the other names transformers accepts for a key, the keys known to change no count, the keys whose value is fixed,
and the function that maps a config of that type to a spec mapping. A family module registers its types when
llmcalc.importers.hf is imported; nothing else holds a list of them.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Callable

from ...records import record

TRANSFORMERS_VERSION = "5.23.0"


@record
class ModelType:
    """What llmcalc knows of one model_type (or of a nested config such as dbrx's attn_config)."""

    name: str
    # transformers defaults of every key the mapping reads, from transformers/models/<type>/configuration_<type>.py.
    # None means "derived": num_key_value_heads -> the number of attention heads, head_dim -> hidden_size //
    # num_attention_heads, n_inner -> 4 x n_embd, and so on.
    defaults: dict[str, Any]
    # (config.Config) -> spec mapping; None for a nested config, which its parent's mapping reads. (The reader is not
    # named in these annotations: config.py imports this registry, and the registry imports nothing of its own.)
    mapper: Callable[..., dict] | None = None
    # other names transformers accepts for a key (the config class's attribute_map): alias -> key
    aliases: dict[str, str] = field(default_factory=dict)
    # keys of this type that change no count here (routing details, softcaps, scalings, the odd unused key)
    ignored: frozenset = frozenset()
    # keys this type does not read but which would change the architecture if set otherwise: the accepted values
    fixed: dict[str, tuple] = field(default_factory=dict)
    # keys the mapping reads that are not in `defaults` (checked, not defaulted)
    reads_also: tuple[str, ...] = ()
    # a multimodal wrapper: (config.Config) -> the Config of its text model (checked) and a note on what is not counted
    text_model: Callable[..., tuple[Any, str]] | None = None

    @property
    def top_level(self) -> bool:
        """A model_type a config.json may name (not a nested config)."""
        return self.mapper is not None or self.text_model is not None


TYPES: dict[str, ModelType] = {}


def register(name: str, defaults: dict[str, Any], mapper: Callable[..., dict] | None = None,
             **details: Any) -> ModelType:
    """Add a model_type to the registry (see ModelType for the details); registering a name twice is a bug."""
    if name in TYPES:  # pragma: no cover - a family module registering a type another one has
        raise AssertionError(f"model_type {name} registered twice")
    TYPES[name] = ModelType(name, defaults, mapper, **details)
    return TYPES[name]


def supported() -> tuple[str, ...]:
    """Every model_type a config.json may name, in the order the families registered them."""
    return tuple(name for name, kind in TYPES.items() if kind.top_level)


# Keys that change no count, accepted for every model_type: bookkeeping, runtime switches, token ids, the
# generation settings old configs carry, position-encoding settings (RoPE has no parameters), eps, dropout.
COMMON_IGNORED = frozenset((
    "architectures", "auto_map", "model_type", "transformers_version", "torch_dtype", "dtype", "_name_or_path",
    "name_or_path", "use_cache", "return_dict", "output_hidden_states", "output_attentions", "torchscript",
    "use_bfloat16", "tf_legacy_loss", "chunk_size_feed_forward", "is_decoder", "cross_attention_hidden_size",
    "tie_encoder_decoder", "id2label", "label2id", "num_labels", "problem_type", "finetuning_task",
    "tokenizer_class", "prefix", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "eod_token_id",
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


EVERYWHERE_FIXED = {"add_cross_attention": (False,), "is_encoder_decoder": (False,), "pruned_heads": ({},)}
