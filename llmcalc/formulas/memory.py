"""Memory: the bytes of weights, model states under ZeRO, and the memory report every mode returns. Serving memory
(weights, KV cache, a working set, engine profiles) is in serving.py, training memory in training.py.

Sizes in bytes are exact where they can be counted (weights, KV cache, model states); activation
figures follow their cited formulas and are labelled estimates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..model import ModelSpec
from ..records import record
from .dtypes import DTYPE_BITS, whole_bytes
from .formats import LINEAR, RECIPES, WEIGHT_FORMATS, format_bytes, recipe_bytes

if TYPE_CHECKING:
    from .activations import Activations
    from .params import ParamCount


# What a weight-only quantization converts: the linear layers' matrices ("only the weights of the linear operators
# within transformers blocks are quantized", as the int4 checkpoints of AutoAWQ, GPTQ and llm-compressor say; vLLM's
# fp8 and int8 linear methods likewise). Embeddings, the output layer, norms, biases, routers and attention sinks
# stay in 16 bits.
QUANTIZED = LINEAR
INT4_GROUP = 128  # AWQ's default format (AutoAWQ q_group_size 128, zero_point): a fp16 scale, a 4-bit zero
INT4_GROUP_BITS = 16 + 4


def weight_bytes(n_params: int, dtype: str, group_size: int = INT4_GROUP) -> tuple[int, int]:
    """(bytes of `n_params` weights, of which quantisation constants): int4 stores a fp16 scale and a 4-bit zero
    point per `group_size` weights."""
    data = whole_bytes(n_params, DTYPE_BITS[dtype])
    if dtype != "int4":
        return data, 0
    constants = whole_bytes(-(-n_params // group_size), INT4_GROUP_BITS)
    return data + constants, constants


def quantized_params(params: ParamCount) -> int:
    """The parameters a weight-only quantization converts (QUANTIZED components)."""
    return sum(row.total for row in params.rows if row.component in QUANTIZED)


def model_weight_bytes(params: ParamCount, dtype: str) -> tuple[int, int, int]:
    """(bytes of the model's weights, of which quantisation constants, parameters kept in 16 bits): below 16 bits
    only the linear layers take `dtype`; the rest stays bf16."""
    if dtype not in DTYPE_BITS:  # a checkpoint format (formats.py): its constants are inside its bits per weight
        data, outside, _ = format_bytes(params, dtype)
        return data, 0, outside
    if DTYPE_BITS[dtype] >= 16:
        return whole_bytes(params.total, DTYPE_BITS[dtype]), 0, 0
    quantized = quantized_params(params)
    data, constants = weight_bytes(quantized, dtype)
    kept = params.total - quantized
    return data + whole_bytes(kept, 16), constants, kept


def per_param_bytes(params: ParamCount, dtype: str) -> Callable[[str], float]:
    """Storage bytes of one parameter of a component with the weights in `dtype` or a checkpoint format: below 16
    bits only the linear layers convert (int4 with its group constants), the rest stays bf16 (model_weight_bytes);
    a mixed GGUF recipe gives each component its bits averaged over its layers, the rest f32. For a share of the
    weights (a pipeline stage, the rows a step reads); model_weight_bytes is the whole model's, exactly."""
    if dtype in RECIPES:
        bits = recipe_bytes(params, dtype)[2]
        bits.setdefault("lm_head", bits["embed.token"])  # tied: the head reads the embedding in the output's type
        return lambda component: bits.get(component, 32) / 8
    if dtype in WEIGHT_FORMATS:
        format_bits, converted, other, _ = WEIGHT_FORMATS[dtype]
        return lambda component: (format_bits if component in converted else other) / 8
    bits_of = DTYPE_BITS[dtype]
    if bits_of >= 16:
        return lambda component: bits_of / 8
    linear = (bits_of + (INT4_GROUP_BITS / INT4_GROUP if dtype == "int4" else 0)) / 8
    return lambda component: linear if component in QUANTIZED else 2


# Optimizer states in bytes per parameter, besides the fp32 master weights of mixed precision: each moment in fp32
# (torch.optim keeps them in the parameter's dtype, which mixed precision makes fp32), or in 8 bits.
OPTIMIZER_MOMENTS = {"adamw": 2, "sgd": 1, "adafactor": 0}  # factored second moment neglected (Shazeer & Stern 2018)
# bitsandbytes' 8-bit Adam (Dettmers et al. 2022; bitsandbytes/optim/optimizer.py Optimizer2State.init_state): both
# moments in uint8 and, block-wise, one fp32 absmax per 256 elements of each: 2 + 2 x 4 / 256 bytes. (A tensor of
# fewer than min_8bit_size = 4,096 elements keeps fp32 moments: norms and biases of small models, not counted here.)
BNB_BLOCK = 256
ADAM8BIT_BYTES = 2 + 2 * 4 / BNB_BLOCK
EIGHT_BIT = ("adam8bit", "paged-adam8bit")
# Paged optimizers (bitsandbytes' Paged*, `F.get_paged`) put the moments of every tensor of 10^5 elements or more in
# CUDA unified memory (cudaMallocManaged): outside PyTorch's allocator, on the GPU while it has room, paged out to
# the host under pressure. They are counted for the job, not in a GPU's budget.
PAGED = ("paged-adam8bit",)
OPTIMIZERS = (*OPTIMIZER_MOMENTS, *EIGHT_BIT)
PRECISIONS = ("mixed", "pure")


def master_weight_bytes(weight_dtype: str) -> int:
    """Mixed precision keeps an fp32 copy of 16-bit (or smaller) weights (Micikevicius et al. 2018)."""
    return 4 if DTYPE_BITS[weight_dtype] < 32 else 0


def optimizer_state_bytes(optimizer: str, weight_dtype: str = "bf16", precision: str = "mixed") -> float:
    """Bytes per parameter of the optimizer's states, master weights included. Mixed precision: an fp32 master copy
    and fp32 moments (ZeRO's K = 12 for AdamW). Pure (the weights train in their own dtype, as torchtune's `dtype:
    bf16` or a model loaded in bf16 without autocast): no master copy, and torch.optim's moments in the weights'
    dtype (torch/optim/adamw.py: `torch.zeros_like(p)`). 8-bit optimizers keep 8-bit moments either way."""
    if optimizer in EIGHT_BIT:
        moments = ADAM8BIT_BYTES
    else:
        moments = OPTIMIZER_MOMENTS[optimizer] * (4 if precision == "mixed" else DTYPE_BITS[weight_dtype] / 8)
    return moments + (master_weight_bytes(weight_dtype) if precision == "mixed" else 0)


@record
class ModelStates:
    """Bytes per parameter of weights, gradients and optimizer (master weights included), and their split;
    `paged`: the part of `optimizer` in CUDA unified memory (a paged optimizer's moments), outside a GPU's budget."""

    weights: float
    gradients: float
    optimizer: float
    paged: float = 0.0

    @property
    def per_param(self) -> float:
        return self.weights + self.gradients + self.optimizer


def model_states(weight_dtype: str = "bf16", grad_dtype: str = "bf16", optimizer: str = "adamw",
                 optimizer_bytes: float | None = None, precision: str = "mixed") -> ModelStates:
    """Bytes per parameter from dtypes, optimizer and precision: bf16 + bf16 + AdamW under mixed precision is ZeRO's
    2 + 2 + 12 = 16."""
    if optimizer_bytes is None:
        optimizer_bytes = optimizer_state_bytes(optimizer, weight_dtype, precision)
    paged = ADAM8BIT_BYTES if optimizer in PAGED else 0.0
    return ModelStates(DTYPE_BITS[weight_dtype] / 8, DTYPE_BITS[grad_dtype] / 8, optimizer_bytes,
                       min(paged, optimizer_bytes))


def zero_partition(states: ModelStates, stage: int, dp: int) -> ModelStates:
    """Per-device model states under ZeRO (Rajbhandari et al. 2020, sec. 5): stage 1 shards the optimizer
    states over the dp data-parallel ranks, stage 2 also the gradients, stage 3 also the weights."""
    return ModelStates(
        states.weights / dp if stage >= 3 else states.weights,
        states.gradients / dp if stage >= 2 else states.gradients,
        states.optimizer / dp if stage >= 1 else states.optimizer,
        states.paged / dp if stage >= 1 else states.paged,
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
    capacity_tokens: int = 0  # serving with an engine: the tokens its KV cache holds on each GPU
    max_concurrency: float = 0.0  # serving with an engine: sequences of the context length that fit at once

    @property
    def per_gpu(self) -> float:
        return sum(part.per_gpu for part in self.parts)

    @property
    def total(self) -> float:
        """What all the job's GPUs hold together (replicas included)."""
        return self.per_gpu * self.n_gpus

    def part(self, name: str) -> MemoryPart:
        return next(p for p in self.parts if p.name == name)
