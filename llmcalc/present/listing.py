"""`llmcalc list`: the built-in models with their family, size and context length."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..units import human
from .common import escape
from .sheet import Block, Sheet

if TYPE_CHECKING:
    from ..formulas.params import ParamCount


def list_json(counts: list[ParamCount]) -> dict[str, Any]:
    return {"models": [{
        "name": c.model.name, "display_name": c.model.display_name, "family": c.model.family,
        "aliases": list(c.model.aliases), "params": c.total, "active": c.active,
        "context_length": c.model.context_length, "moe": c.model.is_moe,
    } for c in counts]}


def list_table(counts: list[ParamCount]) -> list[Block]:
    table = Sheet("Built-in models", [("name", "left"), ("family", "left"), ("params", "right"),
                                      ("active", "right"), ("context", "right"), ("model", "left")])
    for c in counts:
        m = c.model
        table.add_row(escape(m.name), escape(m.family), human(c.total), human(c.active) if m.is_moe else "",
                      f"{m.context_length:,}", escape(m.display_name))
    return [table]


LIST_FIELDS = ["name", "family", "display_name", "aliases", "params", "active", "context_length", "moe"]


def list_records(counts: list[ParamCount]) -> list[dict[str, Any]]:
    return [{"name": c.model.name, "family": c.model.family, "display_name": c.model.display_name,
             "aliases": " ".join(c.model.aliases), "params": c.total, "active": c.active,
             "context_length": c.model.context_length, "moe": c.model.is_moe} for c in counts]
