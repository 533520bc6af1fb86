"""LFM2's short convolution, Gated DeltaNet (Qwen3-Next's linear attention) and MiniMax's lightning attention: their
parameters and FLOPs, one formula per component, following transformers 5.23.0 (lfm2/modeling_lfm2.py
Lfm2ShortConv, qwen3_next/modeling_qwen3_next.py Qwen3NextGatedDeltaNet, minimax/modeling_minimax.py
MiniMaxLightningAttention); and the depthwise causal conv the recurrent mixers but lightning attention have. Integers
throughout; the non-matmul FLOPs are estimates, as everywhere. Their states per sequence are the mixers' own
`state_elements` (llmcalc/mixers.py).

FLOPs are those of transformers' reference PyTorch path (what runs without the causal_conv1d and fla kernels), as
torch's FlopCounterMode counts them, except where a row says FlopCounterMode does not see a contraction: Gated
DeltaNet's triangular solves (aten.linalg_solve_triangular has no FLOP formula there) and, at a decode step, its
recurrent delta rule, which transformers writes as elementwise products and sums.
"""

from __future__ import annotations

from ..model import GatedDeltaNet, LightningAttention, ShortConv

SILU = 4                # as flops.ACTIVATION_PER_ELEMENT
GATED_NORM = 9          # a gated RMSNorm per element: silu gate and product 5, RMSNorm 4
L2NORM = 3              # per element of q and k: square, sum, scale
HEAD_GATES = 10         # per token and value head: sigmoid(b), softplus(a + dt_bias), exp(A_log), their product
PAIRWISE_DECAY = 4      # per pair of a chunk and value head: the decay difference, exp, and the two products
RMSNORM = 4             # as flops.NORM_PER_ELEMENT
GATE = 5                # a sigmoid gate and its product, per element


def conv_outputs(mixer, queries: int, decode: bool) -> int:
    """Positions the reference causal conv computes: causal_conv1d_fn zero-pads d_conv - 1 on both sides and
    convolves queries + d_conv - 1 outputs (keeping the first `queries`); a decode step's causal_conv1d_update
    convolves the d_conv-long conv state and the new token, 2 outputs (keeping the last). The causal_conv1d kernel
    computes only the kept ones."""
    return 2 if decode else queries + mixer.d_conv - 1


def conv_flops(mixer, outputs: int) -> int:
    """The depthwise conv (aten.convolution): 2 x d_conv FLOPs per channel and output position."""
    return 2 * mixer.conv_channels * mixer.d_conv * outputs


# ------------------------------------------------------------------------------ LFM2's short convolution


def short_conv_param_rows(mixer: ShortConv, d_model: int) -> list[tuple[str, int]]:
    """(component, parameters) of Lfm2ShortConv: in_proj d_model -> 3 x width (B, C, x), the depthwise conv of d_conv
    taps per channel (and a bias per channel with conv_bias), out_proj width -> d_model; with conv_bias, in_proj and
    out_proj have biases too."""
    width = mixer.width
    return [
        ("shortconv.in_proj", d_model * 3 * width),
        ("shortconv.conv", width * mixer.d_conv + (width if mixer.bias else 0)),
        ("shortconv.out_proj", width * d_model),
        ("shortconv.bias", 3 * width + d_model if mixer.bias else 0),
    ]


def short_conv_flop_rows(mixer: ShortConv, d_model: int, queries: int, decode: bool) -> list[tuple[str, int, int]]:
    """(component, matmul, other) of Lfm2ShortConv over `queries` new tokens (or one decode step): in_proj, the conv
    (with the gates B x x before it and C x y after it, 2 per element, and its bias), out_proj."""
    width = mixer.width
    return [
        ("shortconv.in_proj", 2 * queries * d_model * 3 * width, queries * (3 * width + d_model) if mixer.bias else 0),
        ("shortconv.conv", conv_flops(mixer, conv_outputs(mixer, queries, decode)),
         queries * width * (2 + (1 if mixer.bias else 0))),
        ("shortconv.out_proj", 2 * queries * width * d_model, 0),
    ]


# ------------------------------------------------------------------------------ Gated DeltaNet


def deltanet_param_rows(mixer: GatedDeltaNet, d_model: int) -> list[tuple[str, int]]:
    """(component, parameters) of Qwen3NextGatedDeltaNet: in_proj_qkvz (d_model to 2 key_dim + 2 value_dim),
    in_proj_ba (d_model to 2 per value head), conv1d over q, k and v (d_conv taps per channel, no bias), dt_bias and
    A_log (one per value head), the gated RMSNorm's weight (value_head_dim, shared by the heads), out_proj."""
    heads = mixer.n_value_heads
    return [
        ("deltanet.in_proj_qkvz", d_model * (2 * mixer.key_dim + 2 * mixer.value_dim)),
        ("deltanet.in_proj_ba", d_model * 2 * heads),
        ("deltanet.conv", mixer.conv_channels * mixer.d_conv),
        ("deltanet.dt_bias", heads),
        ("deltanet.A_log", heads),
        ("deltanet.norm", mixer.value_head_dim),
        ("deltanet.out_proj", mixer.value_dim * d_model),
    ]


def chunked_delta_rule(mixer: GatedDeltaNet, tokens: int) -> int:
    """torch_chunk_gated_delta_rule's matmuls over `tokens` padded up to whole chunks of Q = chunk_size, c chunks, H
    value heads (q and k repeated to each), key size K and value size V: k_beta K^T and Q K^T per chunk (2cQ^2HK
    each), then per chunk the decayed keys and the queries against the state (2QHKV each), the intra-chunk attention
    times the new values (2Q^2HV) and the state update K^T v_new (2QHKV)."""
    q, heads, k, v = mixer.chunk_size, mixer.n_value_heads, mixer.key_head_dim, mixer.value_head_dim
    chunks = -(-tokens // q)
    return chunks * heads * (4 * q * q * k + 2 * q * q * v + 6 * q * k * v)


def triangular_solves(mixer: GatedDeltaNet, tokens: int) -> int:
    """The two unit lower-triangular solves per chunk and value head (torch.linalg.solve_triangular, the UT
    transform's new values and decayed keys): Q(Q - 1)/2 multiply-adds per right-hand column, V and K columns."""
    q, heads = mixer.chunk_size, mixer.n_value_heads
    chunks = -(-tokens // q)
    return chunks * heads * q * (q - 1) * (mixer.key_head_dim + mixer.value_head_dim)


def recurrent_delta_rule(mixer: GatedDeltaNet, tokens: int) -> int:
    """torch_recurrent_gated_delta_rule per token and value head: the state read by the key (2KV), the rank-one
    update k x delta (2KV) and the output read by the query (2KV)."""
    return 6 * tokens * mixer.n_value_heads * mixer.key_head_dim * mixer.value_head_dim


def deltanet_flop_rows(mixer: GatedDeltaNet, d_model: int, queries: int, decode: bool) -> list[tuple[str, int, int]]:
    """(component, matmul, other) of Qwen3NextGatedDeltaNet over `queries` new tokens (or one decode step): the two
    in projections, the conv (and its silu), the delta rule (chunked when prefilling, recurrent at a decode step;
    elementwise: q/k L2 norms, the gates, the pairwise decays of each chunk and the state's decay), the triangular
    solves, the gated norm, out_proj."""
    heads, k, v = mixer.n_value_heads, mixer.key_head_dim, mixer.value_head_dim
    per_token = queries * heads * (L2NORM * 2 * k + HEAD_GATES)
    if decode:
        rule, solves, other = recurrent_delta_rule(mixer, queries), 0, per_token + queries * heads * 2 * k * v
    else:
        chunks, q = -(-queries // mixer.chunk_size), mixer.chunk_size
        rule, solves = chunked_delta_rule(mixer, queries), triangular_solves(mixer, queries)
        other = per_token + chunks * heads * (PAIRWISE_DECAY * q * q + k * v)
    return [
        ("deltanet.in_proj_qkvz", 2 * queries * d_model * (2 * mixer.key_dim + 2 * mixer.value_dim), 0),
        ("deltanet.in_proj_ba", 2 * queries * d_model * 2 * heads, 0),
        ("deltanet.conv", conv_flops(mixer, conv_outputs(mixer, queries, decode)), queries * mixer.conv_channels * SILU),
        ("deltanet.delta_rule", rule, other),
        ("deltanet.solve", solves, 0),
        ("deltanet.norm", 0, queries * mixer.value_dim * GATED_NORM),
        ("deltanet.out_proj", 2 * queries * mixer.value_dim * d_model, 0),
    ]


# ------------------------------------------------------------------------------ lightning attention


def lightning_param_rows(mixer: LightningAttention, d_model: int) -> list[tuple[str, int]]:
    """(component, parameters) of MiniMaxLightningAttention: qkv_proj (d_model to 3 x n_heads x head_dim), the output
    gate (d_model to n_heads x head_dim), the RMSNorm over n_heads x head_dim, out_proj; no biases. Its decay
    factors (slope_rate, query_decay, key_decay, diagonal_decay) are buffers, fixed by the layer's position."""
    width = mixer.width
    return [
        ("lightning.qkv_proj", d_model * 3 * width),
        ("lightning.output_gate", d_model * width),
        ("lightning.norm", width),
        ("lightning.out_proj", width * d_model),
    ]


def lightning_blocks(mixer: LightningAttention, tokens: int) -> int:
    """The blocked attention's matmuls over `tokens` (prefill), per head of size P in blocks of B (the last one only
    as long as the tokens left: no padding): Q K^T and its product with V, 2b^2P each per block of b, the queries
    against the state and the state update K^T V, 2bP^2 each."""
    whole, rest = divmod(tokens, mixer.block_size)
    p = mixer.head_dim
    return mixer.n_heads * (4 * p * (whole * mixer.block_size ** 2 + rest ** 2) + 4 * p * p * tokens)


def lightning_flop_rows(mixer: LightningAttention, d_model: int, queries: int,
                        decode: bool) -> list[tuple[str, int, int]]:
    """(component, matmul, other) of MiniMaxLightningAttention over `queries` new tokens (or a decode step, which
    updates the state by K^T V and reads it with Q: 4P^2 per head and token): qkv_proj (and its silu), the attention
    (elementwise: the decays), the norm, the output gate (its sigmoid and product), out_proj."""
    width, p, heads = mixer.width, mixer.head_dim, mixer.n_heads
    if decode:
        attention, other = 4 * queries * heads * p * p, 2 * queries * heads * p * p
    else:
        blocks = -(-queries // mixer.block_size)
        attention = lightning_blocks(mixer, queries)
        other = heads * (min(queries, mixer.block_size) * queries + 2 * queries * p + 2 * blocks * p * p)
    return [
        ("lightning.qkv_proj", 2 * queries * d_model * 3 * width, queries * 3 * width * SILU),
        ("lightning.attention", attention, other),
        ("lightning.norm", 0, queries * width * RMSNORM),
        ("lightning.output_gate", 2 * queries * d_model * width, queries * width * GATE),
        ("lightning.out_proj", 2 * queries * width * d_model, 0),
    ]
