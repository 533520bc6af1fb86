"""Recurrent token mixers: Mamba and Mamba-2 here, LFM2's short conv, Gated DeltaNet and lightning attention in
linear_mixers.py (param_rows, flop_rows and live_elements below take any of them); their parameters, FLOPs and the state a sequence keeps while serving,
one formula per component, following transformers 5.23.0 (mamba/modeling_mamba.py MambaMixer, mamba2/
modeling_mamba2.py Mamba2Mixer; Jamba's JambaMambaMixer, jamba/modeling_jamba.py, is MambaMixer with RMSNorms on dt,
B and C). Integers throughout; the non-matmul FLOPs are estimates, as everywhere.

FLOPs are those of transformers' reference PyTorch path (what runs without the mamba_ssm and causal_conv1d kernels),
as torch's FlopCounterMode counts them; each formula names the op it counts.
"""

from __future__ import annotations

from ..errors import LlmcalcError
from ..model import MIXER_NAMES, GatedDeltaNet, LightningAttention, Mamba, Mixer, ModelSpec, ShortConv
from .linear_mixers import (
    GATED_NORM,
    RMSNORM,
    SILU,
    conv_flops,
    conv_outputs,
    deltanet_flop_rows,
    deltanet_param_rows,
    lightning_flop_rows,
    lightning_param_rows,
    short_conv_flop_rows,
    short_conv_param_rows,
)
from .saved import ACT, FP32

# Non-matmul estimates per element, written out (silu, RMSNorm and the gated norm as linear_mixers'): per state
# element of a scan step exp(A dt), dt x B, x (dt B), the state update (2): 6; per channel softplus(dt) 3, the D skip
# 2, the silu gate 5 (Mamba; Mamba-2 gates in its norm, MambaRMSNormGated): 10.
SCAN_PER_STATE = 6
SCAN_PER_CHANNEL = 10
GATE_PER_ELEMENT = SILU + 1  # Mamba-2's gate without its norm (Falcon-H1): silu 4, the product 1


MIXER_CONVENTION = ("Recurrent layers: the FLOPs of transformers' reference path, the causal conv over seq + d_conv - 1 "
                    "positions (2 at a decode step), Mamba-2's scan and Gated DeltaNet's delta rule over whole chunks "
                    "(its triangular solves counted as matmuls), lightning attention in blocks")


def in_proj_width(mixer: Mamba) -> int:
    """Outputs of in_proj: x and z (Mamba, 2 x d_inner); z, x, B, C and dt (Mamba-2, 2 x d_inner + 2 x n_groups x
    d_state + n_heads: Mamba2Mixer.__init__'s projection_size)."""
    if mixer.kind == "mamba":
        return 2 * mixer.d_inner
    return 2 * mixer.d_inner + 2 * mixer.n_groups * mixer.d_state + mixer.n_heads


def param_rows(mixer: Mixer, d_model: int) -> list[tuple[str, int]]:
    """(component, parameters) of one recurrent mixer of any kind (mamba_param_rows, or linear_mixers.py's)."""
    if isinstance(mixer, ShortConv):
        return short_conv_param_rows(mixer, d_model)
    if isinstance(mixer, GatedDeltaNet):
        return deltanet_param_rows(mixer, d_model)
    if isinstance(mixer, LightningAttention):
        return lightning_param_rows(mixer, d_model)
    return mamba_param_rows(mixer, d_model)


def flop_rows(mixer: Mixer, d_model: int, queries: int, decode: bool) -> list[tuple[str, int, int]]:
    """(component, matmul, other) of one recurrent mixer of any kind over `queries` new tokens (or a decode step)."""
    if isinstance(mixer, ShortConv):
        return short_conv_flop_rows(mixer, d_model, queries, decode)
    if isinstance(mixer, GatedDeltaNet):
        return deltanet_flop_rows(mixer, d_model, queries, decode)
    if isinstance(mixer, LightningAttention):
        return lightning_flop_rows(mixer, d_model, queries, decode)
    return mamba_flop_rows(mixer, d_model, queries, decode)


def live_elements(mixer: Mixer) -> int:
    """Elements per token alive inside a mixer: its in projections' outputs, the conv's output and what goes to
    out_proj (Mamba: the scan's output; short conv: C x y; Gated DeltaNet: the normed, gated delta-rule output;
    lightning attention: q, k, v, the gate, the gated output)."""
    if isinstance(mixer, LightningAttention):
        return 5 * mixer.width
    if isinstance(mixer, ShortConv):
        return 3 * mixer.width + 2 * mixer.width
    if isinstance(mixer, GatedDeltaNet):
        return 2 * mixer.key_dim + 2 * mixer.value_dim + 2 * mixer.n_value_heads + mixer.conv_channels \
            + mixer.value_dim
    return in_proj_width(mixer) + mixer.conv_channels + mixer.d_inner


def mamba_param_rows(mixer: Mamba, d_model: int) -> list[tuple[str, int]]:
    """(component, parameters) of one Mamba mixer, as the modules of MambaMixer / Mamba2Mixer hold them: in_proj (and its
    bias with use_bias), conv1d (depthwise: d_conv per channel, a bias per channel with use_conv_bias), x_proj (d_inner
    to dt_rank + 2 d_state, no bias) and dt_proj (dt_rank to d_inner) for Mamba, dt_proj's bias or Mamba-2's dt_bias
    (one per channel or head), A_log (d_inner x d_state, or one per head), D (one per channel or head), Mamba-2's
    gated RMSNorm weight (d_inner; none without gated_norm: falcon_h1/modeling_falcon_h1.py FalconH1Mixer's
    nn.Identity), out_proj (and its bias, with out_bias); Jamba's RMSNorms on dt, B and C (dt_rank + 2 d_state:
    JambaMambaMixer's dt_layernorm, b_layernorm, c_layernorm, jamba/modeling_jamba.py)."""
    inner, channels = mixer.d_inner, mixer.conv_channels
    per_head = mixer.n_heads if mixer.kind == "mamba2" else inner
    rows = [
        ("mamba.in_proj", d_model * in_proj_width(mixer)),
        ("mamba.conv", channels * mixer.d_conv + (channels if mixer.conv_bias else 0)),
        ("mamba.x_proj", inner * (mixer.dt_rank + 2 * mixer.d_state) if mixer.kind == "mamba" else 0),
        ("mamba.dt_proj", mixer.dt_rank * inner),
        ("mamba.dt_bias", per_head),
        ("mamba.A_log", inner * mixer.d_state if mixer.kind == "mamba" else per_head),
        ("mamba.D", per_head),
        ("mamba.norm", inner if mixer.kind == "mamba2" and mixer.gated_norm else 0),
        ("mamba.inner_norms", mixer.dt_rank + 2 * mixer.d_state if mixer.inner_norms else 0),
        ("mamba.out_proj", inner * d_model),
        ("mamba.bias", (in_proj_width(mixer) if mixer.bias else 0) + (d_model if mixer.out_bias else 0)),
    ]
    return rows


def ssd_chunk_flops(mixer: Mamba, tokens: int) -> int:
    """Mamba-2's chunked scan (mamba2_chunk_scan, five einsums, each an aten.bmm) over `tokens` padded up to whole
    chunks of Q = chunk_size, c chunks, H heads of P dims, state N (B and C repeated to every head):
    C.B^T per chunk 2cQ^2HN, its product with x 2cQ^2HP, the chunk states 2cQHPN, the inter-chunk recurrence over c + 1
    states 2(c+1)^2 HPN, and C times the states 2cQHPN."""
    q, heads, p, n = mixer.chunk_size, mixer.n_heads, mixer.head_dim, mixer.d_state
    c = -(-tokens // q)
    return 2 * heads * (c * q * q * n + c * q * q * p + 2 * c * q * p * n + (c + 1) ** 2 * p * n)


def scan_flops(mixer: Mamba, queries: int, decode: bool) -> int:
    """The scan's matmuls: Mamba's sequential scan (and a decode step of either) reads the output off the state,
    state x C per token: 2 d_inner d_state (torch.matmul / torch.bmm); Mamba-2's prefill runs in chunks
    (ssd_chunk_flops)."""
    if mixer.kind == "mamba2" and not decode:
        return ssd_chunk_flops(mixer, queries)
    return 2 * queries * mixer.d_inner * mixer.d_state


def mamba_flop_rows(mixer: Mamba, d_model: int, queries: int, decode: bool) -> list[tuple[str, int, int]]:
    """(component, matmul, other) of one Mamba mixer over `queries` new tokens (or one decode step): in_proj, the conv (and
    its silu), x_proj and dt_proj (Mamba: dt_proj.weight @ time_step, an aten.bmm), the scan, Mamba-2's gated norm,
    out_proj. Bias adds and the scan's elementwise work are non-matmul estimates."""
    inner, channels = mixer.d_inner, mixer.conv_channels
    biases = queries * ((in_proj_width(mixer) if mixer.bias else 0) + (d_model if mixer.out_bias else 0))
    gate = GATED_NORM if mixer.gated_norm else GATE_PER_ELEMENT
    dt_rank = mixer.dt_rank if mixer.kind == "mamba" else 0
    return [
        ("mamba.in_proj", 2 * queries * d_model * in_proj_width(mixer), biases),
        ("mamba.conv", conv_flops(mixer, conv_outputs(mixer, queries, decode)),
         queries * channels * (SILU + (1 if mixer.conv_bias else 0))),
        ("mamba.x_proj", 2 * queries * inner * (dt_rank + 2 * mixer.d_state) if dt_rank else 0, 0),
        ("mamba.dt_proj", 2 * queries * dt_rank * inner, 0),
        ("mamba.scan", scan_flops(mixer, queries, decode),
         queries * inner * (SCAN_PER_STATE * mixer.d_state + SCAN_PER_CHANNEL)),
        ("mamba.norm", 0, queries * inner * gate if mixer.kind == "mamba2" else 0),
        ("mamba.inner_norms", 0, queries * (dt_rank + 2 * mixer.d_state) * RMSNORM if mixer.inner_norms else 0),
        ("mamba.out_proj", 2 * queries * inner * d_model, 0),
    ]


# mamba_ssm's selective scan (selective_scan_cuda.fwd, csrc/selective_scan) keeps the state at the end of every chunk
# of 2,048 tokens for backward: its `scan_intermediates`, fp32 (batch, d_inner, chunks, 2 d_state).
SCAN_CHUNK = 2048


def saved_rows(mixer: Mixer, d_model: int, seq: int) -> list[tuple[str, float, str]]:
    """(component, bytes per token, note) of what one mixer saves for backward in training with the fused kernels,
    16-bit activations, no tensor parallelism (the layer's norm inputs are counted with the norms):
    - Mamba-2, as Megatron-LM trains it (megatron/core/ssm/mamba_mixer.py MambaMixer._ssm_training): in_proj keeps
      its input; mamba_ssm's MambaSplitConv1dScanCombinedFn (mamba_ssm/ops/triton/ssd_combined.py) keeps the whole
      in_proj output zxbcdt (conv, x, B, C and dt are recomputed from it) and the scan output before the z gate
      (out_x); the gated RMSNorm keeps its input and an fp32 rstd per group and token; out_proj keeps its input.
    - Mamba, as mamba_ssm trains it (mamba_ssm/modules/mamba_simple.py, the fast path; MambaInnerFn in
      mamba_ssm/ops/selective_scan_interface.py with checkpoint_lvl 1, which recomputes the conv output and dt): the
      in_proj matmul keeps its input; MambaInnerFn keeps xz (x and z), x_dbl (dt, B, C), contiguous copies of B and
      C, the scan output before the gate, and the scan's fp32 chunk states (SCAN_CHUNK); out_proj runs inside it,
      recomputed in backward. Jamba's RMSNorms on dt, B and C are not counted (dt_rank + 2 d_state per token)."""
    if mixer.kind == "short_conv":
        return short_conv_saved_rows(mixer, d_model)
    if mixer.kind == "gated_deltanet":
        return deltanet_saved_rows(mixer, d_model)
    if mixer.kind == "lightning":
        return lightning_saved_rows(mixer, d_model)
    inner, n = mixer.d_inner, mixer.d_state
    rows = [("mamba.input", ACT * d_model, "input of in_proj (the norm output)")]
    if mixer.kind == "mamba2":
        return rows + [
            ("mamba.zxbcdt", ACT * in_proj_width(mixer), "in_proj output (z, x, B, C, dt), kept whole by the fused scan"),
            ("mamba.scan_output", ACT * inner, "the scan's output before the z gate"),
            ("mamba.norm", ACT * inner + FP32 * mixer.n_groups, "gated norm input and its fp32 rstd per group"),
            ("mamba.out_proj_input", ACT * inner, "input of out_proj"),
        ]
    chunks = -(-seq // SCAN_CHUNK)
    return rows + [
        ("mamba.xz", ACT * 2 * inner, "in_proj output (x and z)"),
        ("mamba.x_dbl", ACT * (mixer.dt_rank + 2 * n), "x_proj output (dt, B, C)"),
        ("mamba.B_C", ACT * 2 * n, "contiguous copies of B and C"),
        ("mamba.scan_output", ACT * inner, "the scan's output before the z gate"),
        ("mamba.scan_states", FP32 * inner * 2 * n * chunks / seq, f"fp32 states at the end of each {SCAN_CHUNK:,}-token "
         "chunk"),
    ]


def refuse_recurrent(model: ModelSpec, what: str, why: str, allowed: str) -> None:
    """One clear error instead of a wrong number where a figure is modelled for layers of attention and an MLP only
    (not Mamba layers, nor Nemotron-H's blocks of attention alone or an MLP alone)."""
    if model.is_recurrent:
        raise LlmcalcError(f"{what}: {model.name} has recurrent ({model.mixer_names}) layers, and {why}; allowed: "
                           f"{allowed}")
    if any(g.layer.attention is None or g.layer.mlp is None for g in model.groups):
        raise LlmcalcError(f"{what}: {model.name} has layers of attention alone or an MLP alone, and {why}; "
                           f"allowed: {allowed}")


def short_conv_saved_rows(mixer: ShortConv, d_model: int) -> list[tuple[str, float, str]]:
    """What LFM2's short conv saves for backward (transformers 5.23.0 lfm2/modeling_lfm2.py Lfm2ShortConv, the
    causal_conv1d path; the slow path saves the same): in_proj's input; B, C and x, views of in_proj's output, kept
    once (for B x x and C x conv); the conv's input B x x (causal_conv1d_fn keeps it); the conv's output (for C x it);
    out_proj's input. 16-bit, per token."""
    width = mixer.width
    return [("shortconv.input", ACT * d_model, "input of in_proj (the norm output)"),
            ("shortconv.bcx", ACT * 3 * width, "in_proj output: B, C and x, kept for the two products"),
            ("shortconv.conv_input", ACT * width, "B x x, the conv's input"),
            ("shortconv.conv_output", ACT * width, "the conv's output, for C x it"),
            ("shortconv.out_proj_input", ACT * width, "input of out_proj")]


def deltanet_saved_rows(mixer: GatedDeltaNet, d_model: int) -> list[tuple[str, float, str]]:
    """What Gated DeltaNet saves for backward with the fla kernels (an estimate from the code: transformers 5.23.0
    qwen3_next/modeling_qwen3_next.py Qwen3NextGatedDeltaNet, fla's ChunkGatedDeltaRuleFunction in
    fla/ops/gated_delta_rule/chunk.py): the projections' input; the conv's input (q, k, v concatenated: causal_conv1d
    keeps it, the silu recomputed); the chunked rule's q and k (repeated to every value head) and v, their fp32 l2-norm
    statistics, the fp32 decay g, beta, and the solved in-chunk matrix A (chunk_size per value head and token); the
    gated norm's input and gate z and its fp32 rstd per head; out_proj's input. 16-bit unless fp32 is said."""
    heads, k_dim, v_dim = mixer.n_value_heads, mixer.n_value_heads * mixer.key_head_dim, mixer.value_dim
    return [("deltanet.input", ACT * d_model, "input of in_proj_qkvz and in_proj_ba (the norm output)"),
            ("deltanet.conv_input", ACT * mixer.conv_channels, "q, k, v before the conv"),
            ("deltanet.qkv", ACT * (2 * k_dim + v_dim), "q and k (one per value head) and v, kept by the chunked rule"),
            ("deltanet.stats", FP32 * 4 * heads, "fp32 l2-norm statistics of q and k, the decay g and its cumsum"),
            ("deltanet.beta", ACT * heads, "beta"),
            ("deltanet.A", ACT * heads * mixer.chunk_size, "the solved in-chunk matrix, a row per token and head"),
            ("deltanet.norm", ACT * 2 * v_dim + FP32 * heads, "the gated norm's input and gate z, fp32 rstd per head"),
            ("deltanet.out_proj_input", ACT * v_dim, "input of out_proj")]


def lightning_saved_rows(mixer: LightningAttention, d_model: int) -> list[tuple[str, float, str]]:
    """What lightning attention saves for backward, as a blocked kernel would (an estimate from transformers 5.23.0
    minimax/modeling_minimax.py MiniMaxLightningAttention and Qin et al. 2024, arXiv:2401.04658): the input of
    qkv_proj and output_gate; qkv_proj's output (for the silu) and q, k, v after it; the K^T V state at each block's
    start (head_dim x head_dim per head, per block_size tokens); the norm's input and fp32 rstd; the gate's output and
    the normed output (for their product); out_proj's input. 16-bit unless fp32 is said."""
    width = mixer.n_heads * mixer.head_dim
    states = mixer.n_heads * mixer.head_dim * mixer.head_dim / mixer.block_size
    return [("lightning.input", ACT * d_model, "input of qkv_proj and output_gate (the norm output)"),
            ("lightning.qkv", ACT * 2 * 3 * width, "qkv_proj's output and q, k, v after the silu"),
            ("lightning.states", ACT * states, "the K^T V state at each block's start, per token of the block"),
            ("lightning.norm", ACT * width + FP32, "the norm's input and its fp32 rstd"),
            ("lightning.gate", ACT * 2 * width, "output_gate's output and the normed output, for their product"),
            ("lightning.out_proj_input", ACT * width, "input of out_proj")]


TRAINED_KINDS = ("mamba", "mamba2", "short_conv", "gated_deltanet", "lightning")  # saved_rows counts these


def refuse_training(model: ModelSpec, framework: str = "megatron", finetune: str = "full") -> None:
    """Training memory of recurrent layers is modelled for the fused kernels' bookkeeping (saved_rows) under the
    megatron profile, full fine-tuning: the transformers profile was measured on attention layers, and LoRA's
    targets are attention and MLP projections."""
    kinds = sorted({g.layer.mixer.kind for g in model.groups if g.layer.mixer} - set(TRAINED_KINDS))
    if kinds:
        names = ", ".join(MIXER_NAMES[kind] for kind in kinds)
        raise LlmcalcError(f"training memory: {model.name} has {names} layers, whose saved activations are not "
                           "modelled; allowed: mode serve")
    if framework != "megatron" and any(g.layer.attention and g.layer.attention.output_gate for g in model.groups):
        raise LlmcalcError(f"framework {framework}: {model.name} has attention with an output gate, which its profile "
                           "was not measured on; allowed: framework megatron")
    if not model.is_recurrent:
        return
    if framework != "megatron":
        refuse_recurrent(model, f"framework {framework}", "its profile was measured on attention layers",
                         "framework megatron")
    if finetune != "full":
        refuse_recurrent(model, f"finetune {finetune}", "LoRA's targets are attention and MLP projections",
                         "finetune full")
