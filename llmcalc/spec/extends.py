"""`extends`: a spec names a parent (a built-in name or a relative path) and overrides some of its keys. The chain
is merged mapping by mapping, and every key remembers which file set it, so an error can name that file."""

from __future__ import annotations

import os

from ..errors import SpecError, UnknownModelError
from .library import SPEC_SUFFIXES, resolve_builtin, stem
from .safe_yaml import read_yaml
from .schema import NOT_INHERITED
from .values import show as _show


# Specs an `extends` chain may hold, the spec itself included: real chains hold two or three; a bound keeps a chain
# of a thousand files from ending in a RecursionError that blames a file in its middle.
MAX_EXTENDS = 100


def resolve_chain(path: str | os.PathLike, chain: tuple[str, ...] = (), top: str = "") -> tuple[dict, dict]:
    """The spec's mapping with its parents merged in, and which file set each key."""
    source = str(path)
    top = top or source
    key = os.path.realpath(path)
    if key in chain:
        names = " -> ".join(stem(p) for p in chain + (key,))
        raise SpecError(source, "extends", f"cycle in extends: {names}")
    if len(chain) >= MAX_EXTENDS:
        raise SpecError(top, "extends", f"the chain of parents is longer than {MAX_EXTENDS} specs "
                        f"({stem(chain[0])} -> {stem(chain[1])} -> ... -> {stem(key)}); allowed: at most {MAX_EXTENDS}")
    data = read_yaml(path)
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data, {(): source}
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise SpecError(source, "extends", f"must be the name of a spec or a path to one, got {_show(parent_ref)}")
    if parent_ref.lower().endswith(SPEC_SUFFIXES):
        folder = os.path.dirname(source)
        parent_path = os.path.join(folder, parent_ref)
        if not os.path.isfile(parent_path):
            raise SpecError(source, "extends", f"parent spec file '{parent_ref}' not found (looked in {folder or '.'})")
    else:
        try:
            parent_path = resolve_builtin(parent_ref)
        except UnknownModelError as exc:
            hint = f"; did you mean {', '.join(exc.suggestions)}?" if exc.suggestions else ""
            raise SpecError(source, "extends", f"unknown parent spec '{parent_ref}'{hint}") from None
    parent, origin = resolve_chain(parent_path, chain + (key,), top)
    parent = {k: v for k, v in parent.items() if k not in NOT_INHERITED and k != "extends"}
    child = {k: v for k, v in data.items() if k != "extends"}
    return _merge(parent, child, origin, source, ()), origin


def _merge(base: dict, over: dict, origin: dict, over_source: str, prefix: tuple) -> dict:
    out = dict(base)
    for key, value in over.items():
        path = prefix + (key,)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, origin, over_source, path)
            continue
        out[key] = value
        for stale in [p for p in origin if p[: len(path)] == path]:
            del origin[stale]
        origin[path] = over_source
    return out
