"""`llmcalc plan MODEL --n-gpus N --gpu GPU`: the training layouts that fit, fastest step first; with --mode serve,
the serving layouts that fit, best throughput (or latency) first."""

from __future__ import annotations

import click

from .options import (
    DTYPES,
    FRACTION,
    OPTIMIZER_CHOICES,
    POSITIVE,
    WEIGHT_FORMATS,
    WHOLE,
    complete_gpu,
    flag,
    given,
    load_models,
    models_argument,
    renamed,
    set_option,
    strict_option,
    warn_past_context,
)
from .output import emit, output_options

TRAINING_ONLY = ("global_batch", "optimizer", "old_seq", "cp")
SERVE_ONLY = ("concurrency", "prompt", "rank", "dtype", "kv_dtype", "gpu_util", "memory_efficiency")


@click.command("plan")
@models_argument("MODEL", nargs=1)
@click.option("--n-gpus", type=WHOLE, required=True, help="GPUs to train or serve on.")
@click.option("--gpu", "gpu_name", default="h100-80gb", show_default=True, shell_complete=complete_gpu,
              help="A GPU preset (see `fit --help`): its memory, dense bf16 peak, memory bandwidth and links.")
@click.option("--mode", type=click.Choice(["training", "serve"]), default="training", show_default=True,
              help="training: TP x CP x PP x DP x EP x ZeRO x recomputation x micro-batch; serve: TP x PP x "
              "replicas.")
@click.option("--context", type=WHOLE, help="Training: the sequence length (default: the published pre-training "
              "context, else the context length); serve: tokens per sequence in the KV cache (default: the "
              "context length).")
@click.option("--seq", "old_seq", type=WHOLE, hidden=True)  # the old name of --context
@click.option("--global-batch", type=WHOLE, default=512, show_default=True,
              help="Training: sequences per optimizer step.")
@click.option("--concurrency", type=WHOLE, default=1, show_default=True,
              help="Serve: sequences served at once, spread over the replicas.")
@click.option("--prompt", type=WHOLE, default=512, show_default=True,
              help="Serve: the prompt whose prefill gives the time to first token.")
@click.option("--rank", type=click.Choice(["throughput", "latency"]), default="throughput", show_default=True,
              help="Serve: best decode tokens/s of all sequences first, or shortest time per output token.")
@click.option("--dtype", type=click.Choice(DTYPES + WEIGHT_FORMATS),
              help="Serve: the weights (default: the spec's weights_format, else bf16).")
@click.option("--kv-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
              help="Serve: the KV cache's elements.")
@click.option("--gpu-util", type=FRACTION, default=0.9, show_default=True,
              help="Serve: the share of each GPU's memory a layout may use (vLLM's gpu_memory_utilization).")
@click.option("--gpus-per-node", type=WHOLE, default=8, show_default=True,
              help="GPUs joined by the preset's links; tensor parallelism stays within a node.")
@click.option("--network-bandwidth", type=POSITIVE, default=50.0, show_default=True,
              help="GB/s per GPU each way between nodes (50: 400 Gb/s InfiniBand per GPU, as DGX H100); training's "
              "DP and PP traffic, serving's sends between pipeline stages on different nodes.")
@click.option("--compute-efficiency", type=FRACTION, default=1.0, show_default=True,
              help="The share of the peak FLOP/s reached (1.0: the times are bounds).")
@click.option("--memory-efficiency", type=FRACTION, default=1.0, show_default=True,
              help="Serve: the share of the memory bandwidth reached (1.0: the times are bounds).")
@click.option("--optimizer", type=click.Choice(OPTIMIZER_CHOICES), default="adamw",
              show_default=True, help="Training: the optimizer's states, as in `memory`.")
@click.option("--cp", default="auto", show_default=True, help="Training: the context-parallel degree, or auto to "
              "search powers of two with 2 x CP dividing the context (attention-only models).")
@click.option("--top", type=WHOLE, default=10, show_default=True, help="Plans to show.")
@set_option
@strict_option
@output_options
def command(models: str, n_gpus: int, gpu_name: str, mode: str, context: int | None, old_seq: int | None,
            global_batch: int, concurrency: int, prompt: int, rank: str, dtype: str | None, kv_dtype: str,
            gpu_util: float, gpus_per_node: int, network_bandwidth: float, compute_efficiency: float,
            memory_efficiency: float, optimizer: str, cp: str, top: int, overrides: tuple[str, ...]) -> None:
    """Training plans for MODEL on --n-gpus GPUs: every TP x CP x PP x DP x EP x ZeRO stage x recomputation x
    micro-batch layout Megatron-LM can run, those whose memory fits the GPU, ranked by estimated step time
    (compute with the 1F1B bubble, TP all-reduces, DP gradient all-reduce, EP all-to-all, PP sends, CP ring). With --mode
    serve: tensor parallelism x pipeline stages x replicas for --concurrency sequences of --context tokens, those
    whose serving memory fits, ranked by the roofline's decode throughput (or --rank latency)."""
    from .. import roofline
    from ..hardware import find_gpu
    from ..present import plan as present

    for name in SERVE_ONLY if mode == "training" else TRAINING_ONLY:
        if given(name):
            raise click.UsageError(f"{flag(name)} applies to --mode {'serve' if mode == 'training' else 'training'}"
                                   " only")
    context = renamed({"context": context, "old_seq": old_seq})["context"]
    gpu = find_gpu(gpu_name)
    model = load_models((models,), overrides)[0]
    if mode == "serve":
        if gpu.memory_bandwidth is None:
            raise click.UsageError(f"{gpu.name} has no memory bandwidth in its preset")
        evaluated, plans, fitting = roofline.serve_plan(
            model, n_gpus=n_gpus, gpu_memory=gpu.memory_bytes, peak_flops=gpu.bf16_flops,
            bandwidth=gpu.memory_bandwidth, link_bandwidth=gpu.interconnect_bandwidth, concurrency=concurrency,
            context=context, prompt=prompt, dtype=dtype, kv_dtype=kv_dtype, gpu_util=gpu_util,
            gpus_per_node=gpus_per_node, rank=rank, compute_efficiency=compute_efficiency,
            memory_efficiency=memory_efficiency, top=top, network_bandwidth=network_bandwidth * 1e9)
        warn_past_context(model, context or model.context_length, "--context")
        settings = {"gpu": gpu.name, "n_gpus": n_gpus, "context": context or model.context_length,
                    "concurrency": concurrency, "prompt": prompt, "rank": rank,
                    "dtype": dtype or model.weights_format or "bf16", "kv_dtype": kv_dtype, "gpu_util": gpu_util,
                    "gpus_per_node": gpus_per_node, "peak_flops": gpu.bf16_flops,
                    "bandwidth": gpu.memory_bandwidth, "link_bandwidth": gpu.interconnect_bandwidth,
                    "compute_efficiency": compute_efficiency, "memory_efficiency": memory_efficiency,
                    "network_bandwidth": network_bandwidth * 1e9}
        args = (model, evaluated, fitting, plans, settings)
        emit(lambda: present.serve_plan_table(*args), lambda: present.serve_plan_json(*args),
             lambda: present.serve_plan_records(*args))
        return
    if gpu.interconnect_bandwidth is None:
        raise click.UsageError(f"{gpu.name} has no link bandwidth in its preset")
    evaluated, plans, fitting = roofline.plan(
        model, n_gpus=n_gpus, gpu_memory=gpu.memory_bytes, peak_flops=gpu.bf16_flops,
        link_bandwidth=gpu.interconnect_bandwidth, network_bandwidth=network_bandwidth * 1e9, seq=context,
        global_batch=global_batch, gpus_per_node=gpus_per_node, compute_efficiency=compute_efficiency,
        optimizer=optimizer, top=top, cp=None if cp == "auto" else context_parallel(cp))
    settings = {"gpu": gpu.name, "n_gpus": n_gpus, "context": context or model.training.context or
                model.context_length, "global_batch": global_batch, "gpus_per_node": gpus_per_node,
                "link_bandwidth": gpu.interconnect_bandwidth, "network_bandwidth": network_bandwidth * 1e9,
                "peak_flops": gpu.bf16_flops, "compute_efficiency": compute_efficiency, "optimizer": optimizer,
                "cp": cp if cp == "auto" else int(cp)}
    args = (model, evaluated, fitting, plans, settings)
    emit(lambda: present.plan_table(*args), lambda: present.plan_json(*args), lambda: present.plan_records(*args))


def context_parallel(text: str) -> int:
    """--cp: auto, or a whole number of ranks."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise click.BadParameter(f"{text!r} is not auto or a whole number >= 1", param_hint="'--cp'")
    return int(text)
