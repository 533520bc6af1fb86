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
    sheet = Sheet(title, [("#", "right"), ("tp", "right"), ("pp", "right"), ("dp", "right"), ("ep", "right"),
                          ("zero", "right"), ("recompute", "left"), ("micro-batch", "right"), ("memory/GPU", "right"),
                          ("step", "right"), ("MFU", "right")])
    for rank, p in enumerate(plans, 1):
        sheet.add_row(str(rank), str(p.tp), str(p.pp), str(p.dp), str(p.ep), str(p.zero), p.recompute,
                      str(p.micro_batch), human_bytes(p.memory_per_gpu), f"{p.step_seconds:.3g} s",
                      f"{_mfu(p, s):.1%}")
    best = plans[0]
    parts = [("compute", best.compute_seconds), ("pipeline bubble", best.bubble_seconds),
             ("TP all-reduces", best.tp_seconds), ("DP gradients", best.dp_seconds), ("EP all-to-all", best.ep_seconds),
             ("PP sends", best.pp_seconds)]
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
    return {"tp": plan.tp, "pp": plan.pp, "dp": plan.dp, "ep": plan.ep, "zero": plan.zero,
            "recompute": plan.recompute, "micro_batch": plan.micro_batch,
            "memory_per_gpu": whole_bytes(plan.memory_per_gpu), "step_seconds": plan.step_seconds,
            "mfu": _mfu(plan, settings),
            "seconds": {"compute": plan.compute_seconds, "bubble": plan.bubble_seconds, "tp": plan.tp_seconds,
                        "dp": plan.dp_seconds, "ep": plan.ep_seconds, "pp": plan.pp_seconds}}


def plan_json(model, evaluated: int, fitting: int, plans: list, settings: dict) -> dict[str, Any]:
    return {"name": model.name, **overrides_json(model), "settings": settings, "evaluated": evaluated,
            "fitting": fitting, "plans": [_plan_json(p, settings) for p in plans],
            "conventions": {"step_seconds": "a bound at compute_efficiency 1.0; nothing overlapped"}}


PLAN_FIELDS = ["rank", "tp", "pp", "dp", "ep", "zero", "recompute", "micro_batch", "memory_per_gpu", "step_seconds",
               "mfu"]


def plan_records(model, evaluated: int, fitting: int, plans: list, settings: dict) -> tuple[list[str], list[dict]]:
    return PLAN_FIELDS, [{"rank": i, **{k: v for k, v in _plan_json(p, settings).items() if k in PLAN_FIELDS}}
                         for i, p in enumerate(plans, 1)]
