"""Safe YAML in and out: the strict loader (no tags that build objects, no duplicate keys), the size limits that
bound what one file may cost, and the dumper that writes a spec back in its own key order."""

from __future__ import annotations

import os
from typing import Any

import yaml

from ..errors import SpecError
from .values import kind as _kind

MAX_SPEC_BYTES = 1_000_000
# Values a document may hold once its aliases are expanded: bounds a "billion laughs" alias bomb, whose few
# hundred bytes stand for billions of values (a real spec holds a few hundred).
MAX_SPEC_NODES = 100_000
# Characters it may hold once expanded: few values can still stand for gigabytes when each alias names a long
# string (`show` would print them all); ten times the largest file leaves every real spec far below it.
MAX_SPEC_CHARS = 10 * MAX_SPEC_BYTES


class _StrictSafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses ten times faster
    """yaml.SafeLoader that refuses duplicate keys (plain safe_load silently keeps the last one)."""


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """A key written twice is an error; a key written beside a merge (`{<<: *a, n_heads: 16}`) overrides the
    merged one, as the YAML merge spec says (flatten_mapping puts the merged pairs first, so the written one wins,
    and of several merged mappings the first wins)."""
    seen: set = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    loader.flatten_mapping(node)
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is not a string", key_node.start_mark)
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
    data = safe_load(read_text(path), source)
    if not isinstance(data, dict):
        raise SpecError(source, None, f"a spec must be a YAML mapping of keys to values, got {_kind(data)}")
    return data


def safe_load(text: str, source: str, key: str | None = None) -> Any:
    """One YAML document through the strict safe loader, its alias expansion bounded by MAX_SPEC_NODES. Errors name
    `source`, and `key` when the text is one value given on the command line (`--set KEY=VALUE`)."""
    try:
        loader = _StrictSafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _expanded_size(node, {}) > MAX_SPEC_NODES:
                if key is not None:
                    raise SpecError(source, key, "value expands to too many nodes")
                raise SpecError(source, None, f"the document expands (through its aliases) to more than "
                                f"{MAX_SPEC_NODES:,} values; a spec may hold at most that many")
            # without an anchor (no '&' anywhere) the document holds no more characters than its text: skip the pass
            if node is not None and "&" in text and _expanded_size(node, {}, _characters, MAX_SPEC_CHARS) > \
                    MAX_SPEC_CHARS:
                if key is not None:
                    raise SpecError(source, key, "value expands to too many characters")
                raise SpecError(source, None, f"the document expands (through its aliases) to more than "
                                f"{MAX_SPEC_CHARS:,} characters; a spec may hold at most that many")
            try:
                return loader.construct_document(node) if node is not None else None
            except (ValueError, KeyError, AttributeError, TypeError, OverflowError, RecursionError) as exc:
                # a tag whose value does not convert (!!int abc, !!bool 1, !!timestamp xyz), an integer past Python's
                # 4,300-digit limit, or nesting too deep to build
                what = "nesting too deep" if isinstance(exc, RecursionError) else "a value that does not convert"
                message = f"{what} ({type(exc).__name__})"
                raise SpecError(source, key, message if key is not None else f"not valid YAML: {message}") from None
        finally:
            loader.dispose()
    except RecursionError:
        raise SpecError(source, key, "nesting too deep to read; a spec nests a few levels") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if key is not None:
            raise SpecError(source, key, f"value is not valid YAML: {problem}") from None
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise SpecError(source, None, f"not valid YAML{where}: {problem}") from None


def _one(node: yaml.Node) -> int:
    return 1


def _characters(node: yaml.Node) -> int:
    return len(node.value) if isinstance(node, yaml.ScalarNode) else 0


def _expanded_size(node: yaml.Node, sizes: dict[int, int], weight=_one, limit: int = MAX_SPEC_NODES) -> int:
    """The document's size once every alias is expanded, in nodes (or, with `weight`, what each node weighs, such
    as its characters), computed once per node (aliases share nodes) and capped just past `limit`."""
    key = id(node)
    if key not in sizes:
        sizes[key] = 0  # a recursive alias counts as nothing more (construction then refuses it as a cycle)
        size = weight(node)
        if isinstance(node, yaml.MappingNode):
            size += sum(_expanded_size(k, sizes, weight, limit) + _expanded_size(v, sizes, weight, limit)
                        for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size += sum(_expanded_size(item, sizes, weight, limit) for item in node.value)
        sizes[key] = min(size, limit + 1)
    return sizes[key]


def dump_yaml(data: dict, header: str = "") -> str:
    """A spec mapping as YAML in its own key order, repeated mappings written out (no &id001 anchors)."""

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return header + yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=None, width=110,
                              allow_unicode=True)
