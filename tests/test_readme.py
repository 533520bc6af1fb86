"""The README shows what the tool does today: every `$ llmcalc ...` block is the command's current output (at
110 columns, as scripts/readme_outputs.py writes it), and the Python API example runs."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCRIPT = ROOT / "scripts" / "readme_outputs.py"
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_the_readme_shows_commands_and_python():
    assert README.count("\n$ llmcalc ") >= 10
    assert PYTHON_BLOCKS


def test_command_outputs_are_current():
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_python_examples_run(block):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    printed = out.getvalue().splitlines()
    # The example prints Mixtral 8x7B's total first: the checkpoint's 46,702,792,704 (safetensors index).
    assert printed[0].split()[0] == "46702792704"
    assert len(printed) > 1


def test_the_supported_model_types_are_the_registry_s():
    import llmcalc.importers.hf  # noqa: F401  (the family modules register their types)
    from llmcalc.importers.hf.registry import supported

    text = README
    table = text[text.index("<!-- model_types:start -->"):text.index("<!-- model_types:end -->")]
    assert re.findall(r"^\| `([a-z0-9_\-]+)` \|", table, re.M) == list(supported())  # a row each, in order
    paragraph = text[text.index("In words: "):].split("\n\n")[0]  # and each said in words
    listed = set(re.findall(r"`([a-z0-9_\-]+)`", paragraph)) - {"model_type"}
    assert listed == set(supported())
