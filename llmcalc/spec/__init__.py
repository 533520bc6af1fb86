"""llmcalc's own spec format: YAML in, validated ModelSpec out.

Holds the safe loader and its limits (safe_yaml), the schema of keys (schema; documented in specs/README.md),
the built-in library (library), `extends` chains (extends), `--set` overrides (overrides), typed access with
errors that name the file (node) and the one place values are checked (builder). A spec never reaches the
formulas unchecked.

May import: llmcalc.errors, llmcalc.model. Imported by the importers (through the names below only: `build`,
`dump_yaml`, `read_text`, ...), never the other way round.
"""

from __future__ import annotations

from .builder import build
from .extends import resolve_chain
from .library import (
    SPEC_SUFFIXES,
    alias_index,
    builtin_dir,
    builtin_file,
    builtin_names,
    is_builtin,
    looks_like_path,
    resolve_builtin,
    stem,
)
from .loader import load_all, load_file
from .overrides import OVERRIDE_SOURCE, apply_overrides, parse_override
from .safe_yaml import MAX_SPEC_BYTES, MAX_SPEC_NODES, dump_yaml, read_text, read_yaml, safe_load
from .schema import (
    ATTENTION_BIAS_KEYS,
    ATTENTION_KEYS,
    FIGURE_KEYS,
    FIGURES,
    LAYER_GROUP_KEYS,
    LAYER_REPEAT_KEYS,
    MLP_KEYS,
    MOE_KEYS,
    NORM_KEYS,
    TOP_KEYS,
    TRAINING_KEYS,
)
from .values import parse_human_number

__all__ = [
    "ATTENTION_BIAS_KEYS", "ATTENTION_KEYS", "FIGURE_KEYS", "FIGURES", "LAYER_GROUP_KEYS", "LAYER_REPEAT_KEYS",
    "MAX_SPEC_BYTES", "MAX_SPEC_NODES", "MLP_KEYS", "MOE_KEYS", "NORM_KEYS", "OVERRIDE_SOURCE", "SPEC_SUFFIXES",
    "TOP_KEYS", "TRAINING_KEYS", "alias_index", "apply_overrides", "build", "builtin_dir", "builtin_file",
    "builtin_names", "dump_yaml", "is_builtin", "load_all", "load_file", "looks_like_path", "parse_human_number",
    "parse_override", "read_text", "read_yaml", "resolve_builtin", "resolve_chain", "safe_load", "stem",
]
