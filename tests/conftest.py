"""Shared helpers: write small spec files into a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

MINIMAL = """
vocab_size: 1000
d_model: 64
n_layers: 2
context_length: 128
position: rope
norm: {kind: rmsnorm}
attention: {n_heads: 4}
mlp: {activation: swiglu, d_ff: 256}
"""


@pytest.fixture
def write_spec(tmp_path: Path):
    """write_spec(name, text) -> path of a spec file holding the dedented text."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write
