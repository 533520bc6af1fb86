"""`llmcalc sweep`: KV cache, memory and FLOPs per token of each model as one variable changes: a row per value, and
a chart of one quantity."""

from __future__ import annotations

from typing import Any

from ..units import human, human_bytes, integral, whole_bytes
from .common import escape, model_label, unique
from .sheet import Block, Chart, Note, Sheet


SWEEP_QUANTITIES = {  # key: (column heading, SweepPoint attribute, chart label)
    "kv": ("KV cache", "kv_cache_bytes", "KV cache"),
    "memory": ("memory", "memory_bytes", "serving memory on one GPU"),
    "flops": ("FLOPs/token", "flops_per_token", "forward FLOPs per token"),
}


def sweep_value(variable: str, value: Any) -> str:
    """A swept value as a label: sequence lengths and batches exact ('131,072'), dtypes by name."""
    return f"{value:,}" if isinstance(value, int) else str(value)


def _short(value: Any) -> str:
    """A compact x-axis label: 131072 -> '128k', 1536 -> '1.5k', 48 -> '48'."""
    if not isinstance(value, int):
        return str(value)
    for size, suffix in ((2**30, "g"), (2**20, "m"), (2**10, "k")):
        if value >= size and (value * 2) % size == 0:
            return f"{value / size:g}{suffix}"
    return str(value)


def _sweep_cell(key: str, point, unit: str) -> str:
    value = getattr(point, SWEEP_QUANTITIES[key][1])
    return (human(value) if key == "flops" else human_bytes(value, unit)) + ("*" if point.beyond_context else "")


def _axis_bytes(value: float) -> str:
    """An axis label in GiB or GB: three significant digits, whole numbers with separators from 1,000 on (never
    1.05e+06)."""
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"


def sweep_table(result, unit: str = "GiB", chart: str = "memory", log_y: bool = False) -> list[Block]:
    """A row per value and, for each quantity, a column per model; then a chart of one quantity."""
    labels = unique([model_label(m) for m in result.models])
    many = len(labels) > 1
    shown = [escape(label) for label in labels]  # in the sheet; the chart's legend is plain text
    columns = [(result.variable, "right")] + [(f"{heading}\n{label}" if many else heading, "right")
                                              for heading, _, _ in SWEEP_QUANTITIES.values() for label in shown]
    names = " vs ".join(shown)
    sheet = Sheet(f"Sweep of {result.variable}: {names}", columns)
    for value, row in zip(result.values, result.points):
        sheet.add_row(sweep_value(result.variable, value),
                      *[_sweep_cell(key, point, unit) for key in SWEEP_QUANTITIES for point in row])
    blocks: list[Block] = [sheet]
    if chart != "none":
        drawn = sweep_chart(result, unit, chart, log_y)
        blocks.append(Note(drawn.title, style="bold"))
        blocks.append(drawn)
    settings = "; ".join(f"{k}: {v}" for k, v in result.settings.items())
    notes = [f"Settings: {settings}.",
             "Memory: serving on one GPU: weights, KV cache, and activations (an estimate) of one engine step of at "
             "most 8,192 tokens; GB = 10^9 bytes, GiB = 2^30 bytes (--units).",
             f"FLOPs per token: a forward pass over the sequence, attention {result.settings.get('attention', '')}, "
             "non-matmul estimates included."]
    if result.variable == "n_layers":
        notes.append("n_layers: a uniform stack takes the new depth; where a spec lists its layers in groups, the "
                     "earlier groups stay and the last grows or shrinks (by whole repeats of a pattern); an "
                     "encoder-decoder's encoder keeps its layers.")
    if any(p.beyond_context for row in result.points for p in row):
        notes.append("* beyond the model's context length: the formulas extrapolate; the model was not trained "
                     "(and may not run) that long.")
    blocks.append(Note("\n".join(notes)))
    return blocks


def sweep_chart(result, unit: str = "GiB", chart: str = "memory", log_y: bool = False,
                gpu: tuple[str, float] | None = None) -> Chart:
    """The chart of one quantity (memory, kv or flops) against the swept variable, a series per model; `gpu` (its
    name and memory in bytes) draws a horizontal line at the card's memory on a memory or KV chart."""
    labels = unique([model_label(m) for m in result.models])
    _, attribute, title = SWEEP_QUANTITIES[chart]
    scale = 1 if chart == "flops" else (2**30 if unit == "GiB" else 10**9)
    series = [(label, [getattr(row[j], attribute) / scale for row in result.points]) for j, label in enumerate(labels)]
    y_format = human if chart == "flops" else _axis_bytes
    full = (f"{title}{'' if chart == 'flops' else f' ({unit})'} by {result.variable}"
            + (", log scale" if log_y else ""))
    y_label = "FLOPs per token" if chart == "flops" else f"{title} ({unit})"
    line = (f"{gpu[0]} ({gpu[1] / scale:,.0f} {unit})", gpu[1] / scale) if gpu and chart != "flops" else None
    return Chart([_short(v) for v in result.values], series, y_format=y_format, log_y=log_y, title=full,
                 x_label=result.variable, y_label=y_label, line=line)


def sweep_records(result) -> tuple[list[str], list[dict[str, Any]]]:
    """A record per value; for each model its KV cache bytes, memory bytes, FLOPs per token and whether the
    value lies beyond its context length."""
    labels = unique([model_label(m) for m in result.models])
    fields = [result.variable] + [f"{label} {column}" for label in labels for column in
                                  ("kv_cache_bytes", "memory_bytes", "flops_per_token", "beyond_context")]
    out = []
    for value, row in zip(result.values, result.points):
        record: dict[str, Any] = {result.variable: value}
        for label, point in zip(labels, row):
            record[f"{label} kv_cache_bytes"] = whole_bytes(point.kv_cache_bytes)
            record[f"{label} memory_bytes"] = whole_bytes(point.memory_bytes)
            record[f"{label} flops_per_token"] = integral(point.flops_per_token)
            record[f"{label} beyond_context"] = point.beyond_context
        out.append(record)
    return fields, out


def sweep_json(result) -> dict[str, Any]:
    labels = unique([model_label(m) for m in result.models])
    return {"variable": result.variable, "values": list(result.values), "settings": result.settings,
            "models": [{"name": label, "points": [{
                "value": value, "kv_cache_bytes": whole_bytes(row[j].kv_cache_bytes),
                "memory_bytes": whole_bytes(row[j].memory_bytes), "flops_per_token": integral(row[j].flops_per_token),
                "beyond_context": row[j].beyond_context,
            } for value, row in zip(result.values, result.points)]} for j, label in enumerate(labels)],
            "units": {"memory": "bytes, inference on one GPU", "flops_per_token": "forward, causal, non-matmul "
                      "estimates included"}}
