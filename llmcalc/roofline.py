"""The Python API of serving speed: `speed(model, ...)`, a roofline estimate of the prefill of a prompt and of one
decode step (formulas.speed), checked like the other calls of llmcalc.api. The hardware comes as numbers (peak
FLOP/s, memory and link bytes/s); the CLI reads them from a GPU preset.

May import: llmcalc.errors, llmcalc.model, llmcalc.api, llmcalc.checks, llmcalc.formulas.
"""

from __future__ import annotations

import math

from .api import DTYPES, MLA_CACHES, WEIGHT_FORMATS, model_of
from .errors import LlmcalcError
from .model import MAX_WHOLE, ModelSpec


def _rate(name: str, value, required: bool = True) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise LlmcalcError(f"{name}: must be a finite number above 0, got {value!r}")


def speed(model: str | ModelSpec, *, peak_flops: float, bandwidth: float, batch: int = 1, prompt: int = 512,
          context: int | None = None, dtype: str | None = None, kv_dtype: str = "bf16", tp: int = 1,
          link_bandwidth: float | None = None, compute_efficiency: float = 1.0, memory_efficiency: float = 1.0,
          comm_efficiency: float = 1.0, mla_cache: str = "latent", gpu_name: str = "", compute_dtype: str = "bf16",
          source: str = ""):
    """Roofline time of the prefill of `prompt` tokens and of one decode step at position `context` (default: the
    token after the prompt) for `batch` sequences, per GPU of `peak_flops` FLOP/s and `bandwidth` bytes/s, over `tp`
    tensor-parallel GPUs joined by links of `link_bandwidth` bytes/s each way. Efficiencies scale the peaks (1.0:
    the results are bounds). `gpu_name`, `compute_dtype` (whose peak `peak_flops` is) and `source` are shown."""
    from .formulas.params import count_params
    from .formulas.speed import Roof, speed as roofline

    spec = model_of(model)
    dtype = dtype or spec.weights_format or "bf16"
    if dtype not in DTYPES + WEIGHT_FORMATS:
        raise LlmcalcError(f"dtype: {dtype!r} is not allowed; allowed: {', '.join(DTYPES + WEIGHT_FORMATS)}")
    if kv_dtype not in DTYPES:
        raise LlmcalcError(f"kv_dtype: {kv_dtype!r} is not allowed; allowed: {', '.join(DTYPES)}")
    if mla_cache not in MLA_CACHES:
        raise LlmcalcError(f"mla_cache: {mla_cache!r} is not allowed; allowed: {', '.join(MLA_CACHES)}")
    context = context or prompt + 1
    for name, value in (("batch", batch), ("prompt", prompt), ("context", context), ("tp", tp)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WHOLE:
            raise LlmcalcError(f"{name}: must be a whole number from 1 to 2^53, got {value!r}")
    _rate("peak_flops", peak_flops)
    _rate("bandwidth", bandwidth)
    _rate("link_bandwidth", link_bandwidth, required=False)
    for name, value in (("compute_efficiency", compute_efficiency), ("memory_efficiency", memory_efficiency),
                        ("comm_efficiency", comm_efficiency)):
        _rate(name, value)
        if value > 1:
            raise LlmcalcError(f"{name}: a fraction of the peak, at most 1, got {value!r}")
    if tp > 1:
        from .checks import check_tp

        check_tp(spec, tp)
        if link_bandwidth is None:
            raise LlmcalcError("link_bandwidth: tensor parallelism needs the GPUs' link bandwidth (--gpu names one)")
    roof = Roof(peak_flops * compute_efficiency, bandwidth * memory_efficiency,
                link_bandwidth * comm_efficiency if link_bandwidth else None, tp)
    settings = {"gpu": gpu_name, "peak_flops": peak_flops, "bandwidth": bandwidth, "link_bandwidth": link_bandwidth,
                "tp": tp, "batch": batch, "prompt": prompt, "context": context, "weight_dtype": dtype,
                "kv_dtype": kv_dtype, "compute_efficiency": compute_efficiency,
                "memory_efficiency": memory_efficiency, "comm_efficiency": comm_efficiency,
                "compute_dtype": compute_dtype, "source": source}
    return roofline(spec, count_params(spec), batch, prompt, context, dtype, kv_dtype, roof, mla_cache, settings)
