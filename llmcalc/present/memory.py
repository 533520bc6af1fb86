"""`llmcalc memory`: the parts of a memory estimate, whole model and per GPU, and the KV cache behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..units import human_bytes, integral, whole_bytes
from .common import model_label, model_title, overrides_json
from .sheet import Block, Note, Sheet

if TYPE_CHECKING:
    from ..formulas.kv import KVCache
    from ..formulas.memory import MemoryReport


def _dtype_bits(dtype: str) -> int:
    from ..formulas.dtypes import DTYPE_BITS

    return DTYPE_BITS[dtype]


def memory_json(report: MemoryReport, cache: KVCache) -> dict[str, Any]:
    parts = {p.name: p for p in report.parts}
    return {
        "name": report.model.name,
        **overrides_json(report.model),
        "mode": report.mode,
        "n_gpus": report.n_gpus,
        "settings": report.settings,
        "parts": [{"name": p.name, "bytes": whole_bytes(p.bytes), "per_gpu": whole_bytes(p.per_gpu), "note": p.note,
                   "estimate": p.estimate} for p in report.parts],
        "weights": {"bytes": whole_bytes(parts["weights"].bytes), "per_gpu": whole_bytes(parts["weights"].per_gpu)},
        **({} if report.mode == "training" else {"kv_cache": {  # training keeps no KV cache
            "bytes": whole_bytes(cache.bytes), "bytes_per_token": integral(cache.bytes_per_token),
            "dtype": cache.dtype, "context": cache.context, "batch": cache.batch, "mla_cache": cache.mla_cache,
            "groups": [{"name": g.name, "n_layers": g.n_layers,
                        "bytes_per_token_per_layer": integral(g.elements_per_token * _dtype_bits(cache.dtype) / 8),
                        "cached_tokens": g.cached_tokens} for g in cache.groups],
            **({"capacity_tokens": report.capacity_tokens} if "engine" in report.settings else {})}}),
        **({"max_concurrency": report.max_concurrency} if "engine" in report.settings else {}),
        "total": {"bytes": whole_bytes(report.total), "per_gpu": whole_bytes(report.per_gpu)},
        **(_training_json(report) if report.mode == "training" else {}),
        "units": {"GB": 10**9, "GiB": 2**30},
    }


def _training_json(report: MemoryReport) -> dict[str, Any]:
    """What a training estimate adds: the trainable parameters and the saved tensors behind the activations."""
    acts = report.activations
    peak = acts.peak
    return {
        "trainable_params": report.trainable_params,
        "activations": {
            "profile": acts.settings["framework"], **{k: v for k, v in acts.settings.items() if k != "framework"},
            "tokens_per_micro_batch": acts.tokens,
            "peak_stage": peak.stage, "in_flight_micro_batches": peak.in_flight,
            "stage_layers": dict(peak.layers), "bytes": whole_bytes(acts.bytes),
            "components": [{"component": r.component, "group": r.group, "bytes_per_token": integral(r.bytes_per_token),
                            "note": r.note} for r in acts.rows],
        },
    }


def memory_table(report: MemoryReport, unit: str = "GiB") -> list[Block]:
    model = report.model
    mode = "serving" if report.mode == "serve" else report.mode
    title = (f"{model_title(model)}: {mode} memory, {human_bytes(report.per_gpu, unit)} per GPU"
             f" on {report.n_gpus} GPU{'s' if report.n_gpus > 1 else ''}")
    table = Sheet(title, [("part", "left"), ("whole model", "right"), ("per GPU", "right"), ("", "left")])
    for part in report.parts:
        label = part.name.replace("_", " ") + (" (estimate)" if part.estimate else "")
        table.add_row(label, human_bytes(part.bytes, unit), human_bytes(part.per_gpu, unit), part.note)
    table.add_section()
    table.add_row("[bold]per GPU[/bold]", "", f"[bold]{human_bytes(report.per_gpu, unit)}[/bold]", "")
    if report.n_gpus > 1:  # on one GPU the job's total is the per-GPU row
        table.add_row(f"all {report.n_gpus:,} GPUs", "", human_bytes(report.total, unit), "replicas included")
    settings = ", ".join(f"{k} {v}" for k, v in report.settings.items())
    notes = [f"Settings: {settings}.", "GB = 10^9 bytes, GiB = 2^30 bytes (--units)."]
    return [table, Note("\n".join(notes))]


MEMORY_FIELDS = ["model", "mode", "n_gpus", "part", "bytes", "per_gpu_bytes", "estimate", "note"]


def memory_records(report: MemoryReport) -> list[dict[str, Any]]:
    """A record per part of a memory estimate, in bytes."""
    return [{"model": model_label(report.model), "mode": report.mode, "n_gpus": report.n_gpus, "part": p.name,
             "bytes": whole_bytes(p.bytes), "per_gpu_bytes": whole_bytes(p.per_gpu), "estimate": p.estimate,
             "note": p.note}
            for p in report.parts]
