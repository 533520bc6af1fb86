"""Spec files: YAML in, validated ``ModelSpec`` out.

Loading is the only place where input is checked. A spec may ``extends:`` another one (a built-in
name or a relative path) and override some of its keys; every error names the file that set the
offending key, the key itself and what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from pathlib import Path

from .errors import SpecError, UnknownModelError, printable
from .model import (
    ACTIVATIONS,
    NORM_KINDS,
    NORM_PLACEMENTS,
    POSITIONS,
    QK_NORMS,
    MLA,
    MLP,
    Attention,
    Layer,
    ModelSpec,
    MoE,
    Norm,
    PublishedFigure,
    Training,
)

SPEC_SUFFIXES = (".yaml", ".yml")
MAX_SPEC_BYTES = 1_000_000
# Values a document may hold once its aliases are expanded: bounds a "billion laughs" alias bomb, whose few
# hundred bytes stand for billions of values (a real spec holds a few hundred).
MAX_SPEC_NODES = 100_000

# The keys a spec may hold, level by level. specs/README.md documents each one (a test checks it).
TOP_KEYS = (
    "extends", "display_name", "family", "year", "aliases", "sources", "notes",
    "vocab_size", "d_model", "n_layers", "context_length", "position", "tied_embeddings",
    "attention", "mlp", "moe", "norm", "layers", "encoder", "relative_attention_buckets", "mtp", "training",
    "published", "rumour",
)
ENCODER_KEYS = ("n_layers", "layers")
ATTENTION_KEYS = ("n_heads", "n_kv_heads", "d_head", "bias", "qk_norm", "sinks", "sliding_window", "chunk_size",
                  "mla")
MLA_ATTENTION_KEYS = ("n_heads", "sliding_window", "mla")
MLA_KEYS = ("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
ATTENTION_BIAS_KEYS = ("q", "k", "v", "o")
MLP_KEYS = ("activation", "d_ff", "bias")
MOE_KEYS = ("n_experts", "top_k", "d_ff", "n_shared_experts", "d_ff_shared", "shared_gate", "router_bias",
            "routing_bias")
MTP_KEYS = ("n_modules",)
NORM_KEYS = ("kind", "bias", "placement", "final")
LAYER_GROUP_KEYS = ("count", "name", "attention", "mlp", "moe")
LAYER_REPEAT_KEYS = ("repeat", "pattern")
LAYER_PATTERN_KEYS = ("name", "attention", "mlp", "moe")
TRAINING_KEYS = ("tokens", "context")
FIGURE_KEYS = ("figure", "value", "tolerance", "source", "note", "discrepancy")
# Figures that `verify` knows how to compute (see verify.py).
FIGURES = ("params_total", "params_active", "params_active_no_input_embedding", "params_embedding",
           "params_non_embedding", "params_active_non_embedding", "params_mtp", "params_with_mtp")
# A variant inherits everything from its parent except what names or describes the parent itself.
NOT_INHERITED = ("display_name", "aliases", "published", "notes", "rumour")

_REQUIRED = object()
_SUFFIXES = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_HUMAN_NUMBER = re.compile(r"^\s*(\d[\d,]*(?:\.\d+)?)\s*([KMBT]?)\s*$")


# ---------------------------------------------------------------------------------------- YAML


class _StrictSafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses ten times faster
    """yaml.SafeLoader that refuses duplicate keys (plain safe_load silently keeps the last one)."""


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is not a string", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_text(path: str | os.PathLike, what: str = "a spec") -> str:
    """The UTF-8 text of an input file of at most MAX_SPEC_BYTES; any failure is a SpecError naming the file."""
    source = str(path)
    try:
        size = os.stat(path).st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError(source, None, f"file is {size:,} bytes; {what} may be at most {MAX_SPEC_BYTES:,}")
        with open(path, encoding="utf-8") as file:
            return file.read()
    except UnicodeDecodeError:
        raise SpecError(source, None, "file is not UTF-8 text") from None
    except OSError as exc:
        raise SpecError(source, None, f"cannot read file: {exc.strerror or exc}") from None


def read_yaml(path: str | os.PathLike) -> dict:
    """Read one spec file as a mapping, with safe YAML only and no duplicate keys."""
    source = str(path)
    text = read_text(path)
    try:
        loader = _StrictSafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _expanded_size(node, {}) > MAX_SPEC_NODES:
                raise SpecError(source, None, f"the document expands (through its aliases) to more than "
                                f"{MAX_SPEC_NODES:,} values; a spec may hold at most that many")
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(source, None, f"not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise SpecError(source, None, f"a spec must be a YAML mapping of keys to values, got {_kind(data)}")
    return data


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes in the document once every alias is expanded, computed once per node (aliases share nodes)."""
    key = id(node)
    if key not in sizes:
        sizes[key] = 0  # a recursive alias counts as nothing more (construction then refuses it as a cycle)
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(_expanded_size(item, sizes) for item in node.value)
        else:
            size = 1
        sizes[key] = min(size, MAX_SPEC_NODES + 1)
    return sizes[key]


# ------------------------------------------------------------------------------------- library


def _builtin_dir() -> str:
    here = os.path.dirname(os.path.realpath(__file__))
    installed = os.path.join(here, "specs")
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(here), "specs")


_BUILTIN_DIR = _builtin_dir()


def builtin_dir() -> Path:
    """The built-in spec library: llmcalc/specs in an installed wheel, ../specs in a checkout."""
    from pathlib import Path

    return Path(_BUILTIN_DIR)


def _builtin_file(name: str) -> str:
    return os.path.join(_BUILTIN_DIR, f"{name}.yaml")


def _stem(path: str | os.PathLike) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def builtin_names() -> list[str]:
    """Every built-in spec name, sorted."""
    return sorted(n[:-5] for n in os.listdir(_BUILTIN_DIR) if n.endswith(".yaml"))


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in builtin_names():
        data = read_yaml(_builtin_file(name))
        for alias in data.get("aliases") or ():
            if isinstance(alias, str):
                index[alias.lower()] = name
    return index


def resolve_builtin(name: str) -> str:
    """The file of a built-in spec, found by its name or one of its aliases (case-insensitive)."""
    wanted = name.strip().lower()
    path = _builtin_file(wanted)
    if os.sep not in wanted and os.path.isfile(path):
        return path
    aliases = _alias_index()
    if wanted in aliases:
        return _builtin_file(aliases[wanted])
    import difflib

    candidates = builtin_names() + sorted(aliases)
    suggestions = difflib.get_close_matches(wanted, candidates, n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(aliases.get(s, s) for s in suggestions))
    raise UnknownModelError(name, suggestions)


def looks_like_path(model: str) -> bool:
    return model.lower().endswith(SPEC_SUFFIXES) or "/" in model or "\\" in model


def load(model: str, overrides: Sequence[str] = ()) -> ModelSpec:
    """Load a model by built-in name, alias, path to a YAML spec file, or path to a Hugging Face config.json,
    with ``key=value`` overrides (``n_layers=48``, ``attention.n_kv_heads=4``) validated like the spec itself."""
    name, source, data, origin = resolved(model, overrides)
    built = _Builder(name, source, data, origin).build()
    if not overrides:
        return built
    renamed = any(parse_override(text)[0] == ("display_name",) for text in overrides)
    display_name = built.display_name if renamed else f"{built.display_name} with {', '.join(overrides)}"
    return dataclasses.replace(built, overrides=tuple(overrides), display_name=display_name)


def resolved(model: str, overrides: Sequence[str] = ()) -> tuple[str, str, dict, dict]:
    """The model's name, file, merged spec mapping (after ``extends`` and the overrides) and which file (or
    ``--set``) set each key."""
    name, source, data, origin = _source_mapping(model)
    if overrides:
        data = copy.deepcopy(data)
        apply_overrides(data, origin, overrides)
    return name, source, data, origin


def apply_overrides(data: dict, origin: dict, overrides: Sequence[str]) -> None:
    """Apply ``key=value`` overrides to a spec mapping in place, recording that --set (not a file) gave each key."""
    for text in overrides:
        path, value = parse_override(text)
        _set_path(data, path, value, text)
        for stale in [p for p in origin if p[: len(path)] == path]:
            del origin[stale]
        origin[path] = OVERRIDE_SOURCE


def _source_mapping(model: str) -> tuple[str, str, dict, dict]:
    is_json = model.lower().endswith(".json")
    if looks_like_path(model) or is_json or os.path.isfile(model):
        if os.path.isfile(model) and is_json:
            from pathlib import Path

            from . import hf  # imported here so that start-up stays fast

            path = Path(model)
            config = hf.read_config(path)
            if "model_type" not in config and any(key in TOP_KEYS for key in config):
                # An llmcalc spec written as JSON (`show --json`): JSON is YAML, so the spec loader reads it.
                return (_stem(model), model, *_resolve(model, ()))
            return hf.model_name(path), str(path), hf.spec_from_config(config, str(path)), {(): str(path)}
        if os.path.isfile(model):
            return (_stem(model), model, *_resolve(model, ()))
        if os.path.exists(model):
            raise SpecError(model, None, "is not a file; give a YAML spec file or a built-in model name")
        builtin = _stem(model).lower() in builtin_names()
        hint = f"; the built-in model of that name is `{_stem(model)}`, without the suffix" if builtin else ""
        raise SpecError(model, None, f"no such file{hint}")
    path = resolve_builtin(model)
    return (_stem(path), path, *_resolve(path, ()))


def dump_yaml(data: dict, header: str = "") -> str:
    """A spec mapping as YAML in its own key order, repeated mappings written out (no &id001 anchors)."""

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return header + yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=None, width=110,
                              allow_unicode=True)


def show_yaml(model: str, overrides: Sequence[str] = ()) -> tuple[str, dict]:
    """The resolved spec of a model (``extends`` merged in, overrides applied, validated) as YAML that loads as a
    spec of its own, with a header comment naming the files (and --set overrides) it came from."""
    name, source, data, origin = resolved(model, overrides)
    _Builder(name, source, data, origin).build()  # what is shown must be a valid spec
    data = {key: data[key] for key in TOP_KEYS if key in data}  # the schema's order, whatever the chain's
    sources = []
    for where in origin.values():
        if where == OVERRIDE_SOURCE:
            continue
        builtin = os.path.realpath(os.path.dirname(where)) == os.path.realpath(_BUILTIN_DIR)
        label = f"built-in {_stem(where)}" if builtin else where
        if label not in sources:
            sources.append(label)
    header = f"# {name}: the resolved spec, from {', '.join(sources)}"
    header += f"; with --set {', '.join(overrides)}\n" if overrides else "\n"
    if len(sources) > 1:
        header += "# (extends merged in: each key from the last file in the chain that sets it)\n"
    return dump_yaml(data, header), data


def load_file(path: str | os.PathLike) -> ModelSpec:
    """Load and validate one spec file, resolving its ``extends`` chain."""
    data, origin = _resolve(path, ())
    return _Builder(_stem(path), str(path), data, origin).build()


def load_all() -> list[ModelSpec]:
    return [load_file(_builtin_file(name)) for name in builtin_names()]


# ----------------------------------------------------------------------------------- overrides

OVERRIDE_SOURCE = "--set"
_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def parse_override(text: str) -> tuple[tuple, Any]:
    """'attention.n_kv_heads=4' -> (('attention', 'n_kv_heads'), 4); 'layers[1].moe.top_k=2' indexes a list.
    The value is read as YAML (48 is an integer, true a boolean, null removes the key, {a: 1} a mapping)."""
    key, sep, value = text.partition("=")
    key = key.strip()
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
    try:
        loader = _StrictSafeLoader(value)
        try:
            node = loader.get_single_node()
            if node is not None and _expanded_size(node, {}) > MAX_SPEC_NODES:
                raise SpecError(OVERRIDE_SOURCE, key, "value expands to too many nodes")
            parsed = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(OVERRIDE_SOURCE, key, f"value is not valid YAML: {problem}") from None
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


# ------------------------------------------------------------------------------------- extends


def _resolve(path: str | os.PathLike, chain: tuple[str, ...]) -> tuple[dict, dict]:
    """The spec's mapping with its parents merged in, and which file set each key."""
    source = str(path)
    key = os.path.realpath(path)
    if key in chain:
        names = " -> ".join(_stem(p) for p in chain + (key,))
        raise SpecError(source, "extends", f"cycle in extends: {names}")
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
    parent, origin = _resolve(parent_path, chain + (key,))
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


# ---------------------------------------------------------------------------------- validation


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value)
    return (text[:60] + "...") if len(text) > 60 else text


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def parse_human_number(value: Any) -> float | None:
    """124439808, 2.0e+12, '124M', '1.5B', '12,850M' -> a number; anything else -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        match = _HUMAN_NUMBER.match(value)
        if match:
            number = float(match.group(1).replace(",", ""))
            scale = _SUFFIXES.get(match.group(2), 1)
            result = number * scale
            return int(result) if result.is_integer() else result
    return None


def last_digit_unit(value: Any) -> float:
    """What one step in the last printed digit is worth: '124M' -> 1e6, '1.5B' -> 1e8, '1320M' -> 1e7."""
    if not isinstance(value, str):
        return 1.0
    match = _HUMAN_NUMBER.match(value)
    if not match:
        return 1.0
    mantissa = match.group(1).replace(",", "")
    scale = _SUFFIXES.get(match.group(2), 1)
    if "." in mantissa:
        return scale * 10.0 ** -len(mantissa.split(".")[1])
    trailing_zeros = len(mantissa) - len(mantissa.rstrip("0"))
    return scale * 10.0 ** min(trailing_zeros, len(mantissa) - 1)


class _Node:
    """A mapping at some key path of the merged spec, with typed getters that raise SpecError."""

    def __init__(self, data: dict, path: tuple, origin: dict, fallback: str):
        self.data = data
        self.path = path
        self.origin = origin
        self.fallback = fallback

    def error(self, key: str | int | None, message: str) -> SpecError:
        path = self.path + ((key,) if key is not None else ())
        for n in range(len(path), -1, -1):
            if path[:n] in self.origin:
                return SpecError(self.origin[path[:n]], _dotted(path) or None, message)
        return SpecError(self.fallback, _dotted(path) or None, message)

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise self.error(key, f"unknown key; {hint}allowed here: {', '.join(allowed)}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def _get(self, key: str, default: Any) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _REQUIRED:
                raise self.error(key, "required key is missing")
            return default
        return value

    def integer(self, key: str, default: Any = _REQUIRED, minimum: int = 1) -> Any:
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number >= {minimum}, got {_kind(value)} {_show(value)}")
        if value < minimum:
            raise self.error(key, f"must be a whole number >= {minimum}, got {value}")
        return value

    def boolean(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {_kind(value)} {_show(value)}")
        return value

    def string(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {_kind(value)} {_show(value)}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: Any = _REQUIRED) -> Any:
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if value not in allowed:
            import difflib

            close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise self.error(key, f"{_show(value)} is not allowed; {hint}allowed: {', '.join(allowed)}")
        return value

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self._get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, f"must be a list of non-empty strings, got {_kind(value)} {_show(value)}")
        return tuple(value)

    def number(self, key: str, default: Any = _REQUIRED, minimum: float = 0) -> Any:
        raw = self._get(key, default)
        if raw is default and default is not _REQUIRED:
            return raw
        value = parse_human_number(raw)
        if value is None:
            hint = " (YAML reads 2e12 as a string: write 2.0e+12)" if isinstance(raw, str) and "e" in raw.lower() else ""
            raise self.error(key, f"must be a number such as 124439808, 1.5e+12 or '124M', got {_show(raw)}{hint}")
        if value != value or value in (float("inf"), float("-inf")) or value < minimum:
            raise self.error(key, f"must be a finite number >= {minimum}, got {_show(raw)}")
        return value

    def mapping(self, key: str, required: bool = True) -> "_Node | None":
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(key, "required section is missing")
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping of keys to values, got {_kind(value)} {_show(value)}")
        return _Node(value, self.path + (key,), self.origin, self.fallback)


class _Builder:
    """Turns a merged spec mapping into a ModelSpec, checking every value on the way."""

    def __init__(self, name: str, source: str, data: dict, origin: dict):
        self.name = name
        self.root = _Node(data, (), origin, source)
        self.source = source

    def build(self) -> ModelSpec:
        root = self.root
        root.check_keys(TOP_KEYS)
        d_model = root.integer("d_model")
        n_layers = root.integer("n_layers")
        norm = self._norm(root.mapping("norm"))
        layers = self._layers(root, d_model, n_layers)
        encoder = root.mapping("encoder", required=False)
        if encoder:
            layers = self._encoder_layers(root, encoder, d_model) + tuple(
                dataclasses.replace(layer, cross_attention=True) for layer in layers)
        position = root.choice("position", POSITIONS)
        buckets = 0
        if position == "relative":
            buckets = root.integer("relative_attention_buckets", 32)
        elif root.has("relative_attention_buckets"):
            raise root.error("relative_attention_buckets", "only used with position: relative (T5); allowed: "
                             "remove it, or set position: relative")
        training = root.mapping("training", required=False)
        mtp = root.mapping("mtp", required=False)
        if mtp:
            mtp.check_keys(MTP_KEYS)
        return ModelSpec(
            name=self.name,
            display_name=root.string("display_name", self.name),
            family=root.string("family", "custom"),
            year=root.integer("year", None, minimum=1900),
            aliases=root.string_list("aliases"),
            sources=root.string_list("sources"),
            notes=root.string("notes", None),
            vocab_size=root.integer("vocab_size"),
            d_model=d_model,
            n_layers=len(layers),
            context_length=root.integer("context_length"),
            position=position,
            relative_buckets=buckets,
            tied_embeddings=root.boolean("tied_embeddings", False),
            norm=norm,
            layers=layers,
            training=self._training(training) if training else Training(),
            published=self._published(root),
            origin=self.source,
            mtp_modules=mtp.integer("n_modules") if mtp else 0,
            rumour=root.string("rumour", None),
        )

    def _norm(self, node: _Node) -> Norm:
        node.check_keys(NORM_KEYS)
        kind = node.choice("kind", NORM_KINDS)
        bias = node.boolean("bias", kind == "layernorm")
        if bias and kind == "rmsnorm":
            raise node.error("bias", "RMSNorm has no bias; allowed: false (or use kind: layernorm)")
        placement = node.choice("placement", NORM_PLACEMENTS, "pre")
        return Norm(kind, bias, placement, node.boolean("final", placement != "post"))

    def _attention(self, node: _Node, d_model: int) -> Attention:
        node.check_keys(ATTENTION_KEYS)
        if node.has("mla"):
            return self._mla_attention(node)
        n_heads = node.integer("n_heads")
        n_kv_heads = node.integer("n_kv_heads", n_heads)
        if n_heads % n_kv_heads:
            raise node.error("n_kv_heads", f"{n_kv_heads} does not divide n_heads={n_heads}; "
                             f"allowed: a divisor of n_heads ({', '.join(map(str, _divisors(n_heads)))})")
        if node.has("d_head"):
            d_head = node.integer("d_head")
        elif d_model % n_heads:
            raise node.error("d_head", f"d_model={d_model} is not a multiple of n_heads={n_heads}, "
                             "so d_head cannot be taken as d_model / n_heads: set it")
        else:
            d_head = d_model // n_heads
        q = k = v = o = False
        bias = node.data.get("bias")
        if isinstance(bias, bool):
            q = k = v = o = bias
        elif bias is not None:
            sub = node.mapping("bias")
            sub.check_keys(ATTENTION_BIAS_KEYS)
            q, k, v, o = (sub.boolean(key, False) for key in ATTENTION_BIAS_KEYS)
        window = node.integer("sliding_window", None)
        chunk = node.integer("chunk_size", None)
        if window and chunk:
            raise node.error("chunk_size", "a layer has either a sliding window or chunked attention, not both; "
                             "allowed: one of sliding_window, chunk_size")
        return Attention(n_heads, n_kv_heads, d_head, q, k, v, o, window, qk_norm=node.choice("qk_norm", QK_NORMS, None),
                         sinks=node.boolean("sinks", False), chunk_size=chunk)

    def _mla_attention(self, node: _Node) -> Attention:
        """MLA: every head has its own K and V, decompressed from the latent, so n_kv_heads = n_heads."""
        for key in ATTENTION_KEYS:
            if node.has(key) and key not in MLA_ATTENTION_KEYS:
                raise node.error(key, "not used with mla (head sizes are mla.qk_nope_head_dim + qk_rope_head_dim "
                                 f"and mla.v_head_dim); allowed with mla: {', '.join(MLA_ATTENTION_KEYS)}")
        n_heads = node.integer("n_heads")
        sub = node.mapping("mla")
        sub.check_keys(MLA_KEYS)
        mla = MLA(kv_lora_rank=sub.integer("kv_lora_rank"), qk_nope_head_dim=sub.integer("qk_nope_head_dim"),
                  qk_rope_head_dim=sub.integer("qk_rope_head_dim"), v_head_dim=sub.integer("v_head_dim"),
                  q_lora_rank=sub.integer("q_lora_rank", None))
        return Attention(n_heads, n_heads, mla.qk_head_dim, sliding_window=node.integer("sliding_window", None),
                         mla=mla)

    def _mlp(self, node: _Node) -> MLP:
        node.check_keys(MLP_KEYS)
        return MLP(node.choice("activation", ACTIVATIONS), node.integer("d_ff"), node.boolean("bias", False))

    def _moe(self, node: _Node, mlp: MLP) -> MoE:
        node.check_keys(MOE_KEYS)
        n_experts = node.integer("n_experts")
        top_k = node.integer("top_k")
        if top_k > n_experts:
            raise node.error("top_k", f"{top_k} is more than n_experts={n_experts}; allowed: 1 to {n_experts}")
        d_ff = node.integer("d_ff", mlp.d_ff)
        n_shared = node.integer("n_shared_experts", 0, minimum=0)
        return MoE(
            n_experts=n_experts,
            top_k=top_k,
            d_ff=d_ff,
            n_shared_experts=n_shared,
            d_ff_shared=node.integer("d_ff_shared", d_ff) if n_shared else 0,
            shared_gate=node.boolean("shared_gate", False),
            router_bias=node.boolean("router_bias", False),
            routing_bias=node.boolean("routing_bias", False),
        )

    def _layer(self, node: _Node, d_model: int, name: str | None) -> Layer:
        """One layer from a node holding attention / mlp / moe (the top level or a merged override)."""
        attention = self._attention(node.mapping("attention"), d_model)
        mlp = self._mlp(node.mapping("mlp"))
        moe_node = node.mapping("moe", required=False)
        return Layer(attention, mlp, self._moe(moe_node, mlp) if moe_node else None, name)

    def _layers(self, root: _Node, d_model: int, n_layers: int) -> tuple[Layer, ...]:
        default = self._layer(root, d_model, None)
        if not root.has("layers"):
            return (default,) * n_layers
        groups = root.data["layers"]
        if not isinstance(groups, list) or not groups:
            raise root.error("layers", f"must be a non-empty list of layer groups, got {_kind(groups)} {_show(groups)}")
        layers: list[Layer] = []
        for index, raw in enumerate(groups):
            if not isinstance(raw, dict):
                raise root.error("layers", f"item {index} must be a mapping, got {_kind(raw)} {_show(raw)}")
            group = _Node(raw, root.path + ("layers", index), root.origin, root.fallback)
            if "pattern" in raw or "repeat" in raw:
                group.check_keys(LAYER_REPEAT_KEYS)
                repeat = group.integer("repeat")
                pattern = raw.get("pattern")
                if not isinstance(pattern, list) or not pattern:
                    raise group.error("pattern", f"must be a non-empty list of layers, got {_kind(pattern)}")
                cycle = []
                for position, item in enumerate(pattern):
                    if not isinstance(item, dict):
                        raise group.error("pattern", f"item {position} must be a mapping, got {_kind(item)}")
                    member = _Node(item, group.path + ("pattern", position), root.origin, root.fallback)
                    member.check_keys(LAYER_PATTERN_KEYS)
                    cycle.append(self._override(root, member, d_model))
                layers.extend(cycle * repeat)
            else:
                group.check_keys(LAYER_GROUP_KEYS)
                layers.extend([self._override(root, group, d_model)] * group.integer("count"))
        if len(layers) != n_layers and root.origin.get(root.path + ("n_layers",)) == OVERRIDE_SOURCE:
            raise root.error("n_layers", f"{n_layers} does not match this spec's layer groups, which add up to "
                             f"{len(layers)}; allowed: change the groups with it (`llmcalc show` lists them), e.g. "
                             f"--set {_dotted(root.path + ('layers', len(groups) - 1))}."
                             f"{'repeat' if 'pattern' in groups[-1] else 'count'}=N")
        if len(layers) != n_layers:
            raise root.error("layers", f"the layer groups add up to {len(layers)} layers but n_layers is {n_layers}; "
                             "allowed: groups whose counts (count, or repeat x pattern length) sum to n_layers")
        return tuple(layers)

    def _encoder_layers(self, root: _Node, encoder: _Node, d_model: int) -> tuple[Layer, ...]:
        """The encoder stack: the top-level attention / mlp / moe, overridden by encoder.layers like the decoder's."""
        encoder.check_keys(ENCODER_KEYS)
        data = {key: root.data[key] for key in ("attention", "mlp", "moe") if key in root.data}
        if "layers" in encoder.data:
            data["layers"] = encoder.data["layers"]
        node = _Node(data, ("encoder",), root.origin, root.fallback)
        layers = self._layers(node, d_model, encoder.integer("n_layers"))
        return tuple(dataclasses.replace(layer, stack="encoder") for layer in layers)

    def _override(self, root: _Node, node: _Node, d_model: int) -> Layer:
        """A layer whose attention / mlp / moe are the top-level ones with this node's keys laid over."""
        merged: dict = {}
        for section in ("attention", "mlp", "moe"):
            if section in node.data and node.data[section] is None:
                merged[section] = None  # e.g. `moe: null` for a dense layer in a MoE model
                continue
            if section in node.data and not isinstance(node.data[section], dict):
                raise node.error(section, f"must be a mapping or null, got {_kind(node.data[section])}")
            base = root.data.get(section) if isinstance(root.data.get(section), dict) else None
            if base is None and section in node.data:
                merged[section] = dict(node.data[section])
            elif base is not None:
                merged[section] = {**base, **node.data.get(section, {})}
        name = node.string("name", None)
        return self._layer(_Node(merged, node.path, root.origin, root.fallback), d_model, name)

    def _training(self, node: _Node) -> Training:
        node.check_keys(TRAINING_KEYS)
        return Training(tokens=node.number("tokens", None), context=node.integer("context", None))

    def _published(self, root: _Node) -> tuple[PublishedFigure, ...]:
        items = root.data.get("published")
        if items is None:
            return ()
        if not isinstance(items, list):
            raise root.error("published", f"must be a list of figures, got {_kind(items)}")
        figures = []
        for index, raw in enumerate(items):
            if not isinstance(raw, dict):
                raise root.error("published", f"item {index} must be a mapping, got {_kind(raw)} {_show(raw)}")
            node = _Node(raw, ("published", index), root.origin, root.fallback)
            node.check_keys(FIGURE_KEYS)
            figure = node.choice("figure", FIGURES)
            raw_value = node._get("value", _REQUIRED)
            value = node.number("value", minimum=0)
            as_published = raw_value if isinstance(raw_value, str) else f"{raw_value:,}"
            rule, tolerance, unit = "relative", 0.0, 0.0
            raw_tolerance = raw.get("tolerance")
            if raw_tolerance in ("rounding", "truncation"):
                rule, unit = raw_tolerance, last_digit_unit(raw_value)
            elif isinstance(raw_tolerance, str):
                raise node.error("tolerance", f"{_show(raw_tolerance)} is not allowed; allowed: a fraction such as "
                                 "0.01 (1%), rounding, or truncation")
            else:
                tolerance = node.number("tolerance", 0.0)
                if tolerance >= 1:
                    raise node.error("tolerance", f"{tolerance} would accept anything; allowed: a fraction below 1, "
                                     "e.g. 0.01 for 1%")
            figures.append(PublishedFigure(
                figure=figure, value=value, as_published=as_published, source=node.string("source"),
                rule=rule, tolerance=tolerance, unit=unit,
                note=node.string("note", None), discrepancy=node.string("discrepancy", None),
            ))
        return tuple(figures)


def _divisors(n: int, most: int = 12) -> list[int]:
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    found = sorted(set(small + [n // d for d in small]))
    return found if len(found) <= most else found[: most // 2] + found[-most // 2:]
