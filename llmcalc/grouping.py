"""Identical layers of a model gathered into groups, each named by its own name or by what sets it apart from the
others (moe / dense, a mixer kind / attention, cross-attention, local / global, encoder / decoder). Duck-typed over
``llmcalc.model.Layer`` so the model can call it without an import circle.

May import: nothing of llmcalc.
"""

from __future__ import annotations

from collections.abc import Callable


def group_layers(layers: tuple, make_group: Callable) -> tuple:
    """Gather identical layers (model.Layer) into groups made by `make_group(name, layer, indices)` (model.LayerGroup);
    name each group by its own name or by what sets it apart."""
    order: list = []
    positions: dict = {}
    previous, slot = None, []
    for index, layer in enumerate(layers):
        if layer is not previous:  # a spec repeats one object per group: hash it once per run, not per layer
            slot = positions.get(layer)
            if slot is None:
                order.append(layer)
                slot = positions[layer] = []
            previous = layer
        slot.append(index)
    names = _group_names(order)
    return tuple(make_group(name, layer, tuple(positions[layer])) for name, layer in zip(names, order))


def _span(layer) -> int | None:
    return layer.attention.local_span if layer.attention else None


def _token_mixer(layer) -> str:
    """What mixes the tokens of a layer: attention, a recurrent mixer's kind (or both), or nothing (an MLP block)."""
    parts = [part for part in ("attention" if layer.attention else "", layer.mixer.kind if layer.mixer else "") if part]
    return "+".join(parts) or "mlp"


def _source(layer) -> str:
    """What a layer's token mixer reads: "images" for cross-attention to them, else "self" (a recurrent mixer too)."""
    return layer.attention.source if layer.attention else "self"


def _group_names(layers: list) -> list[str]:
    if len(layers) == 1:
        return [layers[0].name or "layers"]
    names = []
    for layer in layers:
        if layer.name:
            names.append(layer.name)
            continue
        traits = []
        if any(other.stack != layer.stack for other in layers):
            traits.append(layer.stack)
        if any(other.moe != layer.moe for other in layers):
            traits.append("moe" if layer.moe else "dense")
        if any(_token_mixer(other) != _token_mixer(layer) for other in layers):
            traits.append(_token_mixer(layer))
        if any(_source(other) != _source(layer) for other in layers):
            traits.append("cross-attention" if _source(layer) == "images" else "self-attention")
        if any(_span(other) != _span(layer) for other in layers):
            traits.append("local" if _span(layer) else "global")
        names.append("-".join(traits) or "layers")
    # Names must be unique: number the ones that collide.
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    counter: dict[str, int] = {}
    unique = []
    for name in names:
        if seen[name] > 1:
            counter[name] = counter.get(name, 0) + 1
            unique.append(f"{name}-{counter[name]}")
        else:
            unique.append(name)
    return unique
