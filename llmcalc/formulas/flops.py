"""FLOPs of a forward pass, per component and layer group; training compute built on it.

A multiply-add counts 2 FLOPs. Matmul FLOPs are exact integers; non-matmul FLOPs (softmax, norms,
activations, bias and residual adds, expert mixing) are estimates, kept apart and switchable off.
"""

from __future__ import annotations

from ..model import MLP, Attention, Layer, LayerGroup, ModelSpec, MoE, Norm
from ..records import record
from .indexer import SPARSE_CONVENTIONS, has_indexer, indexer_flop_rows, sparse_span
from .params import layer_norm_names, mla_projections
from .per_layer import per_layer_flop_rows, per_layer_model_flops, projected_kv
from .recurrent import flop_rows as mixer_flop_rows

ATTENTION_CONVENTIONS = {
    "causal": "causal: each query sees its prefix, S(S+1)/2 pairs (and only the last W keys on sliding-window "
              "layers), as FlashAttention and current Megatron-LM count",
    "full": "full: all S x S query-key pairs on every layer, as PaLM, the Megatron papers and eager code count",
}

# Non-matmul estimates, FLOPs per element (exp, tanh, rsqrt count 1). Chinchilla (Hoffmann et al. 2022,
# App. F) counts 3 per softmax score; the other constants count the elementwise operations written out.
SOFTMAX_PER_SCORE = 3
NORM_PER_ELEMENT = {"rmsnorm": 4, "layernorm": 6}  # + 1 for a LayerNorm bias
ACTIVATION_PER_ELEMENT = {"relu": 1, "relu2": 2, "gelu": 8, "gelu_tanh": 8, "silu": 4, "swiglu": 5, "geglu": 9, "reglu": 2}


# ------------------------------------------------------------------------------ the formulas


def linear(tokens: int, d_in: int, d_out: int) -> int:
    """A d_in x d_out matmul over `tokens` rows: 2 FLOPs per multiply-add (Kaplan et al. 2020, Table 1)."""
    return 2 * tokens * d_in * d_out


def attention_pairs(queries: int, seq: int, window: int | None, convention: str, chunk: int | None = None) -> int:
    """Query-key pairs scored for the last `queries` positions of a `seq`-token sequence.

    full: every query against all `seq` keys (PaLM App. B; Narayanan et al. 2021). causal: query i sees
    min(i, W) keys (Dao 2023 FlashAttention-2 benchmarks; Megatron-LM's causal halving), or only the keys of its
    own chunk of C tokens under chunked attention (Llama 4).
    """
    if convention == "full":
        return queries * seq
    first = seq - queries + 1  # keys seen by the first of the queries
    return _prefix_sum(seq, window, chunk) - _prefix_sum(first - 1, window, chunk)


def _prefix_sum(n: int, window: int | None, chunk: int | None = None) -> int:
    """sum over i = 1..n of the keys query i sees: min(i, W), or ((i - 1) mod C) + 1 under chunks of C."""
    if n <= 0:
        return 0
    if chunk:
        whole, rest = divmod(n, chunk)
        return whole * chunk * (chunk + 1) // 2 + rest * (rest + 1) // 2
    if window is None or n <= window:
        return n * (n + 1) // 2
    return window * (window + 1) // 2 + (n - window) * window


def attention_scores(pairs: int, attention: Attention) -> int:
    """Q K^T: d_head multiply-adds per head per query-key pair (Vaswani et al. 2017, eq. 1)."""
    return 2 * pairs * attention.n_heads * attention.qk_head_dim


def attention_values(pairs: int, attention: Attention) -> int:
    """softmax(...) V: d_head multiply-adds per head per pair (Vaswani et al. 2017, eq. 1)."""
    return 2 * pairs * attention.n_heads * attention.v_head_dim


def softmax(pairs: int, attention: Attention) -> int:
    """Softmax over the scores: 3 FLOPs per score per head (Chinchilla, App. F). Estimate."""
    return SOFTMAX_PER_SCORE * pairs * attention.n_heads


def norm_flops(tokens: int, norm: Norm, d_model: int) -> int:
    """One norm over `tokens` vectors: RMSNorm 4, LayerNorm 6 (+1 with bias, -1 without a weight) per element.
    Estimate."""
    return tokens * d_model * (NORM_PER_ELEMENT[norm.kind] + (1 if norm.bias else 0) - (0 if norm.affine else 1))


def _qk_norm_per_element(attention: Attention) -> int:
    """A q/k norm's FLOPs per element: an RMSNorm's (L2 likewise), or a LayerNorm's (+1 with Phi's bias). Estimate."""
    kind = attention.qk_norm
    if kind is None:
        return 0
    if kind.startswith("layernorm"):
        return NORM_PER_ELEMENT["layernorm"] + (1 if kind == "layernorm" else 0)
    return NORM_PER_ELEMENT["rmsnorm"]


def activation_flops(tokens: int, mlp: MLP, d_ff: int) -> int:
    """The MLP activation (and the gate product of a GLU) per element of d_ff. Estimate."""
    return tokens * d_ff * ACTIVATION_PER_ELEMENT[mlp.activation]


# ------------------------------------------------------------------------------ the results


@record
class FlopRow:
    """FLOPs of one component in one layer group (or of the whole model, when ``group`` is None)."""

    component: str
    group: str | None
    n_layers: int
    matmul_per_layer: int
    other_per_layer: int

    @property
    def matmul(self) -> int:
        return self.matmul_per_layer * self.n_layers

    @property
    def other(self) -> int:
        return self.other_per_layer * self.n_layers

    @property
    def total(self) -> int:
        return self.matmul + self.other


@record
class FlopCount:
    """FLOPs of one forward pass: prefill of `seq` tokens, or one decode step at position `seq`."""

    model: ModelSpec
    rows: tuple[FlopRow, ...]
    seq: int
    batch: int
    attention: str
    decode: bool
    include_other: bool
    images: int = 0        # images per sequence (a vision-language model): their tokens are part of `seq`
    image_tokens: int = 0  # tokens one image becomes
    sparse: str = "topk"   # what a DSA layer's attention attends to (indexer.SPARSE_CONVENTIONS)

    @property
    def tokens(self) -> int:
        """Tokens processed by the pass: seq x batch (prefill) or batch (decode)."""
        return self.batch if self.decode else self.seq * self.batch

    @property
    def matmul(self) -> int:
        return sum(row.matmul for row in self.rows)

    @property
    def other(self) -> int:
        return sum(row.other for row in self.rows) if self.include_other else 0

    @property
    def total(self) -> int:
        return self.matmul + self.other

    @property
    def per_token(self) -> float:
        return self.total / self.tokens

    @property
    def convention(self) -> str:
        """The attention convention, and the sparse one when a layer has DSA's indexer."""
        dsa = "; " + SPARSE_CONVENTIONS[self.sparse] if has_indexer(self.model) else ""
        return ATTENTION_CONVENTIONS[self.attention] + dsa

    def group_rows(self, group: str | None) -> tuple[FlopRow, ...]:
        return tuple(row for row in self.rows if row.group == group)


def layer_flops(layer: Layer, norm: Norm, d_model: int, queries: int, seq: int,
                convention: str, source: int = 0, decode: bool = False,
                sparse: str = "topk") -> list[tuple[str, int, int]]:
    """(component, matmul, other) of one layer for `queries` new tokens of a `seq`-token sequence.

    An encoder layer attends both ways (all pairs). A decoder layer with cross-attention attends to `source`
    encoder positions; their K and V are projected once per sequence (not again at a decode step). A layer attending
    to the images only (Mllama's MllamaCrossAttentionDecoderLayer, mllama/modeling_mllama.py 5.23.0) attends to
    `source` image tokens likewise, and is skipped when there are none. A layer with a recurrent mixer and attention
    both (Falcon-H1's FalconH1DecoderLayer) runs the two side by side and adds their outputs (one more add per
    element). A DSA layer's indexer scores every pair the convention counts, and its MLA attention, under `sparse`
    "topk", only min(topk, keys) of each query's (formulas/indexer.py)."""
    att, mlp = layer.attention, layer.mlp
    mixing = mixer_flop_rows(layer.mixer, d_model, queries, decode) if layer.mixer else []
    if att is None:  # a recurrent block (with or without an MLP), or an MLP block (Nemotron-H)
        rows = mixing + [
            ("norms", 0, len(layer_norm_names(layer, norm)) * norm_flops(queries, norm, d_model)),
            ("residual", 0, ((1 if mixing else 0) + (1 if mlp else 0)) * queries * d_model),
        ]
        return [row for row in rows + _channel_rows(layer, d_model, queries) if row[1] or row[2]]
    if layer.stack == "encoder":
        convention = "full"
    q_width, kv_width = att.n_heads * att.d_head, att.n_kv_heads * att.d_head
    pairs = index_pairs = attention_pairs(queries, seq, att.sliding_window, convention, att.chunk_size)
    topk = sparse_span(att, sparse)
    if topk:  # DSA: the attention runs over the indexer's top-k keys of each query
        pairs = queries * min(topk, seq) if convention == "full" else \
            attention_pairs(queries, seq, min(topk, att.sliding_window or topk), convention)
    bias_adds = queries * ((q_width if att.bias_q else 0) + (kv_width if att.bias_k else 0)
                           + (kv_width if att.bias_v else 0) + (d_model if att.bias_o else 0))
    n_norms = len(layer_norm_names(layer, norm))
    if att.to_images:  # attends to the `source` image tokens; skipped without images (MllamaTextModel.forward)
        kv_tokens = 0 if decode else source
        rows = _projections("xattn", queries, kv_tokens, d_model, q_width, kv_width) + [
            ("xattn.scores", attention_scores(queries * source, att), 0),
            ("xattn.qk_norm", 0, (queries * q_width + kv_tokens * kv_width) * _qk_norm_per_element(att)),
            ("xattn.softmax", 0, softmax(queries * source, att)),
            ("xattn.values", attention_values(queries * source, att), 0),
            ("norms", 0, n_norms * norm_flops(queries, norm, d_model)),
            ("residual", 0, 4 * queries * d_model)]  # and the products by the tanh gates
        return [r for r in rows + _mlp_rows(mlp, d_model, mlp.d_ff, queries, "mlp") if r[1] or r[2]] if source else []
    if att.mla:
        # Every MLA weight is one matmul per token (the naive, decompressing form of HF's reference code);
        # its two RMSNorms are non-matmul.
        projections = [(name, 2 * queries * size, 0) if not name.endswith("_norm")
                       else (name, 0, queries * size * NORM_PER_ELEMENT["rmsnorm"])
                       for name, size in mla_projections(att, d_model)]
        projections += indexer_flop_rows(att, d_model, queries, index_pairs)
    else:  # K and V over the queries, as far as the layer projects them (per_layer.projected_kv)
        k, v = projected_kv(att)
        projections = _projections("attn", queries, queries, d_model, q_width, kv_width)
        projections = [(name, m * (k if name == "attn.k" else v if name == "attn.v" else 1), o)
                       for name, m, o in projections]
    rows = mixing + projections + [
        # Qwen3-Next's output gate: its half of q_proj, and sigmoid(gate) x the attention output (5 per element)
        ("attn.gate", linear(queries, d_model, q_width) if att.output_gate else 0,
         queries * q_width * ((1 if att.bias_q else 0) + 5) if att.output_gate else 0),
        ("attn.scores", attention_scores(pairs, att), 0),
        ("attn.qk_norm", 0, queries * (att.n_heads + att.n_kv_heads) * att.d_head * _qk_norm_per_element(att)),
        # A sink is one more logit per head in each query's softmax (gpt-oss).
        ("attn.softmax", 0, softmax(pairs + (queries if att.sinks else 0), att)),
        ("attn.values", attention_values(pairs, att), 0),
        ("attn.bias", 0, bias_adds),
        ("norms", 0, n_norms * norm_flops(queries, norm, d_model)),
        ("residual", 0, (1 + (1 if mixing else 0) + (1 if mlp else 0)) * queries * d_model),
    ]
    if layer.cross_attention:
        cross_pairs = queries * source
        kv_tokens = 0 if decode else source
        rows += _projections("xattn", queries, kv_tokens, d_model, q_width, kv_width) + [
            ("xattn.scores", attention_scores(cross_pairs, att), 0),
            ("xattn.softmax", 0, softmax(cross_pairs, att)),
            ("xattn.values", attention_values(cross_pairs, att), 0),
        ]
    rows += _channel_rows(layer, d_model, queries) + per_layer_flop_rows(layer, d_model, queries)
    return [row for row in rows if row[1] or row[2]]


def _channel_rows(layer: Layer, d_model: int, queries: int) -> list[tuple[str, int, int]]:
    """The layer's MLP or experts; none for a block of attention or a mixer alone (Mamba, Nemotron-H)."""
    if layer.mlp is None:
        return []
    if layer.moe is None:
        return _mlp_rows(layer.mlp, d_model, layer.mlp.d_ff, queries, "mlp")
    return _moe_rows(layer.moe, layer.mlp, d_model, queries)


def _projections(prefix: str, queries: int, kv_tokens: int, d_model: int, q_width: int,
                 kv_width: int) -> list[tuple[str, int, int]]:
    """q and o over the queries, k and v over the tokens whose keys and values are computed."""
    return [
        (f"{prefix}.q", linear(queries, d_model, q_width), 0),
        (f"{prefix}.k", linear(kv_tokens, d_model, kv_width), 0),
        (f"{prefix}.v", linear(kv_tokens, d_model, kv_width), 0),
        (f"{prefix}.o", linear(queries, q_width, d_model), 0),
    ]


def _mlp_rows(mlp: MLP, d_model: int, d_ff: int, tokens: int, prefix: str) -> list[tuple[str, int, int]]:
    matrix = linear(tokens, d_model, d_ff)
    bias = tokens * ((2 if mlp.gated else 1) * d_ff + d_model) if mlp.bias else 0
    return [
        (f"{prefix}.gate", matrix if mlp.gated else 0, 0),
        (f"{prefix}.up", matrix, 0),
        (f"{prefix}.act", 0, activation_flops(tokens, mlp, d_ff) + bias),
        (f"{prefix}.down", matrix, 0),
    ]


def _mlp_totals(mlp: MLP, d_model: int, d_ff: int, tokens: int) -> tuple[int, int]:
    """(matmul, other) of one whole MLP block of width d_ff."""
    rows = _mlp_rows(mlp, d_model, d_ff, tokens, "")
    return sum(m for _, m, _ in rows), sum(o for _, _, o in rows)


def _moe_rows(moe: MoE, mlp: MLP, d_model: int, tokens: int) -> list[tuple[str, int, int]]:
    """Router for every token; each token's top_k routed experts and every shared expert (Fedus et al. 2021)."""
    expert_matmul, expert_other = _mlp_totals(moe.routed(mlp), d_model, moe.d_ff, tokens)
    shared_matmul, shared_other = _mlp_totals(mlp, d_model, moe.d_ff_shared, tokens) if moe.n_shared_experts else (0, 0)
    return [
        ("moe.router", linear(tokens, d_model, moe.n_experts),
         tokens * moe.n_experts * (SOFTMAX_PER_SCORE + (1 if moe.router_bias else 0))),
        ("moe.experts", moe.top_k * expert_matmul,
         moe.top_k * expert_other + 2 * moe.top_k * tokens * d_model),  # + weighting and sum
        ("moe.shared", moe.n_shared_experts * shared_matmul, moe.n_shared_experts * shared_other),
        ("moe.shared_gate", linear(tokens, d_model, 1) if moe.shared_gate else 0,
         2 * tokens * d_model if moe.shared_gate else 0),
    ]


def count_flops(model: ModelSpec, seq: int, batch: int = 1, attention: str = "causal", decode: bool = False,
                include_other: bool = True, image_source: int = 0, sparse: str = "topk") -> FlopCount:
    """FLOPs of a forward pass over `seq` tokens, or of decoding one token at position `seq` (0-based). An
    encoder-decoder runs its encoder over `seq` source tokens (in a forward pass only) and its decoder over `seq`
    target tokens, cross-attending to the `seq` source positions; layers attending to images, to the
    `image_source` image tokens of each sequence. `sparse`: what a DSA layer attends to (indexer.SPARSE_CONVENTIONS)."""
    queries = 1 if decode else seq
    keys = seq + 1 if decode else seq
    d = model.d_model
    rows: list[FlopRow] = []
    encoder_decoder = model.is_encoder_decoder
    if model.projected:  # OPT's project_in: the narrower word embedding up to d_model (opt/modeling_opt.py 5.23.0)
        rows.append(FlopRow("embed.project_in", None, 1, batch * linear(queries, model.embed_width, d), 0))
    if model.embedding_norm:
        rows.append(FlopRow("norm.embedding", None, 1, 0, batch * norm_flops(queries, model.norm, d)))
    if model.per_layer_vocab:  # Gemma 4's per_layer_model_projection (formulas/per_layer.py)
        rows.append(FlopRow("per_layer.model_projection", None, 1, batch * per_layer_model_flops(model, queries), 0))
    for group in model.groups:
        if group.layer.stack == "encoder":
            if not decode:  # the encoder runs once over the source (taken as `seq` tokens), not per decode step
                rows += _group_rows(group, model.norm, d, seq, seq, attention, batch, sparse=sparse)
            continue
        rows += _group_rows(group, model.norm, d, queries, keys, attention, batch,
                            source=seq if encoder_decoder else image_source, decode=decode, sparse=sparse)
    if encoder_decoder and model.norm.final and not decode:
        rows.append(FlopRow("norm.final_encoder", None, 1, 0, batch * norm_flops(seq, model.norm, d)))
    other_final = norm_flops(queries, model.norm, d) if model.norm.final else 0
    if other_final:
        rows.append(FlopRow("norm.final", None, 1, 0, batch * other_final))
    if model.projected:  # ... and project_out back down to the embedding's width before the LM head
        rows.append(FlopRow("lm_head.project_out", None, 1, batch * linear(queries, d, model.embed_width), 0))
    # GPT-J's and Phi's LM head add a bias to every logit (nn.Linear with bias: a non-matmul add per vocabulary entry)
    rows.append(FlopRow("lm_head", None, 1, batch * linear(queries, model.embed_width, model.vocab_size),
                        batch * queries * model.vocab_size if model.lm_head_bias else 0))
    return FlopCount(model, tuple(rows), seq, batch, attention, decode, include_other, sparse=sparse)


def _group_rows(group: LayerGroup, norm: Norm, d_model: int, queries: int, keys: int, attention: str,
                batch: int, source: int = 0, decode: bool = False, sparse: str = "topk") -> list[FlopRow]:
    return [FlopRow(name, group.name, group.count, batch * matmul, batch * other)
            for name, matmul, other in layer_flops(group.layer, norm, d_model, queries, keys, attention, source,
                                                   decode, sparse)]


# ------------------------------------------------------------------------------ training
