"""`llmcalc flops`: forward FLOPs per component and layer group, training compute and MFU."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..formulas.indexer import has_indexer
from ..formulas.recurrent import MIXER_CONVENTION
from ..units import exact, human, integral, percent
from .common import TOWER_GROUPS, component_label, group_heading, model_label, model_title, overrides_json
from .sheet import Block, Note, Sheet

if TYPE_CHECKING:
    from ..formulas.flops import FlopCount, FlopRow
    from ..formulas.training_flops import TrainingCompute


def _flop_row_json(row: FlopRow) -> dict[str, Any]:
    return {"component": row.component, "matmul_per_layer": integral(row.matmul_per_layer),
            "matmul": integral(row.matmul), "other_per_layer": integral(row.other_per_layer),
            "other": integral(row.other)}


def flops_json(count: FlopCount, training: TrainingCompute | None = None,
               utilisation: dict[str, float] | None = None) -> dict[str, Any]:
    """One model's forward FLOPs: totals (exact integers), model-level components and layer groups."""
    groups = []
    for group in count.model.groups:
        rows = count.group_rows(group.name)
        groups.append({"name": group.name, "n_layers": group.count, "layers": list(group.indices),
                       "matmul_per_layer": integral(sum(r.matmul_per_layer for r in rows)),
                       "matmul": integral(sum(r.matmul for r in rows)), "other": integral(sum(r.other for r in rows)),
                       "components": [_flop_row_json(r) for r in rows]})
    out: dict[str, Any] = {
        "name": count.model.name,
        **overrides_json(count.model),
        "mode": "decode" if count.decode else "prefill",
        "context": count.seq,
        "batch": count.batch,
        "attention": count.attention,
        "non_matmul_counted": count.include_other,
        "forward": {"matmul": integral(count.matmul), "other": integral(count.other), "total": integral(count.total),
                    "tokens": count.tokens, "per_token": integral(count.per_token)},
        "conventions": {"attention": count.convention, "multiply_add": "2 FLOPs",
                        "non_matmul": "estimates (softmax 3/score, norms, activations, bias and residual adds)"},
        "components": [_flop_row_json(r) for r in count.group_rows(None)],
        "groups": groups,
    }
    if has_indexer(count.model):  # DSA's convention (formulas/indexer.py)
        out["sparse_attention"] = count.sparse
    if count.images:
        out["images"] = {"per_sequence": count.images, "tokens_per_image": count.image_tokens,
                         **{name: {"matmul": integral(sum(r.matmul for r in count.group_rows(name))),
                                   "other": integral(sum(r.other for r in count.group_rows(name))),
                                   "components": [_flop_row_json(r) for r in count.group_rows(name)]}
                            for name, _ in TOWER_GROUPS}}
    if training is not None:
        out["training"] = {
            "tokens": integral(training.tokens), "recompute": training.recompute, "n_params": training.n_params,
            "model_flops_per_token": integral(training.model_per_token),
            "hardware_flops_per_token": integral(training.hardware_per_token),
            "model_flops": integral(training.total), "hardware_flops": integral(training.hardware_total),
            "pf_days": training.pf_days, "six_n": integral(training.six_n), "palm": integral(training.palm),
        }
    schedule = (utilisation or {}).get("schedule")
    if schedule:
        out["training"].update({k: schedule[k] for k in ("days", "gpu_hours", "cost") if k in schedule})
        out["training"]["schedule"] = {k: v for k, v in schedule.items() if k not in ("days", "gpu_hours", "cost")}
    elif utilisation:
        out["utilisation"] = utilisation
    return out


def flops_table(count: FlopCount, training: TrainingCompute | None = None,
                utilisation: dict[str, float] | None = None) -> list[Block]:
    """Forward FLOPs per component and layer group; training compute below when asked for."""
    model = count.model
    mode = (f"one decode step at position {count.seq:,}" if count.decode
            else f"forward pass over {count.seq:,} tokens")
    title = (f"{model_title(model)}: {mode}, batch {count.batch}: "
             f"{human(count.total)} FLOPs ({human(count.per_token)} per token)")
    table = Sheet(title, [("component", "left"), ("layers", "right"), ("matmul per layer", "right"),
                          ("matmul", "right"), ("non-matmul", "right"), ("share", "right")])
    total = count.total

    def add(row: FlopRow, indent: str = "") -> None:
        table.add_row(indent + component_label(row.component), str(row.n_layers) if row.group else "",
                      exact(row.matmul_per_layer) if row.group and row.matmul_per_layer else "",
                      human(row.matmul) if row.matmul else "",
                      human(row.other) if row.other and count.include_other else "",
                      percent((row.matmul + (row.other if count.include_other else 0)) / total) if total else "-")

    for group in model.groups:
        rows = count.group_rows(group.name)
        heading = group_heading(group)
        matmul = sum(r.matmul for r in rows)
        other = sum(r.other for r in rows) if count.include_other else 0
        table.add_row(f"[bold]{heading}[/bold]", str(group.count), exact(sum(r.matmul_per_layer for r in rows)),
                      human(matmul), human(other) if other else "", percent((matmul + other) / total) if total else "-",
                      style="bold")
        for row in rows:
            add(row, "  ")
    for name, heading in TOWER_GROUPS if count.images and not count.decode else ():
        rows = count.group_rows(name)
        matmul = sum(r.matmul for r in rows)
        other = sum(r.other for r in rows) if count.include_other else 0
        table.add_section()
        table.add_row(f"[bold]{heading} ({count.images * count.batch:,} images)[/bold]", "", "", human(matmul),
                      human(other) if other else "", percent((matmul + other) / total) if total else "-",
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
    schedule = (utilisation or {}).get("schedule")
    if schedule:
        where = schedule["gpu"] or f"{human(schedule['peak_flops'])}FLOP/s"
        cost = f", {schedule['cost']:,.0f} at {schedule['price']:g} per GPU-hour" if "cost" in schedule else ""
        parts.append(Note(f"On {schedule['n_gpus']:,} x {where} at {percent(schedule['mfu'])} MFU: "
                          f"{schedule['days']:,.1f} days, {schedule['gpu_hours']:,.0f} GPU-hours{cost} (model FLOPs "
                          "/ (GPUs x peak x MFU)).", style=""))
    elif utilisation:
        parts.append(Note(f"MFU {percent(utilisation['mfu'])} (model FLOPs {human(utilisation['flops_per_token'])}"
                          f" per token, {utilisation['convention']}); HFU {percent(utilisation['hfu'])}.", style=""))
    notes = [f"Attention {count.convention}.",
             "A multiply-add is 2 FLOPs; the embedding lookup is no matmul; the LM head counts even when tied.",
             "Non-matmul FLOPs are estimates" + ("." if count.include_other else ", not counted (--no-other).")]
    if count.model.is_recurrent:
        notes.append(f"{MIXER_CONVENTION}.")
    if count.model.cross_attends_images and not count.images:
        notes.append("No images (--images N): the layers that cross-attend to them are skipped, as transformers "
                     "skips them.")
    if count.images:
        where = ("are what the cross-attention layers attend to, beside the" if count.model.cross_attends_images
                 else "are part of the")
        notes.append(f"{count.images:,} image(s) per sequence of {count.image_tokens:,} tokens each {where} "
                     f"{count.seq:,} tokens" + ("; they were encoded at prefill." if count.decode else "."))
    parts.append(Note("\n".join(notes)))
    return parts


def _training_table(training: TrainingCompute) -> Sheet:
    from ..formulas.training_flops import PF_DAY

    table = Sheet(f"Training on {human(training.tokens)} tokens at context {training.forward.seq:,} "
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


def _pf_days(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.4g}"


FLOPS_FIELDS = ["model", "mode", "context", "batch", "attention", "group", "n_layers", "component", "matmul_per_layer",
                "matmul", "other_per_layer", "other"]


def flops_records(count: FlopCount) -> list[dict[str, Any]]:
    """A record per component row of a forward pass (non-matmul FLOPs are estimates; 0 with --no-other)."""
    base = {"model": model_label(count.model), "mode": "decode" if count.decode else "prefill", "context": count.seq,
            "batch": count.batch, "attention": count.attention}
    rows = [(r, "") for r in count.group_rows(None)]
    for group in count.model.groups:
        rows += [(r, group.name) for r in count.group_rows(group.name)]
    for name, _ in TOWER_GROUPS if count.images else ():
        rows += [(r, name) for r in count.group_rows(name)]
    return [{**base, "group": group, "n_layers": row.n_layers if group else "", "component": row.component,
             "matmul_per_layer": integral(row.matmul_per_layer), "matmul": integral(row.matmul),
             "other_per_layer": integral(row.other_per_layer) if count.include_other else 0,
             "other": integral(row.other) if count.include_other else 0} for row, group in rows]
