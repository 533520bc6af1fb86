"""DeepSeek Sparse Attention (DSA, DeepSeek-V3.2): the lightning indexer of each layer (its parameters, FLOPs and
key cache) and the query-key pairs its top-k selection leaves to the MLA attention.

The indexer (DeepseekV32Indexer, deepseek_v32/modeling_deepseek_v32.py, transformers 5.23.0; DeepSeek's
inference/model.py Indexer in DeepSeek-V3.2-Exp): wq_b (q_lora_rank -> n_heads x head_dim, from MLA's q latent), wk
(d -> head_dim, one key per token), k_norm (a LayerNorm of head_dim, weight and bias) and weights_proj (d -> n_heads);
each query scores every key it sees, relu(q . k) per head weighted by weights_proj's output and summed over the heads,
and keeps the topk best for the MLA attention. Its keys are cached, head_dim per token per layer (transformers'
DynamicIndexedLayer.indexer_keys, cache_utils.py).

What the MLA attention of such a layer computes is a convention (SPARSE_CONVENTIONS): transformers' eager and sdpa code,
and DeepSeek's own reference (DeepSeek-V3.2-Exp inference/model.py, MLA.forward), score every key and add the top-k
choice as a -inf mask, while the sparse kernels serving engines run attend to the top-k keys only (FlashMLA's
flash_mla_sparse_fwd and flash_mla_with_kvcache with indices: vLLM's FlashMLASparseBackend,
vllm/v1/attention/backends/mla/flashmla_sparse.py).
"""

from __future__ import annotations

from ..model import Attention, ModelSpec

# What the MLA attention of a DSA layer attends to, for the FLOPs.
SPARSE_CONVENTIONS = {
    "topk": "sparse: a DSA layer attends to the index_topk keys its indexer keeps (min(topk, keys) per query), as "
            "FlashMLA's sparse MLA kernels compute (vLLM's FlashMLASparseBackend)",
    "dense": "dense: a DSA layer attends to every key, the indexer's choice applied as a mask, as transformers' eager "
             "and sdpa code (and DeepSeek's reference inference/model.py) computes",
}
LAYERNORM_PER_ELEMENT = 7  # flops.NORM_PER_ELEMENT["layernorm"] + 1 for the bias. Estimate.


def indexer_rows(attention: Attention, d_model: int) -> list[tuple[str, int]]:
    """(component, parameters) of a layer's indexer; none without one (DeepseekV32Indexer: wq_b, wk, k_norm,
    weights_proj, all linears without bias)."""
    indexer = attention.mla.indexer if attention.mla else None
    if indexer is None:
        return []
    heads, dim = indexer.n_heads, indexer.head_dim
    return [("attn.indexer.wq_b", attention.mla.q_lora_rank * heads * dim), ("attn.indexer.wk", d_model * dim),
            ("attn.indexer.k_norm", 2 * dim), ("attn.indexer.weights_proj", d_model * heads)]


def indexer_flop_rows(attention: Attention, d_model: int, queries: int, pairs: int) -> list[tuple[str, int, int]]:
    """(component, matmul, other) of a layer's indexer for `queries` new tokens scoring `pairs` query-key pairs:
    its three projections over the new tokens; the scores, q . k per head per pair (2 x head_dim FLOPs) and the
    heads summed by their weights (a [1, H] x [H, T] matmul per query: 2 per head per pair), as
    DeepseekV32Indexer.forward's two torch.matmul; its LayerNorm, and the scale and relu per score (estimates).
    The top-k selection itself is a sort, no FLOPs."""
    indexer = attention.mla.indexer if attention.mla else None
    if indexer is None:
        return []
    heads, dim = indexer.n_heads, indexer.head_dim
    return [("attn.indexer.wq_b", 2 * queries * attention.mla.q_lora_rank * heads * dim, 0),
            ("attn.indexer.wk", 2 * queries * d_model * dim, 0),
            ("attn.indexer.k_norm", 0, queries * dim * LAYERNORM_PER_ELEMENT),
            ("attn.indexer.weights_proj", 2 * queries * d_model * heads, 0),
            ("attn.indexer.scores", 2 * pairs * heads * (dim + 1), 2 * pairs * heads)]


def indexer_cache_elements(attention: Attention) -> int:
    """The indexer's key of one token in one layer, head_dim elements (DynamicIndexedLayer.indexer_keys,
    [batch, seq, index_head_dim], cache_utils.py, transformers 5.23.0); 0 without an indexer."""
    indexer = attention.mla.indexer if attention.mla else None
    return indexer.head_dim if indexer else 0


def sparse_span(attention: Attention, sparse: str) -> int | None:
    """The keys a query of a DSA layer attends to at most under `sparse` "topk": its indexer's topk; None under
    "dense" or without an indexer (the layer's mask alone decides)."""
    indexer = attention.mla.indexer if attention.mla else None
    return indexer.topk if indexer and sparse == "topk" else None


def has_indexer(model: ModelSpec) -> bool:
    """Whether a layer of the model has DSA's indexer (so the sparse convention changes its FLOPs)."""
    return any(g.layer.attention and g.layer.attention.mla and g.layer.attention.mla.indexer for g in model.groups)
