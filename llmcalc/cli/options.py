"""What the commands share: the model argument with its completion, --set and its N:KEY=VALUE targeting, --strict,
--active, the memory options of `memory` and `fit` (the step's in step_options.py), and loading the named models."""

from __future__ import annotations

from typing import Callable

import click

from .step_options import ADAPTER_ONLY, STEP_OPTIONS, TRAINING_ONLY

DTYPES = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")  # llmcalc.api.DTYPES, repeated to keep start-up light
OPTIMIZER_CHOICES = ("adamw", "sgd", "adafactor", "adam8bit", "paged-adam8bit")  # llmcalc.api.OPTIMIZERS
MAX_WHOLE = 2**53  # llmcalc.model.MAX_WHOLE, repeated likewise
WEIGHT_FORMATS = ("fp8_block", "mxfp4", "nf4", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q2_k", "q3_k", "q4_1", "q5_0",
                  "q5_1", "iq4_nl", "iq4_xs", "q3_k_s", "q3_k_m", "q3_k_l", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m",
                  *(f"{t}_mix" for t in ("q2_k", "q6_k", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "iq4_nl", "iq4_xs")))


class FiniteNumber(click.ParamType):
    """A finite number above 0 (or at least 0): click's FloatRange lets nan and inf through."""

    name = "number"

    def __init__(self, zero_allowed: bool = False, maximum: float | None = None):
        self.zero_allowed = zero_allowed
        self.maximum = maximum

    def convert(self, value, param, ctx):
        import math

        try:
            if not str(value).isascii():  # float() reads other scripts' digits ('١٢' is 12): refused, as counts are
                raise ValueError
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or number < 0 or (number == 0 and not self.zero_allowed):
            self.fail(f"{value!r} is not a finite number {'>= 0' if self.zero_allowed else 'above 0'}", param, ctx)
        if self.maximum is not None and number > self.maximum:
            limit = f"{int(self.maximum):,}" if float(self.maximum).is_integer() else f"{self.maximum:g}"
            self.fail(f"{value!r} is more than {limit}", param, ctx)
        return number


class Count(click.ParamType):
    """A count such as 15e12, 2T or 1.5T (K, M, B, T decimal); '1,5T' is refused rather than read as 15T."""

    name = "count"

    def convert(self, value, param, ctx):
        import math
        import re

        text = str(value).strip()
        match = re.fullmatch(r"(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*([KMBT]?)", text, re.ASCII)
        if not match:
            self.fail(f"{value!r} is not a count; write 15e12, 15T or 1.5T (no thousands separators)", param, ctx)
        number = float(match.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[match.group(2)]
        if not math.isfinite(number) or number <= 0:
            self.fail(f"{value!r} is not a finite count above 0", param, ctx)
        return number


class Whole(click.ParamType):
    """A whole number from 1 to 2^53 (so no figure overflows) as people write counts: 131072, 128k, 1.5k, 1e6; k, m,
    g are binary (1k = 1,024, as context lengths are). Refused: fractions, signs, thousands separators."""

    name = "integer"

    def convert(self, value, param, ctx):
        from ..units import parse_whole

        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = parse_whole(value)
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        if not 1 <= number <= MAX_WHOLE:
            self.fail(f"{value!r} is not in 1 to 2^53 ({MAX_WHOLE:,})", param, ctx)
        return number


class Units(click.Choice):
    """GiB or GB, in any case ('gb' too), listed in --help as written ([GiB|GB]; click would list them lower-cased)."""

    def __init__(self):
        super().__init__(["GiB", "GB"], case_sensitive=False)

    def get_metavar(self, param, ctx):
        return "[GiB|GB]"


COUNT = Count()
WHOLE = Whole()  # a count of tokens, sequences, GPUs...
POSITIVE = FiniteNumber()
NON_NEGATIVE = FiniteNumber(zero_allowed=True)
FRACTION = FiniteNumber(maximum=1)
GPU_GIB = FiniteNumber(maximum=2**23)  # GiB of one card: at most 2^53 bytes, so its byte count stays exact
PART_GIB = FiniteNumber(zero_allowed=True, maximum=2**23)  # GiB of a part of a card


def complete_model(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Built-in names and aliases that start with what is typed; file names once it looks like a path."""
    from click.shell_completion import CompletionItem

    from .. import spec

    if spec.looks_like_path(incomplete) or incomplete.startswith((".", "~")):
        return [CompletionItem(incomplete, type="file")]
    wanted = incomplete.lower()
    names = [n for n in spec.builtin_names() if n.startswith(wanted)]
    names += sorted(a for a in spec.alias_index() if a.startswith(wanted) and a not in names)
    return [CompletionItem(n) for n in names] or [CompletionItem(incomplete, type="file")]


set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a spec key, validated like the spec: n_layers=48, attention.n_kv_heads=4, layers[1].moe.top_k=2 "
         "(repeatable; a null value removes the key). With several models it applies to each; N:KEY=VALUE to the "
         "N-th model only.")


strict_option = click.option(  # read back with given("strict"), so commands need not pass it on
    "--strict", is_flag=True, expose_value=False,
    help="An unknown key of a config.json is an error, not a warning (in a YAML spec it always is).")


active_option = click.option(
    "--active", "active", type=click.Choice(["both-embeddings", "no-input-embedding"]), default="both-embeddings",
    show_default=True,
    help="What 'active parameters' counts besides the top-k experts: both embedding matrices (Mixtral's 12.9B) "
         "or everything but the input embedding (the gpt-oss model card).")


def complete_gpu(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """GPU presets and their aliases that start with what is typed."""
    from click.shell_completion import CompletionItem

    from ..hardware import gpu_names

    return [CompletionItem(n) for n in gpu_names() if n.startswith(incomplete.lower())]


def models_argument(metavar: str = "MODEL...", nargs: int = -1) -> Callable:
    return click.argument("models", nargs=nargs, required=True, metavar=metavar, shell_complete=complete_model)


def load_models(models: tuple[str, ...], overrides: tuple[str, ...] = (), warn: bool = True) -> list:
    """The named specs with their --set overrides (and --strict); a config.json's unread keys, and (`warn`) a
    rumoured architecture, get a warning on stderr first."""
    from ..sources import load

    targeted = targets(overrides, len(models))
    loaded = [load(name, targeted[i], strict=given("strict")) for i, name in enumerate(models)]
    for model in loaded:
        warn_unread(model.origin, model.unread_keys)
        if warn and model.rumour:
            click.echo(f"warning: {model.name} is a rumoured architecture, never published: "
                       f"{' '.join(model.rumour.split())}", err=True)
    return loaded


def warn_unread(source: str, keys: tuple[str, ...]) -> None:
    """The keys of a config.json its importer did not read, as one warning on stderr."""
    if keys:
        assumes = "it changes" if len(keys) == 1 else "they change"
        click.echo(f"warning: {source}: not read: {', '.join(keys)}; the count assumes {assumes} nothing", err=True)


def warn_past_context(model, tokens: int | None, option: str) -> None:
    """A warning on stderr when `option` asks for more tokens per sequence than the model's own context length:
    the figures still follow the formulas, but the model was not built to attend that far (a model without attention,
    Mamba, keeps a constant state: nothing extrapolates)."""
    if tokens is not None and tokens > model.context_length and any(g.layer.attention for g in model.groups):
        click.echo(f"warning: {option} {tokens:,} is past {model.name}'s context length of "
                   f"{model.context_length:,} tokens; the figures extrapolate the formulas beyond it", err=True)


def targets(overrides: tuple[str, ...], n_models: int) -> list[tuple[str, ...]]:
    """Each model's overrides: KEY=VALUE goes to every model, N:KEY=VALUE to the N-th only."""
    out: list[list[str]] = [[] for _ in range(n_models)]
    for text in overrides:
        key, _, _ = text.partition("=")
        target, colon, rest = text.partition(":")
        if colon and ":" in key and target.strip().isascii() and target.strip().isdigit():
            index = int(target)
            if not 1 <= index <= n_models:
                raise click.BadParameter(f"{text}: there is no model {index}; models are numbered 1 to {n_models}",
                                         param_hint="--set")
            out[index - 1].append(rest)
        else:
            for each in out:
                each.append(text)
    return [tuple(each) for each in out]


MEMORY_OPTIONS = [
    click.option("--mode", type=click.Choice(["serve", "inference", "training"]), default="serve", show_default=True,
                 help="serve (inference is the same): weights, KV cache, one step's working set; training: model "
                 "states and activations."),
    click.option("--dtype", type=click.Choice(DTYPES + WEIGHT_FORMATS),
                 help="Weights; below 16 bits only the linear layers (int4: groups of 128, fp16 scale, 4-bit zero "
                      "point, as AWQ). Serve also: fp8_block, mxfp4, nf4, GGUF types, llama-quantize's file types "
                      "(q2_k_mix: Q2_K, ...). Default: serving, the spec's weights_format, else bf16; training, bf16."),
    click.option("--kv-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
                 help="Serve: the KV cache's elements."),
    click.option("--context", type=WHOLE, help="Tokens per sequence: serving, in the KV cache (default: the "
                 "model's context length); training, the sequence length (default: the published pre-training "
                 "context, else the context length)."),
    click.option("--batch", type=WHOLE, default=1, show_default=True,
                 help="Sequences at once: serving, sequences served together; training, the micro-batch (sequences "
                 "per model replica in one forward pass)."),
    click.option("--mla-cache", type=click.Choice(["latent", "decompressed"]), default="latent", show_default=True,
                 help="Serve: what an MLA model caches: its latent (serving engines, transformers) or per-head K "
                      "and V (DeepSeek's modeling code)."),
    click.option("--max-batched-tokens", type=WHOLE, help="Serve: tokens one engine step processes "
                 "at most (prefill chunks included). Default: vLLM's for the GPU, 8192 without one."),
    click.option("--grad-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
                 help="Training (--finetune full): the gradients."),
    click.option("--optimizer", type=click.Choice(OPTIMIZER_CHOICES), default="adamw", show_default=True,
                 help="Training: the optimizer's states (adamw: momentum and variance; adam8bit: both in 8 bits with "
                 "block-wise fp32 scales, as bitsandbytes; paged-adam8bit: the same in CUDA unified memory, outside "
                 "the GPU's budget)."),
    click.option("--precision", type=click.Choice(["mixed", "pure"]), default="mixed", show_default=True,
                 help="Training: mixed keeps fp32 master weights and fp32 moments beside the --dtype weights "
                 "(Megatron, DeepSpeed, autocast); pure trains the --dtype weights directly, moments in that dtype "
                 "(torchtune's dtype bf16)."),
    click.option("--optimizer-in-backward", is_flag=True, help="Training (--finetune full): each parameter is "
                 "stepped as soon as its gradient is complete and the gradient freed (torchtune's optimizer_in_bwd): "
                 "one gradient at a time."),
    click.option("--optimizer-bytes", type=FiniteNumber(zero_allowed=True, maximum=2**10), help="Training: "
                 "optimizer bytes per parameter, master weights included (overrides --optimizer; ZeRO's K; at most "
                 "1024)."),
    click.option("--zero", type=click.IntRange(0, 3), default=0, show_default=True, help="Training: the ZeRO stage."),
    click.option("--zero-impl", type=click.Choice(["paper", "deepspeed"]), default="paper", show_default=True,
                 help="Training: ZeRO as the paper's arithmetic, or as DeepSpeed implements stages 2 and 3 (an fp32 "
                 "gradient partition; stage 3 gathers the largest layer)."),
    click.option("--dp", type=WHOLE, default=1, show_default=True, help="Training: the data-parallel degree."),
    click.option("--tp", type=WHOLE, default=1, show_default=True, help="The tensor-parallel degree."),
    click.option("--pp", type=WHOLE, default=1, show_default=True, help="The pipeline-parallel degree (serving: the most loaded stage's GPU)."),
    click.option("--ep", type=WHOLE, default=1, show_default=True, help="Expert parallelism (serving: DP attention)."),
    click.option("--cp", type=WHOLE, default=1, show_default=True, help="Training: context parallelism (each rank "
                 "holds 1/cp of every sequence; Megatron-LM's ring attention)."),
    click.option("--sequence-parallel", is_flag=True, help="Training: Megatron's sequence parallelism (with --tp)."),
    click.option("--recompute", type=click.Choice(["none", "selective", "full"]), default="none",
                 show_default=True, help="Training: selective recomputes the core attention (Korthikanti et al. "
                 "2022); full keeps each layer's input and recomputes the rest."),
    click.option("--finetune", type=click.Choice(["full", "lora", "qlora"]), default="full", show_default=True,
                 help="Training: full (every parameter trains), lora (a frozen --dtype base and adapters) or qlora "
                 "(a frozen NF4 base with double quantization, and adapters)."),
    click.option("--lora-rank", type=WHOLE, default=8, show_default=True,
                 help="With --finetune lora|qlora: the adapters' rank (PEFT's default 8)."),
    click.option("--lora-targets", default="q,v", show_default=True,
                 help="With --finetune lora|qlora: linear layers to adapt: q,k,v,o,gate,up,down (MLA: q_a,q_b,kv_a,"
                 "kv_b; MoE: router,shared,experts) or all-linear."),
    click.option("--adapter-dtype", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True,
                 help="With --finetune lora|qlora: the adapters' weights and gradients (PEFT upcasts them to fp32)."),
    click.option("--framework", type=click.Choice(["megatron", "transformers"]), default="megatron",
                 show_default=True, help="Training: whose bookkeeping the activations follow: Megatron-LM's fused "
                 "kernels, or what Hugging Face transformers' modeling code saves, as measured (Llama, Mistral, Qwen, "
                 "Mixtral, Gemma, Phi-3, OLMo 2, GPT-2, DeepSeek-V3 families; --recompute full as its gradient "
                 "checkpointing)."),
    click.option("--virtual-stages", type=WHOLE, default=1, show_default=True,
                 help="Training: model chunks per pipeline stage (Megatron's interleaved 1F1B); the first stage "
                 "holds 1 + (pp-1)/(pp x v) times more."),
    *STEP_OPTIONS,
    click.option("--attention-impl", type=click.Choice(["flash", "sdpa", "eager"]),
                 help="Training: flash and sdpa keep the attention output and its fp32 log-sum-exp; eager also "
                 "keeps every head's S x S softmax. Default: flash (megatron), sdpa (transformers)."),
    click.option("--dropout", is_flag=True, help="Training: count the 1-byte dropout masks (GPT-2/3 and "
                 "Korthikanti's bookkeeping; Llama and most models since train without dropout)."),
    click.option("--seq", "old_seq", type=WHOLE, hidden=True),  # RENAMED: the names of earlier releases
    click.option("--micro-batch", "old_micro_batch", type=WHOLE, hidden=True),
    click.option("--units", type=Units(), default="GiB", show_default=True,
                 help="GB = 10^9 bytes, GiB = 2^30 bytes (any case)."),
]


def memory_options(function: Callable) -> Callable:
    for option in reversed(MEMORY_OPTIONS):
        function = option(function)
    return function


# The memory options that only one mode reads: given in the other mode they would change nothing.
INFERENCE_ONLY = ("kv_dtype", "mla_cache", "max_batched_tokens", "engine")
# Options of earlier releases, still read (with a warning) under their new names: one name for one quantity in every
# command (--context: tokens per sequence; --batch: sequences at once).
RENAMED = {"old_seq": "context", "old_micro_batch": "batch"}


def renamed(opts: dict) -> dict:
    """`opts` with each old option (RENAMED) moved to its new name, and a warning on stderr that says the new name;
    giving both is an error."""
    for old, new in RENAMED.items():
        value = opts.pop(old, None)
        if value is None:
            continue
        old_flag, new_flag = flag(old), flag(new)
        if given(new):
            raise click.UsageError(f"{old_flag} is the old name of {new_flag}: give {new_flag} only")
        click.echo(f"warning: {old_flag} is now {new_flag} (the same name in every command)", err=True)
        opts[new] = value
    return opts


ENGINE_OPTIONS = [
    click.option("--engine", type=click.Choice(["none", "vllm", "llamacpp"]), default="none", show_default=True,
                 help="Serve: what an engine allocates (vllm: its start-up accounting, with --gpu, and the KV cache "
                 "it is left with; llamacpp: KV cache, compute and output buffers of one --context)."),
    click.option("--gpu", "gpu_name", shell_complete=complete_gpu,
                 help="With --engine vllm: a GPU preset (see `fit --help`)."),
    click.option("--gpu-mem", type=GPU_GIB, help="With --engine vllm: memory of one "
                 "GPU in GiB, for any other card."),
    click.option("--gpu-util", type=FRACTION, default=0.9, show_default=True,
                 help="With --engine vllm: vLLM's gpu_memory_utilization."),
    click.option("--max-num-seqs", type=WHOLE, help="With --engine vllm: sequences per step "
                 "(default 256)."),
    click.option("--cuda-graphs", "cuda_graphs_gib", type=PART_GIB, default=0, show_default=True,
                 help="With --engine vllm: GiB per GPU its CUDA graphs take from the KV cache (vLLM 0.21 and later "
                 "log it as 'Estimated CUDA graph memory'; 0: captured after sizing the cache, as this profile's "
                 "vLLM 0.6 does)."),
    click.option("--ubatch", type=WHOLE, default=512, show_default=True,
                 help="With --engine llamacpp: n_ubatch, tokens of one micro-batch."),
    click.option("--flash-attn", type=click.Choice(["on", "off"]), default="on", show_default=True,
                 help="With --engine llamacpp: -fa (llama.cpp's auto turns it on where the backend has it)."),
]
ENGINE_ONLY = {"vllm": ("gpu_name", "gpu_mem", "gpu_util", "max_num_seqs", "cuda_graphs_gib"), "llamacpp": ("ubatch", "flash_attn")}
NOT_WITH_ENGINE = {"vllm": ("batch",), "llamacpp": ("batch", "max_batched_tokens", "tp")}


def engine_options(function: Callable) -> Callable:
    for option in reversed(ENGINE_OPTIONS):
        function = option(function)
    return function


def flag(name: str) -> str:
    """The option's name on the command line ('gpu_name' -> '--gpu')."""
    for param in click.get_current_context().command.params:
        if param.name == name:
            return max(param.opts, key=len)
    return "--" + name.replace("_", "-")


def given(name: str) -> bool:
    """Whether the user set the option (on the command line or through the environment), not its default."""
    from click.core import ParameterSource

    return click.get_current_context().get_parameter_source(name) not in (None, ParameterSource.DEFAULT)


def check_mode_options(opts: dict, also_inference_only: tuple[str, ...] = ()) -> None:
    """Refuse an option the chosen --mode does not read (a silently ignored option is a wrong answer)."""
    renamed(opts)
    training = opts["mode"] == "training"
    for name in (INFERENCE_ONLY + also_inference_only) if training else TRAINING_ONLY:
        if given(name):
            raise click.UsageError(f"{flag(name)} applies to --mode {'serve' if training else 'training'} only")
    if training:
        full = opts["finetune"] == "full"
        for name in ADAPTER_ONLY if full else ("grad_dtype", "optimizer_in_backward"):
            if given(name):
                raise click.UsageError(f"{flag(name)} applies to --finetune {'lora or qlora' if full else 'full'} only")
    if "engine" not in opts:  # a command without engine profiles (fit) reads --gpu itself
        return
    engine = opts["engine"]
    for other, names in ENGINE_ONLY.items():
        for name in names:
            if other != engine and given(name):
                raise click.UsageError(f"{flag(name)} applies to --engine {other} only")
    for name in NOT_WITH_ENGINE.get(engine, ()):
        if given(name):
            raise click.UsageError(f"{flag(name)} does not apply to --engine {engine}")


def memory_report(model, params, opts: dict, **changes):
    """The memory report of `model` under the command's options (--units aside), some of them changed."""
    from .. import api

    settings = {k: v for k, v in {**opts, **changes}.items()
                if k not in ("units", "gpu_name", "gpu_mem", "cuda_graphs_gib")}
    if "flash_attn" in settings:
        settings["flash_attn"] = settings["flash_attn"] == "on"
    if opts.get("engine", "none") == "vllm":
        from ..hardware import find_gpu
        from ..units import GIB

        settings["cuda_graph_memory"] = round(opts.get("cuda_graphs_gib", 0) * GIB)
        if opts["gpu_mem"]:
            settings.update(gpu_memory=round(opts["gpu_mem"] * GIB), gpu_name="")  # whole bytes, as fit
        elif opts["gpu_name"]:
            gpu = find_gpu(opts["gpu_name"])
            settings.update(gpu_memory=gpu.memory_bytes, gpu_name=gpu.key)
    return api.estimate_memory(model, params=params, **settings)

