"""GPU presets: specs/hardware/gpus.yaml (memory and dense peak FLOP/s of each card, with the datasheet it came
from), read and checked like a spec.

May import: llmcalc.errors, llmcalc.units, llmcalc.records, llmcalc.spec (to read the YAML safely and find the
library).
"""

from __future__ import annotations

import difflib

from ..errors import LlmcalcError, SpecError
from ..records import record
from ..spec import builtin_dir, read_yaml
from ..units import GIB

GPU_KEYS = ("name", "aliases", "memory_gib", "bf16_flops", "fp8_flops", "source", "memory_bandwidth", "fp32_flops",
            "tf32_flops", "int8_ops", "fp4_flops", "interconnect", "interconnect_bandwidth", "speed_source")
RATES = ("fp8_flops", "memory_bandwidth", "fp32_flops", "tf32_flops", "int8_ops", "fp4_flops", "interconnect_bandwidth")


@record
class GPU:
    key: str
    name: str
    memory_bytes: float
    bf16_flops: float
    fp8_flops: float | None
    source: str
    aliases: tuple[str, ...] = ()
    memory_bandwidth: float | None = None  # bytes/s
    fp32_flops: float | None = None
    tf32_flops: float | None = None
    int8_ops: float | None = None
    fp4_flops: float | None = None
    interconnect: str = ""
    interconnect_bandwidth: float | None = None  # bytes/s per GPU, each way
    speed_source: str = ""

    def peak(self, dtype: str) -> float | None:
        """Dense peak FLOP/s of the tensor cores for matmuls in `dtype` (None where the card has none)."""
        return {"fp32": self.fp32_flops, "tf32": self.tf32_flops, "bf16": self.bf16_flops, "fp16": self.bf16_flops,
                "fp8": self.fp8_flops, "int8": self.int8_ops, "fp4": self.fp4_flops}.get(dtype)


def gpus_file():
    return builtin_dir() / "hardware" / "gpus.yaml"


def load_gpus() -> dict[str, GPU]:
    """The presets of specs/hardware/gpus.yaml, checked like a spec."""
    path = gpus_file()
    data = read_yaml(path)
    out = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or set(entry) - set(GPU_KEYS):
            raise SpecError(str(path), key, f"must be a mapping of {', '.join(GPU_KEYS)}")
        memory, bf16 = entry.get("memory_gib"), entry.get("bf16_flops")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in (memory, bf16)):
            raise SpecError(str(path), key, "memory_gib and bf16_flops must be positive numbers")
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a == a.lower() for a in aliases):
            raise SpecError(str(path), f"{key}.aliases", "must be a list of lower-case names")
        for rate in RATES:
            value = entry.get(rate)
            if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
                raise SpecError(str(path), f"{key}.{rate}", "must be a positive number or null")
        rates = {rate: (float(entry[rate]) if entry.get(rate) is not None else None) for rate in RATES[1:]}
        out[key] = GPU(key, str(entry.get("name", key)), memory * GIB, float(bf16), entry.get("fp8_flops"),
                       str(entry.get("source", "")), tuple(aliases), **rates,
                       interconnect=str(entry.get("interconnect") or ""),
                       speed_source=str(entry.get("speed_source") or ""))
    _name_index(out, str(path))
    return out


def _name_index(gpus: dict[str, GPU], path: str) -> dict[str, str]:
    """Every name of the presets, key or alias, and the preset it means; a name meaning two is a SpecError."""
    names: dict[str, str] = {}
    twice = set()
    for gpu in gpus.values():
        for name in (gpu.key, *gpu.aliases):
            if name in names:
                twice.add(name)
            names[name] = gpu.key
    if twice:
        raise SpecError(path, sorted(twice)[0], "names two presets (as a key or an alias); a name must mean one card")
    return names


def gpu_names(gpus: dict[str, GPU] | None = None) -> dict[str, str]:
    """Every name `--gpu` takes, key or alias, and the preset it means (of `gpus`, default the presets file's)."""
    return _name_index(load_gpus() if gpus is None else gpus, str(gpus_file()))


def custom_gpu(memory_bytes: float, base: GPU | None) -> GPU:
    """A card of `memory_bytes` given by --gpu-mem: the preset's peak FLOP/s when --gpu names one as well."""
    if base is None:
        return GPU("custom", "a GPU given by --gpu-mem", memory_bytes, 0.0, None, "--gpu-mem")
    return GPU(base.key, f"{base.name} with --gpu-mem", memory_bytes, base.bf16_flops, base.fp8_flops,
               f"--gpu-mem (peak FLOP/s from {base.source})", base.aliases)


def find_gpu(name: str) -> GPU:
    gpus = load_gpus()
    names = gpu_names(gpus)  # the file read once
    key = name.strip().lower()
    if key in names:
        return gpus[names[key]]
    starting = [n for n in names if n.startswith(key)] if key else []  # "a100": the 40 and the 80 GB card
    close = list(dict.fromkeys(names[n] for n in starting + difflib.get_close_matches(key, list(names), n=3,
                                                                                      cutoff=0.5)))[:3]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise LlmcalcError(f"unknown GPU '{name}'{hint} (known: {', '.join(gpus)}; or give --gpu-mem)")
