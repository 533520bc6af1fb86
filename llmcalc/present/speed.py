"""`llmcalc speed`: the roofline of a prefill and of one decode step, per layer group, and the serving figures they
give (time to first token, time per output token, tokens per second)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..formulas.indexer import SPARSE_CONVENTIONS
from ..units import decimal_bytes, human, integral, whole_bytes
from .common import escape, model_label, model_title, overrides_json, unique
from .sheet import Block, Chart, Note, Sheet

if TYPE_CHECKING:
    from ..formulas.speed import Phase, SpeedReport, SpeedRow


def seconds(value: float) -> str:
    """'6.62 ms', '21.9 µs', '1.23 s'."""
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _group(row: SpeedRow) -> str:
    return "embedding, final norm, LM head" if row.group is None else escape(row.group)


def _phase_sheet(title: str, phase: Phase) -> Sheet:
    sheet = Sheet(title, [("layer group", "left"), ("layers", "right"), ("FLOPs", "right"), ("bytes", "right"),
                          ("FLOP/B", "right"), ("bound", "left"), ("time", "right")])
    for row in phase.rows:
        intensity = f"{row.intensity:,.1f}" if row.bytes else "-"
        sheet.add_row(_group(row), f"{row.n_layers:,}", human(row.flops), decimal_bytes(row.bytes), intensity,
                      row.bound, seconds(row.seconds))
    sheet.add_section()
    sheet.add_row("[bold]total[/bold]", "", human(phase.flops), decimal_bytes(phase.bytes), "", phase.bound,
                  f"[bold]{seconds(phase.seconds)}[/bold]")
    return sheet


def speed_table(report: SpeedReport) -> list[Block]:
    s = report.settings
    model = report.model
    on = f"{s['tp']} x {escape(s['gpu'])}" if s["tp"] > 1 else escape(s["gpu"])
    blocks: list[Block] = [
        _phase_sheet(f"{model_title(model)} on {on}: prefill of {s['prompt']:,} tokens x {s['batch']:,}",
                     report.prefill),
        _phase_sheet(f"One decode step at {s['context']:,} tokens x {s['batch']:,}", report.decode),
    ]
    summary = Sheet("Serving", [("", "left"), ("", "right")])
    summary.add_row("time to first token", seconds(report.time_to_first_token))
    summary.add_row("prefill tokens/s", f"{s['batch'] * s['prompt'] / report.prefill.seconds:,.0f}")
    summary.add_row("time per output token", seconds(report.time_per_output_token))
    summary.add_row("decode tokens/s per sequence", f"{report.tokens_per_second:,.1f}")
    summary.add_row("decode tokens/s, whole batch", f"{report.aggregate_tokens_per_second:,.1f}")
    summary.add_row("decode compute-bound from batch",
                    f"{report.crossover:,}" if report.crossover else
                    f"never (the {'state' if report.model.is_recurrent else 'KV cache'} read grows as fast)")
    blocks.append(summary)
    curve = Sheet(f"Decode at {s['context']:,} tokens against batch", [("batch", "right"), ("per token", "right"),
                                                                    ("tokens/s per sequence", "right"),
                                                                    ("tokens/s, batch", "right"), ("bound", "left")])
    for step in report.by_batch:
        curve.add_row(f"{step.batch:,}", seconds(step.seconds), f"{1 / step.seconds:,.1f}",
                      f"{step.batch / step.seconds:,.0f}", step.bound)
    blocks.append(curve)
    efficiencies = (s["compute_efficiency"], s["memory_efficiency"], s["comm_efficiency"])
    bound = "bounds: the fastest the hardware allows" if efficiencies == (1.0, 1.0, 1.0) else \
        f"at efficiencies compute {efficiencies[0]:g}, memory {efficiencies[1]:g}, communication {efficiencies[2]:g}"
    notes = [f"Roofline {bound} (--compute-efficiency, --memory-efficiency, --comm-efficiency).",
             f"Hardware: {human(s['peak_flops'])} FLOP/s ({s['compute_dtype']} matmuls), "
             f"{decimal_bytes(s['bandwidth'])}/s memory"
             + (f", {decimal_bytes(s['link_bandwidth'])}/s links each way"
                                                      if s["tp"] > 1 else "") + f"; {s['source']}.",
             f"Weights {s['weight_dtype']}, read once per step (a MoE layer: the experts its tokens touch; the "
             f"token embedding: its looked-up rows); KV cache {s['kv_dtype']}, read whole at decode"
             + (f"; recurrent states ({report.model.mixer_names} layers) read and rewritten at decode, written at "
                "prefill" if report.model.is_recurrent else "") + "; activations "
             "written and read once (an estimate). A group takes max(FLOPs / peak, bytes / bandwidth)"
             + ("; tensor parallelism adds a ring all-reduce after each attention (or mixer) and MLP block."
                if s["tp"] > 1 else ".")]
    if "sparse_attention" in s:  # a DSA model (formulas/indexer.py)
        notes.append(f"Sparse attention (--sparse-attention {s['sparse_attention']}): "
                     + SPARSE_CONVENTIONS[s["sparse_attention"]] + ("; at decode each query reads the latents of its "
                     "top-k keys and the indexer's key of every token." if s["sparse_attention"] == "topk" else "."))
    if s.get("pp", 1) > 1:
        notes.append(f"Pipeline: {s['pp']} stages; the rows are one micro-batch's pass (a step's batch in min(pp, "
                     "batch) micro-batches, each stage taking them in turn); a step lasts the longer of one "
                     "micro-batch's traversal with the sends between stages and the busiest stage's work on all of "
                     f"them (--gpus-per-node {s['gpus_per_node']}, --network-bandwidth "
                     f"{decimal_bytes(s['network_bandwidth'])}/s).")
    if s.get("ep", 1) > 1:
        notes.append(f"Expert parallelism: {s['ep']} GPUs, attention data-parallel: the rows are one GPU's, decoding "
                     "batch / ep sequences and reading its share of the experts the replica's tokens touch, with two "
                     "all-to-alls of the top-k copies per MoE layer; tokens/s of the batch count every GPU's.")
    blocks.append(Note("\n".join(notes)))
    return blocks


def speed_plot(reports: list[SpeedReport]) -> list[Chart]:
    """Decode tokens/s against batch, for a plot file: per sequence, and for the whole batch, a line per model; a
    diamond where a model's decode turns compute-bound (the legend says the batch, or that it never does)."""
    labels = unique([model_label(r.model) for r in reports])
    s = reports[0].settings
    batches = [step.batch for step in reports[0].by_batch]
    panels = []
    for quantity, rate in (("tokens/s per sequence", lambda step: 1 / step.seconds),
                           ("tokens/s, whole batch", lambda step: step.batch / step.seconds)):
        series, marks = [], []
        for index, (label, report) in enumerate(zip(labels, reports)):
            crossover = report.crossover
            turn = f"compute-bound from batch {crossover:,}" if crossover else "never compute-bound"
            series.append((f"{label} ({turn})", [rate(step) for step in report.by_batch]))
            if crossover and crossover <= batches[-1]:
                marks.append((index, crossover, "decode turns compute-bound"))
        panels.append(Chart([f"{b:,}" for b in batches], series, log_y=True, x_values=batches, marks=marks,
                            title=f"Decode {quantity} at {s['context']:,} tokens on {s['gpu']}"
                                  + (f" x {s['tp']}" if s["tp"] > 1 else ""),
                            x_label="batch (sequences at once)", y_label=quantity))
    return panels


def _phase_json(phase: Phase, tokens: int) -> dict[str, Any]:
    pipeline = {"stages_seconds": list(phase.stages), "micro_batches": phase.micro_batches,
                "send_seconds": phase.send_seconds} if phase.stages else {}
    return {"seconds": phase.seconds, "bound": phase.bound, "flops": integral(phase.flops), **pipeline,
            "bytes": whole_bytes(phase.bytes), "comm_seconds": phase.comm_seconds,
            "tokens_per_second": tokens / phase.seconds,
            "groups": [{"name": r.group, "n_layers": r.n_layers, "flops": integral(r.flops),
                        "weight_bytes": whole_bytes(r.weight_bytes), "kv_bytes": whole_bytes(r.kv_bytes),
                        "activation_bytes": whole_bytes(r.activation_bytes), "bound": r.bound, "seconds": r.seconds,
                        "comm_seconds": r.comm_seconds} for r in phase.rows]}


def speed_json(report: SpeedReport) -> dict[str, Any]:
    """One model's prefill and decode; decode.tokens_per_second is per sequence."""
    s = report.settings
    decode = _phase_json(report.decode, 1)
    decode["aggregate_tokens_per_second"] = report.aggregate_tokens_per_second
    return {"name": report.model.name, **overrides_json(report.model), "settings": s,
            "prefill": _phase_json(report.prefill, s["batch"] * s["prompt"]), "decode": decode,
            "time_to_first_token": report.time_to_first_token, "time_per_output_token": report.time_per_output_token,
            "crossover_batch": report.crossover,
            "decode_by_batch": [{"batch": p.batch, "seconds": p.seconds, "tokens_per_second": 1 / p.seconds,
                                 "aggregate_tokens_per_second": p.batch / p.seconds, "bound": p.bound}
                                for p in report.by_batch],
            "conventions": {"efficiency": "1.0 means a bound", "weights": "read once per step",
                            "moe": "expected distinct experts n(1-(1-k/n)^T)"}}


SPEED_FIELDS = ["model", "phase", "group", "n_layers", "flops", "weight_bytes", "kv_bytes", "activation_bytes",
                "bound", "seconds"]


def speed_records(report: SpeedReport) -> list[dict[str, Any]]:
    return [{"model": model_label(report.model), "phase": phase.name, "group": r.group or "", "n_layers": r.n_layers,
             "flops": integral(r.flops), "weight_bytes": whole_bytes(r.weight_bytes),
             "kv_bytes": whole_bytes(r.kv_bytes), "activation_bytes": whole_bytes(r.activation_bytes), "bound": r.bound, "seconds": r.seconds}
            for phase in (report.prefill, report.decode) for r in phase.rows]
