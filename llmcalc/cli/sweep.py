"""`llmcalc sweep MODEL... --vary VARIABLE=VALUES`: KV cache, memory and FLOPs as one variable changes."""

from __future__ import annotations

import click

from .options import (
    DTYPES,
    WHOLE,
    Units,
    complete_gpu,
    flag,
    given,
    load_models,
    models_argument,
    renamed,
    set_option,
    strict_option,
)
from .sparse import check_sparse, sparse_option
from .output import check_plot, draw_image, emit, output_options, plot_option


@click.command("sweep")
@models_argument()
@click.option("--vary", "vary", required=True, metavar="VARIABLE=VALUES",
              help="What to sweep: context=1k..128k (doubling), batch=1,8,64, n_layers=16..64:16 (step 16), "
                   "dtype=fp32,bf16,fp8 or dtype=all. k, m, g are binary (1k = 1,024).")
@click.option("--context", type=WHOLE, help="Tokens per sequence while another variable is swept "
              "(default: the model's context length).")
@click.option("--seq", "old_seq", type=WHOLE, hidden=True)  # the old name of --context
@click.option("--batch", type=WHOLE, default=1, show_default=True, help="Sequences at once.")
@click.option("--dtype", type=click.Choice(DTYPES), default="bf16", show_default=True, help="The weights.")
@click.option("--kv-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
              help="The KV cache's elements, as in `memory` (--vary dtype sweeps them with the weights).")
@click.option("--attention", type=click.Choice(["causal", "full"]), default="causal", show_default=True,
              help="For the FLOPs: causal, S(S+1)/2 query-key pairs, windows respected; full, all S x S pairs.")
@sparse_option
@click.option("--mla-cache", type=click.Choice(["latent", "decompressed"]), default="latent", show_default=True,
              help="What an MLA model caches, as in `memory`.")
@click.option("--chart", type=click.Choice(["memory", "kv", "flops", "none"]), default="memory", show_default=True,
              help="Which quantity the terminal chart draws.")
@click.option("--log", "log_y", is_flag=True, help="Logarithmic y axis on the chart.")
@click.option("--units", type=Units(), default="GiB", show_default=True,
              help="GB = 10^9 bytes, GiB = 2^30 bytes (any case).")
@plot_option("the --chart quantity")
@click.option("--gpu", "gpu_name", shell_complete=complete_gpu,
              help="With --plot: a line at this GPU preset's memory (memory and kv charts).")
@set_option
@strict_option
@output_options
def command(models: tuple[str, ...], vary: str, context: int | None, old_seq: int | None, batch: int, dtype: str,
            kv_dtype: str, attention: str, sparse: str, mla_cache: str, chart: str, log_y: bool, units: str,
            plot: str | None,
            gpu_name: str | None, overrides: tuple[str, ...]) -> None:
    """KV cache, inference memory and FLOPs per token of each MODEL as one variable changes: a row per value, a
    column per model, and a chart of the curve. `llmcalc sweep llama3-8b mistral-7b --vary context=1k..128k`."""
    from .. import api
    from ..present import sweep as present

    context = renamed({"context": context, "old_seq": old_seq})["context"]
    if plot is not None:
        if chart == "none":
            raise click.UsageError("--plot draws the --chart quantity: choose memory, kv or flops")
        check_plot(plot)
    if gpu_name is not None and (plot is None or chart == "flops"):
        raise click.UsageError("--gpu applies with --plot of a memory or kv chart only")
    variable, values = api.parse_sweep(vary)
    if vary.strip().lower().startswith("seq"):
        click.echo("warning: --vary seq is now --vary context (the same name in every command)", err=True)
    for name in {"context": ("context",), "batch": ("batch",), "dtype": ("dtype", "kv_dtype")}.get(variable, ()):
        if given(name) or (name == "context" and old_seq is not None):
            raise click.UsageError(f"{flag(name)} is what --vary {variable} sweeps: give one of the two")
    loaded = load_models(models, overrides)
    check_sparse(loaded)
    result = api.sweep(loaded, variable, values, context=context, batch=batch, dtype=dtype,
                       kv_dtype=kv_dtype, attention=attention, mla_cache=mla_cache, sparse=sparse)
    if plot is not None:
        draw_image([present.sweep_chart(result, units, chart, log_y, _gpu_line(gpu_name))], plot)
    emit(lambda: present.sweep_table(result, units, chart, log_y), lambda: present.sweep_json(result),
         lambda: present.sweep_records(result))


def _gpu_line(name: str | None) -> tuple[str, float] | None:
    if name is None:
        return None
    from ..hardware import find_gpu

    gpu = find_gpu(name)
    return gpu.name, gpu.memory_bytes

