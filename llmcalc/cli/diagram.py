"""`llmcalc diagram MODEL... [--export FILE.svg|.png|.pdf]`: a block diagram of each model, side by side, as SVG
(or an image through the optional matplotlib extra)."""

from __future__ import annotations

import click

from .options import load_models, models_argument, set_option, strict_option
from .output import check_plot, draw_image, write_file


@click.command("diagram")
@models_argument()
@click.option("--export", "export", metavar="FILE", help="Write the diagram to FILE (default: print the SVG): .svg "
              "needs nothing; .png or .pdf is drawn with matplotlib (pip install 'llmcalc[plot]').")
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

    if export is not None:
        check_plot(export, "--export")
    loaded = load_models(models, overrides)
    drawn = diagram([api.count_params(m) for m in loaded], unique([model_label(m) for m in loaded]))
    if export is None:
        click.echo(to_svg(drawn), nl=False)
    elif export.lower().endswith(".svg"):
        write_file(export, to_svg(drawn))
    else:
        draw_image(drawn, export, f"--export {export}", "an .svg needs nothing")
