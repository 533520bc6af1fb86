"""`@record` (llmcalc.records) does what `@dataclass(frozen=True)` does: every record class of the package is held
to a real frozen dataclass of the same fields, on the objects the built-in specs load to."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import itertools
import pkgutil

import pytest

import llmcalc
from llmcalc import records
from llmcalc.spec import load_all


def record_classes() -> list[type]:
    found = {}
    for info in pkgutil.walk_packages(llmcalc.__path__, "llmcalc."):
        if info.name.endswith(".__main__"):  # running it is the CLI
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and getattr(value.__eq__, "__module__", None) == records.__name__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


@functools.cache
def twin(cls: type) -> type:
    """A real frozen dataclass with the fields of `cls` (defaults and all), named like it."""
    specs = [(f.name, f.type, dataclasses.field(default=f.default, default_factory=f.default_factory, repr=f.repr,
                                                 hash=f.hash, compare=f.compare))
             for f in dataclasses.fields(cls)]
    made = dataclasses.make_dataclass(cls.__name__, specs, frozen=True)
    made.__qualname__ = cls.__qualname__
    return made


def as_twin(obj):
    made = twin(type(obj))
    return made(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})


MODELS = load_all()
MODEL_PARTS = {
    "ModelSpec": MODELS,
    "Layer": [layer for m in MODELS for layer in {id(x): x for x in m.layers}.values()],
    "LayerGroup": [g for m in MODELS for g in m.groups],
    "Attention": [g.layer.attention for m in MODELS for g in m.groups],
    "MLP": [g.layer.mlp for m in MODELS for g in m.groups],
    "MoE": [g.layer.moe for m in MODELS for g in m.groups if g.layer.moe],
    "Norm": [m.norm for m in MODELS],
    "PublishedFigure": [f for m in MODELS for f in m.published],
    "Training": [m.training for m in MODELS],
}


def test_the_model_parts_and_results_are_records():
    names = {cls.__qualname__ for cls in record_classes()}
    assert set(MODEL_PARTS) <= names
    assert {"ParamCount", "FlopCount", "KVCache", "MemoryReport", "Check", "Comparison", "Sweep", "GPU"} <= names


@pytest.mark.parametrize("name", sorted(MODEL_PARTS))
def test_records_equal_hash_and_print_like_frozen_dataclasses(name):
    objects = MODEL_PARTS[name][:60]
    assert objects
    twins = [as_twin(obj) for obj in objects]
    for obj, copy in zip(objects, twins):
        assert repr(obj) == repr(copy)
        assert hash(obj) == hash(copy)
        assert obj == obj and not (obj != obj)
        assert (obj == 42) is False and obj.__eq__(42) is NotImplemented
    for (a, ta), (b, tb) in itertools.combinations(zip(objects, twins), 2):
        assert (a == b) == (ta == tb)
        assert (a != b) == (ta != tb)


def test_records_are_frozen_and_replaceable():
    model = MODELS[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.name = "other"
    renamed = dataclasses.replace(model, name="other")
    assert renamed.name == "other" and renamed != model
    assert dataclasses.replace(model) == model and hash(dataclasses.replace(model)) == hash(model)


def test_a_field_left_out_of_repr_and_compare_stays_out():
    @records.record
    class Part:
        shown: int
        hidden: int = dataclasses.field(default=0, repr=False, compare=False)

    assert repr(Part(1, 2)) == "test_a_field_left_out_of_repr_and_compare_stays_out.<locals>.Part(shown=1)"
    assert Part(1, 2) == Part(1, 3) and hash(Part(1, 2)) == hash(Part(1, 3))
    assert Part(1) != Part(2)


def test_a_method_the_class_defines_itself_stays():
    @records.record
    class Part:
        value: int

        def __repr__(self) -> str:
            return "mine"

    assert repr(Part(1)) == "mine" and Part(1) == Part(1)


def test_memo_by_identity_keys_on_values_and_object_identity():
    from llmcalc.records import memo_by_identity

    calls = []

    @memo_by_identity
    def f(obj, n, k=1):
        calls.append((id(obj), n, k))
        return [obj, n, k]

    a, b = ["same"], ["same"]  # equal, but two objects
    assert f(a, 1) is f(a, 1) and len(calls) == 1
    assert f(b, 1) == f(a, 1) and len(calls) == 2  # another object is another key, however equal
    assert f(a, 2) == [a, 2, 1] and f(a, 1, k=3) == [a, 1, 3] and len(calls) == 4
