"""A parsed config.json in, the equivalent llmcalc spec mapping out (`spec_from_config`), through the mapping its
model_type registered; `load_config` validates that mapping with the spec builder, so what `llmcalc import`
writes is exactly what gets counted."""

from __future__ import annotations

import dataclasses
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

# the order an imported spec's keys are written in (`llmcalc import`); a key a mapping writes that is not here comes
# after them, never dropped
_KEY_ORDER = ("family", "sources", "notes", "vocab_size", "input_vocab_size", "d_model", "d_embed", "n_layers",
              "context_length", "position", "position_offset", "rotary_dim", "tied_embeddings", "lm_head_bias",
              "embedding_norm", "per_layer_input", "residual", "norm", "attention", "mixer", "mlp", "moe", "layers",
              "mtp", "vision", "weights_format")


def spec_from_config(config: dict, source: str, strict: bool = False) -> dict:
    """The llmcalc spec mapping (the keys a YAML spec holds) of a parsed Hugging Face config.json; a key the
    model_type's mapping does not know is named in its notes (`strict`: a SpecError)."""
    return read_spec(config, source, strict)[0]


def read_spec(config: dict, source: str, strict: bool = False) -> tuple[dict, tuple[str, ...]]:
    """The spec mapping of a parsed config.json, and the keys it did not read (nested ones as text_config.key):
    keys not known to change no count, which the count assumes change nothing (`strict`: a SpecError instead)."""
    if not isinstance(config, dict):
        raise SpecError(source, None, f"a config.json must be a JSON object, got {_kind(config)}")
    model_type = config.get("model_type")
    kind = TYPES.get(model_type) if isinstance(model_type, str) else None
    if kind is None or not kind.top_level:
        raise SpecError(source, "model_type", f"{_show(model_type)} is not supported; allowed: "
                        f"{', '.join(supported())}")
    notes = []
    c = Config(config, source, model_type, strict=strict)
    if kind.text_model:
        c, note = kind.text_model(c)
        notes.append(note)
    spec = c.mapped()
    if "notes" in spec:  # the mapping's own note (what a value stands for) comes first
        notes.append(spec.pop("notes"))
    quantization = config.get("quantization_config")
    if quantization is not None:
        storage, note = weights_format(quantization)
        if storage:
            spec["weights_format"] = storage
        notes.append(note)
    if c.defaults_used:
        notes.append(f"Keys missing from config.json took the transformers {TRANSFORMERS_VERSION} defaults: "
                     f"{', '.join(dict.fromkeys(c.defaults_used))}.")
    if c.unread:
        notes.append(f"Not read (assumed to change no count): {', '.join(c.unread)}.")
    spec["sources"] = [f"{source} (Hugging Face config.json, model_type {model_type})"]
    if notes:
        spec["notes"] = " ".join(notes)
    ordered = {key: spec[key] for key in _KEY_ORDER if key in spec}
    return {**ordered, **{key: value for key, value in spec.items() if key not in ordered}}, tuple(c.unread)


def load_config(path: str | Path, strict: bool = False) -> ModelSpec:
    """Read a Hugging Face config.json and validate its spec mapping with the spec builder; the keys it did not
    read are the ModelSpec's `unread_keys` (`strict`: a SpecError)."""
    path = Path(path)
    data, unread = read_spec(read_config(path), str(path), strict)
    built = _spec.build(model_name(path), str(path), data, {(): str(path)})
    return dataclasses.replace(built, unread_keys=unread) if unread else built


def spec_yaml(data: dict, source: str, overrides: Sequence[str] = ()) -> str:
    """The spec mapping as YAML, with a leading comment saying where it came from (and which --set changed it)."""
    header = (f"# Imported by `llmcalc import` from {source}\n"
              f"# (Hugging Face config.json; missing keys take the transformers {TRANSFORMERS_VERSION} defaults).\n")
    if overrides:
        header += f"# With --set {', '.join(overrides)}\n"
    return _spec.dump_yaml(data, header)


def weights_format(quantization: object) -> tuple[str | None, str]:
    """The llmcalc weights format of a config's quantization_config (transformers' quantizers: awq and gptq store
    int4/int8 groups, fp8 with weight_block_size DeepSeek's block scales, mxfp4 gpt-oss's experts, bitsandbytes
    4-bit NF4 or 8-bit), and a note saying what was read."""
    if not isinstance(quantization, dict):
        return None, "quantization_config is not an object: not read (memory takes --dtype)."
    method = quantization.get("quant_method")
    storage = None
    if method in ("awq", "gptq"):
        storage = {4: "int4", 8: "int8"}.get(quantization.get("bits", 4))
    elif method == "fp8":
        storage = "fp8_block" if quantization.get("weight_block_size") else "fp8"
    elif method == "mxfp4":
        storage = "mxfp4"
    elif method == "bitsandbytes":
        if quantization.get("load_in_4bit") and quantization.get("bnb_4bit_quant_type") == "nf4":
            storage = "nf4"
        elif quantization.get("load_in_8bit"):
            storage = "int8"
    if storage is None:
        return None, (f"quantization_config ({_show(method)}) is not a format llmcalc knows: not read (memory takes "
                      "--dtype).")
    return storage, f"Weights stored as {storage} (quantization_config, quant_method {method})."
