"""llmcalc's own spec format: YAML in, validated ModelSpec out.

Holds the safe loader and its limits (safe_yaml), the schema of keys (schema; documented in specs/README.md),
the built-in library (library), `extends` chains (extends), `--set` overrides (overrides), typed access with
errors that name the file (node), the one place values are checked (builder), and loading a spec file or the
whole library (loader). A spec never reaches the formulas unchecked.

The names below are the package's public face (the importers and later stages use these, never a module's private
helpers); each is imported from its module on first use, so that a command loads only the modules it needs.

May import: llmcalc.errors, llmcalc.model.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "build": "builder",
    "resolve_chain": "extends",
    "SPEC_SUFFIXES": "library", "alias_index": "library", "builtin_dir": "library", "builtin_file": "library",
    "builtin_names": "library", "is_builtin": "library", "looks_like_path": "library", "resolve_builtin": "library",
    "stem": "library",
    "load_all": "loader", "load_file": "loader",
    "apply_overrides": "overrides", "parse_override": "overrides",
    "MAX_SPEC_BYTES": "safe_yaml", "MAX_SPEC_NODES": "safe_yaml", "dump_yaml": "safe_yaml", "read_text": "safe_yaml",
    "read_yaml": "safe_yaml", "safe_load": "safe_yaml",
    "ATTENTION_BIAS_KEYS": "schema", "ATTENTION_KEYS": "schema", "FIGURE_KEYS": "schema", "FIGURES": "schema",
    "LAYER_GROUP_KEYS": "schema", "LAYER_REPEAT_KEYS": "schema", "MLP_KEYS": "schema", "MOE_KEYS": "schema",
    "NORM_KEYS": "schema", "MAX_LAYERS": "schema", "OVERRIDE_SOURCE": "schema", "TOP_KEYS": "schema", "TRAINING_KEYS": "schema",
    "VISION_KEYS": "schema", "PROJECTOR_KEYS": "schema", "MIXER_KEYS": "schema", "MLA_KEYS": "schema",
    "INDEXER_KEYS": "schema",
    "parse_human_number": "values",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmcalc.spec' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
