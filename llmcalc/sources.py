"""Where a model comes from: the one front door from a model reference to a ModelSpec.

A reference is a built-in name or alias, a path to a YAML spec (or the JSON `show --json` writes), or a path to a
Hugging Face config.json (read by llmcalc.importers.hf). Whatever the source, the mapping goes through the spec
builder, with any `--set` overrides laid over it first.

May import: llmcalc.errors, llmcalc.model, llmcalc.spec, llmcalc.importers.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Sequence

from . import spec
from .errors import SpecError
from .model import ModelSpec


def load(model: str, overrides: Sequence[str] = (), strict: bool = False) -> ModelSpec:
    """Load a model by built-in name, alias, path to a YAML spec file, or path to a Hugging Face config.json,
    with ``key=value`` overrides (``n_layers=48``, ``attention.n_kv_heads=4``) validated like the spec itself.

    A config.json key its model_type's importer does not know is listed in the result's ``unread_keys`` (for the
    caller to warn about; the count assumes it changes nothing); ``strict=True`` makes it a SpecError. An unknown
    key of a YAML spec is always an error."""
    name, source, data, origin, unread = _resolved(model, overrides, strict)
    built = spec.build(name, source, data, origin)
    if unread:
        built = dataclasses.replace(built, unread_keys=unread)
    if not overrides:
        return built
    renamed = any(spec.parse_override(text)[0] == ("display_name",) for text in overrides)
    display_name = built.display_name if renamed else f"{built.display_name} with {', '.join(overrides)}"
    return dataclasses.replace(built, overrides=tuple(overrides), display_name=display_name)


def resolved(model: str, overrides: Sequence[str] = (), strict: bool = False) -> tuple[str, str, dict, dict]:
    """The model's name, file, merged spec mapping (after ``extends`` and the overrides) and which file (or
    ``--set``) set each key (``strict``: as `load`)."""
    return _resolved(model, overrides, strict)[:4]


def _resolved(model: str, overrides: Sequence[str], strict: bool) -> tuple[str, str, dict, dict, tuple[str, ...]]:
    """`resolved`, and the keys of a config.json its importer did not read."""
    name, source, data, origin, unread = _source_mapping(model, strict)
    if overrides:
        data = copy.deepcopy(data)
        spec.apply_overrides(data, origin, overrides)
    return name, source, data, origin, unread


def _source_mapping(model: str, strict: bool) -> tuple[str, str, dict, dict, tuple[str, ...]]:
    is_json = model.lower().endswith(".json")
    if spec.looks_like_path(model) or is_json or os.path.isfile(model):
        if os.path.isfile(model) and is_json:
            from pathlib import Path

            from .importers import hf  # imported here so that start-up stays fast

            path = Path(model)
            config = hf.read_config(path)
            if "model_type" not in config and any(key in spec.TOP_KEYS for key in config):
                # An llmcalc spec written as JSON (`show --json`): JSON is YAML, so the spec loader reads it.
                return (spec.stem(model), model, *spec.resolve_chain(model), ())
            data, unread = hf.read_spec(config, str(path), strict)
            return hf.model_name(path), str(path), data, {(): str(path)}, unread
        if os.path.isfile(model):
            return (spec.stem(model), model, *spec.resolve_chain(model), ())
        if os.path.exists(model):
            raise SpecError(model, None, "is not a file; give a YAML spec file or a built-in model name")
        builtin = spec.stem(model).lower() in spec.builtin_names()
        hint = f"; the built-in model of that name is `{spec.stem(model)}`, without the suffix" if builtin else ""
        raise SpecError(model, None, f"no such file{hint}")
    path = spec.resolve_builtin(model)
    return (spec.stem(path), path, *spec.resolve_chain(path), ())


def show_yaml(model: str, overrides: Sequence[str] = (),
              strict: bool = False) -> tuple[str, dict, tuple[str, ...]]:
    """The resolved spec of a model (``extends`` merged in, overrides applied, validated) as YAML that loads as a
    spec of its own, with a header comment naming the files (and --set overrides) it came from; and the keys of a
    config.json not read (also in its notes; ``strict``: as `load`)."""
    name, source, data, origin, unread = _resolved(model, overrides, strict)
    spec.build(name, source, data, origin)  # what is shown must be a valid spec
    data = {key: data[key] for key in spec.TOP_KEYS if key in data}  # the schema's order, whatever the chain's
    sources = []
    for where in origin.values():
        if where == spec.OVERRIDE_SOURCE:
            continue
        label = f"built-in {spec.stem(where)}" if spec.is_builtin(where) else where
        if label not in sources:
            sources.append(label)
    header = f"# {name}: the resolved spec, from {', '.join(sources)}"
    header += f"; with --set {', '.join(overrides)}\n" if overrides else "\n"
    if len(sources) > 1:
        header += "# (extends merged in: each key from the last file in the chain that sets it)\n"
    return spec.dump_yaml(data, header), data, unread
