"""`llmcalc memory MODEL...`: memory for inference or training."""

from __future__ import annotations

import click

from .options import (
    check_mode_options,
    engine_options,
    given,
    load_models,
    memory_options,
    memory_report,
    models_argument,
    set_option,
    strict_option,
    warn_past_context,
)
from .images import check_image_options, image_options
from .output import many, output_options


@click.command("memory")
@models_argument()
@memory_options
@engine_options
@image_options
@set_option
@strict_option
@output_options
def command(models: tuple[str, ...], overrides: tuple[str, ...], images: int, image_size, **opts) -> None:
    """Memory for serving (weights, KV cache, one step's working set; with --engine vllm what vLLM reserves and the
    KV cache capacity it is left with) or training (model states, activations)."""
    check_mode_options(opts, also_inference_only=("images", "image_size"))
    from .. import api
    from ..checks import image_context
    from ..present import memory as present

    results, contexts = [], {}
    for model in load_models(models, overrides):
        if given("mla_cache") and not any(g.layer.attention and g.layer.attention.mla for g in model.groups):
            raise click.UsageError(f"--mla-cache applies to models with multi-head latent attention; {model.name} "
                                   "has none")
        check_image_options(model, images, image_size)
        # the images' tokens join each sequence's --context (by default, the model's context length), or are held by
        # the layers that cross-attend to them (Mllama)
        context = image_context(model, opts["context"] or model.context_length, images, image_size) if images \
            else opts["context"]
        crossed = {"images": images} if model.cross_attends_images and images else {}
        report = memory_report(model, api.count_params(model), opts, context=context, **crossed)
        cache = api.kv_cache(model, context, opts["batch"], opts["kv_dtype"], opts["mla_cache"], **crossed)
        results.append((report, cache))
        contexts.setdefault((model.name, model.context_length), (model, context))
    for model, context in contexts.values():
        warn_past_context(model, context, "--context")
    many([lambda r=r: present.memory_table(r[0], opts["units"]) for r in results],
         [lambda r=r: present.memory_json(*r) for r in results],
         [lambda r=r: present.memory_records(r[0]) for r in results], present.MEMORY_FIELDS)
