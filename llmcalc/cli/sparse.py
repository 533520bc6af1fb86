"""--sparse-attention: what the attention of a DeepSeek Sparse Attention layer (DeepSeek-V3.2's lightning indexer)
attends to, for the FLOPs of `flops`, `sweep`, `compare` and `speed` (llmcalc.formulas.indexer.SPARSE_CONVENTIONS);
no other model is changed by it, so setting it for models without an indexer is an error (check_sparse)."""

from __future__ import annotations

from typing import Callable

import click

from .options import given

SPARSE = ("topk", "dense")  # llmcalc.api.SPARSE, repeated to keep start-up light


def sparse_option(function: Callable) -> Callable:
    return click.option("--sparse-attention", "sparse", type=click.Choice(SPARSE), default="topk", show_default=True,
                        help="A DSA layer (DeepSeek-V3.2's indexer): topk, its attention over the index_topk keys "
                             "the indexer keeps, min(topk, keys) per query (FlashMLA's sparse kernels, as vLLM serves it); dense, "
                             "over every key --attention counts, the choice applied as a mask (transformers' eager "
                             "code). The indexer scores every pair either way.")(function)


def check_sparse(models) -> None:
    """Refuse --sparse-attention, set, when none of the models has an indexer: it would change no figure."""
    from ..formulas.indexer import has_indexer

    if given("sparse") and not any(has_indexer(model) for model in models):
        raise click.UsageError("--sparse-attention applies to models with DeepSeek Sparse Attention's indexer "
                               f"(DeepSeek-V3.2); none in {', '.join(model.name for model in models)}")
