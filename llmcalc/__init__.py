"""llmcalc: exact parameter counts, FLOPs, KV cache and memory of LLM architectures from YAML specs.

    >>> import llmcalc
    >>> llmcalc.count_params("gpt2-small").total
    124439808
    >>> llmcalc.kv_cache("llama3-8b", context=8192).bytes
    1073741824

Every function takes a built-in name or alias, a path to a YAML spec or config.json, or a loaded ModelSpec
(`llmcalc.load(name, overrides=["n_layers=48"])`), and returns the result objects the CLI renders. The names
are imported on first use, so that `import llmcalc` (and the CLI's start-up) stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # the Python API (llmcalc.api): one call per question
    "count_params": "api", "count_flops": "api", "training_flops": "api", "kv_cache": "api",
    "estimate_memory": "api", "compare": "api", "sweep": "api", "parse_sweep": "api", "Comparison": "results",
    "Sweep": "results", "SweepPoint": "results", "speed": "roofline", "SpeedReport": "formulas.speed",
    "explain": "explanations",
    # specs
    "load": "sources", "load_all": "spec", "load_file": "spec", "builtin_names": "spec", "ModelSpec": "model",
    # result objects
    "ParamCount": "formulas.params", "ParamRow": "formulas.params", "FlopCount": "formulas.flops",
    "TrainingCompute": "formulas.training_flops", "KVCache": "formulas.kv", "MemoryReport": "formulas.memory",
    "Check": "formulas.published",
    # errors
    "LlmcalcError": "errors", "SpecError": "errors", "UnknownModelError": "errors",
}
__all__ = sorted(_EXPORTS) + ["check_published"]


def check_published(models: list | None = None) -> list:
    """Every built-in spec (or the given ModelSpecs) checked against its published figures (llmcalc verify)."""
    from .formulas.published import verify
    from .spec import load_all

    return verify(load_all() if models is None else models)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmcalc' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
