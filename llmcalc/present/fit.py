"""`llmcalc fit`: the fewest GPUs that hold a model and the largest batch (and, serving, context) there."""

from __future__ import annotations

from typing import Any

from ..units import human_bytes, whole_bytes
from .common import escape
from .sheet import Block, Note, Sheet


def fit_text(result: dict, gpu, unit: str = "GiB") -> list[Block]:
    """The fewest GPUs that hold the model and the largest batch (and context) there, as a small table."""
    capacity = human_bytes(result["gpu_memory_bytes"], unit)
    label = f"{result['name']} ({', '.join(result['overrides'])})" if result.get("overrides") else result["name"]
    sheet = Sheet(f"{escape(label)}, {result['mode']}, on {gpu.name} ({capacity} each)",
                  [("", "left"), ("", "right"), ("", "left")])
    if not result["fits"]:
        if result.get("fewest_gpus"):
            sheet.add_row("[bold red]does not fit[/bold red]", "", "on the GPUs asked for")
            sheet.add_row("fewest GPUs that hold it", f"{result['fewest_gpus']:,}", "")
        else:
            advice = ("raise --tp / --pp, or use --zero with data parallelism" if result["mode"] == "training"
                      else "try a smaller --dtype, --context or --batch")
            if result.get("not_tried"):
                skipped = result["not_tried"]
                advice += (f" (not tried on {', '.join(map(str, skipped['n_gpus'][:4]))}"
                           f"{'...' if len(skipped['n_gpus']) > 4 else ''} GPUs: {skipped['why']})")
            sheet.add_row("[bold red]does not fit[/bold red]", "", f"within --max-gpus; {advice}")
        return [sheet, Note(f"GPU memory from {gpu.source}.")]
    n = result["n_gpus"]
    sheet.add_row("[bold]fewest GPUs[/bold]", f"[bold]{result['fewest_gpus']:,}[/bold]", "")
    sheet.add_row("used per GPU", human_bytes(result["per_gpu_bytes"], unit), f"on {n}")
    if result["mode"] == "serve":
        sheet.add_row("kept by the engine", human_bytes(result["reserved_per_gpu_bytes"], unit),
                      f"outside PyTorch, per GPU; and {1 - result['gpu_util']:.0%} of each card left free "
                      f"(--gpu-util {result['gpu_util']:g})")
    if result["mode"] == "serve":
        sheet.add_row("largest batch", f"{result['largest_batch']:,}", f"on {n}, at {result['context']:,} tokens")
        sheet.add_row("largest context", f"{result['largest_context']:,}",
                      f"on {n}, at batch {result['settings']['batch']} (at most the model's context length)")
    else:
        sheet.add_row("largest batch", f"{result['largest_batch']:,}",
                      f"on {n}: sequences per replica in one micro-batch, at {result['context']:,} tokens")
    settings = ", ".join(f"{k} {v}" for k, v in result["settings"].items())
    return [sheet, Note(f"Settings: {settings}.\nGPU memory from {gpu.source}.")]


FIT_FIELDS = ["model", "mode", "gpu", "gpu_memory_bytes", "gpu_util", "fits", "fewest_gpus", "n_gpus", "per_gpu_bytes",
              "reserved_per_gpu_bytes", "largest_batch", "largest_context", "context",
              "settings"]


def _whole(result: dict) -> dict:
    """The result with its byte counts as whole numbers (a GPU holds whole bytes: a fractional share is rounded up)."""
    return {k: whole_bytes(v) if k.endswith("_bytes") and v is not None else v for k, v in result.items()}


def fit_json(result: dict) -> dict[str, Any]:
    return {"models": [_whole(result)]}


def fit_records(result: dict) -> list[dict[str, Any]]:
    result = _whole(result)
    settings = result.get("settings") or {}
    label = f"{result['name']} ({', '.join(result['overrides'])})" if result.get("overrides") else result["name"]
    return [{**{k: result.get(k, "") for k in FIT_FIELDS}, "model": label,
             "settings": "; ".join(f"{k}={v}" for k, v in settings.items())}]
