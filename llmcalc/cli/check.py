"""`llmcalc check SPEC_OR_CONFIG CHECKPOINT`: a spec's parameters per component against a checkpoint header's."""

from __future__ import annotations

import sys

import click

from .options import complete_model, load_models, set_option, strict_option
from .output import emit, output_options


@click.command("check")
@click.argument("model", metavar="SPEC_OR_CONFIG", shell_complete=complete_model)
@click.argument("checkpoint", metavar="CHECKPOINT", type=click.Path())
@set_option
@strict_option
@output_options
def command(model: str, checkpoint: str, overrides: tuple[str, ...]) -> None:
    """Hold SPEC_OR_CONFIG (a built-in name, a YAML spec, a config.json, or a folder holding one) against
    CHECKPOINT (a .safetensors file, a .safetensors.index.json, a .gguf file, or a folder holding them): per
    component and layer group, equal, different, missing or extra. Exit 0 when all are equal, 1 when not."""
    import os

    from .. import api, checkpoints
    from ..checkpoints.compare import compare
    from ..present import checkpoint as present

    if os.path.isdir(model) and os.path.isfile(os.path.join(model, "config.json")):
        model = os.path.join(model, "config.json")
    if not checkpoints.is_checkpoint(checkpoint):
        raise click.UsageError(f"{checkpoint}: not a checkpoint; give a .safetensors, .safetensors.index.json or "
                               ".gguf file, or a folder holding one")
    spec = load_models((model,), overrides)[0]
    comparison = compare(api.count_params(spec), checkpoints.read(checkpoint))
    emit(lambda: present.check_table(comparison), lambda: present.check_json(comparison),
         lambda: (present.CHECK_FIELDS, present.check_records(comparison)))
    if not comparison.ok:
        sys.exit(1)
