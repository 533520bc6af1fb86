"""Recurrent token mixers: what a layer holds in place of attention, validated and frozen like the rest of the model
(``llmcalc.model`` names them; ``llmcalc.formulas.recurrent`` counts them).

May import: llmcalc.records.
"""

from __future__ import annotations

from .records import record

# Mamba's selective scan (Gu & Dao 2023) and Mamba-2's state-space duality (Dao & Gu 2024).
MIXER_KINDS = ("mamba", "mamba2")


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
