"""`llmcalc count`: a model's parameters per component and layer group, with each one's share, as a sheet, a JSON
document and CSV records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..units import bar, exact, human, index_ranges, percent
from .common import (
    TOWER_GROUPS,
    UNITS_NOTE,
    component_label,
    group_heading,
    model_label,
    model_title,
    overrides_json,
    tower_layers,
    unique,
)
from .sheet import Bars, Block, Note, Sheet

if TYPE_CHECKING:
    from ..formulas.params import ParamCount, ParamRow


SHARE_BAR_WIDTH = 20
# The parts a plot stacks, each a set of components by prefix, in the order they are drawn.
PARTS = (("embeddings", ("embed.",)), ("attention", ("attn.",)), ("cross-attention", ("xattn.",)), ("MLP", ("mlp.",)),
         ("routed experts", ("moe.experts",)), ("shared experts", ("moe.shared",)), ("router", ("moe.router",)),
         ("norms", ("norm.",)), ("LM head", ("lm_head",)), ("vision tower", ("vision.",)),
         ("projector", ("projector.",)))


def _row_json(row: ParamRow) -> dict[str, Any]:
    out = {"component": row.component, "params_per_layer": row.per_layer, "params": row.total,
           "active_per_layer": row.active_per_layer, "active": row.active}
    if row.note:
        out["note"] = row.note
    return out


def embedding_definition(model) -> str:
    """What 'embedding' sums for this model: the token embedding, a learned position embedding where it has one,
    and the LM head where it is untied."""
    parts = ["token embedding"] + (["learned position embedding"] if model.position == "learned" else [])
    parts += ["per-layer input embedding"] if model.per_layer_vocab else []
    parts += [] if model.tied_embeddings else ["untied LM head"]
    return " + ".join(parts + (["LM head bias"] if model.lm_head_bias else []))


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
        **overrides_json(model),
        "display_name": model.display_name,
        "family": model.family,
        "params": {"total": count.total, "active": count.active, "embedding": count.embedding,
                   "non_embedding": count.non_embedding},
        "conventions": {"active": count.convention, "embedding": embedding_definition(model)},
        "components": [_row_json(r) for r in count.group_rows(None)],
        "groups": groups,
        **({"vision": [{"name": name, "params": sum(r.total for r in count.group_rows(name)),
                        "components": [_row_json(r) for r in count.group_rows(name)]}
                       for name, _ in TOWER_GROUPS]} if model.vision else {}),
        **({"optional": {"name": "multi-token prediction (not in total)", "params": count.optional_total,
                         "components": [_row_json(r) for r in count.optional]}} if count.optional else {}),
        **({"buffers": {"values": count.buffer_total, "components": [_row_json(r) for r in count.buffers]}}
           if count.buffers else {}),
        **({"rumour": model.rumour} if model.rumour else {}),
    }


def count_table(count: ParamCount) -> list[Block]:
    """The breakdown of one model: a row per component and layer group, with totals."""
    model = count.model
    total = count.total
    title = f"{model_title(model)}: {exact(total)} parameters ({human(total)})"
    moe = model.is_moe
    columns = [("component", "left"), ("layers", "right"), ("per layer", "right"), ("params", "right"),
               ("", "right"), ("share", "left")]
    table = Sheet(title, columns + ([("active", "right")] if moe else []))

    def share(value: int, style: str = "cyan") -> list[str]:
        """The share of the total as a percentage and as a bar, so the eye sees where the parameters live."""
        if not total:
            return ["-"]
        drawn = bar(value / total, SHARE_BAR_WIDTH)
        return [f"{percent(value / total):>6} " + (f"[{style}]{drawn}[/{style}]" if drawn else "")]

    def add(row: ParamRow, indent: str = "") -> None:
        label = component_label(row.component) + (" (tied)" if row.note and not row.total else "")
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
        heading = group_heading(group)
        group_active = [human(sum(r.active for r in rows))] if moe else []
        table.add_row(f"[bold]{heading}[/bold]",
                      str(group.count), exact(sum(r.per_layer for r in rows)), exact(group_total),
                      human(group_total), *share(group_total, "bold cyan"), *group_active, style="bold")
        for row in rows:
            add(row, "  ")
    for name, heading in TOWER_GROUPS if model.vision else ():
        rows = count.group_rows(name)
        group_total = sum(r.total for r in rows)
        table.add_section()
        table.add_row(f"[bold]{heading}[/bold]", tower_layers(model, name), "", exact(group_total),
                      human(group_total), *share(group_total, "bold cyan"),
                      *([human(sum(r.active for r in rows))] if moe else []), style="bold")
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
    notes = [UNITS_NOTE, f"embedding = {embedding_definition(model)}."]
    if model.is_moe or model.per_layer_vocab or model.vision:  # what counts as active, said where it matters
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


def count_plot(counts: list[ParamCount]) -> list[Bars]:
    """Where the parameters live, for a plot file: a bar per model, a segment per part (embeddings, attention, MLP,
    experts, norms, LM head; every layer group's together), in parameters and as shares of each model's total."""
    labels = unique([model_label(c.model) for c in counts])
    sums = [{name: sum(r.total for r in c.rows if r.component.startswith(prefixes)) for name, prefixes in PARTS}
            for c in counts]
    for s, c in zip(sums, counts):
        s["other"] = c.total - sum(s.values())  # none today: a component of a new kind still adds up
    parts = [name for name in sums[0] if any(s[name] for s in sums)]
    scale, unit = (1e9, "billions") if max(c.total for c in counts) >= 1e9 else (1e6, "millions")
    return [Bars(labels, [(name, [s[name] / scale for s in sums]) for name in parts],
                 title="Parameters by component", x_label=f"parameters ({unit})"),
            Bars(labels, [(name, [100 * s[name] / c.total if c.total else 0.0 for s, c in zip(sums, counts)])
                          for name in parts], title="Share of each model's parameters", x_label="share (%)",
                 x_max=100)]


COUNT_FIELDS = ["model", "group", "layers", "n_layers", "component", "params_per_layer", "params",
                "active_per_layer", "active", "in_total"]


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
    for name, _ in TOWER_GROUPS if model.vision else ():
        out += [record(r, name, True) for r in count.group_rows(name)]
    out += [record(r, "mtp", False) for r in count.optional]
    return out
