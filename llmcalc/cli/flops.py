"""`llmcalc flops MODEL...`: FLOPs of a forward pass or a decode step, training compute and MFU."""

from __future__ import annotations

import click

from ..errors import LlmcalcError
from .options import (
    WHOLE,
    COUNT,
    FRACTION,
    POSITIVE,
    complete_gpu,
    given,
    load_models,
    models_argument,
    renamed,
    set_option,
    strict_option,
    warn_past_context,
)
from .images import check_image_options, image_options
from .sparse import check_sparse, sparse_option
from .output import many, output_options


@click.command("flops")
@models_argument()
@click.option("--context", type=WHOLE, help="Tokens per sequence in the forward pass (the position, with --decode). "
              "Default: the model's published pre-training context, else its context length.")
@click.option("--seq", "old_seq", type=WHOLE, hidden=True)  # the old name of --context
@click.option("--batch", type=WHOLE, default=1, show_default=True, help="Sequences at once.")
@click.option("--attention", type=click.Choice(["causal", "full"]), default="causal", show_default=True,
              help="causal: S(S+1)/2 query-key pairs, windows respected; full: all S x S pairs on every layer.")
@sparse_option
@click.option("--decode", is_flag=True,
              help="One decode step at position --context with a KV cache, instead of prefill.")
@click.option("--no-other", is_flag=True,
              help="Leave out the non-matmul estimates (softmax, norms, activations...).")
@click.option("--training", is_flag=True, help="Also show training compute (forward + backward).")
@click.option("--tokens", type=COUNT, help="Training tokens (15e12, 15T). Default: the model's published figure.")
@click.option("--recompute", type=click.Choice(["none", "selective", "full"]), default="none", show_default=True,
              help="Activation recomputation, counted in hardware FLOPs only.")
@click.option("--tokens-per-second", type=POSITIVE, help="Observed training throughput, for MFU.")
@click.option("--n-gpus", type=WHOLE, help="Accelerators: behind --tokens-per-second (for MFU), or "
              "training at --mfu (for days, GPU-hours and cost).")
@click.option("--mfu", "mfu_target", type=FRACTION, help="Model FLOPs utilisation to train at: with --n-gpus and --gpu "
              "(or --peak-flops), the training's days and GPU-hours.")
@click.option("--price", type=POSITIVE, help="Price of one GPU-hour, for the training's cost (with --mfu).")
@click.option("--peak-flops", type=POSITIVE,
              help="Peak FLOP/s of one accelerator (e.g. 989e12 for H100 bf16), for MFU.")
@click.option("--gpu", "gpu_name", shell_complete=complete_gpu,
              help="Take --peak-flops from a GPU preset's dense bf16 peak (see `fit --help`).")
@image_options
@set_option
@strict_option
@output_options
def command(models: tuple[str, ...], images: int, image_size: tuple[int, int] | None, context: int | None,
            old_seq: int | None, batch: int, attention: str, sparse: str, decode: bool, no_other: bool,
          training: bool, tokens: float | None, recompute: str, tokens_per_second: float | None,
          n_gpus: int | None, mfu_target: float | None, price: float | None, peak_flops: float | None,
          gpu_name: str | None, overrides: tuple[str, ...]) -> None:
    """FLOPs of a forward pass (or one decode step) per component and layer group; training compute and MFU."""
    from .. import api
    from ..formulas.training_flops import mfu, training_seconds
    from ..present import flops as present

    seq = renamed({"context": context, "old_seq": old_seq})["context"]
    computes_training = training or tokens is not None or tokens_per_second is not None or mfu_target is not None
    if given("recompute") and not computes_training:
        raise click.UsageError("--recompute applies to training compute only: add --training")
    if decode and computes_training:
        raise click.UsageError("--decode counts one inference step; training compute is of full sequences: drop one")
    if gpu_name and peak_flops is not None:
        raise click.UsageError("--gpu and --peak-flops both give the peak: give one")
    if gpu_name and peak_flops is None:
        from ..hardware import find_gpu

        peak_flops = find_gpu(gpu_name).bf16_flops
    if mfu_target is not None:
        if tokens_per_second is not None:
            raise click.UsageError("--mfu gives the time from an utilisation, --tokens-per-second the utilisation "
                                   "from a throughput: give one")
        if n_gpus is None or peak_flops is None:
            raise click.UsageError("training time needs --mfu, --n-gpus and --gpu (or --peak-flops)")
    elif price is not None:
        raise click.UsageError("--price needs --mfu, --n-gpus and --gpu: the cost is GPU-hours x price")
    else:
        mfu_inputs = (tokens_per_second, n_gpus, peak_flops)
        if any(v is not None for v in mfu_inputs) and not all(v is not None for v in mfu_inputs):
            raise click.UsageError("MFU needs all of --tokens-per-second, --n-gpus and --peak-flops")
    results = []
    loaded = load_models(models, overrides)
    check_sparse(loaded)
    for model in loaded:
        check_image_options(model, images, image_size)
        count = api.count_flops(model, seq, batch, attention, decode, include_other=not no_other, images=images,
                                image_size=image_size, sparse=sparse)
        compute = utilisation = None
        if computes_training:
            if tokens is None and model.training.tokens is None:
                raise LlmcalcError(f"{model.name} publishes no training token count: give --tokens")
            compute = api.training_flops(model, tokens, seq, attention, recompute)
            if tokens_per_second is not None:
                palm = compute.palm / compute.tokens
                utilisation = {
                    "mfu": mfu(tokens_per_second, compute.model_per_token, n_gpus, peak_flops),
                    "hfu": mfu(tokens_per_second, compute.hardware_per_token, n_gpus, peak_flops),
                    "mfu_palm": mfu(tokens_per_second, palm, n_gpus, peak_flops),
                    "flops_per_token": compute.model_per_token,
                    "convention": "exact forward x 3",
                }
            if mfu_target is not None:
                seconds = training_seconds(compute.total, n_gpus, peak_flops, mfu_target)
                utilisation = {"schedule": {
                    "n_gpus": n_gpus, "gpu": gpu_name, "peak_flops": peak_flops, "mfu": mfu_target,
                    "seconds": seconds, "days": seconds / 86400, "gpu_hours": seconds * n_gpus / 3600,
                    **({"price": price, "cost": seconds * n_gpus / 3600 * price} if price is not None else {})}}
        results.append((count, compute, utilisation))
    for model in loaded:
        warn_past_context(model, seq, "--context")
    many([lambda r=r: present.flops_table(*r) for r in results],
         [lambda r=r: present.flops_json(*r) for r in results],
         [lambda r=r: present.flops_records(r[0]) for r in results], present.FLOPS_FIELDS)
