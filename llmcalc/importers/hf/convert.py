"""A parsed config.json in, the equivalent llmcalc spec mapping out (`spec_from_config`), through the mapping its
model_type registered; `load_config` validates that mapping with the spec builder, so what `llmcalc import`
writes is exactly what gets counted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ... import spec as _spec
from ...errors import SpecError
from ...model import ModelSpec
from .config import Config
from .config import kind as _kind
from .config import show as _show
from .reader import model_name, read_config
from .registry import TRANSFORMERS_VERSION, TYPES, supported

_KEY_ORDER = ("family", "sources", "notes", "vocab_size", "d_model", "n_layers", "context_length", "position",
              "tied_embeddings", "norm", "attention", "mlp", "moe", "layers", "mtp")


def spec_from_config(config: dict, source: str) -> dict:
    """The llmcalc spec mapping (the keys a YAML spec holds) of a parsed Hugging Face config.json."""
    if not isinstance(config, dict):
        raise SpecError(source, None, f"a config.json must be a JSON object, got {_kind(config)}")
    model_type = config.get("model_type")
    kind = TYPES.get(model_type) if isinstance(model_type, str) else None
    if kind is None or not kind.top_level:
        raise SpecError(source, "model_type", f"{_show(model_type)} is not supported; allowed: "
                        f"{', '.join(supported())}")
    notes = []
    c = Config(config, source, model_type)
    if kind.text_model:
        c, note = kind.text_model(c)
        notes.append(note)
    spec = c.type.mapper(c)
    c.check_keys(c.type.reads_also)
    if c.defaults_used:
        notes.append(f"Keys missing from config.json took the transformers {TRANSFORMERS_VERSION} defaults: "
                     f"{', '.join(dict.fromkeys(c.defaults_used))}.")
    spec["sources"] = [f"{source} (Hugging Face config.json, model_type {model_type})"]
    if notes:
        spec["notes"] = " ".join(notes)
    return {key: spec[key] for key in _KEY_ORDER if key in spec}


def load_config(path: str | Path) -> ModelSpec:
    """Read a Hugging Face config.json and validate its spec mapping with the spec builder."""
    path = Path(path)
    data = spec_from_config(read_config(path), str(path))
    return _spec.build(model_name(path), str(path), data, {(): str(path)})


def spec_yaml(data: dict, source: str, overrides: Sequence[str] = ()) -> str:
    """The spec mapping as YAML, with a leading comment saying where it came from (and which --set changed it)."""
    header = (f"# Imported by `llmcalc import` from {source}\n"
              f"# (Hugging Face config.json; missing keys take the transformers {TRANSFORMERS_VERSION} defaults).\n")
    if overrides:
        header += f"# With --set {', '.join(overrides)}\n"
    return _spec.dump_yaml(data, header)
