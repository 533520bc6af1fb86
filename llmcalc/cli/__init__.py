"""The `llmcalc` command: parse options, call the library (llmcalc.api), hand the result to its presentation module
and the chosen renderer. Exit codes: 0 success, 1 a check failed (`verify`), 2 bad usage or bad input.

One module per command (its `command` is a click.Command), listed in COMMANDS and imported only when it runs;
options.py holds the options the commands share and output.py the formats. Inside the commands, the library is
imported in the function body, so that start-up pays only for what runs.

May import: every earlier stage (llmcalc.errors, llmcalc.api, llmcalc.sources, llmcalc.spec, llmcalc.hardware,
llmcalc.formulas, llmcalc.present, llmcalc.render, ...). Nothing imports the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click

from ..errors import LlmcalcError

# command name -> its module in llmcalc.cli; the module's `command` is the click.Command.
COMMANDS = {
    "check": "check",
    "compare": "compare",
    "count": "count",
    "diagram": "diagram",
    "explain": "explain",
    "fit": "fit",
    "flops": "flops",
    "import": "import_config",
    "list": "list",
    "memory": "memory",
    "plan": "plan",
    "show": "show",
    "speed": "speed",
    "sweep": "sweep",
    "verify": "verify",
}


class _Group(click.Group):
    """Builds commands on demand (click's "lazily loading subcommands"), so start-up does not pay for a hundred
    options it will not use; and turns every llmcalc error into one line on stderr and exit status 2: never a
    traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        return import_module(f"{__name__}.{module}").command if module else None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # an option of llmcalc itself (`llmcalc --bad`)
            _one_line(ctx, exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LlmcalcError as exc:
            click.echo("error: " + " ".join(str(exc).splitlines()), err=True)  # one line, whatever it quotes
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:  # click's own (a bad option value, a missing argument)
            _one_line(ctx, exc)


def _one_line(ctx: click.Context, exc: click.UsageError) -> None:
    """A usage error as one line on stderr, as every other error, not click's usage block (`--help` shows that);
    `llmcalc` alone still prints its help."""
    if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())):
        raise exc
    click.echo("error: " + " ".join(exc.format_message().split()), err=True)
    ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llmcalc")
def cli() -> None:
    """Exact parameter counts, FLOPs, KV cache and memory of LLM architectures, from YAML specs.

    MODEL is a built-in name (see `llmcalc list`), a path to a YAML spec, or a Hugging Face config.json.
    Every command prints tables, or --format json, csv or markdown.
    """


def main() -> None:
    import sys

    for stream in (sys.stdout, sys.stderr):  # a terminal or pipe that cannot show a character gets a '?', not a crash
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    try:
        cli(prog_name="llmcalc")
    except OSError as exc:  # the output cannot be written (a full disk); click already handles a closed pipe
        try:
            sys.stderr.write(f"error: cannot write the output: {exc.strerror or exc}\n")
        except OSError:
            pass
        sys.exit(2)
