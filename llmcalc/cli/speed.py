"""`llmcalc speed MODEL...`: roofline time of a prefill and of one decode step on a GPU."""

from __future__ import annotations

import click

from .options import (
    DTYPES,
    FRACTION,
    POSITIVE,
    WEIGHT_FORMATS,
    WHOLE,
    complete_gpu,
    given,
    load_models,
    models_argument,
    set_option,
    strict_option,
    warn_past_context,
)
from .sparse import check_sparse, sparse_option
from .output import check_plot, draw_image, many, output_options, plot_option

COMPUTE_DTYPES = ("bf16", "fp16", "fp8", "int8", "fp4", "tf32", "fp32")


@click.command("speed")
@models_argument()
@click.option("--gpu", "gpu_name", default="h100-80gb", show_default=True, shell_complete=complete_gpu,
              help="A GPU preset (see `fit --help`): its memory bandwidth, dense peak FLOP/s and links.")
@click.option("--peak-flops", type=POSITIVE, help="Peak FLOP/s of one GPU, for any other card (overrides the "
              "preset's).")
@click.option("--bandwidth", type=POSITIVE, help="Memory bandwidth of one GPU in GB/s (10^9 bytes/s), for any "
              "other card (overrides the preset's).")
@click.option("--batch", type=WHOLE, default=1, show_default=True, help="Sequences at once.")
@click.option("--prompt", type=WHOLE, default=512, show_default=True, help="Tokens of each sequence's prompt "
              "(the prefill).")
@click.option("--context", type=WHOLE, help="Tokens per sequence at the decode step (the KV cache it reads). "
              "Default: the token after the prompt.")
@click.option("--dtype", type=click.Choice(DTYPES + WEIGHT_FORMATS),
              help="The weights, as in `memory` (default: the spec's weights_format, else bf16).")
@click.option("--kv-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
              help="The KV cache's elements.")
@click.option("--compute-dtype", type=click.Choice(COMPUTE_DTYPES), default="bf16", show_default=True,
              help="Whose tensor-core peak the matmuls run at (weight-only quantized kernels compute in bf16).")
@click.option("--tp", type=WHOLE, default=1, show_default=True, help="The tensor-parallel degree.")
@click.option("--pp", type=WHOLE, default=1, show_default=True, help="Pipeline stages of the replica: the batch in "
              "min(pp, batch) micro-batches, each stage taking them in turn (as `plan --mode serve`).")
@click.option("--ep", type=WHOLE, default=1, show_default=True, help="Expert-parallel GPUs of a MoE replica, "
              "attention data-parallel over them (each decodes batch / ep sequences; two all-to-alls per MoE layer).")
@click.option("--gpus-per-node", type=WHOLE, default=8, show_default=True,
              help="With --pp or --ep: GPUs joined by the preset's links; beyond them, --network-bandwidth.")
@click.option("--network-bandwidth", type=POSITIVE, default=50.0, show_default=True,
              help="With --pp or --ep: GB/s per GPU each way between nodes.")
@click.option("--mla-cache", type=click.Choice(["latent", "decompressed"]), default="latent", show_default=True,
              help="What an MLA model caches, as in `memory`.")
@sparse_option
@click.option("--compute-efficiency", type=FRACTION, default=1.0, show_default=True,
              help="The share of the peak FLOP/s reached (1.0: a bound).")
@click.option("--memory-efficiency", type=FRACTION, default=1.0, show_default=True,
              help="The share of the memory bandwidth reached (1.0: a bound).")
@click.option("--comm-efficiency", type=FRACTION, default=1.0, show_default=True,
              help="The share of the link bandwidth reached, with --tp (1.0: a bound).")
@plot_option("decode tokens/s against batch (per sequence and for the batch, a line per model)")
@set_option
@strict_option
@output_options
def command(models: tuple[str, ...], gpu_name: str, peak_flops: float | None, bandwidth: float | None, batch: int,
            prompt: int, context: int | None, dtype: str | None, kv_dtype: str, compute_dtype: str, tp: int,
            pp: int, ep: int, gpus_per_node: int, network_bandwidth: float, mla_cache: str, sparse: str,
            compute_efficiency: float, memory_efficiency: float, comm_efficiency: float,
            plot: str | None, overrides: tuple[str, ...]) -> None:
    """Roofline speed of serving each MODEL: the prefill of a prompt and one decode step after it, per layer group
    (FLOPs, bytes moved, what bounds it, time), then time to first token, time per output token and tokens per
    second. `llmcalc speed llama3-8b --gpu h100 --batch 8 --prompt 2k`."""
    from .. import roofline
    from ..hardware import find_gpu
    from ..present import speed as present

    if plot is not None:
        check_plot(plot)
    gpu = find_gpu(gpu_name)
    if given("comm_efficiency") and tp * pp * ep == 1:
        raise click.UsageError("--comm-efficiency applies with --tp, --pp or --ep above 1 only")
    for name in ("gpus_per_node", "network_bandwidth"):
        if given(name) and pp * ep == 1:
            raise click.UsageError(f"--{name.replace('_', '-')} applies with --pp or --ep above 1 only")
    peak = peak_flops or gpu.peak(compute_dtype)
    if peak is None:
        raise click.UsageError(f"{gpu.name} has no {compute_dtype} tensor cores: choose another --compute-dtype or "
                               "give --peak-flops")
    memory = bandwidth * 1e9 if bandwidth else gpu.memory_bandwidth
    if memory is None:
        raise click.UsageError(f"{gpu.name} has no memory bandwidth in its preset: give --bandwidth")
    name = gpu.name if not (peak_flops or bandwidth) else f"{gpu.name} with --peak-flops/--bandwidth"
    source = gpu.speed_source if not (peak_flops and bandwidth) else "--peak-flops and --bandwidth"
    if tp > 1 and gpu.interconnect:
        source += f"; links {gpu.interconnect}"
    reports = []
    loaded = load_models(models, overrides)
    check_sparse(loaded)
    for model in loaded:
        if given("mla_cache") and not any(g.layer.attention and g.layer.attention.mla for g in model.groups):
            raise click.UsageError(f"--mla-cache applies to models with multi-head latent attention; {model.name} "
                                   "has none")
        reports.append(roofline.speed(model, peak_flops=peak, bandwidth=memory, batch=batch, prompt=prompt,
                                      context=context, dtype=dtype, kv_dtype=kv_dtype, tp=tp,
                                      link_bandwidth=gpu.interconnect_bandwidth, compute_efficiency=compute_efficiency,
                                      memory_efficiency=memory_efficiency, comm_efficiency=comm_efficiency,
                                      mla_cache=mla_cache, gpu_name=name, compute_dtype=compute_dtype, source=source,
                                      pp=pp, ep=ep, gpus_per_node=gpus_per_node,
                                      network_bandwidth=network_bandwidth * 1e9, sparse=sparse))
        warn_past_context(model, max(prompt, context or 0), "--context" if context else "--prompt")
    if plot is not None:
        draw_image(present.speed_plot(reports), plot)
    many([lambda r=r: present.speed_table(r) for r in reports], [lambda r=r: present.speed_json(r) for r in reports],
         [lambda r=r: present.speed_records(r) for r in reports], present.SPEED_FIELDS)
