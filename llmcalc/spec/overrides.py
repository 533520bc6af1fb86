"""`--set KEY=VALUE` overrides: a key path and a YAML value, laid over a spec mapping before it is validated, so an
override is checked exactly like the spec itself and its errors name --set."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import SpecError, printable
from .safe_yaml import safe_load
from .schema import OVERRIDE_SOURCE
from .values import dotted as _dotted
from .values import kind as _kind

_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def parse_override(text: str) -> tuple[tuple, Any]:
    """'attention.n_kv_heads=4' -> (('attention', 'n_kv_heads'), 4); 'layers[1].moe.top_k=2' indexes a list.
    The value is read as YAML (48 is an integer, true a boolean, null removes the key, {a: 1} a mapping)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 reach Python as lone surrogates: YAML cannot read them
        raise SpecError(OVERRIDE_SOURCE, None, f"{printable(text)!s}: not UTF-8 text; write the value in UTF-8") \
            from None
    if not sep or not key:
        raise SpecError(OVERRIDE_SOURCE, None, f"{printable(text)!s}: expected key=value, e.g. n_layers=48 or "
                        "attention.n_kv_heads=4")
    path: list = []
    for part in key.split("."):
        match = _PATH_PART.fullmatch(part.strip())
        if not match:
            raise SpecError(OVERRIDE_SOURCE, printable(key), "not a key path; write keys joined by dots, a list "
                            "item as key[index] (e.g. attention.n_kv_heads or layers[1].moe.top_k)")
        path.append(match.group(1))
        path.extend(int(i) for i in re.findall(r"\d+", match.group(2)))
    if path == ["extends"]:  # the chain is resolved before overrides apply: setting it would change nothing
        raise SpecError(OVERRIDE_SOURCE, "extends", "cannot be set with --set; write a spec file that extends the "
                        "model instead")
    parsed = safe_load(value, OVERRIDE_SOURCE, key)
    return tuple(path), parsed


def _set_path(data: dict, path: tuple, value: Any, text: str) -> None:
    """Set data[path] = value, creating missing mappings on the way; a null value removes the key."""
    node: Any = data
    for depth, part in enumerate(path[:-1]):
        here = _dotted(path[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list):
                raise SpecError(OVERRIDE_SOURCE, _dotted(path[:depth]), f"is {_kind(node)}, not a list: cannot "
                                f"take item [{part}]")
            if part >= len(node):
                raise SpecError(OVERRIDE_SOURCE, here, f"no such item; the list has {len(node)}")
            child = node[part]
        elif not isinstance(node, dict):
            raise SpecError(OVERRIDE_SOURCE, _dotted(path[:depth]), f"is {_kind(node)}, not a mapping")
        else:
            child = node.get(part)
            if child is None and isinstance(path[depth + 1], int):
                raise SpecError(OVERRIDE_SOURCE, here, f"is not set in this spec: it has no item [{path[depth + 1]}]")
            if child is None:
                child = node[part] = {}
        if not isinstance(child, (dict, list)):
            raise SpecError(OVERRIDE_SOURCE, here, f"is {_kind(child)}, not a mapping: cannot set {_dotted(path)}")
        node = child
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise SpecError(OVERRIDE_SOURCE, _dotted(path), "no such list item")
        node[last] = value
    elif not isinstance(node, dict):
        raise SpecError(OVERRIDE_SOURCE, _dotted(path[:-1]), f"is {_kind(node)}, not a mapping")
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value


def apply_overrides(data: dict, origin: dict, overrides: Sequence[str]) -> None:
    """Apply ``key=value`` overrides to a spec mapping in place, recording that --set (not a file) gave each key."""
    for text in overrides:
        path, value = parse_override(text)
        _set_path(data, path, value, text)
        for stale in [p for p in origin if p[: len(path)] == path]:
            del origin[stale]
        origin[path] = OVERRIDE_SOURCE
