"""`llmcalc explain`: the architectural differences between models in words, with their sources and their cost in
these models; or one model's design, aspect by aspect."""

from __future__ import annotations

from typing import Any

from ..units import decimal_bytes, human, integral, ratio
from .common import escape, model_label, unique
from .sheet import Block, Note, Sheet

def _figure(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value:,.0f} B" if value < 10**6 else decimal_bytes(value)
    return human(value) if value else "0"


def _figures(d) -> list[str]:
    first = d.figures[0]
    return [_figure(v, d.unit) + ("" if i == 0 or not first or not v else f" ({ratio(v, first)})")
            for i, v in enumerate(d.figures)]


def explain_table(result) -> list[Block]:
    labels = unique([model_label(m) for m in result.models])
    if len(result.models) == 1:
        return _one(result, labels[0])
    sheet = Sheet("Architecture differences (figures: ratios to the first model)",
                  [("", "left")] + [(escape(label), "left") for label in labels])
    words = []
    for d in result.differences:
        sheet.add_row(f"[bold]{d.label}[/bold]", *[escape(v) for v in d.values], style="bold yellow")
        sheet.add_row(f"  {d.consequence}", *_figures(d))
        for kind, text, source in d.words:
            who = ", ".join(escape(label) for label, k in zip(labels, d.kinds) if k == kind)
            words.append(f"{d.label}, {who}: {text} ({source}).")
        words += [f"  {escape(label)} {note}." for label, note in zip(labels, d.notes) if note]
        words += [f"  {escape(label)}: {text}." for label, text in zip(labels, d.effects) if text]
    architecture = [d.label for d in result.differences if d.in_kind]
    scale = [d.label for d in result.differences if not d.in_kind]
    alike = [d.label for d in result.aspects if not d.differs]
    summary = [f"Architecture differs in: {', '.join(architecture) or 'nothing'}.",
               f"Only in size: {', '.join(scale) or 'nothing'}.", f"Alike: {', '.join(alike) or 'nothing'}."]
    return [sheet, Note("\n".join(summary), style="bold"), Note("\n".join(words))]


def _one(result, label: str) -> list[Block]:
    sheet = Sheet(f"The design of {escape(label)}", [("aspect", "left"), ("value", "left"), ("costs", "right"),
                                                     ("", "left")])
    words = []
    for d in result.aspects:
        sheet.add_row(d.label, escape(d.values[0]), _figure(d.figures[0], d.unit), d.consequence)
        for _, text, source in d.words:
            words.append(f"{d.label}: {text} ({source})." + (f" It {d.notes[0]}." if d.notes[0] else ""))
    return [sheet, Note("\n".join(words))]


def explain_json(result) -> dict[str, Any]:
    labels = unique([model_label(m) for m in result.models])

    def entry(d) -> dict[str, Any]:
        return {"aspect": d.aspect, "label": d.label, "values": dict(zip(labels, d.values)),
                "kinds": dict(zip(labels, d.kinds)), "architecture": d.in_kind,
                "explanation": {kind: text for kind, text, _ in d.words},
                "source": {kind: source for kind, _, source in d.words},
                "consequence": {"quantity": d.consequence, "unit": d.unit,
                                "values": {label: integral(v) for label, v in zip(labels, d.figures)},
                                "notes": {label: note for label, note in zip(labels, d.notes) if note},
                                "effect": {label: text for label, text in zip(labels, d.effects) if text}}}
    key = "differences" if len(labels) > 1 else "aspects"
    chosen = result.differences if len(labels) > 1 else result.aspects
    return {"models": labels, key: [entry(d) for d in chosen],
            **({"alike": [d.aspect for d in result.aspects if not d.differs]} if len(labels) > 1 else {})}


EXPLAIN_FIELDS = ["aspect", "architecture", "quantity", "unit"]


def explain_records(result) -> tuple[list[str], list[dict[str, Any]]]:
    labels = unique([model_label(m) for m in result.models])
    rows = []
    for d in result.aspects if len(labels) == 1 else result.differences:
        record = {"aspect": d.aspect, "architecture": d.in_kind, "quantity": d.consequence, "unit": d.unit}
        for label, value, figure in zip(labels, d.values, d.figures):
            record[label] = value
            record[f"{label} figure"] = integral(figure)
        rows.append(record)
    return EXPLAIN_FIELDS + [c for label in labels for c in (label, f"{label} figure")], rows
