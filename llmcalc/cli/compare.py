"""`llmcalc compare A B [C...]`: models side by side."""

from __future__ import annotations

import click

from .options import (
    DTYPES,
    WHOLE,
    active_option,
    load_models,
    models_argument,
    renamed,
    set_option,
    strict_option,
    warn_past_context,
)
from .sparse import check_sparse, sparse_option
from .output import emit, output_options


@click.command("compare")
@models_argument("A B [C...]")
@click.option("--context", type=WHOLE, help="Tokens per sequence, for the FLOPs per token and the KV cache. Default: "
              "each model's published pre-training context for the FLOPs (else its context length), its context "
              "length for the KV cache.")
@click.option("--seq", "old_seq", type=WHOLE, hidden=True)  # the old name of --context
@click.option("--attention", type=click.Choice(["causal", "full"]), default="causal", show_default=True,
              help="For the FLOPs: causal, S(S+1)/2 query-key pairs, windows respected; full, all S x S pairs.")
@click.option("--kv-dtype", type=click.Choice(DTYPES), default="bf16", show_default=True,
              help="The KV cache's elements.")
@sparse_option
@active_option
@set_option
@strict_option
@output_options
def command(models: tuple[str, ...], context: int | None, old_seq: int | None, attention: str, sparse: str,
            kv_dtype: str, active: str, overrides: tuple[str, ...]) -> None:
    """Models side by side: architecture (differences highlighted), counts with ratios to the first, FLOPs
    per token and KV cache. `llmcalc compare llama3-8b llama3-8b --set 2:attention.n_kv_heads=1` compares a
    model with a variant of itself."""
    from .. import api
    from ..present import compare as present

    if len(models) < 2:
        raise click.UsageError("compare needs at least two models")
    context = renamed({"context": context, "old_seq": old_seq})["context"]
    loaded = load_models(models, overrides)
    check_sparse(loaded)
    result = api.compare(loaded, context, context, attention, kv_dtype, active, sparse)
    for model in loaded:
        warn_past_context(model, context, "--context")
    args = (list(result.counts), list(result.forwards), list(result.caches))
    emit(lambda: present.compare_table(*args), lambda: present.compare_json(*args),
         lambda: present.compare_records(*args))
