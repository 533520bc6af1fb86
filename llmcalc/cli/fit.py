"""`llmcalc fit MODEL`: the fewest GPUs that hold a model, and the largest batch (and context) there."""

from __future__ import annotations

import click

from .options import (
    WHOLE,
    FRACTION,
    GPU_GIB,
    check_mode_options,
    complete_gpu,
    given,
    load_models,
    memory_options,
    memory_report,
    models_argument,
    set_option,
    strict_option,
    warn_past_context,
)
from .output import emit, output_options


@click.command("fit")
@models_argument("MODEL", nargs=1)
@click.option("--gpu", "gpu_name", default="h100-80gb", show_default=True, shell_complete=complete_gpu,
              help="A preset from specs/hardware/gpus.yaml (a100-40gb, a100-80gb, h100-80gb, h200, b200, l40s, "
                   "rtx-4090, mi300x; aliases such as h100, 4090, mi300).")
@click.option("--gpu-mem", type=GPU_GIB, help="Memory of one GPU in GiB, for any "
              "other card (overrides the preset's).")
@click.option("--max-gpus", type=WHOLE, default=4096, show_default=True, help="The most GPUs to try.")
@click.option("--gpu-util", type=FRACTION, default=0.9, show_default=True,
              help="Serve: the share of each card the engine may use (vLLM's gpu_memory_utilization); it also keeps "
                   "vLLM's measured memory outside PyTorch.")
@click.option("--n-gpus", type=WHOLE, help="Serve: find the largest batch and context on this "
              "many GPUs instead of on the fewest that fit.")
@memory_options
@set_option
@strict_option
@output_options
def command(models: str, gpu_name: str, gpu_mem: float | None, max_gpus: int, gpu_util: float, n_gpus: int | None,
        overrides: tuple[str, ...], **opts) -> None:
    """The fewest GPUs that hold MODEL under the options, and the largest batch (and context) that fits there.

    Inference splits the model over N tensor-parallel GPUs (N a power of two), times --pp pipeline stages (default
    1; --n-gpus counts both). Training keeps --tp, --pp and
    --zero and raises the data-parallel degree (which only helps with ZeRO).
    """
    check_mode_options(opts, ("n_gpus", "gpu_util"))
    from .. import api
    from ..formulas.fit import fewest, largest, powers_of_two
    from ..hardware import custom_gpu, find_gpu
    from ..present import fit as present
    from ..units import GIB

    model = load_models((models,), overrides)[0]
    params = api.count_params(model)
    gpu = find_gpu(gpu_name)
    if gpu_mem:  # the card's name and datasheet no longer describe it: say where its memory came from
        gpu = custom_gpu(round(gpu_mem * GIB), gpu if given("gpu_name") else None)
    capacity = gpu.memory_bytes
    serve = opts["mode"] != "training"
    result: dict = {"name": model.name, **({"overrides": list(model.overrides)} if model.overrides else {}),
                    "mode": "serve" if serve else "training", "gpu": gpu.key, "gpu_memory_bytes": capacity}
    if serve:  # an engine keeps (1 - gpu_util) of the card free and needs memory outside PyTorch (vLLM's)
        from ..formulas.serving import VLLM_NON_TORCH

        result["gpu_util"] = gpu_util

        def reserve(report) -> float:
            return VLLM_NON_TORCH[min(report.n_gpus, 2)]

        def fits(report) -> bool:
            return report.per_gpu + reserve(report) <= capacity * gpu_util
    else:
        def reserve(report) -> float:
            return 0.0

        def fits(report) -> bool:
            return report.per_gpu <= capacity
    if serve:
        from ..checks import tp_problem

        candidates = [n for n in powers_of_two(max_gpus) if tp_problem(model, n) is None]
        refused = [n for n in powers_of_two(max_gpus) if n not in candidates]
        if refused:  # say which GPU counts the model cannot be split over, and why
            result["not_tried"] = {"n_gpus": refused, "why": tp_problem(model, refused[0])}
        found = fewest(lambda n: memory_report(model, params, opts, tp=n), fits, candidates)
        result["fewest_gpus"] = found.n_gpus if found else None
        if n_gpus and n_gpus % opts["pp"]:
            raise click.UsageError(f"--n-gpus {n_gpus} is not a multiple of --pp {opts['pp']}: the GPUs are "
                                   "tensor-parallel ranks times pipeline stages")
        chosen = memory_report(model, params, opts, tp=n_gpus // opts["pp"]) if n_gpus else found
        if chosen is not None and fits(chosen):
            n = chosen.settings["tp"]
            result["largest_batch"] = largest(lambda b: memory_report(model, params, opts, tp=n, batch=b), fits,
                                              1 << 20)
            result["largest_context"] = largest(
                lambda c: memory_report(model, params, opts, tp=n, context=c), fits,
                model.context_length)
            result["context"] = opts["context"] or model.context_length
        else:
            chosen = None
    else:
        group = opts["tp"] * opts["pp"] * opts["cp"]
        # data-parallel degrees to try: powers of two the expert-parallel ranks can be carved out of (with cp)
        candidates = [d for d in powers_of_two(max(max_gpus // group, 1)) if d * opts["cp"] % opts["ep"] == 0] \
            if opts["zero"] else [opts["dp"]]
        chosen = fewest(lambda dp: memory_report(model, params, opts, dp=dp), fits, candidates)
        result["fewest_gpus"] = chosen.n_gpus if chosen else None
        if chosen:
            result["largest_batch"] = largest(
                lambda b: memory_report(model, params, opts, dp=chosen.settings["dp"], batch=b), fits, 1 << 16)
            result["context"] = chosen.settings["context"]
    result["fits"] = chosen is not None
    result["n_gpus"] = chosen.n_gpus if chosen else None
    result["per_gpu_bytes"] = chosen.per_gpu if chosen else None
    result["reserved_per_gpu_bytes"] = reserve(chosen) if chosen else None
    result["settings"] = chosen.settings if chosen else None
    warn_past_context(model, opts["context"], "--context")
    emit(lambda: present.fit_text(result, gpu, opts["units"]), lambda: present.fit_json(result),
         lambda: (present.FIT_FIELDS, present.fit_records(result)))
