"""One config mapping (a config.json, or a nested text_config / attn_config) read key by key: typed getters that
fall back on the registered transformers defaults (and note which), and errors that name the file and the key."""

from __future__ import annotations

import json
from typing import Any

from ...errors import SpecError
from .registry import COMMON_IGNORED, EVERYWHERE_FIXED, TRANSFORMERS_VERSION, TYPES

_MISSING = object()


class Config:
    """One config mapping (or a nested text_config / attn_config) with typed getters that raise SpecError."""

    def __init__(self, data: dict, source: str, model_type: str, prefix: str = "", strict: bool = False,
                 unread: list[str] | None = None):
        self.data = data
        self.source = source
        self.model_type = model_type
        self.type = TYPES[model_type]
        self.prefix = prefix
        self.defaults_used: list[str] = []
        self.strict = strict  # an unknown key is an error (else it is noted in `unread`, shared with the children)
        self.unread: list[str] = [] if unread is None else unread
        self.written: dict[str, str] = {}  # a key read by its transformers name -> the alias the file wrote
        for alias, key in self.type.aliases.items():
            if alias in data:
                if key in data and data[key] != data[alias]:
                    raise self.error(alias, f"{show(data[alias])} contradicts {key}={show(data[key])}; "
                                            "allowed: one of the two, or equal values")
                data = {**{k: v for k, v in data.items() if k != alias}, key: data[alias]}
                if key not in self.data:
                    self.written[key] = alias
        self.data = data

    def error(self, key: str | None, message: str) -> SpecError:
        """The error at `key`, named as the file writes it (bloom's num_attention_heads, read as n_head)."""
        key = self.written.get(key, key) if key else key
        return SpecError(self.source, (self.prefix + key) if key else (self.prefix.rstrip(".") or None), message)

    def raw(self, key: str) -> Any:
        """The value as set, or the transformers default (noted) when the key is missing."""
        if key in self.data:
            return self.data[key]
        default = self.type.defaults.get(key, _MISSING)
        if default is _MISSING:  # pragma: no cover - a mapping function reading an undeclared key
            raise AssertionError(f"{self.model_type}: no default for {key}")
        if default is not None:
            self.defaults_used.append(f"{key}={default!r}")
        return default

    def integer(self, key: str, minimum: int = 1, derived: int | None = None) -> int:
        """A whole number >= minimum; a null or derived (None) default takes `derived`."""
        value = self.raw(key)
        if value is None and derived is not None:
            return derived
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be a whole number >= {minimum}, got {got(value)}")
        return value

    def ignored_count(self, key: str, why: str) -> None:
        """A key transformers ignores (`why`), refused anyway when set to anything but a whole number >= 1."""
        value = self.data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise self.error(key, f"must be a whole number >= 1 ({why}), got {got(value)}")

    def optional_integer(self, key: str, minimum: int = 1) -> int | None:
        value = self.raw(key)
        return None if value is None else self.integer(key, minimum)

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {got(value)}")
        return value

    def choice(self, key: str, mapping: dict[str, str]) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or value not in mapping:
            raise self.error(key, f"{show(value)} is not an activation llmcalc knows here; "
                                  f"allowed: {', '.join(sorted(mapping))}")
        return mapping[value]

    def integer_list(self, key: str, minimum: int = 0) -> list[int] | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum
                                                  for v in value):
            raise self.error(key, f"must be a list of whole numbers >= {minimum}, got {got(value)}")
        return value

    def mapping(self, key: str) -> dict:
        value = self.raw(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, f"must be a JSON object, got {got(value)}")
        return value

    def child(self, key: str, model_type: str) -> "Config":
        return Config(self.mapping(key), self.source, model_type, f"{self.prefix}{key}.", self.strict, self.unread)

    def mapped(self) -> dict:
        """The spec mapping of this config by its model_type's mapper, every key then checked (check_keys)."""
        spec = self.type.mapper(self)
        self.check_keys(self.type.reads_also)
        return spec

    def check_keys(self, used: tuple[str, ...] = ()) -> None:
        """Every key must be read by the mapping, or known to change no count, else it is noted in `unread` (an error
        when strict); fixed keys keep their value (always an error otherwise)."""
        known = set(self.type.defaults) | set(used) | COMMON_IGNORED | self.type.ignored
        fixed = {**EVERYWHERE_FIXED, **self.type.fixed}
        for key, value in self.data.items():
            if key in fixed:
                if value not in fixed[key]:
                    allowed = ", ".join("null" if v is None else json.dumps(v) for v in fixed[key])
                    raise self.error(key, f"{show(value)} is not supported: transformers {TRANSFORMERS_VERSION} "
                                          f"builds {self.model_type} without it; allowed: {allowed}")
                continue
            if key not in known and not self.strict:
                self.unread.append(self.prefix + key)
            elif key not in known:
                allowed = ", ".join(sorted(set(self.type.defaults) | set(used) | set(fixed)))
                raise self.error(key, f"unknown key for model_type {self.model_type}: llmcalc cannot tell whether "
                                      f"it changes the count; keys it maps: {allowed} (and settings known to "
                                      "change no count: rope, dropout, eps, token ids...)")


def got(value: Any) -> str:
    return "null" if value is None else f"{kind(value)} {show(value)}"


def kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return (text[:60] + "...") if len(text) > 60 else text
