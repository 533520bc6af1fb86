"""The `llmcalc` command: parse options, call the library, render. Exit codes: 0 success,
1 a check failed (`verify`), 2 bad usage or bad input."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from . import spec
from .errors import LlmcalcError
from .params import count_params

ACTIVE_CHOICES = {"both-embeddings": True, "no-input-embedding": False}


class _Group(click.Group):
    """Turns every llmcalc error into one line on stderr and exit status 2: never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LlmcalcError as exc:
            click.echo("error: " + " ".join(str(exc).splitlines()), err=True)  # one line, whatever it quotes
            ctx.exit(exc.exit_code)


def _console():
    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped or redirected output has no width to respect: do not squeeze tables into 80 columns.
        console = Console(width=140)
    return console


def _emit_json(document: dict) -> None:
    click.echo(json.dumps(document, indent=2))


def _output(outputs: list, as_json: bool) -> None:
    """One JSON document {"models": [...]} of the per-model documents, or each rich renderable in turn."""
    if as_json:
        _emit_json({"models": outputs})
        return
    console = _console()
    for item in outputs:
        console.print(item)


def _load(models: tuple[str, ...], warn: bool = True) -> list:
    """The named specs; a rumoured architecture gets a warning on stderr before any number is printed."""
    loaded = [spec.load(name) for name in models]
    for model in loaded:
        if warn and model.rumour:
            click.echo(f"warning: {model.name} is a rumoured architecture, never published: "
                       f"{' '.join(model.rumour.split())}", err=True)
    return loaded


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
active_option = click.option(
    "--active", "active", type=click.Choice(list(ACTIVE_CHOICES)), default="both-embeddings", show_default=True,
    help="What 'active parameters' counts besides the top-k experts: both embedding matrices (Mixtral's 12.9B) "
         "or everything but the input embedding (the gpt-oss model card).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llmcalc")
def cli() -> None:
    """Exact parameter counts of LLM architectures, from YAML specs.

    MODEL is a built-in name (see `llmcalc list`), a path to a YAML spec, or a Hugging Face config.json.
    """


@cli.command("list")
@click.option("--family", help="Only models of this family (e.g. llama3, gpt2).")
@json_option
def list_command(family: str | None, as_json: bool) -> None:
    """Every built-in model with its family, size and context length."""
    from . import render

    models = spec.load_all()
    if family:
        families = sorted({m.family for m in models})
        models = [m for m in models if m.family.lower() == family.lower()]
        if not models:
            raise LlmcalcError(f"no built-in model of family '{family}'; families: {', '.join(families)}")
    counts = sorted((count_params(m) for m in models), key=lambda c: (c.model.family, c.total, c.model.name))
    if as_json:
        _emit_json(render.list_json(counts))
    else:
        _console().print(render.list_table(counts))


@cli.command()
@click.argument("models", nargs=-1, required=True, metavar="MODEL...")
@active_option
@json_option
def count(models: tuple[str, ...], active: str, as_json: bool) -> None:
    """Parameter breakdown of each MODEL: per component and layer group."""
    from . import render

    counts = [count_params(m, ACTIVE_CHOICES[active]) for m in _load(models)]
    _output([render.count_json(c) if as_json else render.count_table(c) for c in counts], as_json)


@cli.command()
@click.argument("models", nargs=-1, required=True, metavar="A B [C...]")
@click.option("--seq", type=click.IntRange(min=1), help="Sequence for FLOPs per token. Default: each model's "
              "published pre-training context, else its context length.")
@click.option("--context", type=click.IntRange(min=1), help="Tokens in the KV cache row. Default: each model's "
              "context length.")
@click.option("--attention", type=click.Choice(["causal", "full"]), default="causal", show_default=True)
@click.option("--kv-dtype", type=click.Choice(["fp32", "bf16", "fp16", "fp8", "int8", "int4"]), default="bf16",
              show_default=True)
@active_option
@json_option
def compare(models: tuple[str, ...], seq: int | None, context: int | None, attention: str, kv_dtype: str,
            active: str, as_json: bool) -> None:
    """Models side by side: architecture (differences highlighted), counts with ratios to the first, FLOPs
    per token and KV cache."""
    from . import render
    from .flops import count_flops
    from .memory import kv_cache

    if len(models) < 2:
        raise click.UsageError("compare needs at least two models")
    loaded = _load(models)
    counts = [count_params(m, ACTIVE_CHOICES[active]) for m in loaded]
    forwards = [count_flops(m, seq or m.training.context or m.context_length, 1, attention) for m in loaded]
    caches = [kv_cache(m, context or m.context_length, 1, kv_dtype) for m in loaded]
    if as_json:
        _emit_json(render.compare_json(counts, forwards, caches))
    else:
        _console().print(render.compare_table(counts, forwards, caches))


@cli.command()
@click.argument("models", nargs=-1, required=True, metavar="MODEL...")
@click.option("--seq", type=click.IntRange(min=1), help="Tokens in the forward pass (the position, with --decode). "
              "Default: the model's published pre-training context, else its context length.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Sequences in the batch.")
@click.option("--attention", type=click.Choice(["causal", "full"]), default="causal", show_default=True,
              help="causal: S(S+1)/2 query-key pairs, windows respected; full: all S x S pairs on every layer.")
@click.option("--decode", is_flag=True, help="One decode step at position --seq with a KV cache, instead of prefill.")
@click.option("--no-other", is_flag=True, help="Leave out the non-matmul estimates (softmax, norms, activations...).")
@click.option("--training", is_flag=True, help="Also show training compute (forward + backward).")
@click.option("--tokens", type=float, help="Training tokens. Default: the model's published figure.")
@click.option("--recompute", type=click.Choice(["none", "selective", "full"]), default="none", show_default=True,
              help="Activation recomputation, counted in hardware FLOPs only.")
@click.option("--tokens-per-second", type=float, help="Observed training throughput, for MFU.")
@click.option("--n-gpus", type=click.IntRange(min=1), help="Accelerators behind that throughput, for MFU.")
@click.option("--peak-flops", type=float, help="Peak FLOP/s of one accelerator (e.g. 989e12 for H100 bf16), for MFU.")
@click.option("--gpu", "gpu_name", help="Take --peak-flops from a GPU preset's dense bf16 peak (see `fit --help`).")
@json_option
def flops(models: tuple[str, ...], seq: int | None, batch: int, attention: str, decode: bool, no_other: bool,
          training: bool, tokens: float | None, recompute: str, tokens_per_second: float | None,
          n_gpus: int | None, peak_flops: float | None, gpu_name: str | None, as_json: bool) -> None:
    """FLOPs of a forward pass (or one decode step) per component and layer group; training compute and MFU."""
    from . import render
    from .flops import count_flops, mfu, training_compute

    if gpu_name and peak_flops is None:
        from .fit import find_gpu

        peak_flops = find_gpu(gpu_name).bf16_flops
    mfu_inputs = (tokens_per_second, n_gpus, peak_flops)
    if any(v is not None for v in mfu_inputs) and not all(v is not None for v in mfu_inputs):
        raise click.UsageError("MFU needs all of --tokens-per-second, --n-gpus and --peak-flops")
    outputs: list = []
    for model in _load(models):
        length = seq or model.training.context or model.context_length
        count = count_flops(model, length, batch, attention, decode, include_other=not no_other)
        compute = utilisation = None
        if training or tokens is not None or tokens_per_second is not None:
            train_tokens = tokens if tokens is not None else model.training.tokens
            if train_tokens is None:
                raise LlmcalcError(f"{model.name} publishes no training token count: give --tokens")
            params = count_params(model)
            compute = training_compute(model, params.active, length, train_tokens, attention, recompute)
            if tokens_per_second is not None:
                palm = compute.palm / compute.tokens
                utilisation = {
                    "mfu": mfu(tokens_per_second, compute.model_per_token, n_gpus, peak_flops),
                    "hfu": mfu(tokens_per_second, compute.hardware_per_token, n_gpus, peak_flops),
                    "mfu_palm": mfu(tokens_per_second, palm, n_gpus, peak_flops),
                    "flops_per_token": compute.model_per_token,
                    "convention": "exact forward x 3",
                }
        outputs.append(render.flops_json(count, compute, utilisation) if as_json
                       else render.flops_table(count, compute, utilisation))
    _output(outputs, as_json)


DTYPES = ["fp32", "bf16", "fp16", "fp8", "int8", "int4"]

MEMORY_OPTIONS = [
    click.option("--mode", type=click.Choice(["inference", "training"]), default="inference", show_default=True),
    click.option("--dtype", "weight_dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
                 help="Weights (int4: group-wise, one fp16 scale per 128 weights)."),
    click.option("--kv-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
                 help="KV cache elements."),
    click.option("--context", type=click.IntRange(min=1), help="Tokens per sequence in the KV cache. "
                 "Default: the model's context length."),
    click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
                 help="Sequences served at once."),
    click.option("--mla-cache", type=click.Choice(["latent", "decompressed"]), default="latent", show_default=True,
                 help="What an MLA model caches: its latent (serving engines, transformers) or per-head K and V "
                      "(DeepSeek's modeling code)."),
    click.option("--prefill-chunk", type=click.IntRange(min=1), help="Tokens per prefill step (default: --context)."),
    click.option("--grad-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True),
    click.option("--optimizer", type=click.Choice(["adamw", "sgd", "adam8bit", "adafactor"]), default="adamw",
                 show_default=True),
    click.option("--optimizer-bytes", type=float, help="Optimizer bytes per parameter, master weights included "
                 "(overrides --optimizer; ZeRO's K)."),
    click.option("--zero", type=click.IntRange(0, 3), default=0, show_default=True, help="ZeRO stage."),
    click.option("--dp", type=click.IntRange(min=1), default=1, show_default=True, help="Data-parallel degree."),
    click.option("--tp", type=click.IntRange(min=1), default=1, show_default=True, help="Tensor-parallel degree."),
    click.option("--pp", type=click.IntRange(min=1), default=1, show_default=True, help="Pipeline-parallel degree."),
    click.option("--ep", type=click.IntRange(min=1), default=1, show_default=True, help="Expert-parallel degree."),
    click.option("--sequence-parallel", is_flag=True, help="Megatron sequence parallelism (with --tp)."),
    click.option("--recompute", type=click.Choice(["none", "selective", "full"]), default="none",
                 show_default=True),
    click.option("--seq", type=click.IntRange(min=1), help="Training sequence length (default: the published "
                 "pre-training context, else the context length)."),
    click.option("--micro-batch", type=click.IntRange(min=1), default=1, show_default=True),
    click.option("--units", type=click.Choice(["GiB", "GB"]), default="GiB", show_default=True),
]


def memory_options(function):
    for option in reversed(MEMORY_OPTIONS):
        function = option(function)
    return function


def _memory_report(model, params, opts: dict, **overrides):
    """The memory report of `model` under the command's options, some of them overridden."""
    from .memory import inference_memory, model_states, training_memory

    o = {**opts, **overrides}
    context = o["context"] or model.context_length
    if o["mode"] == "inference":
        return inference_memory(model, params.total, context, o["batch"], o["weight_dtype"], o["kv_dtype"],
                                o["prefill_chunk"], o["tp"], o["mla_cache"])
    states = model_states(o["weight_dtype"], o["grad_dtype"], o["optimizer"], o["optimizer_bytes"])
    experts = sum(r.total for r in params.rows if r.component == "moe.experts")
    return training_memory(model, params.total, experts, o["seq"] or model.training.context or context,
                           o["micro_batch"], states, o["zero"], o["dp"], o["tp"], o["pp"], o["ep"],
                           o["sequence_parallel"], o["recompute"])


@cli.command()
@click.argument("models", nargs=-1, required=True, metavar="MODEL...")
@memory_options
@json_option
def memory(models: tuple[str, ...], as_json: bool, **opts) -> None:
    """Memory for inference (weights, KV cache, activations) or training (model states, activations)."""
    from . import render
    from .memory import kv_cache

    outputs: list = []
    for model in _load(models):
        params = count_params(model)
        report = _memory_report(model, params, opts)
        cache = kv_cache(model, opts["context"] or model.context_length, opts["batch"], opts["kv_dtype"],
                         opts["mla_cache"])
        outputs.append(render.memory_json(report, cache) if as_json else render.memory_table(report, opts["units"]))
    _output(outputs, as_json)


@cli.command()
@click.argument("model", metavar="MODEL")
@click.option("--gpu", "gpu_name", default="h100-80gb", show_default=True,
              help="A preset from specs/hardware/gpus.yaml (a100-40gb, a100-80gb, h100-80gb, h200, b200, l40s, "
                   "rtx-4090, mi300x).")
@click.option("--gpu-mem", type=click.FloatRange(min=0, min_open=True), help="Memory of one GPU in GiB, for any "
              "other card (overrides the preset's).")
@click.option("--max-gpus", type=click.IntRange(min=1), default=4096, show_default=True)
@click.option("--n-gpus", type=click.IntRange(min=1), help="Inference: find the largest batch and context on this "
              "many GPUs instead of on the fewest that fit.")
@memory_options
@json_option
def fit(model: str, gpu_name: str, gpu_mem: float | None, max_gpus: int, n_gpus: int | None, as_json: bool,
        **opts) -> None:
    """The fewest GPUs that hold MODEL under the options, and the largest batch (and context) that fits there.

    Inference splits the model over N tensor-parallel GPUs (N a power of two). Training keeps --tp, --pp and
    --zero and raises the data-parallel degree (which only helps with ZeRO).
    """
    from . import render
    from .fit import find_gpu, fewest, largest, powers_of_two
    from .memory import GIB

    spec_model = _load((model,))[0]
    params = count_params(spec_model)
    gpu = find_gpu(gpu_name)
    capacity = gpu_mem * GIB if gpu_mem else gpu.memory_bytes
    result: dict = {"name": spec_model.name, "mode": opts["mode"], "gpu": gpu.key, "gpu_memory_bytes": capacity}
    if opts["mode"] == "inference":
        found = fewest(lambda n: _memory_report(spec_model, params, opts, tp=n), capacity, powers_of_two(max_gpus))
        result["fewest_gpus"] = found.n_gpus if found else None
        chosen = _memory_report(spec_model, params, opts, tp=n_gpus) if n_gpus else found
        if chosen is not None and chosen.per_gpu <= capacity:
            n = chosen.n_gpus
            result["largest_batch"] = largest(lambda b: _memory_report(spec_model, params, opts, tp=n, batch=b),
                                              capacity, 1 << 20)
            result["largest_context"] = largest(
                lambda c: _memory_report(spec_model, params, opts, tp=n, context=c, prefill_chunk=None), capacity,
                spec_model.context_length)
            result["context"] = opts["context"] or spec_model.context_length
        else:
            chosen = None
    else:
        group = opts["tp"] * opts["pp"]
        chosen = fewest(lambda dp: _memory_report(spec_model, params, opts, dp=dp), capacity,
                        powers_of_two(max(max_gpus // group, 1)) if opts["zero"] else [opts["dp"]])
        result["fewest_gpus"] = chosen.n_gpus if chosen else None
        if chosen:
            result["largest_micro_batch"] = largest(
                lambda b: _memory_report(spec_model, params, opts, dp=chosen.settings["dp"], micro_batch=b),
                capacity, 1 << 16)
    result["fits"] = chosen is not None
    result["n_gpus"] = chosen.n_gpus if chosen else None
    result["per_gpu_bytes"] = chosen.per_gpu if chosen else None
    result["settings"] = chosen.settings if chosen else None
    if as_json:
        _emit_json({"models": [result]})
    else:
        _console().print(render.fit_text(result, gpu, opts["units"]))


@cli.command("verify")
@click.argument("models", nargs=-1, metavar="[MODEL...]")
@json_option
def verify_command(models: tuple[str, ...], as_json: bool) -> None:
    """Check every built-in spec (or the given ones) against its published figures; exit 1 on a failure."""
    from . import render
    from .verify import verify

    checks = verify(_load(models, warn=False) if models else spec.load_all())
    if as_json:
        _emit_json(render.verify_json(checks))
    else:
        _console().print(render.verify_table(checks))
    if any(not c.ok for c in checks):
        sys.exit(1)


@cli.command("import")
@click.argument("config", metavar="CONFIG.json")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the spec to this YAML file instead of printing it.")
def import_command(config: str, output: str | None) -> None:
    """The llmcalc spec of a Hugging Face config.json (missing keys take the transformers defaults).

    Every other command takes the config.json directly too: `llmcalc count path/to/config.json`.
    """
    from pathlib import Path

    from . import hf

    path = Path(config)
    if not path.is_file():
        raise LlmcalcError(f"{config}: no such file" if not path.exists() else f"{config}: is not a file")
    data = hf.spec_from_config(hf.read_config(path), str(path))
    spec._Builder(hf.model_name(path), str(path), data, {(): str(path)}).build()  # what is written must count
    text = hf.spec_yaml(data, str(path))
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LlmcalcError(f"{output}: cannot write file: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)


def main() -> None:
    cli(prog_name="llmcalc")


if __name__ == "__main__":  # pragma: no cover
    main()
