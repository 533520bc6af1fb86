"""Recurrent token mixers (Mamba, Mamba-2): their parameters, FLOPs and the state a sequence keeps while serving,
one formula per component, following transformers 5.23.0 (mamba/modeling_mamba.py MambaMixer, mamba2/
modeling_mamba2.py Mamba2Mixer; Jamba's JambaMambaMixer, jamba/modeling_jamba.py, is MambaMixer with RMSNorms on dt,
B and C). Integers throughout; the non-matmul FLOPs are estimates, as everywhere.

FLOPs are those of transformers' reference PyTorch path (what runs without the mamba_ssm and causal_conv1d kernels),
as torch's FlopCounterMode counts them; each formula names the op it counts.
"""

from __future__ import annotations

from ..errors import LlmcalcError
from ..model import Mamba, ModelSpec

# Non-matmul estimates per element, written out: silu 4 (as flops.ACTIVATION_PER_ELEMENT); per state element of a
# scan step exp(A dt), dt x B, x (dt B), the state update (2): 6; per channel softplus(dt) 3, the D skip 2, the silu
# gate 5 (Mamba; Mamba-2 gates in its norm): 10.
SILU = 4
SCAN_PER_STATE = 6
SCAN_PER_CHANNEL = 10
RMSNORM = 4  # as flops.NORM_PER_ELEMENT
GATE_PER_ELEMENT = 5  # Mamba-2's gate without its norm (Falcon-H1): silu 4, the product 1
GATED_NORM_PER_ELEMENT = GATE_PER_ELEMENT + RMSNORM  # Mamba-2's MambaRMSNormGated: the gate, then an RMSNorm


MIXER_CONVENTION = ("Mamba layers: the FLOPs of transformers' reference path, the causal conv over seq + d_conv - 1 "
                    "positions (2 at a decode step), Mamba-2's scan over whole chunks")


def in_proj_width(mixer: Mamba) -> int:
    """Outputs of in_proj: x and z (Mamba, 2 x d_inner); z, x, B, C and dt (Mamba-2, 2 x d_inner + 2 x n_groups x
    d_state + n_heads: Mamba2Mixer.__init__'s projection_size)."""
    if mixer.kind == "mamba":
        return 2 * mixer.d_inner
    return 2 * mixer.d_inner + 2 * mixer.n_groups * mixer.d_state + mixer.n_heads


def param_rows(mixer: Mamba, d_model: int) -> list[tuple[str, int]]:
    """(component, parameters) of one mixer, as the modules of MambaMixer / Mamba2Mixer hold them: in_proj (and its
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


def conv_outputs(mixer: Mamba, queries: int, decode: bool) -> int:
    """Positions the reference causal conv computes: causal_conv1d_fn zero-pads d_conv - 1 on both sides and
    convolves queries + d_conv - 1 outputs (keeping the first `queries`); a decode step's causal_conv1d_update
    convolves the d_conv-long conv state and the new token, 2 outputs (keeping the last). The causal_conv1d kernel
    computes only the kept ones."""
    return 2 if decode else queries + mixer.d_conv - 1


def conv_flops(mixer: Mamba, outputs: int) -> int:
    """The depthwise conv (aten.convolution): 2 x d_conv FLOPs per channel and output position."""
    return 2 * mixer.conv_channels * mixer.d_conv * outputs


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


def flop_rows(mixer: Mamba, d_model: int, queries: int, decode: bool) -> list[tuple[str, int, int]]:
    """(component, matmul, other) of one mixer over `queries` new tokens (or one decode step): in_proj, the conv (and
    its silu), x_proj and dt_proj (Mamba: dt_proj.weight @ time_step, an aten.bmm), the scan, Mamba-2's gated norm,
    out_proj. Bias adds and the scan's elementwise work are non-matmul estimates."""
    inner, channels = mixer.d_inner, mixer.conv_channels
    biases = queries * ((in_proj_width(mixer) if mixer.bias else 0) + (d_model if mixer.out_bias else 0))
    gate = GATED_NORM_PER_ELEMENT if mixer.gated_norm else GATE_PER_ELEMENT
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


def refuse_recurrent(model: ModelSpec, what: str, why: str, allowed: str) -> None:
    """One clear error instead of a wrong number where a figure is modelled for layers of attention and an MLP only
    (not Mamba layers, nor Nemotron-H's blocks of attention alone or an MLP alone)."""
    if model.is_recurrent:
        raise LlmcalcError(f"{what}: {model.name} has recurrent (Mamba) layers, and {why}; allowed: {allowed}")
    if any(g.layer.attention is None or g.layer.mlp is None for g in model.groups):
        raise LlmcalcError(f"{what}: {model.name} has layers of attention alone or an MLP alone, and {why}; "
                           f"allowed: {allowed}")


def refuse_training(model: ModelSpec) -> None:
    """Training memory is modelled for attention layers: its activation profiles, LoRA targets and the transformers
    profile were measured or written for them."""
    refuse_recurrent(model, "training memory", "the activation profiles are measured on attention layers", "mode serve")
