"""The KV cache per layer group: what each attention layer keeps per token (GQA/MQA heads, the MLA latent) and for
how many tokens (a sliding window or a chunk caps it), for a batch of sequences; and what a recurrent layer (Mamba)
keeps instead: a constant state per sequence, however long the context. Sizes are exact."""

from __future__ import annotations

from ..model import Attention, ModelSpec
from ..records import record
from .dtypes import DTYPE_BITS, whole_bytes
from .indexer import indexer_cache_elements
from .mixer_tp import state_per_rank
from .vision import image_tokens

MLA_CACHES = {
    "latent": "MLA caches its compressed latent and RoPE key, kv_lora_rank + qk_rope_head_dim per layer "
              "(DeepSeek-V2 Table 1; what serving engines store)",
    "decompressed": "MLA caches per-head K (nope + rope) and V, as DeepSeek's own modeling_deepseek.py does (transformers 5.23 caches the latent)",
}


def kv_elements_per_token(attention: Attention, mla_cache: str = "latent") -> int:
    """K and V of one token in one layer: 2 x n_kv_heads x d_head (GQA, Ainslie et al. 2023; MQA, Shazeer 2019);
    MLA: the latent kv_lora_rank + qk_rope_head_dim (DeepSeek-V2 Table 1), or per-head K and V decompressed. A layer
    reusing an earlier layer's K and V holds none (Gemma 4: get_layer_types_and_kwargs gives it a "dummy" layer of
    DynamicCache, cache_utils.py, transformers 5.23.0); keys reused as values (k_eq_v) are still cached twice, V after
    its norm and K after its norm and RoPE (Gemma4TextAttention). A DSA layer also caches its indexer's key of
    index_head_dim (DynamicIndexedLayer.indexer_keys, cache_utils.py, transformers 5.23.0)."""
    mla = attention.mla
    if attention.kv_shared:  # it reads an earlier layer's K and V and caches nothing (Gemma 4's kv sharing)
        return 0
    if mla is None:
        return 2 * attention.n_kv_heads * attention.d_head
    indexer = indexer_cache_elements(attention)  # DSA's indexer keys beside either (formulas/indexer.py)
    if mla_cache == "decompressed":
        return attention.n_heads * (mla.qk_head_dim + mla.v_head_dim) + indexer
    return mla.kv_lora_rank + mla.qk_rope_head_dim + indexer


def cached_tokens(context: int, attention: Attention) -> int:
    """Tokens a layer keeps: a sliding-window layer holds at most W (Mistral 7B's rolling buffer, Jiang et al. 2023),
    a chunked-attention layer at most one chunk (Llama 4)."""
    span = attention.local_span
    return min(context, span) if span else context


@record
class KVGroup:
    name: str
    n_layers: int
    elements_per_token: int  # per layer
    cached_tokens: int       # per sequence, per layer
    state_elements: int = 0  # per sequence, per layer: a recurrent mixer's constant state (no tokens)
    per_token: bool = True  # False: the images' tokens a cross-attention layer holds (Mllama), not the context's


@record
class KVCache:
    """The KV cache of `batch` sequences of `context` tokens, per layer group."""

    model: ModelSpec
    groups: tuple[KVGroup, ...]
    context: int
    batch: int
    dtype: str
    mla_cache: str = "latent"

    @property
    def elements_per_token(self) -> int:
        """Elements one token adds across all layers while no window is full."""
        return sum(g.n_layers * g.elements_per_token for g in self.groups if g.per_token)

    @property
    def image_bytes_per_sequence(self) -> int:
        """K and V of the images' tokens in the layers that cross-attend to them, per sequence (0 without such)."""
        elements = sum(g.n_layers * g.elements_per_token * g.cached_tokens for g in self.groups if not g.per_token)
        return whole_bytes(elements, DTYPE_BITS[self.dtype])

    @property
    def bytes_per_token(self) -> int:
        return whole_bytes(self.elements_per_token, DTYPE_BITS[self.dtype])

    @property
    def state_elements(self) -> int:
        """Elements of the recurrent layers' states, one per sequence whatever its length (0 without such layers)."""
        return self.batch * sum(g.n_layers * g.state_elements for g in self.groups)

    @property
    def state_bytes_per_sequence(self) -> int:
        return whole_bytes(sum(g.n_layers * g.state_elements for g in self.groups), DTYPE_BITS[self.dtype])

    @property
    def elements(self) -> int:
        """Everything the cache holds: K and V of the cached tokens, and the recurrent states."""
        return self.batch * sum(g.n_layers * g.elements_per_token * g.cached_tokens for g in self.groups) + \
            self.state_elements

    @property
    def bytes(self) -> int:
        return whole_bytes(self.elements, DTYPE_BITS[self.dtype])


def kv_cache(model: ModelSpec, context: int, batch: int = 1, dtype: str = "bf16",
             mla_cache: str = "latent", images: int = 0) -> KVCache:
    """KV cache of every layer group at `context` tokens and `batch` sequences. Encoder layers cache nothing; a
    decoder layer with cross-attention also holds K and V of the source, taken as `context` tokens long. A recurrent
    layer holds its conv and recurrent states per sequence (the mixer's state_elements: the conv_states and
    recurrent_states of transformers 5.23.0's LinearAttentionLayer cache, in the cache dtype here); a layer with
    attention and a mixer both holds K and V and the state (LinearAttentionAndFullAttentionLayer, Falcon-H1's
    "hybrid" layers). A layer attending to the images holds K and V of the `images` images' tokens of each sequence,
    whatever the context, and nothing without images (MllamaTextCrossAttention caches the image states once;
    mllama/modeling_mllama.py, transformers 5.23.0)."""
    groups = []
    for g in model.groups:
        if g.layer.stack == "encoder":
            continue
        state = g.layer.mixer.state_elements if g.layer.mixer else 0
        if g.layer.attention is None:
            groups.append(KVGroup(g.name, g.count, 0, 0, state))
            continue
        elements = kv_elements_per_token(g.layer.attention, mla_cache)
        if g.layer.attention.to_images:
            groups.append(KVGroup(g.name, g.count, elements, images * image_tokens(model.vision), per_token=False))
            continue
        groups.append(KVGroup(g.name, g.count, elements, cached_tokens(context, g.layer.attention), state))
        if g.layer.cross_attention:
            groups.append(KVGroup(f"{g.name} (cross)", g.count, elements, context))
    return KVCache(model, tuple(groups), context, batch, dtype, mla_cache)


def kv_bytes_per_gpu(model: ModelSpec, cache: KVCache, tp: int) -> float:
    """The KV cache one of `tp` tensor-parallel GPUs holds: K/V heads split over the ranks (past n_kv_heads ranks
    they are replicated, not split further); MLA's latent is one head shared by every query head, so every rank
    holds all of it (DeepSeek-V2 sec. 2.1; vLLM and SGLang replicate it), while decompressed K/V split by head (DSA's
    indexer key, one head, is held whole). A
    recurrent mixer's state splits by its heads or channels (mixer_tp.state_per_rank)."""
    if tp == 1:
        return cache.bytes
    attention = {g.name: g.layer.attention for g in model.groups}
    mixers = {g.name: g.layer.mixer for g in model.groups}
    bits = DTYPE_BITS[cache.dtype]
    total = 0.0
    for group in cache.groups:
        mixer = mixers.get(group.name)
        if group.state_elements and mixer is not None:  # a recurrent state, split by heads (mixer_tp.py)
            total += cache.batch * group.n_layers * state_per_rank(mixer, tp) * bits / 8
        att = attention[group.name.removesuffix(" (cross)")]
        if att is None:  # a block without attention (Nemotron-H's MLP blocks) caches no K or V
            continue
        shards = 1 if att.mla and cache.mla_cache == "latent" else min(tp, att.n_kv_heads)
        tokens = cache.batch * group.n_layers * group.cached_tokens
        whole = indexer_cache_elements(att) if shards > 1 else 0  # DSA's indexer key: one head, on every rank
        total += whole_bytes(tokens * (group.elements_per_token - whole), bits) / shards + \
            whole_bytes(tokens * whole, bits)
    return total
