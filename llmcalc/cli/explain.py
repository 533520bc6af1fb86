"""`llmcalc explain MODEL...`: architectural differences in words, with their sources and their cost."""

from __future__ import annotations

import click

from .options import load_models, models_argument, set_option, strict_option
from .output import emit, output_options


@click.command("explain")
@models_argument()
@set_option
@strict_option
@output_options
def command(models: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """What differs between the MODELs' architectures, aspect by aspect: each one's value, what it is (with the paper
    that introduced it) and what it costs in these models (parameters, KV cache bytes, FLOPs); which differences are
    of architecture and which only of size. With one MODEL: its design, aspect by aspect.
    `llmcalc explain gpt2-small llama3-8b`."""
    from .. import explanations
    from ..present import explain as present

    result = explanations.explain(load_models(models, overrides))
    emit(lambda: present.explain_table(result), lambda: present.explain_json(result),
         lambda: present.explain_records(result))
