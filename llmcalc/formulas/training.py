"""Training memory per GPU: model states on the most loaded pipeline stage and parallel rank, and activations.

Parameters are placed as Megatron-LM places them (megatron/training/theoretical_memory_usage.py and its
expert-parallel groups in megatron/core/parallel_state.py): each pipeline stage holds its own layers, the first
stage also the embedding, the last stage the final norm and the output layer (a tied output layer as a copy of the
embedding, which Megatron keeps on the last stage when pp > 1). Tensor parallelism splits every weight by tp;
routed experts are split over the expert-parallel ranks instead of being replicated (ep x expert-tensor-parallel,
the latter equal to tp as Megatron's default). ZeRO (Rajbhandari et al. 2020) shards the dense parameters' states
over the dp data-parallel ranks and the experts' over the expert-data-parallel size, world / (etp x ep x pp) =
dp / ep: a rank's experts are replicated only on the ranks that hold the same experts.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import ModelSpec
from ..records import memo_by_identity, record
from .activations import layer_groups, stage_layers, training_activations
from .dtypes import DTYPE_BITS
from .finetune import linear_shapes, lora_params, nf4_bytes
from .hf_lora import lora_activations
from .memory import MemoryPart, MemoryReport, ModelStates, model_states, quantized_params, zero_partition
from .params import ParamCount
from .recurrent import refuse_training
from .timeline import Moment, step_peak

@record
class Adapters:
    """LoRA or QLoRA adapters: the fine-tuning method, rank, targets and the base weights' storage."""

    method: str                 # "lora" or "qlora"
    rank: int
    targets: tuple[str, ...]
    base_dtype: str = "bf16"    # LoRA's frozen base; QLoRA keeps its linear layers in NF4 and the rest in bf16
    double_quant: bool = True   # QLoRA's double quantization of the NF4 constants
    adapter_dtype: str = "fp32"  # the adapters' weights (PEFT upcasts them to fp32 on a 16-bit base)


MODEL_LEVEL_FIRST = ("embed.token", "embed.position", "embed.relative", "embed.project_in", "norm.embedding",
                     "embed.per_layer", "per_layer.model_projection", "per_layer.norm")
MODEL_LEVEL_LAST = ("norm.final", "norm.final_encoder", "lm_head.project_out", "lm_head", "lm_head.bias")


@memo_by_identity
def layer_params(params: ParamCount) -> tuple[list[tuple[int, int]], int, int]:
    """(dense, routed-expert) parameters of each layer, and the parameters before the layers (embedding) and after
    them (final norm, output layer, and the multi-token prediction modules, which train with the model)."""
    model = params.model
    per_group: dict[str, tuple[int, int]] = {}
    for group in model.groups:
        rows = params.group_rows(group.name)
        experts = sum(r.per_layer for r in rows if r.component == "moe.experts")
        per_group[group.name] = (sum(r.per_layer for r in rows) - experts, experts)
    model_rows = {r.component: r.total for r in params.group_rows(None)}
    first = sum(model_rows.get(name, 0) for name in MODEL_LEVEL_FIRST)
    last = sum(model_rows.get(name, 0) for name in MODEL_LEVEL_LAST) + params.optional_total
    return [per_group[name] for name in layer_groups(model)], first, last


@memo_by_identity
def stage_params(params: ParamCount, pp: int) -> list[tuple[int, int]]:
    """(dense, routed-expert) parameters of each pipeline stage, before tensor and expert parallelism; the
    multi-token prediction modules (DeepSeek-V3's, counted apart in params) on the last stage, as Megatron-Core puts
    them."""
    model = params.model
    layers, first, last = layer_params(params)
    if model.tied_embeddings and pp > 1:
        last += {r.component: r.total for r in params.group_rows(None)}["embed.token"]  # the output layer's copy
    # multi-token prediction modules train with the model, on the last stage; their routed experts split like any
    mtp_experts = sum(r.total for r in params.optional if r.component == "moe.experts")
    last -= mtp_experts
    out = []
    for stage, indices in enumerate(stage_layers(model.n_layers, pp)):
        dense = sum(layers[i][0] for i in indices)
        experts = sum(layers[i][1] for i in indices)
        dense += (first if stage == 0 else 0) + (last if stage == pp - 1 else 0)
        experts += mtp_experts if stage == pp - 1 else 0
        out.append((dense, experts))
    return out


def training_memory(model: ModelSpec, params: ParamCount, seq: int, micro_batch: int = 1,
                    states: ModelStates | None = None, zero: int = 0, dp: int = 1, tp: int = 1, pp: int = 1,
                    ep: int = 1, sequence_parallel: bool = False, recompute: str = "none",
                    attention_impl: str = "flash", dropout: bool = False, adapters: Adapters | None = None,
                    zero_impl: str = "paper", framework: str = "megatron", virtual_stages: int = 1,
                    loss: str = "full", optimizer_in_backward: bool = False,
                    precision: str = "mixed", offload: bool = False, grad_buffers: str = "persistent",
                    cp: int = 1) -> MemoryReport:
    """Model states and activations per GPU for training with ZeRO, tensor, pipeline and expert parallelism.
    `ep` must divide `dp` (api.estimate_memory checks it against the model). With `adapters` (LoRA or QLoRA) the
    base model is frozen and `states` are the adapters'. `zero_impl` "deepspeed" follows DeepSpeed's implementation
    of stages 2 and 3 instead of the paper's arithmetic (deepspeed_partition). `optimizer_in_backward` steps each
    parameter as soon as its gradient is complete and frees that gradient (PyTorch's
    register_post_accumulate_grad_hook; torchtune's optimizer_in_bwd): at most one parameter's gradient is held, the
    largest (largest_layer). A paged optimizer's moments (states.paged) are counted for the job, not per GPU.
    `offload`: the layers' saved activations wait in host memory (torchtune's OffloadActivations); `grad_buffers`
    "persistent" (Megatron's and DeepSpeed's buffers) sums every part at its largest, "freed" takes the peak of the
    step's timeline (timeline.py). `cp` context-parallel ranks each hold 1/cp of every sequence's tokens (Megatron's
    load-balanced split; their activations per token unchanged), and the gradients and ZeRO states are sharded over
    the dp x cp ranks, as Megatron's distributed optimizer shards them (param_and_grad_buffer.py: the data-parallel
    group with context parallelism)."""
    refuse_training(model, framework)
    states = states or model_states()
    if adapters is not None:
        return adapter_memory(model, params, seq, micro_batch, states, zero, dp, tp, pp, ep, sequence_parallel,
                              recompute, attention_impl, dropout, adapters, framework, virtual_stages, loss,
                              offload, grad_buffers, cp)
    partition = deepspeed_partition if zero_impl == "deepspeed" else zero_partition
    dense_states = partition(states, zero, dp * cp)
    expert_states = partition(states, zero, dp * cp // ep)
    stages = stage_params(params, pp)
    gathered = 0.0
    if zero_impl == "deepspeed" and zero == 3:  # the largest layer, gathered whole: 16-bit weights and gradients
        gathered = DEEPSPEED_GATHERED_BYTES * largest_layer(params) / tp

    def on_gpu(kind: str, dense: int, experts: int = 0) -> float:
        """Bytes of `kind` (a ModelStates field) for these parameters on one GPU: dense ones split by TP, routed
        experts by TP x EP, each under its ZeRO partition."""
        return dense / tp * getattr(dense_states, kind) + experts / (tp * ep) * getattr(expert_states, kind)

    def per_gpu(kind: str, stage: tuple[int, int]) -> float:
        if kind == "gradients" and optimizer_in_backward:
            return on_gpu("gradients", largest_layer(params))
        extra = gathered if kind == "weights" else 0.0
        if kind == "optimizer":  # a paged optimizer's moments live in unified memory, outside the GPU's budget
            return on_gpu("optimizer", *stage) - on_gpu("paged", *stage)
        return extra + on_gpu(kind, *stage)

    heaviest = max(stages, key=lambda s: per_gpu("weights", s) + per_gpu("gradients", s) + per_gpu("optimizer", s))
    activations = training_activations(model, seq, micro_batch, tp, pp, sequence_parallel, recompute,
                                       attention_impl, dropout, framework, virtual_stages, loss, offload, cp)
    n_params = params.total + params.optional_total  # MTP modules (DeepSeek-V3) train with the model
    placed = f" on the most loaded of {pp} pipeline stages" if pp > 1 else ""
    edp = dp * cp // ep
    experts = f"; routed experts split over {ep} expert-parallel ranks" if ep > 1 else ""
    if ep > 1 and zero:
        experts += f", their ZeRO states over {edp} expert-data-parallel rank{'s' if edp > 1 else ''}"
    peak = activations.peak
    layers = " + ".join(str(n) if name == "layers" else f"{n} {name}" for name, n in peak.layers)
    parts = (
        MemoryPart("weights", n_params * states.weights, per_gpu("weights", heaviest),
                   f"{states.weights:g} bytes per parameter{placed}{experts}"
                   + ("; DeepSpeed ZeRO-3 also gathers the largest layer whole (4 bytes per parameter of it)"
                      if gathered else "")),
        MemoryPart("gradients", n_params * states.gradients, per_gpu("gradients", heaviest),
                   f"{states.gradients:g} bytes per parameter"
                   + ("; the optimizer steps in the backward pass: one parameter's gradient at a time, the largest "
                      f"({largest_layer(params):,} elements)" if optimizer_in_backward else "")
                   + {2: "; DeepSpeed ZeRO-2 partitions them with an fp32 copy", 3: "; DeepSpeed ZeRO-3 keeps only an "
                      "fp32 partition"}.get(zero if zero_impl == "deepspeed" else 0, "")),
        MemoryPart("optimizer", n_params * states.optimizer, per_gpu("optimizer", heaviest),
                   optimizer_note(states, precision)),
        MemoryPart("activations", activations.bytes, activations.bytes,
                   f"{PROFILES[framework]}, {activations.settings['attention_impl']} attention, recomputation "
                   f"{recompute}: stage {peak.stage + 1} of {pp} holds {peak.in_flight} micro-batch"
                   f"{'es' if peak.in_flight > 1 else ''} of its {layers} layers"
                   + (f" and the output layer with its {LOSS_NOTES[loss]}" if peak.stage == pp - 1 else "")
                   + ("; the layers' saved tensors offloaded to host memory" if offload else "")
                   + (f"; {model.mixer_names} layers as their fused kernels save them" if model.is_recurrent else "")
                   + ("; gradient checkpointing as the forward holds it: the layer recomputed at backward is not "
                      "counted" if framework == "transformers" and recompute == "full" else ""),
                   estimate=True),
    )
    if grad_buffers == "freed":
        layers, first, last = layer_params(params)

        def grads(dense: int, experts: int = 0) -> float:
            return on_gpu("gradients", dense, experts)

        head = grads(last + (first if model.tied_embeddings else 0))
        output = grads(largest_head(params))
        one = grads(largest_matrix(params)) if optimizer_in_backward else None
        moment = step_peak(activations.phases, activations.tokens, [grads(*layer) for layer in layers], head,
                           grads(first + last + sum(d for d, _ in layers), sum(e for _, e in layers)),
                           output if loss == "chunked" else 0.0, one, head if model.tied_embeddings else 0.0)
        parts = at_peak(parts, moment)
    settings = {"bytes_per_param": states.per_param, "weights": states.weights, "gradients": states.gradients,
                "optimizer": states.optimizer, "zero": zero, "dp": dp, "tp": tp, "pp": pp, "ep": ep, "cp": cp,
                "sequence_parallel": sequence_parallel, "recompute": recompute, "attention_impl": attention_impl,
                "dropout": dropout, "context": seq, "batch": micro_batch}
    if zero_impl != "paper":
        settings["zero_impl"] = zero_impl
    if precision != "mixed":
        settings["precision"] = precision
    if optimizer_in_backward:
        settings["optimizer_in_backward"] = True
    settings.update(step_settings(loss, offload, grad_buffers))
    return MemoryReport(model, "training", parts, dp * tp * pp * cp, settings, trainable_params=n_params,
                        activations=activations)


LOSS_NOTES = {"full": "fp32 cross-entropy", "chunked": "chunked cross-entropy (its bf16 logits)",
              "fused": "fused linear cross-entropy"}


def step_settings(loss: str, offload: bool, grad_buffers: str) -> dict:
    """The step's conventions, printed with every training estimate."""
    return {"loss": loss, "offload_activations": offload, "grad_buffers": grad_buffers}


def at_peak(parts: tuple[MemoryPart, ...], moment: Moment) -> tuple[MemoryPart, ...]:
    """The parts as one GPU holds them at the step's peak (timeline.py): its gradients and activations then."""
    held = {"gradients": moment.gradients, "activations": moment.activations}
    return tuple(replace(part, per_gpu=held[part.name], note=f"{part.note}; at the step's peak, {moment.name}")
                 if part.name in held else part for part in parts)


def optimizer_note(states: ModelStates, precision: str | None) -> str:
    """What the optimizer part holds: its bytes, the master weights or not (precision None: adapters, which have
    none), the paged moments."""
    note = f"{states.optimizer:g} bytes per parameter" + {"mixed": " (fp32 master weights included)",
                                                          "pure": " (pure precision: no master weights)"}.get(
                                                              precision or "", "")
    if states.paged:
        note += (f"; {states.paged:g} of them paged (CUDA unified memory, outside the GPU's budget: bitsandbytes "
                 "pages them to the host under pressure)")
    return note


PROFILES = {"megatron": "Megatron profile", "transformers": "transformers profile (what its modeling code saves)"}
DEEPSPEED_GATHERED_BYTES = 4  # stage3.py estimate_zero3_model_states_mem_needs: 4 x largest_layer_params
DEEPSPEED_FP32_GRADIENTS = 4  # the fp32 gradient partition DeepSpeed keeps beside the 16-bit gradients


def deepspeed_partition(states: ModelStates, stage: int, dp: int) -> ModelStates:
    """Per-device model states as DeepSpeed implements ZeRO (deepspeed/runtime/zero/stage_1_and_2.py and stage3.py,
    their estimate_zero{2,3}_model_states_mem_needs without offload). Stage 2: the 16-bit weights whole, and over
    the dp ranks the 16-bit gradients, an fp32 gradient partition and the optimizer (master weights included):
    2P + 18P/N for bf16 AdamW. Stage 3: weights, the fp32 gradients and the optimizer over the ranks, 18P/N, plus
    the largest layer gathered whole (added by training_memory). Stages 0 and 1 follow the paper."""
    if stage == 2:
        return ModelStates(states.weights, (states.gradients + DEEPSPEED_FP32_GRADIENTS) / dp, states.optimizer / dp)
    if stage == 3:
        return ModelStates(states.weights / dp, DEEPSPEED_FP32_GRADIENTS / dp, states.optimizer / dp)
    return zero_partition(states, stage, dp)


def largest_layer(params: ParamCount) -> int:
    """Parameters of the largest single weight DeepSpeed gathers at once: the token embedding, an untied output
    layer, or the largest linear matrix of a layer (one expert's)."""
    rows = {r.component: r.per_layer for r in params.group_rows(None)}
    return max(rows.get("embed.token", 0), rows.get("lm_head", 0), largest_matrix(params))


def largest_head(params: ParamCount) -> int:
    """Parameters of the output layer's weight (the token embedding when tied)."""
    rows = {r.component: r.per_layer for r in params.group_rows(None)}
    return rows.get("lm_head", 0) or (rows.get("embed.token", 0) if params.model.tied_embeddings else 0)


def largest_matrix(params: ParamCount) -> int:
    """Parameters of the largest linear matrix of a layer (one expert's)."""
    model = params.model
    return max((d_in * d_out for g in model.groups for shapes in linear_shapes(g.layer, model.d_model).values()
                for d_in, d_out in shapes), default=0)


def adapter_memory(model: ModelSpec, params: ParamCount, seq: int, micro_batch: int, states: ModelStates, zero: int,
                   dp: int, tp: int, pp: int, ep: int, sequence_parallel: bool, recompute: str, attention_impl: str,
                   dropout: bool, adapters: Adapters, framework: str = "megatron", virtual_stages: int = 1,
                   loss: str = "full", offload: bool = False, grad_buffers: str = "persistent",
                   cp: int = 1) -> MemoryReport:
    """LoRA / QLoRA: the frozen base (its bytes per parameter averaged over the most loaded stage's share), the
    adapters' weights, gradients and optimizer states (ZeRO over dp), the activations of full training (an upper
    bound: a frozen layer without an adapter need not keep its input), and QLoRA's bf16 copy of the largest
    linear weight that a layer dequantizes at a time."""
    refuse_training(model, framework, adapters.method)
    trainable = lora_params(model, adapters.rank, adapters.targets)
    if adapters.method == "qlora":
        quantized = quantized_params(params)
        base, constants = nf4_bytes(params, quantized, adapters.double_quant)
        base_note = (f"frozen base: linear layers in NF4 with {constants * 8 / quantized:.3f} bits of constants per "
                     f"weight{' (double quantization)' if adapters.double_quant else ''}, the rest in bf16")
    else:
        base = params.total * DTYPE_BITS[adapters.base_dtype] / 8
        base_note = f"frozen base in {adapters.base_dtype}"
    stages = stage_params(params, pp)
    share = max((dense / tp + experts / (tp * ep)) for dense, experts in stages) / params.total
    base_per_gpu = base * share / (dp * cp if zero >= 3 else 1)
    local = zero_partition(states, zero, dp * cp)
    adapter_per_gpu = trainable / (tp * pp)
    if framework == "transformers":  # what transformers and PEFT save under LoRA, as measured (hf_lora)
        activations = lora_activations(model, adapters.targets, adapters.rank, adapters.adapter_dtype, seq, micro_batch,
                                       {"framework": framework, "attention_impl": attention_impl,
                                        "recompute": recompute, "context": seq, "batch": micro_batch})
        what = "what the frozen base and the adapters save (measured)"
    else:
        activations = training_activations(model, seq, micro_batch, tp, pp, sequence_parallel, recompute,
                                           attention_impl, dropout, framework, virtual_stages, loss, offload, cp)
        what = "as full training (an upper bound), the adapters' own tensors not counted"
    parts = [
        MemoryPart("weights", base + trainable * states.weights, base_per_gpu + adapter_per_gpu * local.weights,
                   f"{base_note}; {trainable:,} adapter parameters (rank {adapters.rank} on "
                   f"{', '.join(adapters.targets)}) at {states.weights:g} bytes"),
        MemoryPart("gradients", trainable * states.gradients, adapter_per_gpu * local.gradients,
                   f"adapters only, {states.gradients:g} bytes per parameter"),
        MemoryPart("optimizer", trainable * states.optimizer, adapter_per_gpu * (local.optimizer - local.paged),
                   "adapters only, " + optimizer_note(states, None)),
        MemoryPart("activations", activations.bytes, activations.bytes,
                   f"{PROFILES[framework]}, {attention_impl} attention, recomputation {recompute}: {what}"
                   + ("; the layers' saved tensors offloaded to host memory" if offload else ""),
                   estimate=True),
    ]
    if grad_buffers == "freed":
        per_layer = adapter_per_gpu * local.gradients / model.n_layers  # spread evenly over the layers they adapt
        parts = list(at_peak(tuple(parts), step_peak(activations.phases, activations.tokens,
                                                     [per_layer] * model.n_layers, 0.0, per_layer * model.n_layers)))
    if adapters.method == "qlora":
        widest = max(d_in * d_out for g in model.groups
                     for name, shapes in linear_shapes(g.layer, model.d_model).items() if name != "experts"
                     for d_in, d_out in shapes)
        parts.append(MemoryPart("dequantization", widest * 2, widest * 2 / tp,
                                "the largest linear weight dequantized to bf16 for its matmul, one at a time",
                                estimate=True))
    settings = {"finetune": adapters.method, "lora_rank": adapters.rank, "lora_targets": ",".join(adapters.targets),
                "adapter_bytes_per_param": states.per_param, "zero": zero, "dp": dp, "tp": tp, "pp": pp, "ep": ep, "cp": cp,
                "sequence_parallel": sequence_parallel, "recompute": recompute, "attention_impl": attention_impl,
                "dropout": dropout, "context": seq, "batch": micro_batch, **step_settings(loss, offload, grad_buffers)}
    return MemoryReport(model, "training", tuple(parts), dp * tp * pp * cp, settings, trainable_params=trainable,
                        activations=activations)
