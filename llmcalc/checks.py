"""Option checks that need the model: a parallel layout Megatron-LM can run, LoRA targets the model has, what the
transformers activation profile covers, and a training run's model states. Each failure is one LlmcalcError naming the option and what is allowed.

May import: llmcalc.errors, llmcalc.model, llmcalc.formulas.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import LlmcalcError
from .formulas.recurrent import refuse_training
from .model import ModelSpec


def _allowed(name: str, value, allowed) -> None:
    if value not in allowed:
        raise LlmcalcError(f"{name}: {value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


def check_parallelism(model: ModelSpec, tp: int, pp: int, dp: int, ep: int, cp: int = 1) -> None:
    """A layout Megatron-LM can run: every pipeline stage has a layer; expert parallelism only with experts, over a
    divisor of the experts, carved out of the data-parallel ranks (megatron/core/parallel_state.py: the expert
    groups span etp x ep x edp = tp x cp x dp ranks, with etp = tp)."""
    dp *= cp  # the experts' ranks are carved out of the data- and context-parallel ranks together
    ranks = "dp x cp" if cp > 1 else "dp"
    if pp > model.n_layers:
        raise LlmcalcError(f"pp: {pp} pipeline stages for {model.n_layers} layers; allowed: 1 to {model.n_layers}")
    experts = sorted({g.layer.moe.n_experts for g in model.groups if g.layer.moe})
    if ep > 1 and not experts:
        raise LlmcalcError(f"ep: {model.name} has no experts; allowed: 1")
    for n_experts in experts:
        if n_experts % ep:
            allowed = ", ".join(str(d) for d in range(1, n_experts + 1) if n_experts % d == 0 and dp % d == 0)
            raise LlmcalcError(f"ep: {ep} does not divide the {n_experts} experts; allowed with {ranks} {dp}: "
                               f"{allowed}")
    if dp % ep:
        raise LlmcalcError(f"ep: {ep} expert-parallel ranks must divide the {dp} data-parallel"
                           f"{' x context-parallel' if cp > 1 else ''} ranks they are carved out of; allowed: a "
                           f"divisor of {ranks} (or raise dp)")


def check_choice(name: str, value, allowed) -> None:
    """`value` one of `allowed`, else an error naming `name` and listing what is allowed (every API call's check)."""
    if value not in allowed:
        raise LlmcalcError(f"{name}: {value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


# estimate_memory's arguments that one mode reads and the other does not (the CLI's TRAINING_ONLY and INFERENCE_ONLY)
TRAINING_ARGUMENTS = ("grad_dtype", "optimizer", "optimizer_bytes", "zero", "dp", "sequence_parallel",
                      "recompute", "attention_impl", "dropout", "framework", "virtual_stages", "loss",
                      "offload_activations", "grad_buffers", "cp", "finetune", "lora_rank", "lora_targets",
                      "adapter_dtype", "zero_impl", "precision", "optimizer_in_backward")
SERVING_ARGUMENTS = ("kv_dtype", "mla_cache", "max_batched_tokens", "engine", "gpu_memory", "gpu_name", "gpu_util",
                     "max_num_seqs", "cuda_graph_memory", "ubatch", "flash_attn")


def check_mode_arguments(mode: str, arguments: dict, defaults: dict) -> None:
    """Refuse an argument set away from its default that `mode` does not read: silently ignoring it would answer a
    different question than the one asked (the API's form of the CLI's check_mode_options)."""
    other, names = ("training", TRAINING_ARGUMENTS) if mode == "serve" else ("serve", SERVING_ARGUMENTS)
    for name in names:
        value, default = arguments[name], defaults[name]
        if isinstance(default, tuple):  # a list, or the comma-separated text the CLI passes
            value = tuple(value.split(",")) if isinstance(value, str) else tuple(value)
        if value != default:
            raise LlmcalcError(f"{name}: applies to mode {other} only, got {value!r} with mode {mode}")


def check_serving_layout(model: ModelSpec, engine: str, tp: int, pp: int, ep: int) -> None:
    """Pipeline-parallel and expert-parallel serving are modelled on their own (formulas.stages, serving_memory's
    data-parallel attention), not under an engine's profile; expert parallelism alone (attention data-parallel)."""
    for name, value in (("pp", pp), ("ep", ep)):
        if value > 1 and engine != "none":
            raise LlmcalcError(f"{name}: {'pipeline' if name == 'pp' else 'expert'} parallelism is modelled without "
                               f"an engine profile; allowed with engine {engine}: {name} 1")
    if ep > 1 and (tp > 1 or pp > 1):
        raise LlmcalcError(f"ep: serving expert parallelism runs attention data-parallel over the {ep} GPUs; "
                           "allowed with it: tp 1 and pp 1")
    check_parallelism(model, tp, pp, ep, ep)


def check_training(model: ModelSpec, tp: int, pp: int, dp: int, ep: int, framework: str = "megatron",
                   finetune: str = "full", cp: int = 1) -> None:
    """A model whose training memory is modelled (recurrent layers: Mamba and Mamba-2 under the megatron profile,
    full fine-tuning; formulas.recurrent.refuse_training), on a layout Megatron-LM can run (check_parallelism)."""
    refuse_training(model, framework, finetune)
    check_parallelism(model, tp, pp, dp, ep, cp)


def check_step(loss: str, offload: bool, grad_buffers: str, framework: str, pp: int, virtual_stages: int) -> None:
    """The training step's conventions (formulas/activations.py loss_rows, formulas/timeline.py): their names, and
    the layouts they are modelled for."""
    from .formulas.activations import LOSSES

    check_choice("loss", loss, LOSSES)
    check_choice("grad_buffers", grad_buffers, GRAD_BUFFERS)
    if not isinstance(offload, bool):
        raise LlmcalcError(f"offload_activations: true or false, got {offload!r}")
    if framework == "transformers" and (loss != "full" or offload):
        raise LlmcalcError("framework transformers: measured with its own loss and no offloading; allowed: loss full "
                           "without offload_activations (or framework megatron)")
    if pp > 1 and (offload or grad_buffers == "freed"):
        raise LlmcalcError("offload_activations and grad_buffers freed: modelled for one pipeline stage (1F1B keeps "
                           "every micro-batch's gradients while others run); allowed: pp 1")
    if virtual_stages > 1 and grad_buffers == "freed":
        raise LlmcalcError("grad_buffers freed: needs pp 1, which has no virtual stages")


GRAD_BUFFERS = ("persistent", "freed")


def check_context_parallel(model: ModelSpec, cp: int, seq: int, attention_impl: str, framework: str) -> None:
    """Context parallelism as Megatron-LM runs it: each sequence split into 2 x cp chunks, two per rank (the
    load-balanced causal split of get_batch_on_this_cp_rank), attention over fused kernels that pass K and V
    around a ring (Transformer Engine); attention layers only."""
    if cp == 1:
        return
    if seq % (2 * cp):
        raise LlmcalcError(f"cp: {cp} ranks split each sequence into {2 * cp} equal chunks; the sequence length {seq} "
                           f"is not a multiple of {2 * cp}; allowed: a cp with 2 x cp dividing the context")
    if attention_impl == "eager" or framework == "transformers":
        raise LlmcalcError("cp: context parallelism runs on fused attention kernels (Transformer Engine's ring); "
                           "allowed: framework megatron, attention_impl flash or sdpa")
    if model.is_recurrent:
        raise LlmcalcError(f"cp: context parallelism of {model.mixer_names} layers is not modelled; allowed: cp 1")


def check_transformers_profile(model: ModelSpec, tp: int, pp: int, sequence_parallel: bool, recompute: str,
                               attention_impl: str, dropout: bool, finetune: str = "full",
                               lora_targets: Sequence[str] | str = ("q", "v")) -> None:
    """The transformers profile is what its modeling code saves on one device, as measured: refuse the rest."""
    from .formulas.hf_activations import unsupported
    from .formulas.hf_lora import lora_refused

    reason = unsupported(model, attention_impl)
    if reason:
        raise LlmcalcError(f"framework transformers: {model.name} is not covered ({reason}); allowed: framework "
                           "megatron")
    if tp > 1 or pp > 1 or sequence_parallel:
        raise LlmcalcError("framework transformers: one device's layers (no tp, pp or sequence parallelism); "
                           "allowed: framework megatron for those")
    if recompute == "selective" or dropout:
        raise LlmcalcError("framework transformers: measured without dropout, with no recomputation or with "
                           "gradient checkpointing (full); allowed: recompute none or full, no dropout (or framework "
                           "megatron)")
    if attention_impl == "flash":
        raise LlmcalcError("framework transformers: attention_impl sdpa (its default) or eager")
    if finetune != "full":
        reason = lora_refused(model, attention_impl, lora_target_names(model, lora_targets)) if finetune == "lora" \
            else "QLoRA is not measured under it"
        if not reason and recompute != "none":
            reason = "LoRA is measured without recomputation"
        if reason:
            raise LlmcalcError(f"framework transformers: with finetune {finetune}, {reason}; allowed: framework "
                               "megatron (full training's activations, an upper bound)")


def lora_target_names(model: ModelSpec, targets: Sequence[str] | str) -> tuple[str, ...]:
    """LoRA targets as given ('q,v', 'all-linear' or a sequence), each one a linear layer the model has."""
    from .formulas.finetune import ALL_LINEAR, LINEAR_TARGETS, present_targets

    names = [t.strip() for t in (targets.split(",") if isinstance(targets, str) else targets) if t.strip()]
    if names == ["all-linear"]:
        return present_targets(model, ALL_LINEAR)
    if not names:
        raise LlmcalcError("lora_targets: name at least one linear layer, e.g. q,v or all-linear")
    for name in names:
        _allowed("lora_targets", name, LINEAR_TARGETS + ("all-linear",))
    present = present_targets(model, tuple(names))
    missing = [n for n in names if n not in present]
    if missing:
        have = present_targets(model, LINEAR_TARGETS)
        raise LlmcalcError(f"lora_targets: {model.name} has no {', '.join(missing)} layer; allowed: "
                           f"{', '.join(have)} or all-linear")
    return tuple(dict.fromkeys(names))


def tp_problem(model: ModelSpec, tp: int) -> str | None:
    """Why `tp` tensor-parallel ranks cannot split this model's attention (vLLM and Megatron split query heads evenly,
    and K/V heads either evenly or by replicating each over tp / n_kv_heads ranks) or its recurrent mixers
    (formulas/mixer_tp.py), or None."""
    from .formulas.mixer_tp import mixer_tp_problem

    for group in model.groups:
        if group.layer.mixer is not None and mixer_tp_problem(group.layer.mixer, tp):
            return mixer_tp_problem(group.layer.mixer, tp)
        att = group.layer.attention
        if att is None:
            continue
        if att.n_heads % tp:
            return f"{tp} does not divide the {att.n_heads} attention heads"
        kv = att.n_kv_heads
        if not att.mla and kv % tp and tp % kv:
            return f"{tp} and the {kv} KV heads do not divide one another"
    return None


def check_tp(model: ModelSpec, tp: int) -> None:
    problem = tp_problem(model, tp)
    if problem:
        heads = max(max(g.layer.attention.n_heads if g.layer.attention else 1 for g in model.groups), 256)
        allowed = ", ".join(str(t) for t in range(1, min(heads, 4096) + 1) if tp_problem(model, t) is None)
        raise LlmcalcError(f"tp: {problem}; allowed: {allowed}")


def training_states(model: ModelSpec, finetune: str, dtype: str, grad_dtype: str, optimizer: str,
                    optimizer_bytes: float | None, precision: str, lora_rank: int, lora_targets: Sequence[str] | str,
                    adapter_dtype: str, optimizer_in_backward: bool):
    """(ModelStates, Adapters or None) of a training run: full fine-tuning's states from the dtypes, optimizer and
    precision; LoRA/QLoRA adapters' own, the adapters checked against the model (`lora_rank` checked by api)."""
    from .formulas.finetune import FINETUNES
    from .formulas.memory import model_states, optimizer_state_bytes
    from .formulas.training import Adapters

    _allowed("finetune", finetune, FINETUNES)
    if finetune == "full":
        return model_states(dtype, grad_dtype, optimizer, optimizer_bytes, precision), None
    _allowed("adapter_dtype", adapter_dtype, ("fp32", "bf16", "fp16"))
    if optimizer_in_backward:
        raise LlmcalcError("optimizer_in_backward: adapters' gradients are small already; allowed: finetune full")
    adapters = Adapters(finetune, lora_rank, lora_target_names(model, lora_targets), dtype,
                        adapter_dtype=adapter_dtype)
    # adapters train in their own dtype: no fp32 master copy (PEFT's fp32 adapters need none; bf16 ones, as QLoRA's
    # qlora.py casts them, are updated in place); mixed precision keeps their moments in fp32 (bnb's 32-bit
    # optimizers, as QLoRA's), pure in the adapters' dtype (torch.optim on bf16 adapters, as torchtune)
    moments = optimizer_state_bytes(optimizer, "fp32" if precision == "mixed" else adapter_dtype, "pure")
    return model_states(adapter_dtype, adapter_dtype, optimizer,
                        optimizer_bytes if optimizer_bytes is not None else moments), adapters


def check_weight_format(model: ModelSpec, dtype: str) -> None:
    """A mixed GGUF recipe (formulas.formats.RECIPES) only where its rules are modelled."""
    from .formulas.recipes import RECIPES, recipe_refused

    reason = recipe_refused(model) if dtype in RECIPES else None
    if reason:
        raise LlmcalcError(f"dtype {dtype}: {reason}; allowed: a single type such as {RECIPES[dtype]}")


MAX_IMAGE_SIDE = 2**20  # pixels a side: far past any camera, and small enough that every figure stays exact
MAX_ASPECT = 200  # Qwen2-VL's smart_resize refuses a longer side over 200 times the shorter


def check_images(model: ModelSpec, images: int, image_size: tuple[int, int] | None) -> None:
    """Images need a vision tower; a count of 0 up to 2^53 (a sequence's share of images); a size of whole pixels
    whose aspect ratio the preprocessor accepts (qwen2_vl/image_processing_qwen2_vl.py, smart_resize)."""
    if model.vision is None:
        raise LlmcalcError(f"images: {model.name} has no vision tower (a spec's vision section); allowed: 0")
    if isinstance(images, bool) or not isinstance(images, int) or not 0 <= images <= 2**53:
        raise LlmcalcError(f"images: must be a whole number from 0 to 2^53, got {images!r}")
    if images and model.vision.projector.pool == 0:
        raise LlmcalcError(f"images: {model.name}'s projector pools its {model.vision.grid} x {model.vision.grid} "
                           "patch grid with a kernel of 0 (a grid smaller than the tokens' side), so no image can be "
                           "encoded; allowed: 0")
    if image_size is None:
        if images and model.vision.resize == "smart":
            raise LlmcalcError(f"image_size: {model.name}'s preprocessor sizes each image by its own height and width "
                               "(Qwen2-VL's smart_resize), so the tokens follow them; allowed: an image size, e.g. "
                               "--image-size 1080x1920")
        return
    if (len(image_size) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_IMAGE_SIDE
                                    for v in image_size)):
        raise LlmcalcError(f"image_size: must be (height, width) in whole pixels from 1 to {MAX_IMAGE_SIDE:,}, got "
                           f"{image_size!r}")
    if max(image_size) / min(image_size) > MAX_ASPECT and model.vision.resize == "smart":
        raise LlmcalcError(f"image_size: {image_size[0]}x{image_size[1]} is more than {MAX_ASPECT} times as long as "
                           "it is wide, which the image processor refuses")
    from .formulas.vision import patch_grid

    if model.vision.resize == "longest" and 0 in patch_grid(model.vision, *image_size):
        raise LlmcalcError(f"image_size: {image_size[0]}x{image_size[1]} scaled to fit {model.vision.image_size} "
                           "pixels has a side under one pixel, which the image processor cannot resize")


def check_memory_images(model: ModelSpec, images: int, mode: str, engine: str) -> None:
    """Images in a memory estimate: the K and V that layers cross-attending to them cache (Mllama), serving without
    an engine profile (vLLM's and llama.cpp's sizing of those caches is not modelled); elsewhere images' tokens are
    context."""
    if not images:
        return
    check_images(model, images, None)
    if not model.cross_attends_images:
        raise LlmcalcError(f"images: {model.name}'s images join its sequence; allowed: 0, with their tokens in "
                           "context")
    if mode != "serve" or engine != "none":
        raise LlmcalcError("images: the images' K and V are counted serving without an engine; allowed: mode serve, "
                           "engine none (or 0 images)")


def image_flops(model: ModelSpec, seq: int, batch: int, attention: str, decode: bool, include_other: bool,
                images: int, image_size: tuple[int, int] | None):
    """The forward FLOPs of `seq` text tokens and `images` images per sequence (formulas/vision.py), checked."""
    from .formulas.vision import count_flops_with_images

    check_images(model, images, image_size)
    height, width = image_size or (None, None)
    return count_flops_with_images(model, seq, images, batch, attention, decode, include_other, height, width)


def image_context(model: ModelSpec, context: int, images: int, image_size: tuple[int, int] | None) -> int:
    """Tokens per sequence once `images` images of image_size join `context` text tokens (none join where layers
    cross-attend to the images instead: Mllama's)."""
    from .formulas.vision import image_tokens

    check_images(model, images, image_size)
    height, width = image_size or (None, None)
    return context + (0 if model.cross_attends_images else images * image_tokens(model.vision, height, width))
