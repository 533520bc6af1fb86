"""Tensor parallelism of the recurrent mixers: which splits the engines allow, and what one rank keeps.

Each mixer splits like attention, by its heads or channels: in_proj column-parallel, the conv and the per-head
parameters by channel or head, out_proj row-parallel (one all-reduce after it, as after attention):
- Mamba-2 (Megatron-LM megatron/core/ssm/mamba_mixer.py; vLLM model_executor/layers/mamba/mamba_mixer2.py): the
  heads split evenly; B and C's groups split evenly, or, when tp is a multiple of n_groups, each group is
  replicated on tp / n_groups ranks (vLLM's mamba_mixer2 for n_groups < tp), so a rank keeps max(n_groups / tp, 1)
  groups in its conv state;
- Mamba (vLLM mamba_mixer.py): d_inner's channels split evenly (x_proj row-parallel, its small dt, B, C output
  whole on every rank);
- LFM2's short conv (vLLM short_conv.py): the d_model channels of B, C and x split evenly;
- Gated DeltaNet (vLLM qwen3_next.py): key heads and value heads each split evenly;
- lightning attention (vLLM minimax_text_01.py): the heads split evenly.
The weights are taken as split evenly (a replicated group's B and C projections, a few d_model x d_state rows, are
not counted twice).
"""

from __future__ import annotations

from ..model import GatedDeltaNet, LightningAttention, Mamba, Mixer, ShortConv


def mixer_tp_problem(mixer: Mixer, tp: int) -> str | None:
    """Why `tp` ranks cannot split this mixer (see the module docstring), or None."""
    if tp == 1:
        return None
    if isinstance(mixer, Mamba) and mixer.kind == "mamba2":
        if mixer.n_heads % tp:
            return f"{tp} does not divide the {mixer.n_heads} Mamba-2 heads"
        if mixer.n_groups % tp and tp % mixer.n_groups:
            return f"{tp} and the {mixer.n_groups} Mamba-2 groups do not divide one another"
        return None
    units = {Mamba: ("Mamba inner channels", lambda m: m.d_inner),
             ShortConv: ("short conv channels", lambda m: m.width),
             LightningAttention: ("lightning attention heads", lambda m: m.n_heads)}
    if isinstance(mixer, GatedDeltaNet):
        for name, count in (("key heads", mixer.n_key_heads), ("value heads", mixer.n_value_heads)):
            if count % tp:
                return f"{tp} does not divide the {count} Gated DeltaNet {name}"
        return None
    name, count = units[type(mixer)]
    return f"{tp} does not divide the {count(mixer)} {name}" if count(mixer) % tp else None


def state_per_rank(mixer: Mixer, tp: int) -> float:
    """Elements of one sequence's state in one layer on one of `tp` ranks (mixer.state_elements at tp 1)."""
    if isinstance(mixer, Mamba) and mixer.kind == "mamba2":
        groups = max(mixer.n_groups / tp, 1)  # replicated past n_groups ranks
        channels = mixer.d_inner / tp + 2 * groups * mixer.d_state
        return channels * mixer.d_conv + mixer.d_inner / tp * mixer.d_state
    return mixer.state_elements / tp
