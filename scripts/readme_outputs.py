"""Refresh the command outputs shown in README.md: every ```text block that opens with `$ llmcalc ...`
is re-run (at 110 columns) and its output replaced. Run after changing output; `--check` only reports (exit 1)
the blocks that are out of date (tests/test_readme.py does the same)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```text\n\$ (llmcalc [^\n]*)\n.*?```", re.S)


def run(command: str) -> str:
    env = {**os.environ, "COLUMNS": "110"}
    args = [sys.executable, "-m", "llmcalc.cli", *shlex.split(command)[1:]]
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    text = done.stdout + done.stderr
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def refreshed(text: str) -> str:
    """The README text with every command block's output re-run."""
    return BLOCK.sub(lambda m: f"```text\n$ {m.group(1)}\n{run(m.group(1))}\n```", text)


def main() -> None:
    text = README.read_text()
    new = refreshed(text)
    if "--check" in sys.argv[1:]:
        stale = [m.group(1) for m, n in zip(BLOCK.finditer(text), BLOCK.finditer(new)) if m.group(0) != n.group(0)]
        for command in stale:
            print(f"README.md: the output of `{command}` is out of date", file=sys.stderr)
        sys.exit(1 if stale else 0)
    README.write_text(new)


if __name__ == "__main__":
    main()
