"""Turn result objects into rich tables and JSON documents. Nothing here computes a figure."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from .describe import COMPONENT_LABELS, architecture
from .model import ModelSpec
from .flops import PF_DAY, FlopCount, FlopRow, TrainingCompute
from .memory import DTYPE_BITS, KVCache, MemoryReport, human_bytes
from .params import ParamCount, ParamRow
from .units import exact, human, index_ranges, percent, ratio
from .verify import Check

UNITS_NOTE = "Exact counts; human units are decimal (1B = 10^9 parameters)."

# ----------------------------------------------------------------------------------------- JSON


def _row_json(row: ParamRow) -> dict[str, Any]:
    out = {"component": row.component, "params_per_layer": row.per_layer, "params": row.total,
           "active_per_layer": row.active_per_layer, "active": row.active}
    if row.note:
        out["note"] = row.note
    return out


def count_json(count: ParamCount) -> dict[str, Any]:
    """One model's breakdown: totals, model-level components and layer groups (exact integers)."""
    model = count.model
    groups = []
    for group in model.groups:
        rows = count.group_rows(group.name)
        groups.append({
            "name": group.name,
            "n_layers": group.count,
            "layers": list(group.indices),
            "params_per_layer": sum(r.per_layer for r in rows),
            "params": sum(r.total for r in rows),
            "active_per_layer": sum(r.active_per_layer for r in rows),
            "components": [_row_json(r) for r in rows],
        })
    return {
        "name": model.name,
        "display_name": model.display_name,
        "family": model.family,
        "params": {"total": count.total, "active": count.active, "embedding": count.embedding,
                   "non_embedding": count.non_embedding},
        "conventions": {"active": count.convention,
                        "embedding": "token embedding + learned position embedding + untied LM head"},
        "components": [_row_json(r) for r in count.group_rows(None)],
        "groups": groups,
        **({"optional": {"name": "multi-token prediction (not in total)", "params": count.optional_total,
                         "components": [_row_json(r) for r in count.optional]}} if count.optional else {}),
        **({"buffers": {"values": count.buffer_total, "components": [_row_json(r) for r in count.buffers]}}
           if count.buffers else {}),
        **({"rumour": model.rumour} if model.rumour else {}),
    }


def _flop_row_json(row: FlopRow) -> dict[str, Any]:
    return {"component": row.component, "matmul_per_layer": row.matmul_per_layer, "matmul": row.matmul,
            "other_per_layer": row.other_per_layer, "other": row.other}


def flops_json(count: FlopCount, training: TrainingCompute | None = None,
               utilisation: dict[str, float] | None = None) -> dict[str, Any]:
    """One model's forward FLOPs: totals (exact integers), model-level components and layer groups."""
    groups = []
    for group in count.model.groups:
        rows = count.group_rows(group.name)
        groups.append({"name": group.name, "n_layers": group.count, "layers": list(group.indices),
                       "matmul_per_layer": sum(r.matmul_per_layer for r in rows),
                       "matmul": sum(r.matmul for r in rows), "other": sum(r.other for r in rows),
                       "components": [_flop_row_json(r) for r in rows]})
    out: dict[str, Any] = {
        "name": count.model.name,
        "mode": "decode" if count.decode else "prefill",
        "seq": count.seq,
        "batch": count.batch,
        "attention": count.attention,
        "non_matmul_counted": count.include_other,
        "forward": {"matmul": count.matmul, "other": count.other, "total": count.total,
                    "tokens": count.tokens, "per_token": count.per_token},
        "conventions": {"attention": count.convention, "multiply_add": "2 FLOPs",
                        "non_matmul": "estimates (softmax 3/score, norms, activations, bias and residual adds)"},
        "components": [_flop_row_json(r) for r in count.group_rows(None)],
        "groups": groups,
    }
    if training is not None:
        out["training"] = {
            "tokens": training.tokens, "recompute": training.recompute, "n_params": training.n_params,
            "model_flops_per_token": training.model_per_token,
            "hardware_flops_per_token": training.hardware_per_token,
            "model_flops": training.total, "hardware_flops": training.hardware_total,
            "pf_days": training.pf_days, "six_n": training.six_n, "palm": training.palm,
        }
    if utilisation:
        out["utilisation"] = utilisation
    return out


def memory_json(report: MemoryReport, cache: KVCache) -> dict[str, Any]:
    parts = {p.name: p for p in report.parts}
    return {
        "name": report.model.name,
        "mode": report.mode,
        "n_gpus": report.n_gpus,
        "settings": report.settings,
        "parts": [{"name": p.name, "bytes": p.bytes, "per_gpu": p.per_gpu, "note": p.note, "estimate": p.estimate}
                  for p in report.parts],
        "weights": {"bytes": parts["weights"].bytes, "per_gpu": parts["weights"].per_gpu},
        "kv_cache": {"bytes": cache.bytes, "bytes_per_token": cache.bytes_per_token, "dtype": cache.dtype,
                     "context": cache.context, "batch": cache.batch, "mla_cache": cache.mla_cache,
                     "groups": [{"name": g.name, "n_layers": g.n_layers,
                                 "bytes_per_token_per_layer": g.elements_per_token * DTYPE_BITS[cache.dtype] / 8,
                                 "cached_tokens": g.cached_tokens} for g in cache.groups]},
        "total": {"bytes": report.total, "per_gpu": report.per_gpu},
        "units": {"GB": 10**9, "GiB": 2**30},
    }


def architecture_json(model: ModelSpec) -> dict[str, str]:
    return dict(architecture(model))


def list_json(counts: list[ParamCount]) -> dict[str, Any]:
    return {"models": [{
        "name": c.model.name, "display_name": c.model.display_name, "family": c.model.family,
        "aliases": list(c.model.aliases), "params": c.total, "active": c.active,
        "context_length": c.model.context_length, "moe": c.model.is_moe,
    } for c in counts]}


def compare_json(counts: list[ParamCount], forwards: list[FlopCount], caches: list[KVCache]) -> dict[str, Any]:
    first = counts[0]
    return {"models": [{
        **count_json(c),
        "architecture": architecture_json(c.model),
        "flops_per_token": {"seq": f.seq, "attention": f.attention, "matmul": f.matmul / f.tokens,
                            "total": f.per_token},
        "kv_cache": {"context": k.context, "dtype": k.dtype, "bytes_per_token": k.bytes_per_token, "bytes": k.bytes},
        "ratio_to_first": {"total": c.total / first.total, "active": c.active / first.active,
                           "non_embedding": c.non_embedding / first.non_embedding if first.non_embedding else None},
    } for c, f, k in zip(counts, forwards, caches)]}


def verify_json(checks: list[Check]) -> dict[str, Any]:
    results = [{
        "model": c.model,
        "figure": c.published.figure,
        "expected": c.published.value,
        "as_published": c.published.as_published,
        "computed": c.computed,
        "tolerance": c.published.relative_tolerance,
        "rule": c.published.rule,
        "error": c.error,
        "ok": c.ok,
        "status": c.status,
        "source": c.published.source,
        "note": c.published.note,
        "discrepancy": c.published.discrepancy,
    } for c in checks]
    return {"results": results,
            "summary": {"checked": len(checks), "failed": sum(not c.ok for c in checks),
                        "known_gaps": sum(c.status == "known gap" for c in checks),
                        "rumours": sum(c.status == "rumour" for c in checks)}}


# ---------------------------------------------------------------------------------------- tables


def _table(title: str, columns: list[tuple[str, str]]) -> Table:
    """A table whose number columns never wrap or shorten: a cut number would be a wrong number."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in columns:
        numeric = justify == "right"
        table.add_column(name, justify=justify, no_wrap=numeric, min_width=len(name) if numeric else None)
    return table


def _group_heading(group) -> str:
    """'layers 0-11' for a uniform model; 'moe (layers 3-60)' when groups differ."""
    where = f"layers {index_ranges(group.indices)}"
    return where if group.name == "layers" else f"{group.name} [dim]({where})[/dim]"


def _label(component: str) -> str:
    return COMPONENT_LABELS.get(component, component)


def count_table(count: ParamCount) -> Group:
    """The breakdown of one model: a row per component and layer group, with totals."""
    model = count.model
    total = count.total
    title = f"{model.display_name} ({model.name}): {exact(total)} parameters ({human(total)})"
    moe = model.is_moe
    columns = [("component", "left"), ("layers", "right"), ("per layer", "right"), ("params", "right"),
               ("", "right"), ("share", "right")]
    table = _table(title, columns + ([("active", "right")] if moe else []))

    def add(row: ParamRow, indent: str = "") -> None:
        label = _label(row.component) + (" (tied)" if row.note and not row.total else "")
        cells = [indent + label, str(row.n_layers) if row.group else "", exact(row.per_layer) if row.group else "",
                 exact(row.total), human(row.total), percent(row.total / total) if total else "-"]
        table.add_row(*cells, *([human(row.active)] if moe else []))

    model_rows = count.group_rows(None)
    for row in model_rows:
        if row.component.startswith("embed."):
            add(row)
    for group in model.groups:
        rows = count.group_rows(group.name)
        group_total = sum(r.total for r in rows)
        table.add_section()
        heading = _group_heading(group)
        group_active = [human(sum(r.active for r in rows))] if moe else []
        table.add_row(f"[bold]{heading}[/bold]",
                      str(group.count), exact(sum(r.per_layer for r in rows)), exact(group_total),
                      human(group_total), percent(group_total / total) if total else "-", *group_active,
                      style="bold")
        for row in rows:
            add(row, "  ")
    table.add_section()
    for row in model_rows:
        if not row.component.startswith("embed."):
            add(row)
    table.add_section()
    blank = [""] if moe else []
    table.add_row("[bold]total[/bold]", "", "", exact(total), human(total), "100.0%",
                  *([human(count.active)] if moe else []))
    table.add_row("embedding", "", "", exact(count.embedding), human(count.embedding),
                  percent(count.embedding / total) if total else "-", *blank)
    table.add_row("non-embedding", "", "", exact(count.non_embedding), human(count.non_embedding),
                  percent(count.non_embedding / total) if total else "-", *blank)
    if moe:
        table.add_row("[bold]active per token[/bold]", "", "", exact(count.active), human(count.active),
                      percent(count.active / total) if total else "-", human(count.active))
    if count.optional:
        optional = count.optional_total
        table.add_section()
        table.add_row(f"[bold]not in total: {model.mtp_modules} multi-token prediction module(s)[/bold]",
                      str(model.mtp_modules), exact(optional // model.mtp_modules), exact(optional),
                      human(optional), percent(optional / total) if total else "-", *blank, style="bold")
        for row in count.optional:
            add(row, "  ")
    notes = [UNITS_NOTE, "embedding = token embedding + learned position embedding + untied LM head."]
    if model.is_moe:
        notes.append(count.convention[0].upper() + count.convention[1:] + ".")
    if model.rumour:
        notes.insert(0, f"RUMOURED architecture, never published: {' '.join(model.rumour.split())}")
    if count.optional:
        notes.append("The MTP modules share the embedding and LM head; they train the model and can draft tokens, "
                     "and are not part of the main model's total.")
    if count.buffers:
        notes.append(f"Not counted: {count.buffer_total:,} routing-bias values (a buffer moved by a rule, not "
                     "trained; HF transformers does not count it either).")
    return Group(table, Text("\n".join(notes), style="dim"))


def flops_table(count: FlopCount, training: TrainingCompute | None = None,
                utilisation: dict[str, float] | None = None) -> Group:
    """Forward FLOPs per component and layer group; training compute below when asked for."""
    model = count.model
    mode = (f"one decode step at position {count.seq:,}" if count.decode
            else f"forward pass over {count.seq:,} tokens")
    title = (f"{model.display_name} ({model.name}): {mode}, batch {count.batch}: "
             f"{human(count.total)} FLOPs ({human(count.per_token)} per token)")
    table = _table(title, [("component", "left"), ("layers", "right"), ("matmul per layer", "right"),
                           ("matmul", "right"), ("non-matmul", "right"), ("share", "right")])
    total = count.total

    def add(row: FlopRow, indent: str = "") -> None:
        table.add_row(indent + _label(row.component), str(row.n_layers) if row.group else "",
                      exact(row.matmul_per_layer) if row.group and row.matmul_per_layer else "",
                      human(row.matmul) if row.matmul else "",
                      human(row.other) if row.other and count.include_other else "",
                      percent((row.matmul + (row.other if count.include_other else 0)) / total) if total else "-")

    for group in model.groups:
        rows = count.group_rows(group.name)
        heading = _group_heading(group)
        matmul = sum(r.matmul for r in rows)
        other = sum(r.other for r in rows) if count.include_other else 0
        table.add_row(f"[bold]{heading}[/bold]", str(group.count), exact(sum(r.matmul_per_layer for r in rows)),
                      human(matmul), human(other) if other else "", percent((matmul + other) / total) if total else "-",
                      style="bold")
        for row in rows:
            add(row, "  ")
    table.add_section()
    for row in count.group_rows(None):
        add(row)
    table.add_section()
    table.add_row("[bold]total[/bold]", "", "", exact(count.matmul), human(count.other) if count.include_other else "",
                  "100.0%")
    parts: list = [table]
    if training is not None:
        parts.append(_training_table(training))
    if utilisation:
        parts.append(Text(f"MFU {percent(utilisation['mfu'])} (model FLOPs {human(utilisation['flops_per_token'])}"
                          f" per token, {utilisation['convention']}); HFU {percent(utilisation['hfu'])}."))
    notes = [f"Attention {count.convention}.",
             "A multiply-add is 2 FLOPs; the embedding lookup is no matmul; the LM head counts even when tied.",
             "Non-matmul FLOPs are estimates" + ("." if count.include_other else ", not counted (--no-other).")]
    parts.append(Text("\n".join(notes), style="dim"))
    return Group(*parts)


def _training_table(training: TrainingCompute) -> Table:
    table = _table(f"Training on {human(training.tokens)} tokens at sequence {training.forward.seq:,} "
                   "(matmul FLOPs, backward = 2 x forward)",
                   [("", "left"), ("per token", "right"), ("total", "right"), ("PF-days", "right")])
    rows = [
        ("forward (exact matmul)", training.forward.per_token, None),
        ("forward + backward (model FLOPs)", training.model_per_token, training.total),
        (f"hardware FLOPs (recomputation: {training.recompute})", training.hardware_per_token,
         training.hardware_total),
        (f"6N (N = {human(training.n_params)})", 6 * training.n_params, training.six_n),
        ("PaLM 6N + 12 L H Q T", training.palm / training.tokens, training.palm),
    ]
    for label, per_token, total in rows:
        table.add_row(label, human(per_token), f"{total:.3e}" if total else "",
                      _pf_days(total / PF_DAY) if total else "")
    return table


def memory_table(report: MemoryReport, unit: str = "GiB") -> Group:
    model = report.model
    title = (f"{model.display_name} ({model.name}): {report.mode} memory, {human_bytes(report.per_gpu, unit)} per GPU"
             f" on {report.n_gpus} GPU{'s' if report.n_gpus > 1 else ''}")
    table = _table(title, [("part", "left"), ("whole model", "right"), ("per GPU", "right"), ("", "left")])
    for part in report.parts:
        label = part.name.replace("_", " ") + (" (estimate)" if part.estimate else "")
        table.add_row(label, human_bytes(part.bytes, unit), human_bytes(part.per_gpu, unit), part.note)
    table.add_section()
    table.add_row("[bold]per GPU[/bold]", "", f"[bold]{human_bytes(report.per_gpu, unit)}[/bold]", "")
    table.add_row(f"all {report.n_gpus} GPUs", "", human_bytes(report.total, unit), "replicas included")
    settings = ", ".join(f"{k} {v}" for k, v in report.settings.items())
    notes = [f"Settings: {settings}.", "GB = 10^9 bytes, GiB = 2^30 bytes (--units)."]
    return Group(table, Text("\n".join(notes), style="dim"))


def _pf_days(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.4g}"


def fit_text(result: dict, gpu, unit: str = "GiB") -> Group:
    capacity = human_bytes(result["gpu_memory_bytes"], unit)
    head = f"{result['name']} ({result['mode']}) on {gpu.name} ({capacity} each)"
    if not result["fits"]:
        if result.get("fewest_gpus"):
            return Group(Text(head, style="bold"), Text(
                f"Does not fit on the GPUs asked for; the fewest that hold it: {result['fewest_gpus']}.",
                style="bold red"))
        advice = ("raise --tp / --pp, or use --zero with data parallelism" if result["mode"] == "training"
                  else "try a smaller --dtype, --context or --batch")
        return Group(Text(head, style="bold"), Text(f"Does not fit within --max-gpus; {advice}.", style="bold red"))
    n = result["n_gpus"]
    lines = [f"Fewest GPUs: {result['fewest_gpus']}."]
    lines.append(f"On {n}: {human_bytes(result['per_gpu_bytes'], unit)} used per GPU.")
    if result["mode"] == "inference":
        lines.append(f"On {n}: largest batch at {result['context']:,} tokens: "
                     f"{result['largest_batch']:,}; largest context at batch {result['settings']['batch']}: "
                     f"{result['largest_context']:,} tokens (at most the model's context length).")
    else:
        lines.append(f"On {n}: largest micro-batch {result['largest_micro_batch']:,}.")
    settings = ", ".join(f"{k} {v}" for k, v in result["settings"].items())
    return Group(Text(head, style="bold"), Text("\n".join(lines)), Text(f"Settings: {settings}.", style="dim"),
                 Text(f"GPU memory from {gpu.source}.", style="dim"))


def list_table(counts: list[ParamCount]) -> Table:
    table = _table("Built-in models", [("name", "left"), ("family", "left"), ("params", "right"),
                                       ("active", "right"), ("context", "right"), ("model", "left")])
    for c in counts:
        m = c.model
        table.add_row(m.name, m.family, human(c.total), human(c.active) if m.is_moe else "",
                      f"{m.context_length:,}", m.display_name)
    return table


def compare_table(counts: list[ParamCount], forwards: list[FlopCount], caches: list[KVCache]) -> Group:
    """A column per model: architecture rows (differences highlighted), counts with ratios, FLOPs and KV cache."""
    table = Table(title="Comparison (ratios are to the first model)", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("", no_wrap=True)
    for c in counts:
        table.add_column(c.model.name, justify="right")
    arch = [architecture(c.model) for c in counts]
    for index, (label, _) in enumerate(arch[0]):
        values = [a[index][1] for a in arch]
        differs = len(set(values)) > 1
        style = "bold yellow" if differs else None
        table.add_row(label, *values, style=style)
    table.add_section()
    first = counts[0]
    present = {row.component for c in counts for row in c.rows if row.total}
    components = [name for name in COMPONENT_LABELS if name in present]
    components += sorted(present - set(components))
    for name in components:
        reference = _component_total(first, name)
        cells = [_with_ratio(_component_total(c, name), reference, i) for i, c in enumerate(counts)]
        table.add_row(_label(name), *cells)
    table.add_section()
    for label, attribute in (("total", "total"), ("active per token", "active"),
                             ("embedding", "embedding"), ("non-embedding", "non_embedding")):
        reference = getattr(first, attribute)
        cells = [_with_ratio(getattr(c, attribute), reference, i) for i, c in enumerate(counts)]
        table.add_row(f"[bold]{label}[/bold]", *cells)
    table.add_section()
    per_token = [f.per_token for f in forwards]
    table.add_row("forward FLOPs per token", *[human(v) if i == 0 else f"{human(v)} ({ratio(v, per_token[0])})"
                                              for i, v in enumerate(per_token)])
    table.add_row("  at sequence", *[f"{f.seq:,}" for f in forwards])
    kv = [k.bytes_per_token for k in caches]
    table.add_row(f"KV cache per token ({caches[0].dtype})",
                  *[f"{v:,} B" if i == 0 else f"{v:,} B ({ratio(v, kv[0])})" for i, v in enumerate(kv)])
    table.add_row("KV cache of one sequence", *[f"{human_bytes(k.bytes)} at {k.context:,}" for k in caches])
    notes = [UNITS_NOTE, "Highlighted architecture rows differ between the models.", first.convention[0].upper()
             + first.convention[1:] + ".", f"FLOPs: {forwards[0].convention}; non-matmul estimates included."]
    return Group(table, Text("\n".join(notes), style="dim"))


def _component_total(count: ParamCount, component: str) -> int:
    return sum(row.total for row in count.rows if row.component == component)


def _with_ratio(value: int, reference: int, index: int) -> str:
    if index == 0:
        return human(value) if value else "-"
    if not value:
        return "-"
    if not reference:
        return human(value)
    return f"{human(value)} ({ratio(value, reference)})"


FIGURE_LABELS = {
    "params_total": "total",
    "params_active": "active",
    "params_active_no_input_embedding": "active, no input emb.",
    "params_embedding": "embedding",
    "params_non_embedding": "non-embedding",
    "params_active_non_embedding": "active non-embedding",
    "params_mtp": "MTP module(s)",
    "params_with_mtp": "total + MTP",
}


def _tolerance(check: Check) -> str:
    published = check.published
    if published.relative_tolerance == 0:
        return "exact"
    # Truncation only ever sits above the printed value.
    sign = "+" if published.rule == "truncation" else "\u00b1"
    return f"{sign}{percent(published.relative_tolerance, 2)}"


def verify_table(checks: list[Check]) -> Group:
    table = _table("Published figures (parameters)", [
        ("model", "left"), ("figure", "left"), ("published", "right"), ("computed", "right"), ("diff", "right"),
        ("tolerance", "right"), ("result", "left")])
    footnotes = []
    for c in checks:
        style = {"pass": "green", "FAIL": "bold red", "known gap": "yellow", "rumour": "magenta"}[c.status]
        result = f"[{style}]{c.status}[/{style}]"
        if c.status == "rumour":
            result += " (matches)" if c.within else " (differs)"
        if c.status == "known gap":
            footnotes.append(f"[{len(footnotes) + 1}] {c.model} {c.published.as_published}: "
                             + " ".join(c.published.discrepancy.split()))
            result += f" [{len(footnotes)}]"
        table.add_row(c.model, FIGURE_LABELS.get(c.published.figure, c.published.figure), c.published.as_published,
                      exact(c.computed), f"{c.error * 100:+.2f}%", _tolerance(c), result)
    failed = sum(not c.ok for c in checks)
    gaps = sum(c.status == "known gap" for c in checks)
    rumours = sum(c.status == "rumour" for c in checks)
    summary = (f"{len(checks) - failed - gaps - rumours} passed, {failed} failed, {gaps} known gaps "
               f"(published figures that disagree for a reason the spec gives)"
               + (f", {rumours} rumoured figures (never published; listed, not checked)." if rumours else "."))
    legend = ("Tolerance: exact; \u00b1 half a unit of the last printed digit (rounding) or a stated fraction; "
              "+ one unit above (the source truncates).")
    return Group(table, Text(summary, style="bold red" if failed else "bold green"), Text(legend, style="dim"),
                 Text("\n".join(footnotes), style="dim"))
