"""`llmcalc list`: every built-in model with its family, size and context length."""

from __future__ import annotations

import click

from ..errors import LlmcalcError
from .output import emit, output_options


@click.command("list")
@click.option("--family", help="Only models of this family (e.g. llama3, gpt2).")
@output_options
def command(family: str | None) -> None:
    """Every built-in model with its family, size and context length."""
    from .. import spec
    from ..formulas.params import count_params
    from ..present import listing as present

    models = spec.load_all()
    if family:
        families = sorted({m.family for m in models})
        models = [m for m in models if m.family.lower() == family.lower()]
        if not models:
            raise LlmcalcError(f"no built-in model of family '{family}'; families: {', '.join(families)}")
    counts = sorted((count_params(m) for m in models), key=lambda c: (c.model.family, c.total, c.model.name))
    emit(lambda: present.list_table(counts), lambda: present.list_json(counts),
         lambda: (present.LIST_FIELDS, present.list_records(counts)))

