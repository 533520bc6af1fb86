"""Hardware: accelerator presets and their sources (gpus.py reads specs/hardware/gpus.yaml).

May import: llmcalc.errors, llmcalc.units, llmcalc.records, llmcalc.spec.
"""

from __future__ import annotations

from .gpus import GPU, custom_gpu, find_gpu, gpu_names, gpus_file, load_gpus

__all__ = ["GPU", "custom_gpu", "find_gpu", "gpu_names", "gpus_file", "load_gpus"]
