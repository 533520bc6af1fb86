"""`llmcalc diagram MODEL... [--export FILE.svg]`: a block diagram of each model, side by side, as SVG."""

from __future__ import annotations

import click

from .options import load_models, models_argument, set_option, strict_option
from .output import write_file


@click.command("diagram")
@models_argument()
@click.option("--export", "export", metavar="FILE.svg", help="Write the SVG to FILE (default: print it).")
@set_option
@strict_option
def command(models: tuple[str, ...], export: str | None, overrides: tuple[str, ...]) -> None:
    """A block diagram of each MODEL drawn from its spec: embeddings, each layer group as a repeated block with its
    norms, attention (heads / KV heads / d_head, windows) and MLP or experts (top-k), the final norm and the head,
    with sizes and parameter counts; with several models side by side, the blocks that differ from the first
    model's marked. `llmcalc diagram gpt2-small llama3-8b --export diff.svg`."""
    from .. import api
    from ..present.common import model_label, unique
    from ..present.diagram import diagram
    from ..render.diagram import to_svg

    if export is not None and not export.lower().endswith(".svg"):
        raise click.UsageError(f"--export {export}: the file must end in .svg")
    loaded = load_models(models, overrides)
    svg = to_svg(diagram([api.count_params(m) for m in loaded], unique([model_label(m) for m in loaded])))
    if export is None:
        click.echo(svg, nl=False)
    else:
        write_file(export, svg)
