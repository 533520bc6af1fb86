"""`llmcalc count MODEL...`: the parameter breakdown of each model, or of a checkpoint file's header."""

from __future__ import annotations

import click

from .options import active_option, given, load_models, models_argument, set_option, strict_option
from .output import check_plot, draw_image, many, output_options, plot_option


@click.command("count")
@models_argument()
@active_option
@plot_option("where the parameters live (a stacked bar per model: parameters and shares by component)")
@set_option
@strict_option
@output_options
def command(models: tuple[str, ...], active: str, plot: str | None, overrides: tuple[str, ...]) -> None:
    """Parameter breakdown of each MODEL: per component and layer group, with each one's share.

    A MODEL that is a checkpoint (a .safetensors file, a .safetensors.index.json, a .gguf file, or a folder holding
    one; a folder with a config.json too counts its checkpoint) is counted from its header alone: the exact
    parameters, the bytes on disk by dtype or quant type, and a row per component."""
    from .. import api
    from ..checkpoints import is_checkpoint
    from ..present import count as present

    is_file = [is_checkpoint(m) for m in models]
    if plot is not None:
        if any(is_file):
            raise click.UsageError(f"--plot draws specs' counts; {models[is_file.index(True)]} is a checkpoint")
        check_plot(plot)
    if not any(is_file):
        counts = [api.count_params(m, active) for m in load_models(models, overrides)]
        if plot is not None:
            draw_image(present.count_plot(counts), plot)
        many([lambda c=c: present.count_table(c) for c in counts],
             [lambda c=c: present.count_json(c) for c in counts],
             [lambda c=c: present.count_records(c) for c in counts], present.COUNT_FIELDS)
        return
    from .. import checkpoints
    from ..present import checkpoint as from_file

    if all(is_file) and given("strict"):
        raise click.UsageError("--strict applies to a config.json; a checkpoint's header has no keys to refuse")
    if overrides:
        raise click.UsageError(f"--set does not apply to a checkpoint ({models[is_file.index(True)]}); it changes "
                               "specs only")
    specs = iter(load_models(tuple(m for m, f in zip(models, is_file) if not f)))
    builders = []
    for model, checkpoint in zip(models, is_file):
        if checkpoint:
            ck = checkpoints.read(model)
            builders.append((lambda c=ck: from_file.checkpoint_table(c), lambda c=ck: from_file.checkpoint_json(c),
                             lambda c=ck: from_file.checkpoint_records(c)))
        else:
            c = api.count_params(next(specs), active)
            builders.append((lambda c=c: present.count_table(c), lambda c=c: present.count_json(c),
                             lambda c=c: present.count_records(c)))
    fields = from_file.CHECKPOINT_FIELDS if all(is_file) else present.COUNT_FIELDS + [
        f for f in from_file.CHECKPOINT_FIELDS if f not in present.COUNT_FIELDS]
    many(*(list(column) for column in zip(*builders)), fields)
