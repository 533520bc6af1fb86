"""`llmcalc count MODEL...`: the parameter breakdown of each model."""

from __future__ import annotations

import click

from .options import active_option, load_models, models_argument, set_option
from .output import many, output_options


@click.command("count")
@models_argument()
@active_option
@set_option
@output_options
def command(models: tuple[str, ...], active: str, overrides: tuple[str, ...]) -> None:
    """Parameter breakdown of each MODEL: per component and layer group, with each one's share."""
    from .. import api
    from ..present import count as present

    counts = [api.count_params(m, active) for m in load_models(models, overrides)]
    many([lambda c=c: present.count_table(c) for c in counts], [lambda c=c: present.count_json(c) for c in counts],
         [lambda c=c: present.count_records(c) for c in counts], present.COUNT_FIELDS)
