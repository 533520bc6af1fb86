"""--sparse-attention: what the attention of a DeepSeek Sparse Attention layer (DeepSeek-V3.2's lightning indexer)
attends to, for the FLOPs of `flops`, `sweep`, `compare` and `speed` (llmcalc.formulas.indexer.SPARSE_CONVENTIONS);
no other model is changed by it."""

from __future__ import annotations

from typing import Callable

import click

SPARSE = ("topk", "dense")  # llmcalc.api.SPARSE, repeated to keep start-up light


def sparse_option(function: Callable) -> Callable:
    return click.option("--sparse-attention", "sparse", type=click.Choice(SPARSE), default="topk", show_default=True,
                        help="A DSA layer (DeepSeek-V3.2's indexer): topk, its attention over the index_topk keys "
                             "the indexer keeps, min(topk, keys) per query (FlashMLA's sparse kernels, as vLLM serves it); dense, "
                             "over every key --attention counts, the choice applied as a mask (transformers' eager "
                             "code). The indexer scores every pair either way.")(function)
