"""The errors llmcalc reports to its users: each one is a single clear line, never a traceback.

May import: nothing of llmcalc (every stage imports this module).
"""

from __future__ import annotations


class LlmcalcError(Exception):
    """Base class: bad input from the user (the CLI exits 2 with the message)."""

    exit_code = 2


class SpecError(LlmcalcError):
    """A spec file is wrong: names the file, the key and what is allowed."""

    def __init__(self, source: str, key: str | None, message: str):
        self.source = source
        self.key = key
        self.message = message
        where = f"{source}: {printable(key)}" if key else source
        super().__init__(f"{where}: {message}")


def printable(text: str) -> str:
    """Text as it may appear inside a one-line message: quoted with escapes if it holds control characters."""
    return text if text.isprintable() else repr(text)


class UnknownModelError(LlmcalcError):
    """A model name that is neither a built-in spec nor a file."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown model '{name}'{hint} (`llmcalc list` shows every built-in model)")
