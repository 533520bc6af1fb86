"""`llmcalc plan MODEL --n-gpus N --gpu GPU`: the training layouts that fit, fastest step first."""

from __future__ import annotations

import click

from .options import (
    OPTIMIZER_CHOICES,
    FRACTION,
    POSITIVE,
    WHOLE,
    complete_gpu,
    load_models,
    models_argument,
    renamed,
    set_option,
    strict_option,
)
from .output import emit, output_options


@click.command("plan")
@models_argument("MODEL", nargs=1)
@click.option("--n-gpus", type=WHOLE, required=True, help="GPUs to train on.")
@click.option("--gpu", "gpu_name", default="h100-80gb", show_default=True, shell_complete=complete_gpu,
              help="A GPU preset (see `fit --help`): its memory, dense bf16 peak and links within a node.")
@click.option("--mode", type=click.Choice(["training"]), default="training", show_default=True,
              help="What to plan (serving plans are not built yet).")
@click.option("--context", type=WHOLE, help="The sequence length. Default: the published pre-training context, "
              "else the context length.")
@click.option("--seq", "old_seq", type=WHOLE, hidden=True)  # the old name of --context
@click.option("--global-batch", type=WHOLE, default=512, show_default=True, help="Sequences per optimizer step.")
@click.option("--gpus-per-node", type=WHOLE, default=8, show_default=True,
              help="GPUs joined by the preset's links; tensor parallelism stays within a node.")
@click.option("--network-bandwidth", type=POSITIVE, default=50.0, show_default=True,
              help="GB/s per GPU each way between nodes (50: 400 Gb/s InfiniBand per GPU, as DGX H100).")
@click.option("--compute-efficiency", type=FRACTION, default=1.0, show_default=True,
              help="The share of the peak FLOP/s reached (1.0: the step times are bounds).")
@click.option("--optimizer", type=click.Choice(OPTIMIZER_CHOICES), default="adamw",
              show_default=True, help="The optimizer's states, as in `memory`.")
@click.option("--top", type=WHOLE, default=10, show_default=True, help="Plans to show.")
@set_option
@strict_option
@output_options
def command(models: str, n_gpus: int, gpu_name: str, mode: str, context: int | None, old_seq: int | None,
            global_batch: int, gpus_per_node: int, network_bandwidth: float, compute_efficiency: float,
            optimizer: str, top: int, overrides: tuple[str, ...]) -> None:
    """Training plans for MODEL on --n-gpus GPUs: every TP x PP x DP x EP x ZeRO stage x recomputation x
    micro-batch layout Megatron-LM can run, those whose memory fits the GPU, ranked by estimated step time
    (compute with the 1F1B bubble, TP all-reduces, DP gradient all-reduce, EP all-to-all, PP sends)."""
    from .. import roofline
    from ..hardware import find_gpu
    from ..present import plan as present

    context = renamed({"context": context, "old_seq": old_seq})["context"]
    gpu = find_gpu(gpu_name)
    if gpu.interconnect_bandwidth is None:
        raise click.UsageError(f"{gpu.name} has no link bandwidth in its preset")
    model = load_models((models,), overrides)[0]
    evaluated, plans, fitting = roofline.plan(
        model, n_gpus=n_gpus, gpu_memory=gpu.memory_bytes, peak_flops=gpu.bf16_flops,
        link_bandwidth=gpu.interconnect_bandwidth, network_bandwidth=network_bandwidth * 1e9, seq=context,
        global_batch=global_batch, gpus_per_node=gpus_per_node, compute_efficiency=compute_efficiency,
        optimizer=optimizer, top=top)
    settings = {"gpu": gpu.name, "n_gpus": n_gpus, "context": context or model.training.context or
                model.context_length, "global_batch": global_batch, "gpus_per_node": gpus_per_node,
                "link_bandwidth": gpu.interconnect_bandwidth, "network_bandwidth": network_bandwidth * 1e9,
                "peak_flops": gpu.bf16_flops, "compute_efficiency": compute_efficiency, "optimizer": optimizer}
    args = (model, evaluated, fitting, plans, settings)
    emit(lambda: present.plan_table(*args), lambda: present.plan_json(*args), lambda: present.plan_records(*args))
