"""Hugging Face ``config.json`` in, the equivalent llmcalc spec out.

One small module per model family (gpt, llama, mixtral, qwen, deepseek, gpt_oss, gemma2, llama4, phi3, dbrx,
llama_like, gemma, granite, olmo, glm, starcoder2, exaone, parallel, cohere, falcon, mamba, lfm2, qwen3_next, qwen3_5,
minimax, bloom, opt,
moe_like (ernie4_5_moe, minimax_m2, hunyuan_v1_moe), hybrid (bamba, granitemoehybrid, falcon_h1, nemotron_h), and
vision: llava and qwen2_5_vl with their vision towers; mllama; mistral3) maps the configs of its model_types and registers them (registry.py)
with the transformers defaults of every key it reads; config.py reads a config key by key, blocks.py holds what the
families share, reader.py reads the file and convert.py runs the registered mapping.

A key missing from config.json takes the default that transformers 5.23.0 gives it for that model_type (read from
transformers/models/<type>/configuration_<type>.py). Every key a config sets is either mapped, or known not to
change any count (rope settings, dropout, eps, token ids, softcaps...), or unknown: an external format grows keys
faster than any importer, so an unknown key is not an error but is returned (read_spec, ModelSpec.unread_keys) for
the caller to warn about, since it may change the architecture; with strict=True it is an error naming the file
and the key. A key llmcalc knows whose value it cannot represent is always an error.

May import: llmcalc.errors, llmcalc.records, llmcalc.model, llmcalc.spec (its public names only).
"""

from __future__ import annotations

# Each family module registers its model_types on import; this order is the order `SUPPORTED` lists them in.
from . import gpt, llama, mixtral, qwen, deepseek, gpt_oss, gemma2, llama4, phi3, dbrx  # noqa: F401, I001
from . import llama_like, gemma, granite, olmo, glm, starcoder2, exaone  # noqa: F401, I001
from . import parallel, cohere, falcon, bloom, mamba, lfm2, qwen3_next, minimax, vision, mllama  # noqa: F401, I001
from . import opt, moe_like, hybrid, qwen3_5, gemma4, mistral3  # noqa: F401, I001
from .convert import load_config, read_spec, spec_from_config, spec_yaml
from .reader import model_name, read_config
from .registry import TRANSFORMERS_VERSION, TYPES, supported

SUPPORTED = supported()

__all__ = ["SUPPORTED", "TRANSFORMERS_VERSION", "TYPES", "load_config", "model_name", "read_config",
           "read_spec", "spec_from_config", "spec_yaml"]
