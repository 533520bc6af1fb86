"""Multi-head latent attention from its spec node (`attention.mla`), checked: its sizes, and DeepSeek Sparse
Attention's lightning indexer (`mla.indexer`), which reads the q latent (so needs q_lora_rank) and rotates the first
qk_rope_head_dim of its head_dim."""

from __future__ import annotations

from ..model import MLA, Indexer
from .node import Node
from .schema import INDEXER_KEYS, MLA_KEYS


def build_mla(sub: Node) -> MLA:
    """The MLA of an `attention.mla` node, with its indexer if it has one."""
    sub.check_keys(MLA_KEYS)
    mla = MLA(kv_lora_rank=sub.integer("kv_lora_rank"), qk_nope_head_dim=sub.integer("qk_nope_head_dim"),
              qk_rope_head_dim=sub.integer("qk_rope_head_dim"), v_head_dim=sub.integer("v_head_dim"),
              q_lora_rank=sub.integer("q_lora_rank", None))
    if sub.data.get("indexer") is None:
        return mla
    if mla.q_lora_rank is None:
        raise sub.error("indexer", "the indexer's queries come from the q latent; allowed: set q_lora_rank, or "
                                   "remove indexer", also=("q_lora_rank",))
    node = sub.mapping("indexer")
    node.check_keys(INDEXER_KEYS)
    indexer = Indexer(node.integer("n_heads"), node.integer("head_dim"), node.integer("topk"))
    if indexer.head_dim < mla.qk_rope_head_dim:
        raise node.error("head_dim", f"{indexer.head_dim} is less than qk_rope_head_dim={mla.qk_rope_head_dim}, the "
                         f"dims it rotates; allowed: {mla.qk_rope_head_dim} or more")
    return MLA(mla.kv_lora_rank, mla.qk_nope_head_dim, mla.qk_rope_head_dim, mla.v_head_dim, mla.q_lora_rank, indexer)
