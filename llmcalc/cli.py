"""The `llmcalc` command: parse options, call the library (llmcalc.api), render. Exit codes: 0 success, 1 a check
failed (`verify`), 2 bad usage or bad input. Modules are imported inside the commands so that start-up stays fast."""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

import click

from .errors import LlmcalcError

FORMATS = ("table", "json", "csv", "markdown")
EXPORT_SUFFIXES = (".svg", ".html", ".htm", ".txt", ".md")
DTYPES = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")  # llmcalc.api.DTYPES, repeated to keep start-up light


COMMANDS: dict[str, Callable[[], click.Command]] = {}


def _lazy(name: str) -> Callable:
    """Registers a function that builds a command: only the command that runs is built (click's "lazily loading
    subcommands"), so start-up does not pay for a hundred options it will not use."""

    def register(factory: Callable[[], click.Command]) -> Callable[[], click.Command]:
        COMMANDS[name] = factory
        return factory

    return register


class _Group(click.Group):
    """Builds commands on demand, and turns every llmcalc error into one line on stderr and exit status 2: never a
    traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        factory = COMMANDS.get(name)
        return factory() if factory else None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LlmcalcError as exc:
            click.echo("error: " + " ".join(str(exc).splitlines()), err=True)  # one line, whatever it quotes
            ctx.exit(exc.exit_code)


# ------------------------------------------------------------------------------------ completion


def complete_model(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Built-in names and aliases that start with what is typed; file names once it looks like a path."""
    from click.shell_completion import CompletionItem

    from . import spec

    if spec.looks_like_path(incomplete) or incomplete.startswith((".", "~")):
        return [CompletionItem(incomplete, type="file")]
    wanted = incomplete.lower()
    names = [n for n in spec.builtin_names() if n.startswith(wanted)]
    names += sorted(a for a in spec._alias_index() if a.startswith(wanted) and a not in names)
    return [CompletionItem(n) for n in names] or [CompletionItem(incomplete, type="file")]


# --------------------------------------------------------------------------------------- options


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault("llmcalc.output", {})[param.name] = value
    return value


def output_options(function: Callable) -> Callable:
    """--format, its --json shortcut and --export: read back by _emit, so commands need not pass them on."""
    options = [
        click.option("--format", "format", type=click.Choice(FORMATS), expose_value=False, callback=_remember,
                     help="table (default): rich tables; json: one document; csv: a record per row, exact numbers; "
                          "markdown: tables to paste into a README or a pull request."),
        click.option("--json", "json", is_flag=True, expose_value=False, callback=_remember,
                     help="Shortcut for --format json."),
        click.option("--export", "export", metavar="FILE", type=click.Path(dir_okay=False), expose_value=False,
                     callback=_remember, help="Also write the tables to FILE: .svg or .html (rich's export, for "
                     "slides and docs), .txt or .md."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a spec key, validated like the spec: n_layers=48, attention.n_kv_heads=4, layers[1].moe.top_k=2 "
         "(repeatable; a null value removes the key). With several models it applies to each; N:KEY=VALUE to the "
         "N-th model only.")
active_option = click.option(
    "--active", "active", type=click.Choice(["both-embeddings", "no-input-embedding"]), default="both-embeddings",
    show_default=True,
    help="What 'active parameters' counts besides the top-k experts: both embedding matrices (Mixtral's 12.9B) "
         "or everything but the input embedding (the gpt-oss model card).")


def models_argument(metavar: str = "MODEL...", nargs: int = -1) -> Callable:
    return click.argument("models", nargs=nargs, required=True, metavar=metavar, shell_complete=complete_model)


# ---------------------------------------------------------------------------------------- output


def _console(**kwargs):
    from rich.console import Console

    console = Console(**kwargs)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped or redirected output has no width to respect: do not squeeze tables into 80 columns.
        console = Console(width=140, **kwargs)
    return console


def _format() -> str:
    chosen = click.get_current_context().meta.get("llmcalc.output", {})
    if chosen.get("json") and chosen.get("format") not in (None, "json"):
        raise click.UsageError(f"--json and --format {chosen['format']} ask for two different formats")
    return "json" if chosen.get("json") else chosen.get("format") or "table"


def _emit(blocks: Callable[[], list], document: Callable[[], dict],
          records: Callable[[], tuple[list[str], list[dict]]]) -> None:
    """Print in the chosen format; export the tables when asked. Each argument builds its format on demand."""
    from .sheet import to_markdown, to_rich

    fmt = _format()
    export = click.get_current_context().meta.get("llmcalc.output", {}).get("export")
    if export and not export.lower().endswith(EXPORT_SUFFIXES):
        raise click.UsageError(f"--export {export}: the file must end in {', '.join(EXPORT_SUFFIXES)}")
    if export:  # a missing folder is found before anything is printed, not after
        folder = os.path.dirname(os.path.abspath(export))
        if not os.path.isdir(folder):
            raise LlmcalcError(f"{export}: cannot write file: no such folder {folder}")
    built = blocks() if fmt in ("table", "markdown") or export else None
    if fmt == "json":
        import json

        click.echo(json.dumps(document(), indent=2))
    elif fmt == "csv":
        import csv
        import io

        fields, rows = records()
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(text.getvalue(), nl=False)
    elif fmt == "markdown":
        click.echo(to_markdown(built), nl=False)
    else:
        _console().print(to_rich(built))
    if export:
        _export(export, built)


def _export(path: str, blocks: list) -> None:
    """The tables written to `path` through rich's own export (SVG, HTML, text) or as Markdown."""
    import io

    from .sheet import to_markdown, to_rich

    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix == "md":
        text = to_markdown(blocks)
    else:
        from rich.console import Console

        renderable = to_rich(blocks)
        width = Console(width=200, file=io.StringIO()).measure(renderable).maximum
        console = Console(record=True, file=io.StringIO(), width=max(60, min(width, 200)), force_terminal=True,
                          color_system="truecolor")
        console.print(renderable)
        if suffix == "svg":
            text = console.export_svg(title="llmcalc " + " ".join(sys.argv[1:]))
        elif suffix in ("html", "htm"):
            text = console.export_html(inline_styles=True)
        else:
            text = console.export_text()
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise LlmcalcError(f"{path}: cannot write file: {exc.strerror or exc}") from None
    click.echo(f"wrote {path}", err=True)


def _many(blocks: list[Callable[[], list]], documents: list[Callable[[], dict]],
          records: list[Callable[[], list[dict]]], fields: list[str]) -> None:
    """One output for several models: tables one after another, {"models": [...]}, or one CSV."""
    _emit(lambda: [b for make in blocks for b in make()],
          lambda: {"models": [make() for make in documents]},
          lambda: (fields, [r for make in records for r in make()]))


# ---------------------------------------------------------------------------------------- models


def _load(models: tuple[str, ...], overrides: tuple[str, ...] = (), warn: bool = True) -> list:
    """The named specs with their --set overrides; a rumoured architecture gets a warning on stderr first."""
    from . import spec

    targeted = _targets(overrides, len(models))
    loaded = [spec.load(name, targeted[i]) for i, name in enumerate(models)]
    for model in loaded:
        if warn and model.rumour:
            click.echo(f"warning: {model.name} is a rumoured architecture, never published: "
                       f"{' '.join(model.rumour.split())}", err=True)
    return loaded


def _targets(overrides: tuple[str, ...], n_models: int) -> list[tuple[str, ...]]:
    """Each model's overrides: KEY=VALUE goes to every model, N:KEY=VALUE to the N-th only."""
    out: list[list[str]] = [[] for _ in range(n_models)]
    for text in overrides:
        key, _, _ = text.partition("=")
        target, colon, rest = text.partition(":")
        if colon and ":" in key and target.strip().isdigit():
            index = int(target)
            if not 1 <= index <= n_models:
                raise click.BadParameter(f"{text}: there is no model {index}; models are numbered 1 to {n_models}",
                                         param_hint="--set")
            out[index - 1].append(rest)
        else:
            for each in out:
                each.append(text)
    return [tuple(each) for each in out]


# -------------------------------------------------------------------------------------- commands


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llmcalc")
def cli() -> None:
    """Exact parameter counts, FLOPs, KV cache and memory of LLM architectures, from YAML specs.

    MODEL is a built-in name (see `llmcalc list`), a path to a YAML spec, or a Hugging Face config.json.
    Every command prints tables, or --format json, csv or markdown.
    """


@_lazy("list")
def _list_command() -> click.Command:
    @click.command("list")
    @click.option("--family", help="Only models of this family (e.g. llama3, gpt2).")
    @output_options
    def list_command(family: str | None) -> None:
        """Every built-in model with its family, size and context length."""
        from . import render, spec
        from .params import count_params

        models = spec.load_all()
        if family:
            families = sorted({m.family for m in models})
            models = [m for m in models if m.family.lower() == family.lower()]
            if not models:
                raise LlmcalcError(f"no built-in model of family '{family}'; families: {', '.join(families)}")
        counts = sorted((count_params(m) for m in models), key=lambda c: (c.model.family, c.total, c.model.name))
        _emit(lambda: render.list_table(counts), lambda: render.list_json(counts),
              lambda: (render.LIST_FIELDS, render.list_records(counts)))

    return list_command


@_lazy("count")
def _count_command() -> click.Command:
    @click.command()
    @models_argument()
    @active_option
    @set_option
    @output_options
    def count(models: tuple[str, ...], active: str, overrides: tuple[str, ...]) -> None:
        """Parameter breakdown of each MODEL: per component and layer group, with each one's share."""
        from . import api, render

        counts = [api.count_params(m, active) for m in _load(models, overrides)]
        _many([lambda c=c: render.count_table(c) for c in counts], [lambda c=c: render.count_json(c) for c in counts],
              [lambda c=c: render.count_records(c) for c in counts], render.COUNT_FIELDS)

    return count


@_lazy("compare")
def _compare_command() -> click.Command:
    @click.command()
    @models_argument("A B [C...]")
    @click.option("--seq", type=click.IntRange(min=1), help="Sequence for FLOPs per token. Default: each model's "
                  "published pre-training context, else its context length.")
    @click.option("--context", type=click.IntRange(min=1), help="Tokens in the KV cache row. Default: each model's "
                  "context length.")
    @click.option("--attention", type=click.Choice(["causal", "full"]), default="causal", show_default=True)
    @click.option("--kv-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True)
    @active_option
    @set_option
    @output_options
    def compare(models: tuple[str, ...], seq: int | None, context: int | None, attention: str, kv_dtype: str,
                active: str, overrides: tuple[str, ...]) -> None:
        """Models side by side: architecture (differences highlighted), counts with ratios to the first, FLOPs
        per token and KV cache. `llmcalc compare llama3-8b llama3-8b --set 2:attention.n_kv_heads=1` compares a
        model with a variant of itself."""
        from . import api, render

        if len(models) < 2:
            raise click.UsageError("compare needs at least two models")
        result = api.compare(_load(models, overrides), seq, context, attention, kv_dtype, active)
        args = (list(result.counts), list(result.forwards), list(result.caches))
        _emit(lambda: render.compare_table(*args), lambda: render.compare_json(*args),
              lambda: render.compare_records(*args))

    return compare


@_lazy("flops")
def _flops_command() -> click.Command:
    @click.command()
    @models_argument()
    @click.option("--seq", type=click.IntRange(min=1), help="Tokens in the forward pass (the position, with --decode). "
                  "Default: the model's published pre-training context, else its context length.")
    @click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Sequences in the batch.")
    @click.option("--attention", type=click.Choice(["causal", "full"]), default="causal", show_default=True,
                  help="causal: S(S+1)/2 query-key pairs, windows respected; full: all S x S pairs on every layer.")
    @click.option("--decode", is_flag=True,
                  help="One decode step at position --seq with a KV cache, instead of prefill.")
    @click.option("--no-other", is_flag=True,
                  help="Leave out the non-matmul estimates (softmax, norms, activations...).")
    @click.option("--training", is_flag=True, help="Also show training compute (forward + backward).")
    @click.option("--tokens", type=float, help="Training tokens. Default: the model's published figure.")
    @click.option("--recompute", type=click.Choice(["none", "selective", "full"]), default="none", show_default=True,
                  help="Activation recomputation, counted in hardware FLOPs only.")
    @click.option("--tokens-per-second", type=float, help="Observed training throughput, for MFU.")
    @click.option("--n-gpus", type=click.IntRange(min=1), help="Accelerators behind that throughput, for MFU.")
    @click.option("--peak-flops", type=float,
                  help="Peak FLOP/s of one accelerator (e.g. 989e12 for H100 bf16), for MFU.")
    @click.option("--gpu", "gpu_name", help="Take --peak-flops from a GPU preset's dense bf16 peak (see `fit --help`).")
    @set_option
    @output_options
    def flops(models: tuple[str, ...], seq: int | None, batch: int, attention: str, decode: bool, no_other: bool,
              training: bool, tokens: float | None, recompute: str, tokens_per_second: float | None,
              n_gpus: int | None, peak_flops: float | None, gpu_name: str | None, overrides: tuple[str, ...]) -> None:
        """FLOPs of a forward pass (or one decode step) per component and layer group; training compute and MFU."""
        from . import api, render
        from .flops import mfu

        if gpu_name and peak_flops is None:
            from .fit import find_gpu

            peak_flops = find_gpu(gpu_name).bf16_flops
        mfu_inputs = (tokens_per_second, n_gpus, peak_flops)
        if any(v is not None for v in mfu_inputs) and not all(v is not None for v in mfu_inputs):
            raise click.UsageError("MFU needs all of --tokens-per-second, --n-gpus and --peak-flops")
        results = []
        for model in _load(models, overrides):
            count = api.count_flops(model, seq, batch, attention, decode, include_other=not no_other)
            compute = utilisation = None
            if training or tokens is not None or tokens_per_second is not None:
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
            results.append((count, compute, utilisation))
        _many([lambda r=r: render.flops_table(*r) for r in results],
              [lambda r=r: render.flops_json(*r) for r in results],
              [lambda r=r: render.flops_records(r[0]) for r in results], render.FLOPS_FIELDS)

    return flops


MEMORY_OPTIONS = [
    click.option("--mode", type=click.Choice(["inference", "training"]), default="inference", show_default=True),
    click.option("--dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
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


def memory_options(function: Callable) -> Callable:
    for option in reversed(MEMORY_OPTIONS):
        function = option(function)
    return function


def _memory(model, params, opts: dict, **changes):
    """The memory report of `model` under the command's options (--units aside), some of them changed."""
    from . import api

    settings = {k: v for k, v in {**opts, **changes}.items() if k != "units"}
    return api.estimate_memory(model, params=params, **settings)


@_lazy("memory")
def _memory_command() -> click.Command:
    @click.command()
    @models_argument()
    @memory_options
    @set_option
    @output_options
    def memory(models: tuple[str, ...], overrides: tuple[str, ...], **opts) -> None:
        """Memory for inference (weights, KV cache, activations) or training (model states, activations)."""
        from . import api, render

        results = []
        for model in _load(models, overrides):
            report = _memory(model, api.count_params(model), opts)
            cache = api.kv_cache(model, opts["context"], opts["batch"], opts["kv_dtype"], opts["mla_cache"])
            results.append((report, cache))
        _many([lambda r=r: render.memory_table(r[0], opts["units"]) for r in results],
              [lambda r=r: render.memory_json(*r) for r in results],
              [lambda r=r: render.memory_records(r[0]) for r in results], render.MEMORY_FIELDS)

    return memory


@_lazy("fit")
def _fit_command() -> click.Command:
    @click.command()
    @models_argument("MODEL", nargs=1)
    @click.option("--gpu", "gpu_name", default="h100-80gb", show_default=True,
                  help="A preset from specs/hardware/gpus.yaml (a100-40gb, a100-80gb, h100-80gb, h200, b200, l40s, "
                       "rtx-4090, mi300x).")
    @click.option("--gpu-mem", type=click.FloatRange(min=0, min_open=True), help="Memory of one GPU in GiB, for any "
                  "other card (overrides the preset's).")
    @click.option("--max-gpus", type=click.IntRange(min=1), default=4096, show_default=True)
    @click.option("--n-gpus", type=click.IntRange(min=1), help="Inference: find the largest batch and context on this "
                  "many GPUs instead of on the fewest that fit.")
    @memory_options
    @set_option
    @output_options
    def fit(models: str, gpu_name: str, gpu_mem: float | None, max_gpus: int, n_gpus: int | None,
            overrides: tuple[str, ...], **opts) -> None:
        """The fewest GPUs that hold MODEL under the options, and the largest batch (and context) that fits there.

        Inference splits the model over N tensor-parallel GPUs (N a power of two). Training keeps --tp, --pp and
        --zero and raises the data-parallel degree (which only helps with ZeRO).
        """
        from . import api, render
        from .fit import fewest, find_gpu, largest, powers_of_two
        from .memory import GIB

        model = _load((models,), overrides)[0]
        params = api.count_params(model)
        gpu = find_gpu(gpu_name)
        capacity = gpu_mem * GIB if gpu_mem else gpu.memory_bytes
        result: dict = {"name": model.name, **({"overrides": list(model.overrides)} if model.overrides else {}),
                        "mode": opts["mode"], "gpu": gpu.key, "gpu_memory_bytes": capacity}
        if opts["mode"] == "inference":
            found = fewest(lambda n: _memory(model, params, opts, tp=n), capacity, powers_of_two(max_gpus))
            result["fewest_gpus"] = found.n_gpus if found else None
            chosen = _memory(model, params, opts, tp=n_gpus) if n_gpus else found
            if chosen is not None and chosen.per_gpu <= capacity:
                n = chosen.n_gpus
                result["largest_batch"] = largest(lambda b: _memory(model, params, opts, tp=n, batch=b), capacity,
                                                  1 << 20)
                result["largest_context"] = largest(
                    lambda c: _memory(model, params, opts, tp=n, context=c, prefill_chunk=None), capacity,
                    model.context_length)
                result["context"] = opts["context"] or model.context_length
            else:
                chosen = None
        else:
            group = opts["tp"] * opts["pp"]
            chosen = fewest(lambda dp: _memory(model, params, opts, dp=dp), capacity,
                            powers_of_two(max(max_gpus // group, 1)) if opts["zero"] else [opts["dp"]])
            result["fewest_gpus"] = chosen.n_gpus if chosen else None
            if chosen:
                result["largest_micro_batch"] = largest(
                    lambda b: _memory(model, params, opts, dp=chosen.settings["dp"], micro_batch=b), capacity, 1 << 16)
        result["fits"] = chosen is not None
        result["n_gpus"] = chosen.n_gpus if chosen else None
        result["per_gpu_bytes"] = chosen.per_gpu if chosen else None
        result["settings"] = chosen.settings if chosen else None
        _emit(lambda: render.fit_text(result, gpu, opts["units"]), lambda: {"models": [result]},
              lambda: (render.FIT_FIELDS, render.fit_records(result)))

    return fit


@_lazy("sweep")
def _sweep_command() -> click.Command:
    @click.command()
    @models_argument()
    @click.option("--vary", "vary", required=True, metavar="VARIABLE=VALUES",
                  help="What to sweep: seq=1k..128k (doubling), batch=1,8,64, n_layers=16..64:16 (step 16), "
                       "dtype=fp32,bf16,fp8 or dtype=all. k, m, g are binary (1k = 1,024).")
    @click.option("--seq", type=click.IntRange(min=1), help="Sequence length while another variable is swept "
                  "(default: the model's context length).")
    @click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
    @click.option("--dtype", type=click.Choice(DTYPES), default="bf16", show_default=True, help="Weights.")
    @click.option("--kv-dtype", type=click.Choice(DTYPES), help="KV cache (default: --dtype).")
    @click.option("--attention", type=click.Choice(["causal", "full"]), default="causal", show_default=True)
    @click.option("--mla-cache", type=click.Choice(["latent", "decompressed"]), default="latent", show_default=True)
    @click.option("--chart", type=click.Choice(["memory", "kv", "flops", "none"]), default="memory", show_default=True,
                  help="Which quantity the terminal chart draws.")
    @click.option("--log", "log_y", is_flag=True, help="Logarithmic y axis on the chart.")
    @click.option("--units", type=click.Choice(["GiB", "GB"]), default="GiB", show_default=True)
    @set_option
    @output_options
    def sweep(models: tuple[str, ...], vary: str, seq: int | None, batch: int, dtype: str, kv_dtype: str | None,
              attention: str, mla_cache: str, chart: str, log_y: bool, units: str, overrides: tuple[str, ...]) -> None:
        """KV cache, inference memory and FLOPs per token of each MODEL as one variable changes: a row per value, a
        column per model, and a chart of the curve. `llmcalc sweep llama3-8b mistral-7b --vary seq=1k..128k`."""
        from . import api, render

        variable, values = api.parse_sweep(vary)
        result = api.sweep(_load(models, overrides), variable, values, seq=seq, batch=batch, dtype=dtype,
                           kv_dtype=kv_dtype, attention=attention, mla_cache=mla_cache)
        _emit(lambda: render.sweep_table(result, units, chart, log_y), lambda: render.sweep_json(result),
              lambda: render.sweep_records(result))

    return sweep


def spec_format_options(function):
    """--format yaml|json and --json, for the commands that print a spec."""
    function = click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.")(function)
    return click.option("--format", "fmt", type=click.Choice(["yaml", "json"]),
                        help="yaml (default) or json.")(function)


def _spec_text(yaml_text: str, data: dict, fmt: str | None, as_json: bool) -> str:
    """The spec as YAML (its own text, comments kept) or as JSON."""
    if as_json and fmt == "yaml":
        raise click.UsageError("--json and --format yaml ask for two different formats")
    if as_json or fmt == "json":
        import json

        return json.dumps(data, indent=2) + "\n"
    return yaml_text


@_lazy("show")
def _show_command() -> click.Command:
    @click.command()
    @models_argument("MODEL", nargs=1)
    @set_option
    @spec_format_options
    def show(models: str, overrides: tuple[str, ...], fmt: str | None, as_json: bool) -> None:
        """The resolved spec of MODEL (its `extends` chain merged, --set applied) as YAML that loads on its own."""
        from . import spec

        text, data = spec.show_yaml(models, _targets(overrides, 1)[0])
        click.echo(_spec_text(text, data, fmt, as_json), nl=False)

    return show


@_lazy("verify")
def _verify_command() -> click.Command:
    @click.command("verify")
    @click.argument("models", nargs=-1, metavar="[MODEL...]", shell_complete=complete_model)
    @set_option
    @output_options
    def verify_command(models: tuple[str, ...], overrides: tuple[str, ...]) -> None:
        """Check every built-in spec (or the given ones) against its published figures; exit 1 on a failure."""
        from . import render, spec
        from .verify import verify

        if overrides and not models:
            raise click.UsageError("--set needs the models to change: llmcalc verify MODEL --set KEY=VALUE")
        checks = verify(_load(models, overrides, warn=False) if models else spec.load_all())
        _emit(lambda: render.verify_table(checks), lambda: render.verify_json(checks),
              lambda: (render.VERIFY_FIELDS, render.verify_records(checks)))
        if any(not c.ok for c in checks):
            sys.exit(1)

    return verify_command


@_lazy("import")
def _import_command() -> click.Command:
    @click.command("import")
    @click.argument("config", metavar="CONFIG.json")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                  help="Write the spec to this file instead of printing it.")
    @set_option
    @spec_format_options
    def import_command(config: str, output: str | None, overrides: tuple[str, ...], fmt: str | None,
                       as_json: bool) -> None:
        """The llmcalc spec of a Hugging Face config.json (missing keys take the transformers defaults).

        Every other command takes the config.json directly too: `llmcalc count path/to/config.json`.
        """
        from pathlib import Path

        from . import hf, spec

        path = Path(config)
        if not path.is_file():
            raise LlmcalcError(f"{config}: no such file" if not path.exists() else f"{config}: is not a file")
        overrides = _targets(overrides, 1)[0]
        data = hf.spec_from_config(hf.read_config(path), str(path))
        origin: dict = {(): str(path)}
        spec.apply_overrides(data, origin, overrides)
        spec._Builder(hf.model_name(path), str(path), data, origin).build()  # what is written must count
        text = _spec_text(hf.spec_yaml(data, str(path), overrides), data, fmt, as_json)
        if output is None:
            click.echo(text, nl=False)
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise LlmcalcError(f"{output}: cannot write file: {exc.strerror or exc}") from None
        click.echo(f"wrote {output}", err=True)

    return import_command


def main() -> None:
    cli(prog_name="llmcalc")


if __name__ == "__main__":  # pragma: no cover
    main()
