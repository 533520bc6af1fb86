"""One spec file in, its ModelSpec out: the extends chain merged, then validated."""

from __future__ import annotations

import os

from ..model import ModelSpec
from .builder import build
from .extends import resolve_chain
from .library import builtin_file, builtin_names, stem


def load_file(path: str | os.PathLike) -> ModelSpec:
    """Load and validate one spec file, resolving its ``extends`` chain."""
    data, origin = resolve_chain(path)
    return build(stem(path), str(path), data, origin)


def load_all() -> list[ModelSpec]:
    """Every built-in spec, loaded, in name order."""
    return [load_file(builtin_file(name)) for name in builtin_names()]
