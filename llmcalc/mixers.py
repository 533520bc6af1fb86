"""Recurrent token mixers (Mamba, Mamba-2, LFM2's short convolution, Gated DeltaNet, lightning attention): what a layer holds in place of
attention, validated and frozen like the rest of the model (``llmcalc.model`` names them; ``llmcalc.formulas.
recurrent`` and ``llmcalc.formulas.linear_mixers`` count them).

May import: llmcalc.records.
"""

from __future__ import annotations

from .records import record

# Mamba's selective scan (Gu & Dao 2023), Mamba-2's state-space duality (Dao & Gu 2024), LFM2's short convolution
# (Liquid AI 2025), Gated DeltaNet's delta rule (Yang et al. 2024, Qwen3-Next) and MiniMax's lightning attention
# (Qin et al. 2024).
MIXER_KINDS = ("mamba", "mamba2", "short_conv", "gated_deltanet", "lightning")
# How each kind is named in tables, diagrams and explanations.
MIXER_NAMES = {"mamba": "Mamba", "mamba2": "Mamba-2", "short_conv": "short conv", "gated_deltanet": "Gated DeltaNet",
               "lightning": "lightning attention"}


@record
class Mamba:
    """A recurrent token mixer in place of attention (transformers 5.23.0, mamba/modeling_mamba.py MambaMixer and
    mamba2/modeling_mamba2.py Mamba2Mixer): in_proj to d_inner (x and the gate z; Mamba-2 also B, C per group and dt
    per head), a depthwise causal conv of d_conv taps, a selective scan over a d_state state per channel, out_proj.
    Mamba: dt through a dt_rank bottleneck (x_proj, dt_proj). Mamba-2: n_heads heads of d_inner / n_heads, B and C
    shared by n_groups groups, a gated RMSNorm before out_proj (or, without gated_norm, the gate alone: Falcon-H1's
    FalconH1Mixer with mamba_rms_norm false), the scan in chunks of chunk_size."""

    kind: str
    d_inner: int
    d_state: int
    d_conv: int
    dt_rank: int = 0      # mamba: width of the dt bottleneck
    n_heads: int = 0      # mamba2
    n_groups: int = 0     # mamba2
    chunk_size: int = 0   # mamba2
    conv_bias: bool = True
    bias: bool = False    # the in_proj bias
    out_bias: bool = False  # the out_proj bias (the spec's default: as `bias`; Falcon-H1 sets it apart)
    gated_norm: bool = True  # mamba2: the gated RMSNorm's weight (d_inner) before out_proj
    inner_norms: bool = False  # mamba: RMSNorms on dt, B and C before they are used (Jamba)

    @property
    def conv_channels(self) -> int:
        """Channels of the causal conv: x (Mamba), x, B and C (Mamba-2)."""
        return self.d_inner + (2 * self.n_groups * self.d_state if self.kind == "mamba2" else 0)

    @property
    def head_dim(self) -> int:
        return self.d_inner // self.n_heads if self.n_heads else 0

    @property
    def state_elements(self) -> int:
        """What one sequence keeps in one layer while serving, however long it is: the conv state (d_conv inputs of
        each conv channel) and the SSM state (d_state per inner channel)."""
        return self.conv_channels * self.d_conv + self.d_inner * self.d_state


@record
class ShortConv:
    """LFM2's short convolution in place of attention (transformers 5.23.0, lfm2/modeling_lfm2.py Lfm2ShortConv):
    in_proj from d_model to three streams B, C and x of d_model each, B x x, a depthwise causal conv of d_conv taps
    over it, C x its output, out_proj back to d_model; biases on in_proj, the conv and out_proj with `bias`
    (conv_bias). Its state per sequence is the conv cache: d_conv inputs of each of the d_model channels."""

    kind: str
    width: int        # the model's d_model: channels of the conv and of each stream
    d_conv: int
    bias: bool = False

    @property
    def conv_channels(self) -> int:
        return self.width

    @property
    def state_elements(self) -> int:
        """The conv state the cache keeps (LinearAttentionLayer.conv_states: d_conv inputs per channel)."""
        return self.width * self.d_conv


@record
class GatedDeltaNet:
    """Gated DeltaNet linear attention (Yang et al. 2024, arXiv:2412.06464; transformers 5.23.0, qwen3_next/
    modeling_qwen3_next.py Qwen3NextGatedDeltaNet): in_proj_qkvz to q and k (n_key_heads x key_head_dim each), v and
    the gate z (n_value_heads x value_head_dim each), in_proj_ba to beta and the decay input a (one per value head), a
    depthwise causal conv of d_conv taps over q, k and v (no bias), dt_bias and A_log per value head, the delta rule
    over a key_head_dim x value_head_dim state per value head (in chunks of chunk_size tokens when prefilling), a
    gated RMSNorm of value_head_dim shared by the heads, out_proj back to d_model. Each key head serves
    n_value_heads / n_key_heads value heads."""

    kind: str
    n_key_heads: int
    n_value_heads: int
    key_head_dim: int
    value_head_dim: int
    d_conv: int
    chunk_size: int = 64

    @property
    def key_dim(self) -> int:
        return self.n_key_heads * self.key_head_dim

    @property
    def value_dim(self) -> int:
        return self.n_value_heads * self.value_head_dim

    @property
    def conv_channels(self) -> int:
        """Channels of the causal conv: q, k and v."""
        return 2 * self.key_dim + self.value_dim

    @property
    def state_elements(self) -> int:
        """What one sequence keeps in one layer, however long it is: the conv state (d_conv inputs of each conv
        channel) and the recurrent state (key_head_dim x value_head_dim per value head), as transformers'
        LinearAttentionLayer holds them."""
        return self.conv_channels * self.d_conv + self.n_value_heads * self.key_head_dim * self.value_head_dim


@record
class LightningAttention:
    """MiniMax's lightning attention, linear attention with a fixed decay per head (Qin et al. 2024, arXiv:2401.04658;
    transformers 5.23.0, minimax/modeling_minimax.py MiniMaxLightningAttention): qkv_proj from d_model to q, k and v
    of n_heads x head_dim each (silu), the attention in blocks of block_size tokens (within a block, masked and decayed
    Q K^T V; across blocks, through a head_dim x head_dim state per head), an RMSNorm over the heads' output, a sigmoid
    output gate from the layer input (d_model -> n_heads x head_dim), out_proj back to d_model. No conv."""

    kind: str
    n_heads: int
    head_dim: int
    block_size: int = 256

    @property
    def width(self) -> int:
        return self.n_heads * self.head_dim

    @property
    def state_elements(self) -> int:
        """The K^T V state per head the cache keeps (MiniMaxCache.linear_cache), however long the sequence."""
        return self.n_heads * self.head_dim * self.head_dim


# Any recurrent token mixer a layer may hold in place of attention.
Mixer = Mamba | ShortConv | GatedDeltaNet | LightningAttention
