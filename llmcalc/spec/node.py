"""A mapping at some key path of a merged spec, with typed getters that raise a SpecError naming the file that set
the key (from the origin map `extends` and `--set` keep), the key's dotted path and what is allowed."""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from ..model import MAX_WHOLE
from .values import dotted as _dotted
from .values import kind as _kind
from .values import parse_human_number
from .values import show as _show

REQUIRED = object()


class Node:
    """A mapping at some key path of the merged spec, with typed getters that raise SpecError."""

    def __init__(self, data: dict, path: tuple, origin: dict, fallback: str):
        self.data = data
        self.path = path
        self.origin = origin
        self.fallback = fallback

    def error(self, key: str | int | None, message: str, also: tuple = ()) -> SpecError:
        """The error at `key`, naming the file (or --set) that set it; with `also`, the other keys the check
        involves (names here, or key-path tuples from the root), the one that set the newest of them: a child
        spec that changes n_heads under its parent's n_kv_heads is the file to blame."""
        path = self.path + ((key,) if key is not None else ())
        involved = [path] + [self.path + (k,) if isinstance(k, str) else tuple(k) for k in also]
        _, source = max(self._set_by(p) for p in involved)
        return SpecError(source, _dotted(path) or None, message)

    def _set_by(self, path: tuple) -> tuple[int, str]:
        """Where `path` was set: its place in the origin map (merges append, so later means newer) and the file."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.origin:
                return list(self.origin).index(path[:n]), self.origin[path[:n]]
        return -1, self.fallback

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise self.error(key, f"unknown key; {hint}allowed here: {', '.join(allowed)}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, default: Any) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is REQUIRED:
                raise self.error(key, "required key is missing")
            return default
        return value

    def integer(self, key: str, default: Any = REQUIRED, minimum: int = 1) -> Any:
        value = self.get(key, default)
        if value is default and default is not REQUIRED:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number >= {minimum}, got {_kind(value)} {_show(value)}")
        if value < minimum:
            raise self.error(key, f"must be a whole number >= {minimum}, got {value}")
        if value > MAX_WHOLE:
            raise self.error(key, f"must be a whole number at most 2^53 ({MAX_WHOLE:,}), got {_show(value)}")
        return value

    def boolean(self, key: str, default: Any = REQUIRED) -> Any:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {_kind(value)} {_show(value)}")
        return value

    def string(self, key: str, default: Any = REQUIRED) -> Any:
        value = self.get(key, default)
        if value is default and default is not REQUIRED:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {_kind(value)} {_show(value)}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: Any = REQUIRED) -> Any:
        value = self.get(key, default)
        if value is default and default is not REQUIRED:
            return value
        if value not in allowed:
            import difflib

            close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise self.error(key, f"{_show(value)} is not allowed; {hint}allowed: {', '.join(allowed)}")
        return value

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, f"must be a list of non-empty strings, got {_kind(value)} {_show(value)}")
        return tuple(value)

    def number(self, key: str, default: Any = REQUIRED, minimum: float = 0) -> Any:
        raw = self.get(key, default)
        if raw is default and default is not REQUIRED:
            return raw
        value = parse_human_number(raw)
        if value is None:
            hint = " (YAML reads 2e12 as a string: write 2.0e+12)" if isinstance(raw, str) and "e" in raw.lower() else ""
            raise self.error(key, f"must be a number such as 124439808, 1.5e+12 or '124M', got {_show(raw)}{hint}")
        if value != value or value in (float("inf"), float("-inf")) or value < minimum:
            raise self.error(key, f"must be a finite number >= {minimum}, got {_show(raw)}")
        return value

    def mapping(self, key: str, required: bool = True) -> "Node | None":
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(key, "required section is missing")
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping of keys to values, got {_kind(value)} {_show(value)}")
        return Node(value, self.path + (key,), self.origin, self.fallback)
