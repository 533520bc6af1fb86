"""`llmcalc verify`: each published figure against the computed one, with its tolerance and status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..units import exact, percent
from .common import escape
from .sheet import Block, Note, Sheet

if TYPE_CHECKING:
    from ..formulas.published import Check


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


def verify_table(checks: list[Check]) -> list[Block]:
    table = Sheet("Published figures (parameters)", [
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
        table.add_row(escape(c.model), FIGURE_LABELS.get(c.published.figure, c.published.figure), c.published.as_published,
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


VERIFY_FIELDS = ["model", "figure", "as_published", "expected", "computed", "error", "tolerance", "rule", "status",
                 "ok", "source"]


def verify_records(checks: list[Check]) -> list[dict[str, Any]]:
    return [{"model": c.model, "figure": c.published.figure, "as_published": c.published.as_published,
             "expected": c.published.value, "computed": c.computed, "error": c.error,
             "tolerance": c.published.relative_tolerance, "rule": c.published.rule, "status": c.status,
             "ok": c.ok, "source": c.published.source} for c in checks]
