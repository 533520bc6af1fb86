"""The Python API of serving speed: `speed(model, ...)`, a roofline estimate of the prefill of a prompt and of one
decode step (formulas.speed), and the plan searches: `plan` (training layouts) and `serve_plan` (serving layouts),
checked like the other calls of llmcalc.api. The hardware comes as numbers (peak
FLOP/s, memory and link bytes/s); the CLI reads them from a GPU preset.

May import: llmcalc.errors, llmcalc.model, llmcalc.api, llmcalc.checks, llmcalc.formulas.
"""

from __future__ import annotations

import math

from .api import DTYPES, MLA_CACHES, SPARSE, WEIGHT_FORMATS, check_choice, check_whole, model_of
from .checks import check_context_parallel, check_weight_format
from .errors import LlmcalcError
from .model import ModelSpec


def _rate(name: str, value, required: bool = True) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise LlmcalcError(f"{name}: must be a finite number above 0, got {value!r}")


def _fraction(name: str, value, of: str = "of the peak") -> None:
    """A rate that is a share of something (an efficiency of the peak, a GPU's memory): above 0, at most 1."""
    _rate(name, value)
    if value > 1:
        raise LlmcalcError(f"{name}: a fraction {of}, at most 1, got {value!r}")


def speed(model: str | ModelSpec, *, peak_flops: float, bandwidth: float, batch: int = 1, prompt: int = 512,
          context: int | None = None, dtype: str | None = None, kv_dtype: str = "bf16", tp: int = 1,
          link_bandwidth: float | None = None, compute_efficiency: float = 1.0, memory_efficiency: float = 1.0,
          comm_efficiency: float = 1.0, mla_cache: str = "latent", gpu_name: str = "", compute_dtype: str = "bf16",
          source: str = "", pp: int = 1, ep: int = 1, gpus_per_node: int = 8, network_bandwidth: float = 50e9,
          sparse: str = "topk"):
    """Roofline time of the prefill of `prompt` tokens and of one decode step at position `context` (default: the
    token after the prompt) for `batch` sequences, per GPU of `peak_flops` FLOP/s and `bandwidth` bytes/s, over `tp`
    tensor-parallel GPUs joined by links of `link_bandwidth` bytes/s each way. Efficiencies scale the peaks (1.0:
    the results are bounds). `gpu_name`, `compute_dtype` (whose peak `peak_flops` is) and `source` are shown. `pp`
    pipeline stages or `ep` expert-parallel GPUs lay the replica out as plan --mode serve does (formulas.speed
    layout_phase): sends and all-to-alls over the links within a node of `gpus_per_node`, else over
    `network_bandwidth` bytes/s. `sparse`: what a DSA layer attends to (topk or dense, formulas/indexer.py)."""
    from .formulas.indexer import has_indexer
    from .formulas.params import count_params
    from .formulas.speed import Roof, speed as roofline

    spec = model_of(model)
    dtype = dtype or spec.weights_format or "bf16"
    check_choice("dtype", dtype, DTYPES + WEIGHT_FORMATS)
    check_weight_format(spec, dtype)
    check_choice("kv_dtype", kv_dtype, DTYPES)
    check_choice("mla_cache", mla_cache, MLA_CACHES)
    check_choice("sparse", sparse, SPARSE)
    for name, value in (("batch", batch), ("prompt", prompt), ("context", context), ("tp", tp), ("pp", pp),
                        ("ep", ep), ("gpus_per_node", gpus_per_node)):
        check_whole(name, value, allow_none=name == "context")
    _rate("network_bandwidth", network_bandwidth)
    if pp * ep > 1:
        from .checks import check_serving_layout

        check_serving_layout(spec, "none", tp, pp, ep)
    context = context or prompt + 1
    _rate("peak_flops", peak_flops)
    _rate("bandwidth", bandwidth)
    _rate("link_bandwidth", link_bandwidth, required=False)
    for name, value in (("compute_efficiency", compute_efficiency), ("memory_efficiency", memory_efficiency),
                        ("comm_efficiency", comm_efficiency)):
        _fraction(name, value)
    if tp > 1:
        from .checks import check_tp

        check_tp(spec, tp)
        if link_bandwidth is None:
            raise LlmcalcError("link_bandwidth: tensor parallelism needs the GPUs' link bandwidth (--gpu names one)")
    link = link_bandwidth * comm_efficiency if link_bandwidth else None
    network = network_bandwidth * comm_efficiency
    if ep > 1 and ep <= gpus_per_node and link is None:
        raise LlmcalcError("link_bandwidth: expert parallelism within a node needs the GPUs' link bandwidth (--gpu "
                           "names one)")
    fabric = link if ep <= gpus_per_node else network
    roof = Roof(peak_flops * compute_efficiency, bandwidth * memory_efficiency, link, tp, ep, fabric)
    between = link if tp * pp <= gpus_per_node and link else network
    settings = {"gpu": gpu_name, "peak_flops": peak_flops, "bandwidth": bandwidth, "link_bandwidth": link_bandwidth,
                "tp": tp, "pp": pp, "ep": ep, "batch": batch, "prompt": prompt, "context": context, "weight_dtype": dtype,
                "kv_dtype": kv_dtype, "compute_efficiency": compute_efficiency,
                "memory_efficiency": memory_efficiency, "comm_efficiency": comm_efficiency,
                "compute_dtype": compute_dtype, "source": source}
    if pp * ep > 1:
        settings.update(gpus_per_node=gpus_per_node, network_bandwidth=network_bandwidth)
    if has_indexer(spec):
        settings["sparse_attention"] = sparse
    return roofline(spec, count_params(spec), batch, prompt, context, dtype, kv_dtype, roof, mla_cache, settings, pp,
                    between, sparse)


def plan(model: str | ModelSpec, *, n_gpus: int, gpu_memory: float, peak_flops: float, link_bandwidth: float,
         network_bandwidth: float, seq: int | None = None, global_batch: int = 512, gpus_per_node: int = 8,
         compute_efficiency: float = 1.0, optimizer: str = "adamw", top: int = 10, cp: int | None = None):
    """Training plans for `n_gpus` GPUs of `gpu_memory` bytes: every TP x CP x PP x DP x EP x ZeRO x recomputation x
    micro-batch layout (formulas.plan.candidates) whose memory (estimate_memory, Megatron profile, sequence
    parallelism with TP) fits, fastest step first: (plans evaluated, the `top` best, the number that fit). `cp`
    fixes the context-parallel degree (None: searched)."""
    from .api import estimate_memory
    from .formulas.activations import training_activations
    from .formulas.params import count_params
    from .formulas.plan import Cluster, search, work
    from .formulas.recurrent import refuse_training

    spec = model_of(model)
    try:  # a model whose training memory is not modelled: say why once, not "nothing fits"
        refuse_training(spec)
    except LlmcalcError as exc:
        raise LlmcalcError(f"plan: {exc}") from None
    seq = seq or spec.training.context or spec.context_length
    for name, value in (("n_gpus", n_gpus), ("seq", seq), ("global_batch", global_batch),
                        ("gpus_per_node", gpus_per_node), ("top", top)):
        check_whole(name, value, allow_none=False)
    for name, value in (("gpu_memory", gpu_memory), ("peak_flops", peak_flops), ("link_bandwidth", link_bandwidth),
                        ("network_bandwidth", network_bandwidth)):
        _rate(name, value)
    _fraction("compute_efficiency", compute_efficiency)
    params = count_params(spec)

    def report(tp, pp, dp, ep, zero, recompute, micro_batch):
        return estimate_memory(spec, "training", tp=tp, pp=pp, dp=dp, ep=ep, zero=zero, recompute=recompute,
                               batch=micro_batch, context=seq, sequence_parallel=tp > 1, optimizer=optimizer,
                               params=params)

    # A layout's memory is its model states, which depend on (tp, pp, dp x cp, ep, zero) only, plus its activations, which
    # depend on (tp, pp, recompute, micro_batch, cp) only (formulas.training.training_memory): each is computed once per
    # distinct key and the sum is the one estimate_memory forms (tests/test_plan.py holds every candidate to it).
    states: dict[tuple, float] = {}
    activations: dict[tuple, float] = {}

    def memory_of(tp, pp, dp, ep, zero, recompute, micro_batch, cp=1) -> float:
        # the states shard over dp x cp ranks alike (training_memory): one key for every split of that product
        key, act_key = (tp, pp, dp * cp, ep, zero), (tp, pp, recompute, micro_batch, cp)
        if key not in states:
            try:
                parts = report(tp, pp, dp * cp, ep, zero, "none", 1).parts
                states[key] = sum(part.per_gpu for part in parts if part.name != "activations")
            except LlmcalcError:  # a layout the model refuses (TP against its KV heads, ...)
                states[key] = math.inf
        if states[key] == math.inf:
            return math.inf
        if act_key not in activations:  # the activation part estimate_memory forms, without its other parts
            activations[act_key] = training_activations(spec, seq, micro_batch, tp, pp, tp > 1, recompute, "flash",
                                                        False, "megatron", 1, "full", False, cp).bytes
        return states[key] + activations[act_key]

    cluster = Cluster(n_gpus, peak_flops * compute_efficiency, gpu_memory, link_bandwidth, network_bandwidth,
                      gpus_per_node)
    if cp is not None:
        check_whole("cp", cp, allow_none=False)
        check_context_parallel(spec, cp, seq, "flash", "megatron")
    evaluated, fitting = search(work(spec, params, seq, global_batch), cluster, memory_of, cp=cp)
    return evaluated, fitting[:top], len(fitting)


def serve_plan(model: str | ModelSpec, *, n_gpus: int, gpu_memory: float, peak_flops: float, bandwidth: float,
               link_bandwidth: float | None, concurrency: int = 1, context: int | None = None, prompt: int = 512,
               dtype: str | None = None, kv_dtype: str = "bf16", gpu_util: float = 0.9, gpus_per_node: int = 8,
               rank: str = "throughput", compute_efficiency: float = 1.0, memory_efficiency: float = 1.0,
               top: int = 10, network_bandwidth: float = 50e9):
    """Serving layouts for `concurrency` sequences of `context` tokens on `n_gpus` GPUs: tensor parallelism within a
    node times pipeline stages times replicas (formulas.plan.serve_layouts), and for a MoE model expert parallelism
    with data-parallel attention times replicas (expert_layouts; its all-to-alls over the links within a node, else
    over `network_bandwidth`), those whose serving memory
    (estimate_memory: weights, the KV cache of the replica's batch, one step's working set, on the most loaded
    stage) fits `gpu_util` of a GPU, ranked by decode throughput or by latency (the time per output token) from the
    roofline (formulas.speed.phase; with pipeline stages, formulas.speed.pipelined_seconds, the sends between stages
    over the links within a node, else over `network_bandwidth` bytes/s). Returns (layouts evaluated, the `top`
    best, the number that fit)."""
    from .api import estimate_memory
    from .checks import tp_problem
    from .formulas.params import count_params
    from .formulas.plan import SERVE_RANKS, ServePlan, expert_layouts, serve_layouts
    from .formulas.speed import Roof, layout_phase

    spec = model_of(model)
    dtype = dtype or spec.weights_format or "bf16"
    check_choice("dtype", dtype, DTYPES + WEIGHT_FORMATS)
    check_weight_format(spec, dtype)
    check_choice("kv_dtype", kv_dtype, DTYPES)
    check_choice("rank", rank, tuple(SERVE_RANKS))
    for name, value in (("n_gpus", n_gpus), ("concurrency", concurrency), ("prompt", prompt),
                        ("gpus_per_node", gpus_per_node), ("top", top)):
        check_whole(name, value, allow_none=False)
    check_whole("context", context)
    context = context or spec.context_length
    for name, value in (("gpu_memory", gpu_memory), ("peak_flops", peak_flops), ("bandwidth", bandwidth)):
        _rate(name, value)
    _rate("link_bandwidth", link_bandwidth, required=False)
    _rate("network_bandwidth", network_bandwidth)
    _fraction("gpu_util", gpu_util, "of the GPU's memory")
    for name, value in (("compute_efficiency", compute_efficiency), ("memory_efficiency", memory_efficiency)):
        _fraction(name, value)
    params = count_params(spec)
    evaluated, plans = 0, []
    for tp, pp, replicas, batch in serve_layouts(n_gpus, gpus_per_node, concurrency, spec.n_layers):
        evaluated += 1
        if tp_problem(spec, tp) or (tp > 1 and link_bandwidth is None):
            continue
        memory = estimate_memory(spec, "serve", dtype=dtype, kv_dtype=kv_dtype, context=context, batch=batch, tp=tp,
                                 pp=pp, params=params).per_gpu
        if memory > gpu_memory * gpu_util:
            continue
        roof = Roof(peak_flops * compute_efficiency, bandwidth * memory_efficiency, link_bandwidth, tp)
        # with pipeline stages: the replica's batch in min(pp, batch) micro-batches, each stage taking them in turn
        between = link_bandwidth if tp * pp <= gpus_per_node and link_bandwidth else network_bandwidth
        ttft = layout_phase(spec, params, 1, prompt, prompt, False, dtype, kv_dtype, roof, pp=pp,
                            between=between).seconds
        tpot = layout_phase(spec, params, batch, 1, context, True, dtype, kv_dtype, roof, pp=pp,
                            between=between).seconds
        plans.append(ServePlan(tp, replicas, batch, memory, ttft, tpot, concurrency / tpot, pp))
    experts = min((g.layer.moe.n_experts for g in spec.groups if g.layer.moe), default=0)
    for ep, replicas, batch in expert_layouts(n_gpus, experts, concurrency):
        evaluated += 1
        memory = estimate_memory(spec, "serve", dtype=dtype, kv_dtype=kv_dtype, context=context, batch=batch, ep=ep,
                                 params=params).per_gpu
        if memory > gpu_memory * gpu_util or (link_bandwidth is None and ep <= gpus_per_node):
            continue
        fabric = link_bandwidth if ep <= gpus_per_node else network_bandwidth
        roof = Roof(peak_flops * compute_efficiency, bandwidth * memory_efficiency, link_bandwidth, 1, ep, fabric)
        # every GPU of the replica prefills a prompt of its own at once, and decodes its share of the batch
        prefill = layout_phase(spec, params, 1, prompt, prompt, False, dtype, kv_dtype, roof)
        decode = layout_phase(spec, params, batch, 1, context, True, dtype, kv_dtype, roof)
        plans.append(ServePlan(1, replicas, batch, memory, prefill.seconds, decode.seconds,
                               concurrency / decode.seconds, 1, ep))
    plans.sort(key=SERVE_RANKS[rank])
    return evaluated, plans[:top], len(plans)
