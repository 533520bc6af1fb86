"""The built-in spec library: where it lives (llmcalc/specs in a wheel, ../specs in a checkout), its names, its
aliases, and which file a name means."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import UnknownModelError
from .safe_yaml import read_yaml

if TYPE_CHECKING:
    from pathlib import Path

SPEC_SUFFIXES = (".yaml", ".yml")


def _builtin_dir() -> str:
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # llmcalc/
    installed = os.path.join(package, "specs")
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(package), "specs")


_BUILTIN_DIR = _builtin_dir()


def builtin_dir() -> Path:
    """The built-in spec library: llmcalc/specs in an installed wheel, ../specs in a checkout."""
    from pathlib import Path

    return Path(_BUILTIN_DIR)


def builtin_file(name: str) -> str:
    return os.path.join(_BUILTIN_DIR, f"{name}.yaml")


def stem(path: str | os.PathLike) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def builtin_names() -> list[str]:
    """Every built-in spec name, sorted."""
    return sorted(n[:-5] for n in os.listdir(_BUILTIN_DIR) if n.endswith(".yaml"))


def alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in builtin_names():
        data = read_yaml(builtin_file(name))
        for alias in data.get("aliases") or ():
            if isinstance(alias, str):
                index[alias.lower()] = name
    return index


def resolve_builtin(name: str) -> str:
    """The file of a built-in spec, found by its name or one of its aliases (case-insensitive)."""
    wanted = name.strip().lower()
    path = builtin_file(wanted)
    if os.sep not in wanted and os.path.isfile(path):
        return path
    aliases = alias_index()
    if wanted in aliases:
        return builtin_file(aliases[wanted])
    import difflib

    candidates = builtin_names() + sorted(aliases)
    suggestions = difflib.get_close_matches(wanted, candidates, n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(aliases.get(s, s) for s in suggestions))
    raise UnknownModelError(name, suggestions)


def looks_like_path(model: str) -> bool:
    return model.lower().endswith(SPEC_SUFFIXES) or "/" in model or "\\" in model


def is_builtin(path: str) -> bool:
    """Whether a spec file is one of the built-in library's."""
    return os.path.realpath(os.path.dirname(path)) == os.path.realpath(_BUILTIN_DIR)
