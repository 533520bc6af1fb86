"""`llmcalc verify [MODEL...]`: every built-in spec (or the given ones) against its published figures."""

from __future__ import annotations

import sys

import click

from .options import complete_model, load_models, set_option, strict_option
from .output import emit, output_options


@click.command("verify")
@click.argument("models", nargs=-1, metavar="[MODEL...]", shell_complete=complete_model)
@set_option
@strict_option
@output_options
def command(models: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Check every built-in spec (or the given ones) against its published figures; exit 1 on a failure."""
    from .. import spec
    from ..formulas.published import verify
    from ..present import verify as present

    if overrides and not models:
        raise click.UsageError("--set needs the models to change: llmcalc verify MODEL --set KEY=VALUE")
    checks = verify(load_models(models, overrides, warn=False) if models else spec.load_all())
    emit(lambda: present.verify_table(checks), lambda: present.verify_json(checks),
         lambda: (present.VERIFY_FIELDS, present.verify_records(checks)))
    if any(not c.ok for c in checks):
        sys.exit(1)
