"""The Python API: one call per question (parameters, FLOPs, KV cache, memory, comparison, sweep). Each takes a
model name, alias, spec path, config.json path or ModelSpec, checks its options like the CLI does, and returns
the result objects the CLI renders.

May import: llmcalc.errors, llmcalc.units, llmcalc.model, llmcalc.sources, llmcalc.checks, llmcalc.formulas, llmcalc.results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import LlmcalcError
from .model import MAX_WHOLE, WEIGHT_FORMATS, ModelSpec
from .checks import (check_choice, check_images, check_memory_images, check_mode_arguments, check_serving_layout,
                     check_context_parallel, check_step, check_tp, check_training, check_transformers_profile,
                     check_weight_format, image_flops, training_states)
from .sources import load

if TYPE_CHECKING:  # for annotations only: each call imports the formulas it uses, so start-up stays light
    from .formulas.flops import FlopCount
    from .formulas.training_flops import TrainingCompute
    from .formulas.kv import KVCache
    from .formulas.memory import MemoryReport
    from .formulas.params import ParamCount
    from .results import Comparison, Sweep, SweepPoint

DTYPES = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
# checkpoint formats of the weights (formulas/formats.py), for serving
ATTENTION = ("causal", "full")
SPARSE = ("topk", "dense")  # a DSA layer's attention: its indexer's top-k keys, or every key (formulas/indexer.py)
ACTIVE = {"both-embeddings": True, "no-input-embedding": False}
MLA_CACHES = ("latent", "decompressed")
OPTIMIZERS = ("adamw", "sgd", "adafactor", "adam8bit", "paged-adam8bit")  # formulas.memory.OPTIMIZERS
PRECISIONS = ("mixed", "pure")
RECOMPUTE = ("none", "selective", "full")
ATTENTION_IMPLS = ("flash", "sdpa", "eager")
FRAMEWORKS = ("megatron", "transformers")
MODES = ("serve", "training")
MODE_ALIASES = {"inference": "serve"}
ENGINES = ("none", "vllm", "llamacpp")
VARIABLES = ("context", "batch", "dtype", "n_layers")
VARIABLE_ALIASES = {"seq": "context"}  # the name of earlier releases

def _shown(value) -> str:
    """A value for an error message, a huge integer cut short (its repr may exceed Python's 4,300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit integer"
    return repr(value)


def check_whole(name: str, value, allow_none: bool = True) -> None:
    """`value` a whole number from 1 to 2^53 (None allowed where `allow_none`), else an error naming `name`."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LlmcalcError(f"{name}: must be a whole number >= 1, got {value!r}")
    if value > MAX_WHOLE:  # every figure of numbers up to 2^53 still converts to a float
        raise LlmcalcError(f"{name}: must be a whole number at most 2^53 ({MAX_WHOLE:,}), got {_shown(value)}")


def model_of(model: str | ModelSpec, overrides: Sequence[str] = ()) -> ModelSpec:
    """A ModelSpec as is, or the named model loaded with the key=value overrides."""
    if isinstance(model, ModelSpec):
        if overrides:
            return load(model.origin, tuple(model.overrides) + tuple(overrides))
        return model
    if not isinstance(model, str):
        raise LlmcalcError(f"a model is a name, a path or a ModelSpec, got {type(model).__name__}")
    return load(model, tuple(overrides))


def count_params(model: str | ModelSpec, active: str | bool = "both-embeddings",
                 overrides: Sequence[str] = ()) -> ParamCount:
    """Every parameter by component and layer group; `active` says what the active count holds besides the
    top-k experts: "both-embeddings" (Mixtral's 12.9B) or "no-input-embedding" (the gpt-oss card)."""
    from .formulas.params import count_params as count

    if not isinstance(active, bool):
        check_choice("active", active, ACTIVE)
        active = ACTIVE[active]
    return count(model_of(model, overrides), active)


def count_flops(model: str | ModelSpec, seq: int | None = None, batch: int = 1, attention: str = "causal",
                decode: bool = False, include_other: bool = True, overrides: Sequence[str] = (), images: int = 0,
                image_size: tuple[int, int] | None = None, sparse: str = "topk") -> FlopCount:
    """Forward FLOPs over `seq` tokens (one decode step at position `seq` with `decode`); `seq` defaults to the
    model's published pre-training context, else its context length. A vision-language model's `images` per
    sequence (of image_size, height x width) add their tokens to `seq` and, in a prefill, their encoding. `sparse`:
    what a DSA layer attends to (topk or dense, formulas/indexer.py)."""
    from .formulas.flops import count_flops as count

    check_whole("seq", seq)
    check_whole("batch", batch, False)
    check_choice("attention", attention, ATTENTION)
    check_choice("sparse", sparse, SPARSE)
    spec = model_of(model, overrides)
    seq = seq or spec.training.context or spec.context_length
    if images or image_size:
        return image_flops(spec, seq, batch, attention, decode, include_other, images, image_size)
    return count(spec, seq, batch, attention, decode, include_other=include_other, sparse=sparse)


def training_flops(model: str | ModelSpec, tokens: float | None = None, seq: int | None = None,
                   attention: str = "causal", recompute: str = "none") -> TrainingCompute:
    """Training compute (forward + backward matmul FLOPs) over `tokens` (default: the published figure)."""
    from .formulas.training_flops import training_compute
    from .formulas.params import count_params as count

    check_whole("seq", seq)
    check_choice("attention", attention, ATTENTION)
    check_choice("recompute", recompute, RECOMPUTE)
    spec = model_of(model)
    tokens = tokens if tokens is not None else spec.training.tokens
    if tokens is None:
        raise LlmcalcError(f"{spec.name} publishes no training token count: give tokens")
    return training_compute(spec, count(spec).active, seq or spec.training.context or spec.context_length, tokens,
                            attention, recompute)


def kv_cache(model: str | ModelSpec, context: int | None = None, batch: int = 1, dtype: str = "bf16",
             mla_cache: str = "latent", images: int = 0) -> KVCache:
    """The KV cache of `batch` sequences of `context` tokens (default: the model's context length; `images` per
    sequence: held by the layers that cross-attend to them, Mllama's)."""
    from .formulas.kv import kv_cache as cache

    check_whole("context", context)
    check_whole("batch", batch, False)
    check_choice("dtype", dtype, DTYPES)
    check_choice("mla_cache", mla_cache, MLA_CACHES)
    spec = model_of(model)
    if images:  # a count of images needs a vision tower
        check_images(spec, images, None)
    return cache(spec, context or spec.context_length, batch, dtype, mla_cache, images)


def estimate_memory(model: str | ModelSpec, mode: str = "serve", *, dtype: str | None = None,
                    kv_dtype: str = "bf16", context: int | None = None, batch: int | None = None, mla_cache: str = "latent",
                    max_batched_tokens: int | None = None, engine: str = "none", gpu_memory: float | None = None,
                    gpu_name: str = "", gpu_util: float = 0.9, max_num_seqs: int | None = None, cuda_graph_memory: int = 0,
                    ubatch: int = 512, flash_attn: bool = True,
                    grad_dtype: str = "bf16", optimizer: str = "adamw",
                    optimizer_bytes: float | None = None, zero: int = 0, dp: int = 1, tp: int = 1, pp: int = 1,
                    ep: int = 1, sequence_parallel: bool = False, recompute: str = "none", seq: int | None = None,
                    micro_batch: int | None = None, attention_impl: str | None = None, dropout: bool = False,
                    framework: str = "megatron", virtual_stages: int = 1, loss: str = "full",
                    offload_activations: bool = False, grad_buffers: str = "persistent", cp: int = 1,
                    finetune: str = "full", lora_rank: int = 8, lora_targets: Sequence[str] | str = ("q", "v"),
                    adapter_dtype: str = "fp32", zero_impl: str = "paper", precision: str = "mixed",
                    optimizer_in_backward: bool = False, params: ParamCount | None = None,
                    images: int = 0) -> MemoryReport:
    """Memory per GPU for serving (weights, KV cache, one step's working set; or what an engine reserves, with
    `engine="vllm"` on a GPU of `gpu_memory` bytes) or training (model states, activations), with the options of
    `llmcalc memory`. `mode="inference"` is the same as `"serve"`. `context` is the tokens per sequence and `batch`
    the sequences at once in either mode (training: the sequence length and the micro-batch; `seq` and `micro_batch`
    are their older names, still read). `images` per sequence: cached by layers that cross-attend to them (Mllama)."""
    from .formulas.params import count_params as count
    from .formulas.serving import (DEFAULT_MAX_BATCHED_TOKENS, llamacpp_memory, serving_memory, vllm_batch_defaults,
                                   vllm_memory)
    from .formulas.training import training_memory

    mode = MODE_ALIASES.get(mode, mode)
    check_choice("mode", mode, MODES)
    arguments = dict(locals())
    check_choice("engine", engine, ENGINES)
    spec = model_of(model)
    if dtype is None:  # serving a checkpoint: its own storage; training starts from 16-bit weights
        dtype = (spec.weights_format or "bf16") if mode == "serve" else "bf16"
    check_choice("dtype", dtype, DTYPES + (WEIGHT_FORMATS if mode == "serve" else ()))
    check_weight_format(spec, dtype)
    check_memory_images(spec, images, mode, engine)
    for name, value in (("kv_dtype", kv_dtype), ("grad_dtype", grad_dtype)):
        check_choice(name, value, DTYPES)
    check_choice("mla_cache", mla_cache, MLA_CACHES)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_choice("precision", precision, PRECISIONS)
    check_choice("recompute", recompute, RECOMPUTE)
    check_choice("framework", framework, FRAMEWORKS)
    attention_impl = attention_impl or ("sdpa" if framework == "transformers" else "flash")
    check_choice("attention_impl", attention_impl, ATTENTION_IMPLS)
    check_choice("zero", zero, (0, 1, 2, 3))
    for name, value in (("context", context), ("max_batched_tokens", max_batched_tokens), ("seq", seq),
                        ("max_num_seqs", max_num_seqs), ("batch", batch), ("micro_batch", micro_batch)):
        check_whole(name, value)
    for name, value in (("dp", dp), ("tp", tp), ("pp", pp), ("ep", ep), ("cp", cp)):
        check_whole(name, value, False)
    for new, new_value, old, old_value in (("context", context, "seq", seq), ("batch", batch, "micro_batch",
                                                                                micro_batch)):
        if old_value is not None and mode == "serve":
            raise LlmcalcError(f"{old}: the training name of {new}; serving reads {new}")
        if old_value is not None and new_value is not None and old_value != new_value:
            raise LlmcalcError(f"{old} and {new}: one quantity under two names, given {old_value} and {new_value}; "
                               f"give {new}")
    check_mode_arguments(mode, arguments, estimate_memory.__kwdefaults__)
    batch = batch or micro_batch or 1
    if isinstance(cuda_graph_memory, bool) or not isinstance(cuda_graph_memory, int) or cuda_graph_memory < 0:
        raise LlmcalcError(f"cuda_graph_memory: bytes per GPU, a whole number >= 0, got {cuda_graph_memory!r}")
    if not (isinstance(gpu_util, (int, float)) and 0 < gpu_util <= 1):
        raise LlmcalcError(f"gpu_util: must be a fraction above 0 and at most 1, got {gpu_util!r}")
    params = params or count(spec)
    seq = context or seq  # training: the sequence length asked for, else the published pre-training context
    context = context or spec.context_length
    if tp > 1:
        check_tp(spec, tp)
    if mode == "serve" and pp * ep > 1:
        check_serving_layout(spec, engine, tp, pp, ep)
    if mode == "serve" and engine == "llamacpp":
        if tp > 1:
            raise LlmcalcError("engine llamacpp: one device per context here; allowed: tp 1")
        check_whole("ubatch", ubatch, False)
        return llamacpp_memory(spec, params, context, ubatch, flash_attn, dtype, kv_dtype)
    if mode == "serve" and engine == "vllm":
        if not gpu_memory:
            raise LlmcalcError("engine vllm: give the GPU (--gpu or --gpu-mem): vLLM sizes its KV cache from it")
        tokens, seqs = vllm_batch_defaults(gpu_memory, gpu_name)
        return vllm_memory(spec, params, gpu_memory, gpu_util, context, max_batched_tokens or tokens,
                           max_num_seqs or seqs, dtype, kv_dtype, tp, mla_cache, cuda_graph_memory)
    if cuda_graph_memory:
        raise LlmcalcError("cuda_graph_memory: vLLM's CUDA graphs; allowed with engine vllm only")
    if mode == "serve":
        return serving_memory(spec, params, context, batch, dtype, kv_dtype,
                              max_batched_tokens or DEFAULT_MAX_BATCHED_TOKENS, tp, mla_cache, pp, ep, images)
    check_training(spec, tp, pp, dp, ep, framework, finetune, cp)
    check_context_parallel(spec, cp, seq or spec.training.context or context, attention_impl, framework)
    check_whole("virtual_stages", virtual_stages, False)
    if virtual_stages > 1 and (pp == 1 or spec.n_layers // (pp * virtual_stages) < 1):
        raise LlmcalcError(f"virtual_stages: {virtual_stages} chunks per stage need pp > 1 and at least one layer per "
                           f"chunk ({spec.n_layers} layers over {pp} stages)")
    check_step(loss, offload_activations, grad_buffers, framework, pp, virtual_stages)
    if framework == "transformers":
        check_transformers_profile(spec, tp, pp, sequence_parallel, recompute, attention_impl, dropout, finetune,
                                   lora_targets)
    check_choice("zero_impl", zero_impl, ("paper", "deepspeed"))
    if zero_impl == "deepspeed" and zero not in (2, 3):
        raise LlmcalcError(f"zero_impl deepspeed: DeepSpeed's estimators cover ZeRO stages 2 and 3, got zero {zero}; "
                           "allowed: zero 2 or 3 (stages 0 and 1 follow the paper)")
    check_whole("lora_rank", lora_rank, False)
    states, adapters = training_states(spec, finetune, dtype, grad_dtype, optimizer, optimizer_bytes, precision,
                                       lora_rank, lora_targets, adapter_dtype, optimizer_in_backward)
    return training_memory(spec, params, seq or spec.training.context or context, batch, states, zero, dp, tp,
                           pp, ep, sequence_parallel, recompute, attention_impl, dropout, adapters, zero_impl,
                           framework, virtual_stages, loss, optimizer_in_backward, precision, offload_activations,
                           grad_buffers, cp)


def compare(models: Sequence[str | ModelSpec], seq: int | None = None, context: int | None = None,
            attention: str = "causal", kv_dtype: str = "bf16", active: str | bool = "both-embeddings",
            sparse: str = "topk") -> Comparison:
    """Counts, forward FLOPs per token (at `seq`, default each model's pre-training context) and the KV cache of
    one sequence (at `context`, default each model's context length) of every model."""
    from .results import Comparison

    if len(models) < 2:
        raise LlmcalcError("compare needs at least two models")
    specs = [model_of(m) for m in models]
    return Comparison(tuple(count_params(m, active) for m in specs),
                      tuple(count_flops(m, seq, 1, attention, sparse=sparse) for m in specs),
                      tuple(kv_cache(m, context, 1, kv_dtype) for m in specs))


def sweep(models: Sequence[str | ModelSpec], variable: str, values: Sequence, *, context: int | None = None,
          batch: int = 1, dtype: str = "bf16", kv_dtype: str = "bf16", attention: str = "causal",
          mla_cache: str = "latent", seq: int | None = None, sparse: str = "topk") -> Sweep:
    """KV cache, inference memory and forward FLOPs per token of each model at each value of `variable` (context,
    batch, dtype or n_layers); the others stay at `context` (tokens per sequence, default: the model's context
    length; `seq` is its older name), `batch`, `dtype` (weights), `kv_dtype` (the KV cache, bf16 by default as in
    `estimate_memory`; a dtype sweep sets both) and the spec's layers."""
    from .formulas.indexer import has_indexer
    from .results import Sweep

    variable = VARIABLE_ALIASES.get(variable, variable)
    check_choice("variable", variable, VARIABLES)
    if seq is not None and context is not None and seq != context:
        raise LlmcalcError(f"seq and context: one quantity under two names, given {seq} and {context}; give context")
    seq = context or seq
    if not models:
        raise LlmcalcError("sweep needs at least one model")
    if not values:
        raise LlmcalcError("sweep needs at least one value")
    for value in values:
        if variable == "dtype":
            check_choice("dtype", value, DTYPES)
        else:
            check_whole(variable, value, False)
    specs = [model_of(m) for m in models]
    rows = []
    for value in values:
        row = []
        for spec in specs:
            options = {"context": seq, "batch": batch, "dtype": dtype, "kv_dtype": kv_dtype}
            if variable == "dtype":
                options["dtype"] = options["kv_dtype"] = value
            elif variable == "n_layers":
                spec = model_of(spec, layers_overrides(spec, value))
            else:
                options[variable] = value
            row.append(_point(spec, options, attention, mla_cache, sparse))
        rows.append(tuple(row))
    settings = {"context": seq or "each model's context length", "batch": batch, "dtype": dtype, "kv_dtype": kv_dtype,
                "attention": attention, "mla_cache": mla_cache}
    if any(has_indexer(spec) for spec in specs):  # DSA's convention, said where it changes a figure
        settings["sparse_attention"] = sparse
    settings.pop(variable, None)
    if variable == "dtype":
        settings.pop("kv_dtype")
    return Sweep(variable, tuple(values), tuple(specs), tuple(rows), settings)


def layers_overrides(spec: ModelSpec, n_layers: int) -> list[str]:
    """The --set overrides that give a model n_layers layers: n_layers alone for a uniform stack; where the spec
    lists its layers in groups (DeepSeek-V3's 3 dense + 58 MoE, Gemma 2's local/global pairs) the earlier groups
    stay and the last one grows or shrinks (by whole repeats of its pattern). An encoder-decoder's encoder keeps
    its layers."""
    from .sources import resolved

    data = resolved(spec.origin, spec.overrides)[2]
    groups = data.get("layers")
    if not groups:
        return [f"n_layers={n_layers}"]
    def size(group: dict) -> int:
        return group["repeat"] * len(group["pattern"]) if "pattern" in group else group["count"]

    last = len(groups) - 1
    before = sum(size(group) for group in groups[:last])
    rest = n_layers - before
    if "pattern" in groups[last]:
        period = len(groups[last]["pattern"])
        if rest < period or rest % period:
            allowed = ", ".join(str(before + period * k) for k in range(1, 5))
            raise LlmcalcError(f"n_layers={n_layers}: {spec.name} ends in a repeated pattern of {period} layers"
                               f"{f' after {before} others' if before else ''}; allowed: {allowed}, ...")
        return [f"n_layers={n_layers}", f"layers[{last}].repeat={rest // period}"]
    if rest < 1:
        raise LlmcalcError(f"n_layers={n_layers}: {spec.name}'s last layer group follows {before} other layers; "
                           f"allowed: {before + 1} or more")
    return [f"n_layers={n_layers}", f"layers[{last}].count={rest}"]


def _point(spec: ModelSpec, options: dict, attention: str, mla_cache: str, sparse: str) -> SweepPoint:
    from .results import SweepPoint

    length = options["context"] or spec.context_length
    cache = kv_cache(spec, length, options["batch"], options["kv_dtype"], mla_cache)
    memory = estimate_memory(spec, dtype=options["dtype"], kv_dtype=options["kv_dtype"], context=length,
                             batch=options["batch"], mla_cache=mla_cache)
    forward = count_flops(spec, length, 1, attention, sparse=sparse)
    return SweepPoint(spec, cache.bytes, memory.per_gpu, forward.per_token, length > spec.context_length)


def parse_sweep(text: str) -> tuple[str, list]:
    """'context=1k..128k' -> ('context', [1024, 2048, ..., 131072]): A..B doubles from A up to B, A..B:S steps by
    S, commas list values; k/m/g are binary (1k = 1024, as context lengths are). dtype takes names. 'seq' is the
    older name of 'context'."""
    variable, sep, spec = text.partition("=")
    variable = variable.strip().replace("-", "_")
    if not sep or not spec.strip():
        raise LlmcalcError(f"--vary {text!r}: expected VARIABLE=VALUES, e.g. context=1k..128k, batch=1,8,64, "
                           f"dtype=fp32,bf16,fp8,int4 or n_layers=16..64:16")
    variable = VARIABLE_ALIASES.get(variable, variable)
    check_choice("--vary", variable, VARIABLES)
    if variable == "dtype":
        names = [v.strip().lower() for v in spec.split(",")]
        values = list(DTYPES) if names == ["all"] else names
        for name in values:
            check_choice("--vary dtype", name, DTYPES)
        return variable, values
    values: list[int] = []
    for item in spec.split(","):
        item = item.strip()
        if ".." in item:
            low_text, _, high_text = item.partition("..")
            high_text, _, step_text = high_text.partition(":")
            low, high = _size(low_text, text), _size(high_text, text)
            step = _size(step_text, text) if step_text else None
            if high < low:
                raise LlmcalcError(f"--vary {text!r}: the range {item} runs backwards")
            value = low
            while value <= high:
                values.append(value)
                value = value + step if step else value * 2
                if len(values) > 1000:  # checked while enumerating: 1..1e12:1 must not run for hours first
                    raise LlmcalcError(f"--vary {text!r}: more than 1,000 values")
        else:
            values.append(_size(item, text))
    return variable, values


def _size(item: str, text: str) -> int:
    """'128k' -> 131072; a whole number >= 1 (llmcalc.units.parse_whole), else an error naming the --vary text."""
    from .units import parse_whole

    try:
        value = parse_whole(item)
    except ValueError as exc:
        raise LlmcalcError(f"--vary {text!r}: {exc}") from None
    if value < 1:
        raise LlmcalcError(f"--vary {text!r}: {item.strip()!r} is not a whole number >= 1")
    return value
