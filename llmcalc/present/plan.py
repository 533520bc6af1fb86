"""`llmcalc plan`: the training layouts that fit, fastest step first, with what each step's time is made of."""

from __future__ import annotations

from typing import Any

from ..units import decimal_bytes, human, human_bytes, whole_bytes
from .common import model_title, overrides_json
from .sheet import Block, Note, Sheet


def _mfu(plan, settings: dict) -> float:
    return plan.model_flops / (settings["n_gpus"] * settings["peak_flops"] * plan.step_seconds)


def plan_table(model, evaluated: int, fitting: int, plans: list, settings: dict) -> list[Block]:
    s = settings
    title = (f"{model_title(model)}: training on {s['n_gpus']:,} x {s['gpu']}, context {s['context']:,}, global "
             f"batch {s['global_batch']:,}")
    if not plans:
        return [Note(title, style="bold"), Note(f"None of the {evaluated:,} layouts fits in the GPUs' memory: add "
                                                "GPUs, shorten --context or use a smaller model.")]
    sheet = Sheet(title, [("#", "right"), ("tp", "right"), ("cp", "right"), ("pp", "right"), ("dp", "right"),
                          ("ep", "right"), ("zero", "right"), ("recompute", "left"), ("micro-batch", "right"), ("memory/GPU", "right"),
                          ("step", "right"), ("MFU", "right")])
    for rank, p in enumerate(plans, 1):
        sheet.add_row(str(rank), str(p.tp), str(p.cp), str(p.pp), str(p.dp), str(p.ep), str(p.zero), p.recompute,
                      str(p.micro_batch), human_bytes(p.memory_per_gpu), f"{p.step_seconds:.3g} s",
                      f"{_mfu(p, s):.1%}")
    best = plans[0]
    parts = [("compute", best.compute_seconds), ("pipeline bubble", best.bubble_seconds),
             ("TP all-reduces", best.tp_seconds), ("DP gradients", best.dp_seconds), ("EP all-to-all", best.ep_seconds),
             ("PP sends", best.pp_seconds), ("CP ring", best.cp_seconds)]
    made = ", ".join(f"{name} {seconds:.3g} s" for name, seconds in parts if seconds)
    bound = "bounds (nothing overlapped, compute at the peak)" if s["compute_efficiency"] == 1.0 else \
        f"at {s['compute_efficiency']:g} of the peak, nothing overlapped"
    notes = [f"{evaluated:,} layouts evaluated, {fitting:,} fit in memory; the best step: {made}.",
             f"Step times are {bound}: {human(s['peak_flops'])} FLOP/s bf16 per GPU, links "
             f"{decimal_bytes(s['link_bandwidth'])}/s within a node of {s['gpus_per_node']}, network "
             f"{decimal_bytes(s['network_bandwidth'])}/s per GPU between nodes.",
             "Memory: `llmcalc memory --mode training` of each layout (Megatron profile, sequence parallelism with "
             f"TP, {s['optimizer']}); MFU: model FLOPs (3 x forward) over the GPUs' peak in the step's time."]
    return [sheet, Note("\n".join(notes))]


def _plan_json(plan, settings: dict) -> dict[str, Any]:
    return {"tp": plan.tp, "cp": plan.cp, "pp": plan.pp, "dp": plan.dp, "ep": plan.ep, "zero": plan.zero,
            "recompute": plan.recompute, "micro_batch": plan.micro_batch,
            "memory_per_gpu": whole_bytes(plan.memory_per_gpu), "step_seconds": plan.step_seconds,
            "mfu": _mfu(plan, settings),
            "seconds": {"compute": plan.compute_seconds, "bubble": plan.bubble_seconds, "tp": plan.tp_seconds,
                        "dp": plan.dp_seconds, "ep": plan.ep_seconds, "pp": plan.pp_seconds, "cp": plan.cp_seconds}}


def plan_json(model, evaluated: int, fitting: int, plans: list, settings: dict) -> dict[str, Any]:
    return {"name": model.name, **overrides_json(model), "settings": settings, "evaluated": evaluated,
            "fitting": fitting, "plans": [_plan_json(p, settings) for p in plans],
            "conventions": {"step_seconds": "a bound at compute_efficiency 1.0; nothing overlapped"}}


PLAN_FIELDS = ["rank", "tp", "cp", "pp", "dp", "ep", "zero", "recompute", "micro_batch", "memory_per_gpu", "step_seconds",
               "mfu"]


def plan_records(model, evaluated: int, fitting: int, plans: list, settings: dict) -> tuple[list[str], list[dict]]:
    return PLAN_FIELDS, [{"rank": i, **{k: v for k, v in _plan_json(p, settings).items() if k in PLAN_FIELDS}}
                         for i, p in enumerate(plans, 1)]


def serve_plan_table(model, evaluated: int, fitting: int, plans: list, settings: dict) -> list[Block]:
    s = settings
    sequences = f"{s['concurrency']:,} sequence{'s' if s['concurrency'] != 1 else ''}"
    title = (f"{model_title(model)}: serving {sequences} of {s['context']:,} tokens on "
             f"{s['n_gpus']:,} x {s['gpu']}, best {s['rank']} first")
    if not plans:
        return [Note(title, style="bold"), Note(f"None of the {evaluated:,} layouts fits {s['gpu_util']:g} of the "
                                                "GPUs' memory: add GPUs, lower --concurrency or --context, or "
                                                "quantize the weights (--dtype).")]
    moe = model.is_moe  # an ep column only where experts can be split
    sheet = Sheet(title, [("#", "right"), ("tp", "right"), ("pp", "right"), *([("ep", "right")] if moe else []),
                          ("replicas", "right"), ("batch", "right"),
                          ("memory/GPU", "right"), ("TTFT", "right"), ("TPOT", "right"),
                          ("tok/s/seq", "right"), ("tok/s", "right")])
    for rank, p in enumerate(plans, 1):
        sheet.add_row(str(rank), str(p.tp), str(p.pp), *([str(p.ep)] if moe else []), str(p.replicas), str(p.batch),
                      human_bytes(p.memory_per_gpu),
                      f"{p.prefill_seconds * 1e3:.3g} ms", f"{p.decode_seconds * 1e3:.3g} ms",
                      f"{1 / p.decode_seconds:,.0f}", f"{p.tokens_per_second:,.0f}")
    bound = "bounds (compute and memory at their peaks)" if s["compute_efficiency"] == s["memory_efficiency"] == 1 \
        else f"at {s['compute_efficiency']:g} of the peak FLOP/s and {s['memory_efficiency']:g} of the bandwidth"
    notes = [f"{evaluated:,} layouts evaluated (tensor parallelism within a node of {s['gpus_per_node']} x pipeline "
             "stages x replicas" + (", expert parallelism x replicas" if model.is_moe else "")
             + f"), {fitting:,} fit {s['gpu_util']:g} of the GPU's memory.",
             f"Memory: `llmcalc memory` of each replica's batch at --context {s['context']:,} (weights in "
             f"{s['dtype']}, KV cache in {s['kv_dtype']}, one step's working set). Times: `llmcalc speed`'s roofline, "
             f"{bound}: TTFT, the time to first token of one {s['prompt']:,}-token prompt; TPOT, the time per "
             "output token of the replica's batch at the full context; tok/s: every sequence's decode together.",
             "Pipeline stages: the batch in min(pp, batch) micro-batches, each stage taking them in turn; a step "
             "lasts the longer of one micro-batch's pass through every stage (with the sends between them, over "
             f"the node's links, or at {decimal_bytes(s['network_bandwidth'])}/s between nodes) and the busiest "
             "stage's work on all of them.",
             "Expert parallelism (MoE models): attention data-parallel over the ep GPUs, each with its share of the "
             "batch and 1/ep of the routed experts, two all-to-alls of the top-k token copies per MoE layer; TTFT "
             "with every GPU prefilling a prompt of its own."]
    return [sheet, Note("\n".join(notes))]


def _serve_json(plan) -> dict[str, Any]:
    return {"tp": plan.tp, "pp": plan.pp, "ep": plan.ep, "replicas": plan.replicas, "batch": plan.batch,
            "memory_per_gpu": whole_bytes(plan.memory_per_gpu), "ttft_seconds": plan.prefill_seconds,
            "tpot_seconds": plan.decode_seconds, "tokens_per_second_per_sequence": 1 / plan.decode_seconds,
            "tokens_per_second": plan.tokens_per_second}


def serve_plan_json(model, evaluated: int, fitting: int, plans: list, settings: dict) -> dict[str, Any]:
    return {"name": model.name, **overrides_json(model), "settings": settings, "evaluated": evaluated,
            "fitting": fitting, "plans": [_serve_json(p) for p in plans],
            "conventions": {"seconds": "roofline bounds at efficiency 1.0; tensor parallelism's all-reduces as "
                                       "rings over the node's links, without latency"}}


SERVE_PLAN_FIELDS = ["rank", "tp", "pp", "ep", "replicas", "batch", "memory_per_gpu", "ttft_seconds", "tpot_seconds",
                     "tokens_per_second_per_sequence", "tokens_per_second"]


def serve_plan_records(model, evaluated: int, fitting: int, plans: list,
                       settings: dict) -> tuple[list[str], list[dict]]:
    return SERVE_PLAN_FIELDS, [{"rank": i, **_serve_json(p)} for i, p in enumerate(plans, 1)]
