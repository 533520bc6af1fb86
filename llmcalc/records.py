"""Frozen records: `@record` is `@dataclass(frozen=True)` with the same __init__, __eq__, __hash__ and __repr__, but
three of those (__eq__, __hash__, __repr__) are closures over the class's fields instead of source code that
dataclasses generates and compiles for each class.

Why: dataclasses compiles six functions for every frozen class when its module is imported (about a quarter of a
millisecond each on Python 3.11), and every command imports the model's ten classes before it does anything.
Not compiling three of them halves that cost; what a record does is what the dataclass did (tests/test_records.py holds
each record to a real dataclass of the same fields).

May import: nothing of llmcalc (the model and the formulas build their result types with it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def _getter(names: list[str]) -> Callable[[Any], tuple]:
    """A function returning the named attributes as a tuple (attrgetter returns a bare value for one name)."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names) if names else (lambda obj: ())


def record(cls: type[T]) -> type[T]:
    """Make `cls` a frozen dataclass whose equality, hash and repr are closures over its fields, as fast as the
    generated ones and with no code to compile (a method the class defines itself stays, as with dataclass)."""
    own = set(vars(cls))
    cls = dataclass(frozen=True, eq=False, repr=False)(cls)
    every = fields(cls)
    compared = _getter([f.name for f in every if f.compare])
    hashed = _getter([f.name for f in every if (f.compare if f.hash is None else f.hash)])
    shown = tuple(f.name for f in every if f.repr)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __repr__(self: Any) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({values})"

    for method in (__eq__, __hash__, __repr__):
        if method.__name__ not in own:
            method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
            setattr(cls, method.__name__, method)
    return cls


_PLAIN = (int, float, str, bool, type(None))


def _key(value):
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, tuple):
        return tuple(_key(v) for v in value)
    return type(value), id(value)


def memo_by_identity(function, maxsize: int = 256):
    """`function` remembering its last `maxsize` results, keyed by its plain arguments' values and its other
    arguments' identity (a ModelSpec or ParamCount is the same object across a plan search: hashing it each call
    would cost more than the call). The arguments are kept alive with the result, so an id is never reused while
    its entry stands. For pure functions of immutable arguments only."""
    import functools

    cache: dict = {}

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        values = args + tuple(sorted(kwargs.items()))
        key = _key(values)
        hit = cache.get(key)
        if hit is not None:
            return hit[1]
        result = function(*args, **kwargs)
        if len(cache) >= maxsize:
            cache.clear()
        cache[key] = (values, result)
        return result

    wrapper.cache_clear = cache.clear
    return wrapper
