"""Pipeline stages of a served model: which layers each of `pp` stages holds, its weights and its KV cache.

The layers are split into contiguous stages, the first stages taking one more where pp does not divide them
(activations.stage_layers, as Megatron-LM and vLLM's get_pp_indices do). The token embedding (and a learned position
embedding, a vision tower and its projector) sits on the first stage; the final norm and the LM head on the last,
which with tied embeddings holds its own copy of the embedding matrix (vLLM, vllm/model_executor/models/llama.py:
the last rank builds embed_tokens when tie_word_embeddings; Megatron-LM likewise keeps a copy on the last stage).
"""

from __future__ import annotations

from dataclasses import replace

from ..model import ModelSpec
from .activations import stage_groups
from .kv import KVCache, kv_bytes_per_gpu
from .memory import per_param_bytes
from .params import ParamCount

FIRST_STAGE = ("embed.", "norm.embedding", "per_layer.")  # model-level components the first stage holds (with the
# vision tower; Gemma 4's per-layer inputs are formed before the first layer)


def stage_weight_bytes(params: ParamCount, dtype: str, pp: int) -> list[float]:
    """Bytes of the weights each stage holds (before tensor parallelism), each component at its storage bytes
    (memory.per_param_bytes)."""
    per_param = per_param_bytes(params, dtype)
    layer_groups = {g.name for g in params.model.groups}
    out = []
    for stage, counts in enumerate(stage_groups(params.model, pp)):
        total = sum(row.per_layer * counts[row.group] * per_param(row.component)
                    for row in params.rows if row.group in counts)
        for row in params.rows:
            if row.group in layer_groups:
                continue
            # the vision tower and projector (groups of their own) encode images before the first layer
            first = row.group is not None or row.component.startswith(FIRST_STAGE)
            if (stage == 0) if first else (stage == pp - 1):
                total += row.total * per_param(row.component)
        if stage == pp - 1 and pp > 1 and params.model.tied_embeddings:
            total += params.model.vocab_size * params.model.d_model * per_param("lm_head")
        out.append(total)
    return out


def stage_kv_bytes(model: ModelSpec, cache: KVCache, tp: int, pp: int) -> list[float]:
    """Bytes of the KV cache (and recurrent states) each stage's GPUs hold, one of `tp` ranks each."""
    out = []
    for counts in stage_groups(model, pp):
        groups = tuple(replace(g, n_layers=counts[g.name.removesuffix(" (cross)")]) for g in cache.groups
                       if g.name.removesuffix(" (cross)") in counts)
        out.append(kv_bytes_per_gpu(model, replace(cache, groups=groups), tp))
    return out
