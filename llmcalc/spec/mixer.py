"""A recurrent token mixer (Mamba, Mamba-2, LFM2's short conv, Gated DeltaNet, lightning attention) from its spec node, checked: the keys
of its kind only, Mamba-2's heads dividing d_inner and its groups dividing the heads, Gated DeltaNet's key heads
dividing its value heads."""

from __future__ import annotations

from ..model import MIXER_KINDS, GatedDeltaNet, LightningAttention, Mamba, Mixer, ShortConv
from .node import Node
from .schema import MIXER_KEYS, MIXER_KEYS_OF
from .values import divisor_hint


def build_mixer(node: Node, d_model: int) -> Mixer:
    """The mixer of the node's `kind`, with only the keys that kind takes."""
    node.check_keys(MIXER_KEYS)
    kind = node.choice("kind", MIXER_KINDS)
    allowed = MIXER_KEYS_OF[kind]
    for key in MIXER_KEYS:
        if key not in allowed and node.has(key):
            users = [other for other, keys in MIXER_KEYS_OF.items() if key in keys]
            raise node.error(key, f"only used with kind {' or '.join(users)}; allowed with kind {kind}: "
                             f"{', '.join(allowed)}", also=("kind",))
    if kind == "short_conv":
        return ShortConv(kind, d_model, node.integer("d_conv", 3), node.boolean("bias", False))
    if kind == "gated_deltanet":
        return _gated_deltanet(node)
    if kind == "lightning":
        return LightningAttention(kind, node.integer("n_heads"), node.integer("head_dim"),
                                  node.integer("block_size", 256))
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


def _gated_deltanet(node: Node) -> GatedDeltaNet:
    """Each key head serves n_value_heads / n_key_heads value heads, so the key heads divide the value heads."""
    n_key, n_value = node.integer("n_key_heads"), node.integer("n_value_heads")
    if n_value % n_key:
        raise node.error("n_key_heads", f"{n_key} does not divide n_value_heads={n_value}; allowed: a divisor of "
                         f"n_value_heads{divisor_hint(n_value)}", also=("n_value_heads",))
    return GatedDeltaNet("gated_deltanet", n_key, n_value, node.integer("key_head_dim"),
                         node.integer("value_head_dim"), node.integer("d_conv", 4), node.integer("chunk_size", 64))
