"""`llmcalc show MODEL`: the resolved spec, as YAML (or JSON) that loads on its own."""

from __future__ import annotations

import click

from .options import (
    given,
    models_argument,
    set_option,
    strict_option,
    targets,
    warn_unread,
)
from .output import spec_format_options, spec_text


@click.command("show")
@models_argument("MODEL", nargs=1)
@set_option
@strict_option
@spec_format_options
def command(models: str, overrides: tuple[str, ...], fmt: str | None, as_json: bool) -> None:
    """The resolved spec of MODEL (its `extends` chain merged, --set applied) as YAML that loads on its own."""
    from ..sources import show_yaml

    text, data, unread = show_yaml(models, targets(overrides, 1)[0], strict=given("strict"))
    warn_unread(models, unread)
    click.echo(spec_text(text, data, fmt, as_json), nl=False)
