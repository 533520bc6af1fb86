"""Serving memory: weights, the KV cache, and the working set of one engine step, split over tensor-parallel GPUs;
and engine profiles that answer what an engine reports at start-up.

Without an engine profile the KV cache is the one of `batch` sequences of `context` tokens and the working set is
that of one forward step: at most `max_batched_tokens` tokens at once (what engines cap a step to; vLLM's default on
GPUs of 70 GiB and more), plus the fp32 logits of each sequence's last token.

`vllm` (vLLM's start-up accounting, vllm/worker/worker.py determine_num_available_blocks, as in the log of vLLM
issue #10511): the KV cache is what is left of gpu_memory_utilization x the card once the weights, the memory
outside PyTorch (CUDA context, cuBLAS and NCCL workspaces: measured in that issue) and the activation peak of its
profiling step are taken. The peak is the larger of the forward pass over max_num_batched_tokens tokens and the
sampler's top-k/top-p pass over the logits of max_num_seqs sequences (the profiling step samples every sequence
with top-k and top-p; vLLM V1 profiles its sampler otherwise and may reserve less). The capacity in tokens is a
whole number of 16-token blocks, and the concurrency is that capacity over the context.

`llamacpp` (llama.cpp's context, src/llama-context.cpp and its graph allocator): the KV cache of n_ctx tokens in f16,
the compute buffer the worst-case graph of one n_ubatch-token micro-batch needs, and the output buffer of one
sequence's fp32 logits. The compute buffer is the largest of three moments of that graph, in f32 per token of the
micro-batch: the attention (without flash attention: every head's K x Q product over the whole context, the softmax
running in place, the f32 mask, the micro-batch's Q, K and V, and four n_embd activations), the gated MLP (its three
n_ff tensors and four n_embd ones, beside the mask, which every layer reads, at 2 bytes per key) and the output
layer (the logits of every token of the micro-batch, and two n_embd tensors). Flash attention keeps no K x Q
product, so the MLP or the output layer sets the size. Measured with llama.cpp 0c1e570 (the copy llama-cpp-python
0.3.36 vendors) on the CPU, on GGUF files of Llama-3-8B's and Mistral-7B's widths: equal to the 0.01 MiB printed, with
and without flash attention, n_ctx 1,024 to 32,768 and n_ubatch 128 to 2,048 (tests/test_serving_memory.py). The
log of an older llama.cpp for Mistral-7B-v0.2 (fedora-copr/logdetective PR #106: 164 and 2,144 MiB at n_ctx 2,048
and 32,768) is 12 MiB below, exactly the f32 Q, K and V that version did not keep beside K x Q. Where n_ff is near
2 x n_embd the allocator packs the MLP's tensors tighter than their sum: up to 22% less, measured.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import ModelSpec
from .recurrent import live_elements, refuse_recurrent
from ..units import GIB, human_bytes
from .dtypes import DTYPE_BITS, whole_bytes
from .formats import RECIPE_DESCRIPTIONS, RECIPES, WEIGHT_FORMATS
from .kv import KVCache, kv_bytes_per_gpu, kv_cache
from .memory import MemoryPart, MemoryReport, model_weight_bytes, per_param_bytes
from .params import ParamCount
from .stages import stage_kv_bytes, stage_weight_bytes

DEFAULT_MAX_BATCHED_TOKENS = 8192  # vLLM `serve` on GPUs of >= 70 GiB (vllm/engine/arg_utils.py, get_batch_defaults)
VLLM_BLOCK_SIZE = 16  # tokens per KV block (vLLM's default block_size on CUDA)
# Memory outside PyTorch per GPU, as vLLM logs it (issue #10511, Llama-3-8B on an H100 80GB): 1.79 GiB on one GPU,
# 3.58 GiB per GPU at TP2 (NCCL's buffers and a second context); taken as that for any larger tp.
VLLM_NON_TORCH = {1: 1.79 * GIB, 2: 3.58 * GIB}
# Bytes per logit of the sampler's torch top-k/top-p pass in a profiling step (vllm/model_executor/layers/sampler.py
# _apply_top_k_top_p, and V1's topk_topp_sampler): the fp32 logits, their sorted values and int64 order, the softmax
# and its cumulative sum, the logits scattered back, and two boolean masks: 4 + 4 + 8 + 4 + 4 + 4 + 1 + 1.
SAMPLER_BYTES_PER_LOGIT = 30


# CUDA graphs: vLLM 0.6 (this profile's version) captures them after sizing the KV cache, in the memory
# gpu_memory_utilization leaves over (its log: "CUDA graphs can take additional 1~3 GiB memory per GPU"); vLLM 0.21
# and later estimate them first and take them from the KV cache (gpu_worker.py: "CUDA graph memory profiling is
# enabled", "Estimated CUDA graph memory: ... GiB total"), an estimate its own issues find off by large factors
# (vLLM #45178, #50780). Given, they come off the KV cache.
VLLM_CUDA_GRAPHS = ("not in the budget: vLLM 0.6 captures them after sizing the KV cache, in what --gpu-util leaves "
                    "(1-3 GiB, its log says); later versions take their estimate from the KV cache: give it with "
                    "--cuda-graphs")
VLLM_MAX_NUM_SEQS = 256  # vLLM's max_num_seqs of that version (V1 raised it to 1024 on GPUs of >= 70 GiB)


def vllm_batch_defaults(gpu_memory: float, gpu_name: str) -> tuple[int, int]:
    """max_num_batched_tokens as vLLM `serve` sets it for a card (arg_utils.py, get_batch_defaults: 8192 on GPUs of
    at least 70 GiB other than the A100, else 2048), and max_num_seqs as the profile's version (256)."""
    if gpu_memory >= 70 * GIB and "a100" not in gpu_name.lower():
        return 8192, VLLM_MAX_NUM_SEQS
    return 2048, VLLM_MAX_NUM_SEQS


def _activation_dtype(weight_dtype: str) -> str:
    """Quantised weights still compute in 16 bits; fp32 models in fp32."""
    return "fp32" if weight_dtype == "fp32" else "bf16"


def _live_elements(layer, d_model: int) -> int:
    """Elements per token alive inside one layer: residual in and out, q/k/v (and an output gate), attention output,
    MLP inner; a recurrent mixer's (recurrent.live_elements) in place of the attention's (beside it, both)."""
    att, mlp, moe, mixer = layer.attention, layer.mlp, layer.moe, layer.mixer
    mixing = live_elements(mixer) if mixer else 0
    if att:
        mixing += att.n_heads * att.qk_head_dim + att.n_kv_heads * (att.qk_head_dim + att.v_head_dim) \
            + att.n_heads * att.v_head_dim * (2 if att.output_gate else 1)
    if mlp is None:
        return 2 * d_model + mixing
    d_ff = moe.d_ff if moe else mlp.d_ff
    inner = (2 if mlp.gated else 1) * d_ff * (moe.top_k if moe else 1)
    return 2 * d_model + mixing + inner


def step_working_set(model: ModelSpec, tokens: int, sequences: int, weight_dtype: str) -> int:
    """Bytes alive in one forward step (all GPUs together): the widest layer's live tensors for `tokens` tokens
    (attention scores fused, as FlashAttention and the engines' kernels do) and fp32 logits of each sequence's last
    token."""
    act_bits = DTYPE_BITS[_activation_dtype(weight_dtype)]
    widest = max(_live_elements(g.layer, model.d_model) for g in model.groups)
    return whole_bytes(tokens * widest, act_bits) + sequences * model.vocab_size * 4


def _weights_part(params: ParamCount, weight_dtype: str, tp: int) -> MemoryPart:
    weights, constants, kept = model_weight_bytes(params, weight_dtype)
    note = f"{params.total:,} parameters in {weight_dtype}"
    if weight_dtype in RECIPES:
        note = (f"{params.total - kept:,} parameters in {RECIPE_DESCRIPTIONS[weight_dtype]}, "
                f"{(weights - kept * 4) * 8 / (params.total - kept):.4g} bits each on average, {kept:,} in f32")
    elif weight_dtype in WEIGHT_FORMATS:
        bits, _, other, description = WEIGHT_FORMATS[weight_dtype]
        note = (f"{params.total - kept:,} parameters in {description} ({bits:.4g} bits each), {kept:,} in "
                f"{'bf16' if other == 16 else 'f32'}")
    elif kept:
        note = (f"{params.total - kept:,} parameters of the linear layers in {weight_dtype}, {kept:,} (embeddings, "
                "output layer, norms, biases, routers) in bf16")
    if constants:
        note += f"; int4 groups of 128 with a fp16 scale and a 4-bit zero point ({human_bytes(constants)})"
    return MemoryPart("weights", weights, weights / tp, note)


def _has_mla(model: ModelSpec) -> bool:
    return any(g.layer.attention and g.layer.attention.mla for g in model.groups)


def _mla_note(model: ModelSpec, tp: int, mla_cache: str) -> str:
    if tp > 1 and mla_cache == "latent" and _has_mla(model):
        return "; the MLA latent is one head, held whole by every TP rank"
    return ""


def _cache_note(cache: KVCache, tokens: str) -> str:
    """What the KV part holds: tokens of K and V, and a recurrent model's state per sequence (not per token)."""
    kv = f"{tokens} in {cache.dtype}, {cache.bytes_per_token:,} bytes per token"
    if cache.image_bytes_per_sequence:
        kv += (f", and the images' K and V in the cross-attention layers, {cache.image_bytes_per_sequence:,} bytes "
               "per sequence")
    if not cache.state_elements:
        return kv
    state = (f"a constant state of {cache.state_bytes_per_sequence:,} bytes per sequence in {cache.dtype} (conv and "
             "recurrent states of the recurrent layers, whatever the context)")
    return state if not cache.bytes_per_token else f"{kv}, and {state}"


def serving_memory(model: ModelSpec, params: ParamCount, context: int, batch: int = 1, weight_dtype: str = "bf16",
                   kv_dtype: str = "bf16", max_batched_tokens: int = DEFAULT_MAX_BATCHED_TOKENS, tp: int = 1,
                   mla_cache: str = "latent", pp: int = 1, ep: int = 1, images: int = 0) -> MemoryReport:
    """Weights, the KV cache of `batch` sequences of `context` tokens (and of `images` images each, where layers
    cross-attend to them) and one step's working set, over `tp` GPUs;
    with `pp` pipeline stages, a GPU of the stage holding the most (formulas.stages: its layers' weights and KV
    cache, the embedding on the first stage, the head on the last); with `ep` expert-parallel GPUs (tp and pp 1),
    attention data-parallel over them, as vLLM's --enable-expert-parallel with --data-parallel-size and DeepSeek's
    deployment (DeepSeek-V3 sec. 3.4): each GPU holds the weights but 1/ep of the routed experts, and the KV cache
    and working set of its share of the sequences."""
    cache = kv_cache(model, context, batch, kv_dtype, mla_cache, images)
    local = -(-batch // ep)  # the sequences of the GPU holding the most
    step = min(local * context, max_batched_tokens)
    activations = step_working_set(model, step, local, weight_dtype)
    weights = _weights_part(params, weight_dtype, tp)
    kv = MemoryPart("kv_cache", cache.bytes, kv_bytes_per_gpu(model, cache, tp),
                    _cache_note(cache, f"{batch} x {context:,} tokens") + _mla_note(model, tp, mla_cache))
    if pp > 1:
        stage_weights = [w / tp for w in stage_weight_bytes(params, weight_dtype, pp)]
        stage_kv = stage_kv_bytes(model, cache, tp, pp)
        heaviest = max(range(pp), key=lambda s: stage_weights[s] + stage_kv[s])
        placed = f"; stage {heaviest + 1} of {pp}, the most loaded"
        weights = replace(weights, per_gpu=stage_weights[heaviest], note=weights.note + placed)
        kv = replace(kv, per_gpu=stage_kv[heaviest], note=kv.note + placed)
    if ep > 1:
        per_param = per_param_bytes(params, weight_dtype)
        experts = sum(r.total for r in params.rows if r.component == "moe.experts") * per_param("moe.experts")
        weights = replace(weights, per_gpu=weights.bytes - experts + experts / ep,
                          note=weights.note + f"; the routed experts split over {ep} GPUs, the rest on each")
        kv = replace(kv, per_gpu=kv_cache(model, context, local, kv_dtype, mla_cache, images).bytes,
                     note=kv.note + f"; {local:,} sequence{'s' if local > 1 else ''} per GPU (data-parallel attention)")
    parts = (
        weights,
        kv,
        MemoryPart("activations", activations * ep, activations / tp,
                   f"one step of {step:,} tokens (at most --max-batched-tokens): the widest layer's live tensors, "
                   "plus fp32 logits of each sequence's last token; attention scores fused", estimate=True),
    )
    settings = {"weight_dtype": weight_dtype, "kv_dtype": kv_dtype, "context": context, "batch": batch,
                "max_batched_tokens": max_batched_tokens, "tp": tp}
    for name, value in (("pp", pp), ("ep", ep)):
        if value > 1:
            settings[name] = value
    if _has_mla(model):
        settings["mla_cache"] = mla_cache
    if images:
        settings["images"] = images
    return MemoryReport(model, "serve", parts, tp * pp * ep, settings)


def vllm_memory(model: ModelSpec, params: ParamCount, gpu_memory: float, gpu_util: float, context: int,
                max_batched_tokens: int, max_num_seqs: int, weight_dtype: str = "bf16", kv_dtype: str = "bf16",
                tp: int = 1, mla_cache: str = "latent", cuda_graphs: int = 0) -> MemoryReport:
    """What vLLM reserves per GPU and the KV cache it is left with (see the module docstring); `cuda_graphs`: the
    bytes per GPU its CUDA graphs take from the KV cache (VLLM_CUDA_GRAPHS)."""
    refuse_recurrent(model, "engine vllm", "its profile sizes a KV cache in tokens", "engine none")
    weights = _weights_part(params, weight_dtype, tp)
    non_torch = VLLM_NON_TORCH[min(tp, 2)]
    forward = step_working_set(model, max_batched_tokens, 0, weight_dtype)
    hidden = whole_bytes(max_batched_tokens * model.d_model, DTYPE_BITS[_activation_dtype(weight_dtype)])
    sampler = hidden + max_num_seqs * model.vocab_size * SAMPLER_BYTES_PER_LOGIT
    peak = max(forward, sampler) / tp
    budget = gpu_memory * gpu_util
    kv = max(budget - weights.per_gpu - non_torch - peak - cuda_graphs, 0.0)
    per_token = kv_bytes_per_gpu(model, kv_cache(model, 1, 1, kv_dtype, mla_cache), tp)
    capacity = int(kv // (per_token * VLLM_BLOCK_SIZE)) * VLLM_BLOCK_SIZE if per_token else 0
    parts = (
        weights,
        MemoryPart("non_torch", non_torch * tp, non_torch, "CUDA context, cuBLAS and NCCL workspaces, as vLLM logs "
                   "them (issue #10511: 1.79 GiB at TP1, 3.58 GiB per GPU at TP2)", estimate=True),
        MemoryPart("activations", peak * tp, peak, f"the profiling step's peak: {max_batched_tokens:,} tokens over "
                   f"{max_num_seqs:,} sequences, or the sampler's top-k/top-p pass over their logits "
                   f"({SAMPLER_BYTES_PER_LOGIT} bytes per logit), whichever is larger", estimate=True),
        MemoryPart("cuda_graphs", cuda_graphs * tp, cuda_graphs, "as given (--cuda-graphs), taken from the KV cache"
                   if cuda_graphs else VLLM_CUDA_GRAPHS),
        MemoryPart("kv_cache", kv * tp, kv, f"the rest of {gpu_util:g} x {human_bytes(gpu_memory)}: {capacity:,} "
                   f"tokens in {VLLM_BLOCK_SIZE}-token blocks of {kv_dtype}, {per_token:,.0f} bytes per token per GPU, "
                   f"{capacity / context:,.2f}x concurrency at {context:,} tokens" + _mla_note(model, tp, mla_cache)),
    )
    settings = {"engine": "vllm", "gpu_memory_bytes": gpu_memory, "gpu_util": gpu_util, "weight_dtype": weight_dtype,
                "kv_dtype": kv_dtype, "context": context, "max_batched_tokens": max_batched_tokens,
                "max_num_seqs": max_num_seqs, "block_size": VLLM_BLOCK_SIZE, "tp": tp}
    if cuda_graphs:
        settings["cuda_graph_memory"] = cuda_graphs
    return MemoryReport(model, "serve", parts, tp, settings, capacity_tokens=capacity,
                        max_concurrency=capacity / context)


LLAMACPP_UBATCH = 512  # llama.cpp's default n_ubatch


def llamacpp_compute_buffer(model: ModelSpec, n_ctx: int, n_ubatch: int, flash_attn: bool) -> int:
    """Bytes of llama.cpp's compute buffer for the worst-case micro-batch (see the module docstring): the largest of
    the attention, the MLP (a MoE layer's top-k experts at once) and the output layer, f32 throughout."""
    ubatch = min(n_ubatch, n_ctx)
    d = model.d_model
    attention = [g.layer.attention for g in model.groups]
    heads = max(a.n_heads for a in attention)
    qkv = max(a.n_heads * a.qk_head_dim + a.n_kv_heads * (a.qk_head_dim + a.v_head_dim) for a in attention)
    d_ff = max((g.layer.moe.d_ff * g.layer.moe.top_k if g.layer.moe else g.layer.mlp.d_ff) for g in model.groups)
    mask = 2 * n_ctx
    mlp = 4 * (3 * d_ff + 4 * d) + mask
    output = 4 * model.vocab_size + 8 * d
    per_token = max(mlp, output)
    if not flash_attn:
        per_token = max(per_token, 4 * heads * n_ctx + 4 * n_ctx + 4 * qkv + 16 * d)
    return ubatch * per_token


def llamacpp_memory(model: ModelSpec, params: ParamCount, n_ctx: int, n_ubatch: int = LLAMACPP_UBATCH,
                    flash_attn: bool = True, weight_dtype: str = "bf16", kv_dtype: str = "fp16") -> MemoryReport:
    """What llama.cpp allocates for one context of n_ctx tokens (see the module docstring)."""
    refuse_recurrent(model, "engine llamacpp", "its compute buffer was measured on attention models", "engine none")
    cache = kv_cache(model, n_ctx, 1, kv_dtype)
    compute = llamacpp_compute_buffer(model, n_ctx, n_ubatch, flash_attn)
    output = model.vocab_size * 4
    parts = (
        _weights_part(params, weight_dtype, 1),
        MemoryPart("kv_cache", cache.bytes, cache.bytes, f"n_ctx {n_ctx:,} tokens in {kv_dtype}, "
                   f"{cache.bytes_per_token:,} bytes per token"),
        MemoryPart("compute_buffer", compute, compute, f"the graph of one {min(n_ubatch, n_ctx):,}-token micro-batch: "
                   "the largest of the MLP's f32 tensors with the mask, the output layer's logits"
                   + (" (flash attention)" if flash_attn else ", and every head's f32 K x Q over the context"),
                   estimate=True),
        MemoryPart("output_buffer", output, output, "fp32 logits of one sequence's last token"),
    )
    settings = {"engine": "llamacpp", "n_ctx": n_ctx, "n_ubatch": n_ubatch, "flash_attn": flash_attn,
                "weight_dtype": weight_dtype, "kv_dtype": kv_dtype}
    return MemoryReport(model, "serve", parts, 1, settings, capacity_tokens=n_ctx, max_concurrency=1.0)
