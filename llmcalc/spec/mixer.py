"""A recurrent token mixer (Mamba, Mamba-2) from its spec node, checked: the keys of its kind only, Mamba-2's heads
dividing d_inner and its groups dividing the heads."""

from __future__ import annotations

from ..model import MIXER_KINDS, Mamba
from .node import Node
from .schema import MIXER_KEYS, MIXER_ONLY
from .values import divisor_hint


def build_mixer(node: Node, d_model: int) -> Mamba:
    """A Mamba (or Mamba-2) mixer; Mamba-2's heads split d_inner evenly and its groups split the heads."""
    node.check_keys(MIXER_KEYS)
    kind = node.choice("kind", MIXER_KINDS)
    for other, keys in MIXER_ONLY.items():
        for key in keys:
            if other != kind and node.has(key):
                raise node.error(key, f"only used with kind {other}; allowed with kind {kind}: "
                                 f"{', '.join(k for k in MIXER_KEYS if k not in keys)}", also=("kind",))
    d_inner = node.integer("d_inner", 2 * d_model)
    bias = node.boolean("bias", False)
    common = dict(kind=kind, d_inner=d_inner, d_state=node.integer("d_state"), d_conv=node.integer("d_conv", 4),
                  conv_bias=node.boolean("conv_bias", True), bias=bias, out_bias=node.boolean("out_bias", bias))
    if kind == "mamba":
        return Mamba(**common, dt_rank=node.integer("dt_rank", -(-d_model // 16)),
                     inner_norms=node.boolean("inner_norms", False))
    n_heads = node.integer("n_heads")
    if d_inner % n_heads:
        raise node.error("n_heads", f"{n_heads} does not divide d_inner={d_inner}; allowed: a divisor of d_inner"
                         f"{divisor_hint(d_inner)}", also=("d_inner",))
    n_groups = node.integer("n_groups", 1)
    if n_heads % n_groups or d_inner % n_groups:
        raise node.error("n_groups", f"{n_groups} does not divide n_heads={n_heads} (and d_inner={d_inner}); "
                         f"allowed: a divisor of n_heads{divisor_hint(n_heads)}", also=("n_heads",))
    return Mamba(**common, n_heads=n_heads, n_groups=n_groups, chunk_size=node.integer("chunk_size", 256),
                 gated_norm=node.boolean("gated_norm", True))
