"""Memory: weights, model states under ZeRO, and inference memory (weights, KV cache, a working set); the memory
report every mode returns. Training memory (states per pipeline stage and parallel rank, activations) is in
training.py.

Sizes in bytes are exact where they can be counted (weights, KV cache, model states); activation
figures follow their cited formulas and are labelled estimates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import ModelSpec
from ..records import record
from ..units import human_bytes
from .dtypes import DTYPE_BITS, whole_bytes
from .kv import KVCache, kv_cache

if TYPE_CHECKING:
    from .activations import Activations


def weight_bytes(n_params: int, dtype: str, group_size: int = 128, scale_dtype: str = "fp16") -> tuple[int, int]:
    """(bytes of the weights, of which quantisation scales): int4 stores one scale per `group_size` weights."""
    data = whole_bytes(n_params, DTYPE_BITS[dtype])
    if dtype != "int4":
        return data, 0
    scales = whole_bytes(-(-n_params // group_size), DTYPE_BITS[scale_dtype])
    return data + scales, scales


# Optimizer states in bytes per parameter, besides the fp32 master weights of mixed precision.
OPTIMIZER_STATE_BYTES = {
    "adamw": 8,       # first and second moments in fp32 (Kingma & Ba 2015; ZeRO's K = 12 with the master copy)
    "sgd": 4,         # momentum in fp32
    "adam8bit": 2,    # both moments in 8 bits (Dettmers et al. 2022); block-wise scales neglected
    "adafactor": 0,   # factored second moment, O(rows + cols) per matrix, neglected; no momentum (Shazeer & Stern 2018)
}


def master_weight_bytes(weight_dtype: str) -> int:
    """Mixed precision keeps an fp32 copy of 16-bit (or smaller) weights (Micikevicius et al. 2018)."""
    return 4 if DTYPE_BITS[weight_dtype] < 32 else 0


@record
class ModelStates:
    """Bytes per parameter of weights, gradients and optimizer (master weights included), and their split."""

    weights: float
    gradients: float
    optimizer: float

    @property
    def per_param(self) -> float:
        return self.weights + self.gradients + self.optimizer


def model_states(weight_dtype: str = "bf16", grad_dtype: str = "bf16", optimizer: str = "adamw",
                 optimizer_bytes: float | None = None) -> ModelStates:
    """Bytes per parameter from dtypes and optimizer: bf16 + bf16 + AdamW is ZeRO's 2 + 2 + 12 = 16."""
    if optimizer_bytes is None:
        optimizer_bytes = OPTIMIZER_STATE_BYTES[optimizer] + master_weight_bytes(weight_dtype)
    return ModelStates(DTYPE_BITS[weight_dtype] / 8, DTYPE_BITS[grad_dtype] / 8, optimizer_bytes)


def zero_partition(states: ModelStates, stage: int, dp: int) -> ModelStates:
    """Per-device model states under ZeRO (Rajbhandari et al. 2020, sec. 5): stage 1 shards the optimizer
    states over the dp data-parallel ranks, stage 2 also the gradients, stage 3 also the weights."""
    return ModelStates(
        states.weights / dp if stage >= 3 else states.weights,
        states.gradients / dp if stage >= 2 else states.gradients,
        states.optimizer / dp if stage >= 1 else states.optimizer,
    )


@record
class MemoryPart:
    """One row of a memory estimate: what the whole job holds once (`bytes`) and what one GPU holds."""

    name: str
    bytes: float
    per_gpu: float
    note: str = ""
    estimate: bool = False


@record
class MemoryReport:
    model: ModelSpec
    mode: str
    parts: tuple[MemoryPart, ...]
    n_gpus: int
    settings: dict
    trainable_params: int = 0  # training: the parameters that get gradients and optimizer states
    activations: Activations | None = None  # training: the saved tensors behind the activations part

    @property
    def per_gpu(self) -> float:
        return sum(part.per_gpu for part in self.parts)

    @property
    def total(self) -> float:
        """What all the job's GPUs hold together (replicas included)."""
        return self.per_gpu * self.n_gpus

    def part(self, name: str) -> MemoryPart:
        return next(p for p in self.parts if p.name == name)


def _activation_dtype(weight_dtype: str) -> str:
    """Quantised weights still compute in 16 bits; fp32 models in fp32."""
    return "fp32" if weight_dtype == "fp32" else "bf16"


def inference_memory(model: ModelSpec, n_params: int, context: int, batch: int = 1, weight_dtype: str = "bf16",
                     kv_dtype: str = "bf16", prefill_chunk: int | None = None, tp: int = 1,
                     mla_cache: str = "latent") -> MemoryReport:
    """Weights, KV cache and an activation working set for serving, split over `tp` tensor-parallel GPUs."""
    weights, scales = weight_bytes(n_params, weight_dtype)
    cache = kv_cache(model, context, batch, kv_dtype, mla_cache)
    kv_per_gpu = kv_bytes_per_gpu(model, cache, tp)
    chunk = min(prefill_chunk or context, context)
    act_bits = DTYPE_BITS[_activation_dtype(weight_dtype)]
    widest = max(_live_elements(g.layer, model.d_model) for g in model.groups)
    activations = whole_bytes(batch * chunk * widest, act_bits) + batch * model.vocab_size * 4
    scale_note = f"; int4 with one fp16 scale per 128 weights ({human_bytes(scales)} of scales)" if scales else ""
    parts = (
        MemoryPart("weights", weights, weights / tp, f"{n_params:,} parameters in {weight_dtype}{scale_note}"),
        MemoryPart("kv_cache", cache.bytes, kv_per_gpu,
                   f"{batch} x {context:,} tokens in {kv_dtype}, {cache.bytes_per_token:,} bytes per token"
                   + ("; the MLA latent is one head, held whole by every TP rank"
                      if tp > 1 and mla_cache == "latent" and any(g.layer.attention.mla for g in model.groups)
                      else "")),
        MemoryPart("activations", activations, activations / tp,
                   f"one layer's live tensors for a {chunk:,}-token prefill chunk, plus fp32 logits of the last "
                   "token; attention scores assumed fused (FlashAttention)", estimate=True),
    )
    settings = {"weight_dtype": weight_dtype, "kv_dtype": kv_dtype, "context": context, "batch": batch,
                "prefill_chunk": chunk, "tp": tp}
    if any(g.layer.attention.mla for g in model.groups):
        settings["mla_cache"] = mla_cache
    return MemoryReport(model, "inference", parts, tp, settings)


def kv_bytes_per_gpu(model: ModelSpec, cache: KVCache, tp: int) -> float:
    """The KV cache one of `tp` tensor-parallel GPUs holds: K/V heads split over the ranks (past n_kv_heads ranks
    they are replicated, not split further); MLA's latent is one head shared by every query head, so every rank
    holds all of it (DeepSeek-V2 sec. 2.1; vLLM and SGLang replicate it), while decompressed K/V split by head."""
    if tp == 1:
        return cache.bytes
    attention = {g.name: g.layer.attention for g in model.groups}
    bits = DTYPE_BITS[cache.dtype]
    total = 0.0
    for group in cache.groups:
        att = attention[group.name.removesuffix(" (cross)")]
        shards = 1 if att.mla and cache.mla_cache == "latent" else min(tp, att.n_kv_heads)
        total += whole_bytes(cache.batch * group.n_layers * group.elements_per_token * group.cached_tokens, bits) / shards
    return total


def _live_elements(layer, d_model: int) -> int:
    """Elements per token alive inside one layer: residual in and out, q/k/v, attention output, MLP inner."""
    att, mlp, moe = layer.attention, layer.mlp, layer.moe
    qkv = att.n_heads * att.qk_head_dim + att.n_kv_heads * (att.qk_head_dim + att.v_head_dim)
    d_ff = moe.d_ff if moe else mlp.d_ff
    inner = (2 if mlp.gated else 1) * d_ff * (moe.top_k if moe else 1)
    return 2 * d_model + qkv + att.n_heads * att.v_head_dim + inner
