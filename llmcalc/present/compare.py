"""`llmcalc compare`: models side by side: architecture (differences highlighted), counts with ratios to the
first, FLOPs per token and KV cache."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..units import human, human_bytes, integral, ratio
from .common import UNITS_NOTE, component_label, escape, model_label, unique
from .count import count_json
from .describe import COMPONENT_LABELS, architecture
from .sheet import Block, Note, Sheet

if TYPE_CHECKING:
    from ..formulas.flops import FlopCount
    from ..formulas.kv import KVCache
    from ..formulas.params import ParamCount
    from ..model import ModelSpec


def architecture_json(model: ModelSpec) -> dict[str, int | str]:
    return dict(architecture(model))


def compare_json(counts: list[ParamCount], forwards: list[FlopCount], caches: list[KVCache]) -> dict[str, Any]:
    first = counts[0]
    return {"models": [{
        **count_json(c),
        "architecture": architecture_json(c.model),
        "flops_per_token": {"context": f.seq, "attention": f.attention, "matmul": integral(f.matmul / f.tokens),
                            "total": integral(f.per_token)},
        "kv_cache": {"context": k.context, "dtype": k.dtype, "bytes_per_token": k.bytes_per_token, "bytes": k.bytes},
        "ratio_to_first": {"total": c.total / first.total, "active": c.active / first.active,
                           "non_embedding": c.non_embedding / first.non_embedding if first.non_embedding else None},
    } for c, f, k in zip(counts, forwards, caches)]}


def compare_table(counts: list[ParamCount], forwards: list[FlopCount], caches: list[KVCache]) -> list[Block]:
    """A column per model: architecture rows (differences highlighted), counts with ratios, FLOPs and KV cache."""
    table = Sheet("Comparison (ratios are to the first model)",
                  [("", "left")] + [(escape(name), "right") for name in unique([model_label(c.model) for c in counts])])
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
        table.add_row(component_label(name), *cells)
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
    table.add_row("  at context", *[f"{f.seq:,}" for f in forwards])
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


def compare_records(counts: list[ParamCount], forwards: list[FlopCount],
                    caches: list[KVCache]) -> tuple[list[str], list[dict[str, Any]]]:
    """A record per quantity with a column per model: architecture, components, totals, FLOPs and KV cache."""
    labels = unique([model_label(c.model) for c in counts])
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
    add("forward flops per token", [integral(f.per_token) for f in forwards])
    add("forward flops context", [f.seq for f in forwards])
    add(f"kv cache bytes per token ({caches[0].dtype})", [k.bytes_per_token for k in caches])
    add("kv cache bytes of one sequence", [k.bytes for k in caches])
    add("kv cache context", [k.context for k in caches])
    return ["quantity", *labels], out
