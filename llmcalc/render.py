"""Turn result objects into tables (format-neutral sheets, see sheet.py), JSON documents and CSV records.
Nothing here computes a figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .describe import COMPONENT_LABELS, architecture
from .sheet import Block, Chart, Note, Sheet
from .units import bar, exact, human, human_bytes, index_ranges, percent, ratio

if TYPE_CHECKING:  # imported for annotations only: a command loads the modules it computes with, no others
    from .flops import FlopCount, FlopRow, TrainingCompute
    from .memory import KVCache, MemoryReport
    from .model import ModelSpec
    from .params import ParamCount, ParamRow
    from .verify import Check

SHARE_BAR_WIDTH = 20
UNITS_NOTE = "Exact counts; human units are decimal (1B = 10^9 parameters)."

# ----------------------------------------------------------------------------------------- JSON


def _overrides(model: ModelSpec) -> dict[str, Any]:
    """The --set overrides a model was loaded with, for a JSON document (nothing when there are none)."""
    return {"overrides": list(model.overrides)} if model.overrides else {}


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
        **_overrides(model),
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
        **_overrides(count.model),
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


def _dtype_bits(dtype: str) -> int:
    from .memory import DTYPE_BITS

    return DTYPE_BITS[dtype]


def memory_json(report: MemoryReport, cache: KVCache) -> dict[str, Any]:
    parts = {p.name: p for p in report.parts}
    return {
        "name": report.model.name,
        **_overrides(report.model),
        "mode": report.mode,
        "n_gpus": report.n_gpus,
        "settings": report.settings,
        "parts": [{"name": p.name, "bytes": p.bytes, "per_gpu": p.per_gpu, "note": p.note, "estimate": p.estimate}
                  for p in report.parts],
        "weights": {"bytes": parts["weights"].bytes, "per_gpu": parts["weights"].per_gpu},
        "kv_cache": {"bytes": cache.bytes, "bytes_per_token": cache.bytes_per_token, "dtype": cache.dtype,
                     "context": cache.context, "batch": cache.batch, "mla_cache": cache.mla_cache,
                     "groups": [{"name": g.name, "n_layers": g.n_layers,
                                 "bytes_per_token_per_layer": g.elements_per_token * _dtype_bits(cache.dtype) / 8,
                                 "cached_tokens": g.cached_tokens} for g in cache.groups]},
        "total": {"bytes": report.total, "per_gpu": report.per_gpu},
        "units": {"GB": 10**9, "GiB": 2**30},
    }


def architecture_json(model: ModelSpec) -> dict[str, int | str]:
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


def _table(title: str, columns: list[tuple[str, str]]) -> Sheet:
    return Sheet(title, columns)


def _group_heading(group) -> str:
    """'layers 0-11' for a uniform model; 'moe (layers 3-60)' when groups differ."""
    where = f"layers {index_ranges(group.indices)}"
    return where if group.name == "layers" else f"{group.name} [dim]({where})[/dim]"


def _label(component: str) -> str:
    return COMPONENT_LABELS.get(component, component)


def count_table(count: ParamCount) -> list[Block]:
    """The breakdown of one model: a row per component and layer group, with totals."""
    model = count.model
    total = count.total
    title = f"{model.display_name} ({model.name}): {exact(total)} parameters ({human(total)})"
    moe = model.is_moe
    columns = [("component", "left"), ("layers", "right"), ("per layer", "right"), ("params", "right"),
               ("", "right"), ("share", "left")]
    table = _table(title, columns + ([("active", "right")] if moe else []))

    def share(value: int, style: str = "cyan") -> list[str]:
        """The share of the total as a percentage and as a bar, so the eye sees where the parameters live."""
        if not total:
            return ["-"]
        drawn = bar(value / total, SHARE_BAR_WIDTH)
        return [f"{percent(value / total):>6} " + (f"[{style}]{drawn}[/{style}]" if drawn else "")]

    def add(row: ParamRow, indent: str = "") -> None:
        label = _label(row.component) + (" (tied)" if row.note and not row.total else "")
        cells = [indent + label, str(row.n_layers) if row.group else "", exact(row.per_layer) if row.group else "",
                 exact(row.total), human(row.total), *share(row.total)]
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
                      human(group_total), *share(group_total, "bold cyan"), *group_active, style="bold")
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
                  *share(count.embedding, "dim"), *blank)
    table.add_row("non-embedding", "", "", exact(count.non_embedding), human(count.non_embedding),
                  *share(count.non_embedding, "dim"), *blank)
    if moe:
        table.add_row("[bold]active per token[/bold]", "", "", exact(count.active), human(count.active),
                      *share(count.active, "bold green"), human(count.active))
    if count.optional:
        optional = count.optional_total
        table.add_section()
        table.add_row(f"[bold]not in total: {model.mtp_modules} multi-token prediction module(s)[/bold]",
                      str(model.mtp_modules), exact(optional // model.mtp_modules), exact(optional),
                      human(optional), *share(optional, "dim"), *blank, style="bold")
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
    return [table, Note("\n".join(notes))]


def flops_table(count: FlopCount, training: TrainingCompute | None = None,
                utilisation: dict[str, float] | None = None) -> list[Block]:
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
        parts.append(Note(f"MFU {percent(utilisation['mfu'])} (model FLOPs {human(utilisation['flops_per_token'])}"
                          f" per token, {utilisation['convention']}); HFU {percent(utilisation['hfu'])}.", style=""))
    notes = [f"Attention {count.convention}.",
             "A multiply-add is 2 FLOPs; the embedding lookup is no matmul; the LM head counts even when tied.",
             "Non-matmul FLOPs are estimates" + ("." if count.include_other else ", not counted (--no-other).")]
    parts.append(Note("\n".join(notes)))
    return parts


def _training_table(training: TrainingCompute) -> Sheet:
    from .flops import PF_DAY

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


def memory_table(report: MemoryReport, unit: str = "GiB") -> list[Block]:
    model = report.model
    title = (f"{model.display_name} ({model.name}): {report.mode} memory, {human_bytes(report.per_gpu, unit)} per GPU"
             f" on {report.n_gpus} GPU{'s' if report.n_gpus > 1 else ''}")
    table = _table(title, [("part", "left"), ("whole model", "right"), ("per GPU", "right"), ("", "left")])
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


def _pf_days(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.4g}"


def fit_text(result: dict, gpu, unit: str = "GiB") -> list[Block]:
    """The fewest GPUs that hold the model and the largest batch (and context) there, as a small table."""
    capacity = human_bytes(result["gpu_memory_bytes"], unit)
    label = f"{result['name']} ({', '.join(result['overrides'])})" if result.get("overrides") else result["name"]
    sheet = Sheet(f"{label}, {result['mode']}, on {gpu.name} ({capacity} each)",
                  [("", "left"), ("", "right"), ("", "left")])
    if not result["fits"]:
        if result.get("fewest_gpus"):
            sheet.add_row("[bold red]does not fit[/bold red]", "", "on the GPUs asked for")
            sheet.add_row("fewest GPUs that hold it", f"{result['fewest_gpus']:,}", "")
        else:
            advice = ("raise --tp / --pp, or use --zero with data parallelism" if result["mode"] == "training"
                      else "try a smaller --dtype, --context or --batch")
            sheet.add_row("[bold red]does not fit[/bold red]", "", f"within --max-gpus; {advice}")
        return [sheet, Note(f"GPU memory from {gpu.source}.")]
    n = result["n_gpus"]
    sheet.add_row("[bold]fewest GPUs[/bold]", f"[bold]{result['fewest_gpus']:,}[/bold]", "")
    sheet.add_row("used per GPU", human_bytes(result["per_gpu_bytes"], unit), f"on {n}")
    if result["mode"] == "inference":
        sheet.add_row("largest batch", f"{result['largest_batch']:,}", f"on {n}, at {result['context']:,} tokens")
        sheet.add_row("largest context", f"{result['largest_context']:,}",
                      f"on {n}, at batch {result['settings']['batch']} (at most the model's context length)")
    else:
        sheet.add_row("largest micro-batch", f"{result['largest_micro_batch']:,}", f"on {n}")
    settings = ", ".join(f"{k} {v}" for k, v in result["settings"].items())
    return [sheet, Note(f"Settings: {settings}.\nGPU memory from {gpu.source}.")]


def list_table(counts: list[ParamCount]) -> list[Block]:
    table = _table("Built-in models", [("name", "left"), ("family", "left"), ("params", "right"),
                                       ("active", "right"), ("context", "right"), ("model", "left")])
    for c in counts:
        m = c.model
        table.add_row(m.name, m.family, human(c.total), human(c.active) if m.is_moe else "",
                      f"{m.context_length:,}", m.display_name)
    return [table]


def compare_table(counts: list[ParamCount], forwards: list[FlopCount], caches: list[KVCache]) -> list[Block]:
    """A column per model: architecture rows (differences highlighted), counts with ratios, FLOPs and KV cache."""
    table = Sheet("Comparison (ratios are to the first model)",
                  [("", "left")] + [(label, "right") for label in _unique([model_label(c.model) for c in counts])])
    arch = [architecture(c.model) for c in counts]
    for index, (label, _) in enumerate(arch[0]):
        values = [a[index][1] for a in arch]
        differs = len(set(values)) > 1
        style = "bold yellow" if differs else None
        table.add_row(label, *(f"{v:,}" if isinstance(v, int) else v for v in values), style=style)
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
    return [table, Note("\n".join(notes))]


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


def verify_table(checks: list[Check]) -> list[Block]:
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
    return [table, Note(summary, style="bold red" if failed else "bold green"), Note(legend),
            Note("\n".join(footnotes))]


# ------------------------------------------------------------------------------------------- CSV
# Each command's CSV: a header and one record per row, exact numbers (no units, no thousands separators), so a
# spreadsheet can sum and plot them.

COUNT_FIELDS = ["model", "group", "layers", "n_layers", "component", "params_per_layer", "params",
                "active_per_layer", "active", "in_total"]


def model_label(model: ModelSpec) -> str:
    """The model's name, with its --set overrides when it has any (two variants of one model stay apart)."""
    return f"{model.name} ({', '.join(model.overrides)})" if model.overrides else model.name


def count_records(count: ParamCount) -> list[dict[str, Any]]:
    """A record per component row: model-level rows, then each layer group's, then any not in the total."""
    model = count.model
    groups = {g.name: g for g in model.groups}

    def record(row: ParamRow, group: str, in_total: bool) -> dict[str, Any]:
        where = groups.get(row.group) if row.group else None
        return {"model": model_label(model), "group": group, "layers": index_ranges(where.indices) if where else "",
                "n_layers": row.n_layers if row.group else "", "component": row.component,
                "params_per_layer": row.per_layer, "params": row.total, "active_per_layer": row.active_per_layer,
                "active": row.active, "in_total": in_total}

    out = [record(r, "", True) for r in count.group_rows(None)]
    for group in model.groups:
        out += [record(r, group.name, True) for r in count.group_rows(group.name)]
    out += [record(r, "mtp", False) for r in count.optional]
    return out


FLOPS_FIELDS = ["model", "mode", "seq", "batch", "attention", "group", "n_layers", "component", "matmul_per_layer",
                "matmul", "other_per_layer", "other"]


def flops_records(count: FlopCount) -> list[dict[str, Any]]:
    """A record per component row of a forward pass (non-matmul FLOPs are estimates; 0 with --no-other)."""
    base = {"model": model_label(count.model), "mode": "decode" if count.decode else "prefill", "seq": count.seq,
            "batch": count.batch, "attention": count.attention}
    rows = [(r, "") for r in count.group_rows(None)]
    for group in count.model.groups:
        rows += [(r, group.name) for r in count.group_rows(group.name)]
    return [{**base, "group": group, "n_layers": row.n_layers if group else "", "component": row.component,
             "matmul_per_layer": row.matmul_per_layer, "matmul": row.matmul,
             "other_per_layer": row.other_per_layer if count.include_other else 0,
             "other": row.other if count.include_other else 0} for row, group in rows]


MEMORY_FIELDS = ["model", "mode", "n_gpus", "part", "bytes", "per_gpu_bytes", "estimate", "note"]


def memory_records(report: MemoryReport) -> list[dict[str, Any]]:
    """A record per part of a memory estimate, in bytes."""
    return [{"model": model_label(report.model), "mode": report.mode, "n_gpus": report.n_gpus, "part": p.name,
             "bytes": p.bytes, "per_gpu_bytes": p.per_gpu, "estimate": p.estimate, "note": p.note}
            for p in report.parts]


LIST_FIELDS = ["name", "family", "display_name", "aliases", "params", "active", "context_length", "moe"]


def list_records(counts: list[ParamCount]) -> list[dict[str, Any]]:
    return [{"name": c.model.name, "family": c.model.family, "display_name": c.model.display_name,
             "aliases": " ".join(c.model.aliases), "params": c.total, "active": c.active,
             "context_length": c.model.context_length, "moe": c.model.is_moe} for c in counts]


def compare_records(counts: list[ParamCount], forwards: list[FlopCount],
                    caches: list[KVCache]) -> tuple[list[str], list[dict[str, Any]]]:
    """A record per quantity with a column per model: architecture, components, totals, FLOPs and KV cache."""
    labels = _unique([model_label(c.model) for c in counts])
    out: list[dict[str, Any]] = []

    def add(quantity: str, values: list) -> None:
        out.append({"quantity": quantity, **dict(zip(labels, values))})

    arch = [architecture(c.model) for c in counts]
    for index, (label, _) in enumerate(arch[0]):
        add(label, [a[index][1] for a in arch])
    present = {row.component for c in counts for row in c.rows if row.total}
    components = [name for name in COMPONENT_LABELS if name in present] + sorted(
        present - set(COMPONENT_LABELS))
    for name in components:
        add(f"params {name}", [_component_total(c, name) for c in counts])
    for attribute in ("total", "active", "embedding", "non_embedding"):
        add(f"params {attribute}", [getattr(c, attribute) for c in counts])
    add("forward flops per token", [f.per_token for f in forwards])
    add("forward flops seq", [f.seq for f in forwards])
    add(f"kv cache bytes per token ({caches[0].dtype})", [k.bytes_per_token for k in caches])
    add("kv cache bytes of one sequence", [k.bytes for k in caches])
    add("kv cache context", [k.context for k in caches])
    return ["quantity", *labels], out


VERIFY_FIELDS = ["model", "figure", "as_published", "expected", "computed", "error", "tolerance", "rule", "status",
                 "ok", "source"]


def verify_records(checks: list[Check]) -> list[dict[str, Any]]:
    return [{"model": c.model, "figure": c.published.figure, "as_published": c.published.as_published,
             "expected": c.published.value, "computed": c.computed, "error": c.error,
             "tolerance": c.published.relative_tolerance, "rule": c.published.rule, "status": c.status,
             "ok": c.ok, "source": c.published.source} for c in checks]


FIT_FIELDS = ["model", "mode", "gpu", "gpu_memory_bytes", "fits", "fewest_gpus", "n_gpus", "per_gpu_bytes",
              "largest_batch", "largest_context", "context", "largest_micro_batch", "settings"]


def fit_records(result: dict) -> list[dict[str, Any]]:
    settings = result.get("settings") or {}
    label = f"{result['name']} ({', '.join(result['overrides'])})" if result.get("overrides") else result["name"]
    return [{**{k: result.get(k, "") for k in FIT_FIELDS}, "model": label,
             "settings": "; ".join(f"{k}={v}" for k, v in settings.items())}]


def _unique(labels: list[str]) -> list[str]:
    """Column names that stay apart when a model is given twice: 'llama3-8b', 'llama3-8b #2'."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


# ----------------------------------------------------------------------------------------- sweep

SWEEP_QUANTITIES = {  # key: (column heading, SweepPoint attribute, chart label)
    "kv": ("KV cache", "kv_cache_bytes", "KV cache"),
    "memory": ("memory", "memory_bytes", "inference memory on one GPU"),
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
    from .chart import line_chart

    labels = _unique([model_label(m) for m in result.models])
    many = len(labels) > 1
    columns = [(result.variable, "right")] + [(f"{heading}\n{label}" if many else heading, "right")
                                              for heading, _, _ in SWEEP_QUANTITIES.values() for label in labels]
    names = " vs ".join(labels)
    sheet = Sheet(f"Sweep of {result.variable}: {names}", columns)
    for value, row in zip(result.values, result.points):
        sheet.add_row(sweep_value(result.variable, value),
                      *[_sweep_cell(key, point, unit) for key in SWEEP_QUANTITIES for point in row])
    blocks: list[Block] = [sheet]
    if chart != "none":
        _, attribute, title = SWEEP_QUANTITIES[chart]
        scale = 1 if chart == "flops" else (2**30 if unit == "GiB" else 10**9)
        series = [(label, [getattr(row[j], attribute) / scale for row in result.points])
                  for j, label in enumerate(labels)]
        y_format = human if chart == "flops" else _axis_bytes
        blocks.append(Note(f"{title}{'' if chart == 'flops' else f' ({unit})'} by {result.variable}"
                           + (", log scale" if log_y else ""), style="bold"))
        blocks.append(Chart(line_chart([_short(v) for v in result.values], series, y_format=y_format,
                                       log_y=log_y)))
    settings = "; ".join(f"{k}: {v}" for k, v in result.settings.items())
    notes = [f"Settings: {settings}.",
             "Memory: inference on one GPU: weights, KV cache, and activations (an estimate) of a prefill of the whole "
             "sequence in one step; GB = 10^9 bytes, GiB = 2^30 bytes (--units).",
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


def sweep_records(result) -> tuple[list[str], list[dict[str, Any]]]:
    """A record per value; for each model its KV cache bytes, memory bytes, FLOPs per token and whether the
    value lies beyond its context length."""
    labels = _unique([model_label(m) for m in result.models])
    fields = [result.variable] + [f"{label} {column}" for label in labels for column in
                                  ("kv_cache_bytes", "memory_bytes", "flops_per_token", "beyond_context")]
    out = []
    for value, row in zip(result.values, result.points):
        record: dict[str, Any] = {result.variable: value}
        for label, point in zip(labels, row):
            record[f"{label} kv_cache_bytes"] = point.kv_cache_bytes
            record[f"{label} memory_bytes"] = point.memory_bytes
            record[f"{label} flops_per_token"] = point.flops_per_token
            record[f"{label} beyond_context"] = point.beyond_context
        out.append(record)
    return fields, out


def sweep_json(result) -> dict[str, Any]:
    labels = _unique([model_label(m) for m in result.models])
    return {"variable": result.variable, "values": list(result.values), "settings": result.settings,
            "models": [{"name": label, "points": [{
                "value": value, "kv_cache_bytes": row[j].kv_cache_bytes, "memory_bytes": row[j].memory_bytes,
                "flops_per_token": row[j].flops_per_token, "beyond_context": row[j].beyond_context,
            } for value, row in zip(result.values, result.points)]} for j, label in enumerate(labels)],
            "units": {"memory": "bytes, inference on one GPU", "flops_per_token": "forward, causal, non-matmul "
                      "estimates included"}}
