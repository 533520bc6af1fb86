"""Refresh the command outputs shown in README.md: every ```text block that opens with `$ llmcalc ...`
is re-run (at 110 columns) and its output replaced. Run from the repository root after changing output."""

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


def main() -> None:
    text = README.read_text()
    new = BLOCK.sub(lambda m: f"```text\n$ {m.group(1)}\n{run(m.group(1))}\n```", text)
    README.write_text(new)


if __name__ == "__main__":
    main()
