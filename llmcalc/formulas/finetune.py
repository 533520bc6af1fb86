"""Fine-tuning with adapters: LoRA (Hu et al. 2021) and QLoRA (Dettmers et al. 2023).

LoRA adds to a targeted linear layer W (d_in -> d_out) the product B A of A (r x d_in) and B (d_out x r): r (d_in +
d_out) trainable parameters, as PEFT's LoraLayer creates them (peft/tuners/lora/layer.py); the base model is frozen,
so it has no gradients and no optimizer states. Targets are named by llmcalc's components (`q`, `k`, `v`, `o`,
`gate`, `up`, `down`, MLA's `q_a`, `q_b`, `kv_a`, `kv_b`, a MoE's `router`, `shared` experts and routed `experts`,
each expert's matrices apart), or `all-linear`: every linear layer of the blocks but the routed experts (PEFT's
all-linear leaves out the output layer too; on transformers' fused expert tensors it shares adapters across experts,
which is not modelled). The default, `q,v`, is PEFT's for the Llama family.

QLoRA keeps the frozen linear layers in NF4: 4 bits per weight, and per block of 64 an absmax constant; double
quantization stores those constants in 8 bits with one fp32 constant per 256 of them: 8/64 + 32/(64 x 256) =
0.127 bits per parameter (QLoRA paper, sec. 3), against 32/64 = 0.5 without it. The other weights stay bf16.
"""

from __future__ import annotations

from ..model import Layer, ModelSpec
from .params import ParamCount

FINETUNES = ("full", "lora", "qlora")
DEFAULT_TARGETS = ("q", "v")
LINEAR_TARGETS = ("q", "k", "v", "o", "q_a", "q_b", "kv_a", "kv_b", "gate", "up", "down", "router", "shared",
                  "experts")
ALL_LINEAR = tuple(t for t in LINEAR_TARGETS if t != "experts")
NF4_BITS = 4
NF4_CONSTANT_BITS = {True: 8 / 64 + 32 / (64 * 256), False: 32 / 64}  # double quantization on / off


def _mlp_shapes(d: int, d_ff: int, gated: bool, prefix: str = "") -> dict[str, list[tuple[int, int]]]:
    shapes = {f"{prefix}up": [(d, d_ff)], f"{prefix}down": [(d_ff, d)]}
    if gated:
        shapes[f"{prefix}gate"] = [(d, d_ff)]
    return shapes


def linear_shapes(layer: Layer, d_model: int) -> dict[str, list[tuple[int, int]]]:
    """(d_in, d_out) of every linear layer of one layer, by target name (an expert's matrices once per expert)."""
    att, mlp, moe = layer.attention, layer.mlp, layer.moe
    d = d_model
    shapes: dict[str, list[tuple[int, int]]] = {"o": [(att.n_heads * att.v_head_dim, d)]}
    if att.mla:
        mla = att.mla
        if mla.q_lora_rank:
            shapes["q_a"] = [(d, mla.q_lora_rank)]
            shapes["q_b"] = [(mla.q_lora_rank, att.n_heads * mla.qk_head_dim)]
        else:
            shapes["q"] = [(d, att.n_heads * mla.qk_head_dim)]
        shapes["kv_a"] = [(d, mla.kv_lora_rank + mla.qk_rope_head_dim)]
        shapes["kv_b"] = [(mla.kv_lora_rank, att.n_heads * (mla.qk_nope_head_dim + mla.v_head_dim))]
    else:
        shapes["q"] = [(d, att.n_heads * att.qk_head_dim)]
        shapes["k"] = [(d, att.n_kv_heads * att.qk_head_dim)]
        shapes["v"] = [(d, att.n_kv_heads * att.v_head_dim)]
    if moe is None:
        shapes.update(_mlp_shapes(d, mlp.d_ff, mlp.gated))
        return shapes
    shapes["router"] = [(d, moe.n_experts)]
    expert = _mlp_shapes(d, moe.d_ff, mlp.gated)
    shapes["experts"] = [shape for matrices in expert.values() for shape in matrices] * moe.n_experts
    if moe.n_shared_experts:
        shared = _mlp_shapes(d, moe.d_ff_shared * moe.n_shared_experts, mlp.gated)
        shapes["shared"] = [shape for matrices in shared.values() for shape in matrices]
    return shapes


def lora_params(model: ModelSpec, rank: int, targets: tuple[str, ...]) -> int:
    """Trainable parameters of LoRA adapters of rank `rank` on the targeted linear layers of every layer."""
    total = 0
    for group in model.groups:
        shapes = linear_shapes(group.layer, model.d_model)
        per_layer = sum(rank * (d_in + d_out) for name in targets for d_in, d_out in shapes.get(name, ()))
        total += per_layer * group.count
    return total


def present_targets(model: ModelSpec, targets: tuple[str, ...]) -> tuple[str, ...]:
    """The targets some layer of the model has (an `all-linear` expansion keeps only those)."""
    names = {name for group in model.groups for name in linear_shapes(group.layer, model.d_model)}
    return tuple(t for t in targets if t in names)


def nf4_bytes(params: ParamCount, quantized: int, double_quant: bool = True) -> tuple[float, float]:
    """(bytes of QLoRA's base weights, of which NF4 constants): `quantized` linear parameters in NF4, the rest bf16."""
    constants = quantized * NF4_CONSTANT_BITS[double_quant] / 8
    return quantized * NF4_BITS / 8 + constants + (params.total - quantized) * 2, constants
