"""Output: --format, --json and --export, and printing a command's result in the chosen format. Each command hands
over three builders (sheets, a JSON document, CSV records); only the one asked for runs, and only its renderer is
imported: JSON and CSV load no rich. Also the spec formats of `show` and `import` (yaml or json)."""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

import click

from ..errors import LlmcalcError

FORMATS = ("table", "json", "csv", "markdown")
EXPORT_SUFFIXES = (".svg", ".html", ".htm", ".txt", ".md")


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault("llmcalc.output", {})[param.name] = value
    return value


def output_options(function: Callable) -> Callable:
    """--format, its --json shortcut and --export: read back by emit, so commands need not pass them on."""
    options = [
        click.option("--format", "format", type=click.Choice(FORMATS), expose_value=False, callback=_remember,
                     help="table (default): rich tables; json: one document; csv: a record per row, exact numbers; "
                          "markdown: tables to paste into a README or a pull request."),
        click.option("--json", "json", is_flag=True, expose_value=False, callback=_remember,
                     help="Shortcut for --format json."),
        click.option("--export", "export", metavar="FILE", type=click.Path(dir_okay=False), expose_value=False,
                     callback=_remember, help="Also write the tables to FILE: .svg or .html (rich's export, for "
                     "slides and docs), .txt or .md."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _format() -> str:
    chosen = click.get_current_context().meta.get("llmcalc.output", {})
    if chosen.get("json") and chosen.get("format") not in (None, "json"):
        raise click.UsageError(f"--json and --format {chosen['format']} ask for two different formats")
    return "json" if chosen.get("json") else chosen.get("format") or "table"


def emit(blocks: Callable[[], list], document: Callable[[], dict],
         records: Callable[[], tuple[list[str], list[dict]]]) -> None:
    """Print in the chosen format; export the tables when asked. Each argument builds its format on demand."""
    fmt = _format()
    export = click.get_current_context().meta.get("llmcalc.output", {}).get("export")
    if export is not None and not export.strip():
        raise click.UsageError("--export needs a file name")
    if export and not export.lower().endswith(EXPORT_SUFFIXES):
        raise click.UsageError(f"--export {export}: the file must end in {', '.join(EXPORT_SUFFIXES)}")
    if export:  # a missing folder is found before anything is printed, not after
        check_writable(export)
    built = blocks() if fmt in ("table", "markdown") or export else None
    if fmt == "json":
        from ..render.json import to_json

        click.echo(to_json(document()))
    elif fmt == "csv":
        from ..render.csv import to_csv

        click.echo(to_csv(*records()), nl=False)
    elif fmt == "markdown":
        from ..render.markdown import to_markdown

        click.echo(to_markdown(built), nl=False)
    else:
        from ..render.terminal import print_blocks

        print_blocks(built)
    if export:
        _export(export, built)


def _export(path: str, blocks: list) -> None:
    """The tables written to `path` through rich's own export (SVG, HTML, text) or as Markdown."""
    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix == "md":
        from ..render.markdown import to_markdown

        text = to_markdown(blocks)
    else:
        from ..render.terminal import export

        text = export(blocks, suffix, title="llmcalc " + " ".join(sys.argv[1:]))
    write_file(path, text)


def check_writable(path: str) -> None:
    """Refuse, before anything is printed or drawn, a file whose folder is missing or which exists and is not a
    regular file (a FIFO or a device would block or swallow it)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise LlmcalcError(f"{path}: cannot write file: no such folder {folder}")
    if os.path.exists(path) and not os.path.isfile(path):
        raise LlmcalcError(f"{path}: cannot write file: it exists and is not a regular file")


def write_file(path: str, text: str) -> None:
    """`text` written to `path` (check_writable first), then 'wrote PATH' on stderr; a failure is one line."""
    check_writable(path)
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise LlmcalcError(f"{path}: cannot write file: {exc.strerror or exc}") from None
    click.echo(f"wrote {path}", err=True)


def plot_option(what: str) -> Callable:
    """--plot FILE: `what` drawn into an image file with matplotlib, the optional plot extra."""
    return click.option("--plot", "plot", metavar="FILE", help=f"Also draw {what} into FILE (.png, .svg, .pdf) with "
                        "matplotlib (pip install 'llmcalc[plot]').")


def check_plot(path: str, option: str = "--plot") -> None:
    """An image file name refused before anything is computed: its suffix, its folder, what it is now."""
    from ..render.plot import PLOT_SUFFIXES

    if not path.lower().endswith(PLOT_SUFFIXES):
        raise click.UsageError(f"{option} {path}: the file must end in {', '.join(PLOT_SUFFIXES)}")
    check_writable(path)


def draw_image(drawing, path: str, option: str = "--plot", otherwise: str = "") -> None:
    """A plot's panels (present.sheet Charts and Bars) or a Diagram drawn into `path` before anything is printed;
    a missing extra (`otherwise`: what needs none) or an unwritable file is one line naming `option`."""
    try:
        import matplotlib  # noqa: F401  (the optional extra)
    except ImportError:
        raise LlmcalcError(f"{option} needs matplotlib, the optional plot extra: pip install 'llmcalc[plot]'"
                           + (f" ({otherwise})" if otherwise else "")) from None
    from ..render.plot import save

    try:
        save(drawing, path)
    except OSError as exc:
        raise LlmcalcError(f"{path}: cannot write file: {exc.strerror or exc}") from None
    click.echo(f"wrote {path}", err=True)


def many(blocks: list[Callable[[], list]], documents: list[Callable[[], dict]],
          records: list[Callable[[], list[dict]]], fields: list[str]) -> None:
    """One output for several models: tables one after another, {"models": [...]}, or one CSV."""
    emit(lambda: [b for make in blocks for b in make()],
          lambda: {"models": [make() for make in documents]},
          lambda: (fields, [r for make in records for r in make()]))


def spec_format_options(function):
    """--format yaml|json and --json, for the commands that print a spec."""
    function = click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.")(function)
    return click.option("--format", "fmt", type=click.Choice(["yaml", "json"]),
                        help="yaml (default) or json.")(function)


def spec_text(yaml_text: str, data: dict, fmt: str | None, as_json: bool) -> str:
    """The spec as YAML (its own text, comments kept) or as JSON."""
    if as_json and fmt == "yaml":
        raise click.UsageError("--json and --format yaml ask for two different formats")
    if as_json or fmt == "json":
        import json

        return json.dumps(data, indent=2) + "\n"
    return yaml_text
