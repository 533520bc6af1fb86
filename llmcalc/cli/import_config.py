"""`llmcalc import CONFIG.json`: the llmcalc spec of a Hugging Face config.json."""

from __future__ import annotations

import click

from ..errors import LlmcalcError
from .options import given, set_option, strict_option, targets, warn_unread
from .output import spec_format_options, spec_text


@click.command("import")
@click.argument("config", metavar="CONFIG.json")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the spec to this file instead of printing it.")
@set_option
@strict_option
@spec_format_options
def command(config: str, output: str | None, overrides: tuple[str, ...], fmt: str | None,
                   as_json: bool) -> None:
    """The llmcalc spec of a Hugging Face config.json (missing keys take the transformers defaults).

    Every other command takes the config.json directly too: `llmcalc count path/to/config.json`.
    """
    from pathlib import Path

    from .. import spec
    from ..importers import hf

    path = Path(config)
    if not path.is_file():
        raise LlmcalcError(f"{config}: no such file" if not path.exists() else f"{config}: is not a file")
    overrides = targets(overrides, 1)[0]
    data, unread = hf.read_spec(hf.read_config(path), str(path), strict=given("strict"))
    warn_unread(str(path), unread)
    origin: dict = {(): str(path)}
    spec.apply_overrides(data, origin, overrides)
    spec.build(hf.model_name(path), str(path), data, origin)  # what is written must count
    text = spec_text(hf.spec_yaml(data, str(path), overrides), data, fmt, as_json)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LlmcalcError(f"{output}: cannot write file: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)
