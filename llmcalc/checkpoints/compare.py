"""A spec's parameter count against a checkpoint's, per component and layer group (`llmcalc check`).

For each model-level component and each layer group's components, the spec's count against the sum of the
checkpoint's tensors of that component in those layers: "equal" (every layer of the group holds exactly the spec's
per-layer count), "different", "missing" (the spec has it, the checkpoint has no such tensor) or "extra" (the
checkpoint has it, the spec does not: also every tensor whose name is not recognised, and every tensor of a layer
the spec does not have). A fused checkpoint tensor (attn.qkv, mlp.gate_up) is held against the sum of the spec's
parts. Scales are bytes, never parameters, and are left out; buffers (routing bias) are held against the spec's.
A vision tower's and a projector's components are held as the model's own (each summed over the tower's layers);
a checkpoint component the spec does not have in a group stands for one of names.ALIASES the spec has (OPT's
post-norms, a mixer's input norm); a Qwen3-Next q_proj holds the output gate too.

llama.cpp writes a vision-language model as two GGUF files: the language model, and the vision tower and projector in
an `mmproj-*.gguf` (general.architecture "clip"). Against one of them the rows the other holds are "elsewhere", not
missing: the language model's against an mmproj file, the tower's and projector's against a GGUF of the language model.
LLaVA's mmproj (llama.cpp's tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py, which docs/multimodal/llava.md
names for LLaVA-1.5; convert_hf_to_gguf.py's LlavaVisionModel takes Pixtral only) holds the tower's layers up to the
feature layer (vision_feature_layer -2: all but the last; `clip.vision.block_count` says how many) and not
post_layernorm: LLaVA reads the layers' hidden states (llava/modeling_llava.py get_image_features), never that norm's
output. With `clip.has_llava_projector` set and its layers 0 to k - 1 of the spec's n, the tower's layer components are
held per layer over those k, and the last n - k layers and the post norm are "unused". (The spec does not record the
feature layer, so the file's k is taken as it says.)
"""

from __future__ import annotations

from dataclasses import replace

from ..model import ModelSpec
from ..records import record
from .names import ALIASES, FUSED, ORDER, TOWER_LAYER
from .tensors import Checkpoint
from .towers import GGUF_TOWER_LAYER

EQUAL, DIFFERENT, MISSING, EXTRA = "equal", "different", "missing", "extra"
ELSEWHERE, UNUSED = "elsewhere", "unused"  # in the other file of llama.cpp's pair; left out as the model never reads it
STATUSES = (EQUAL, DIFFERENT, MISSING, EXTRA, ELSEWHERE, UNUSED)
VISION = ("vision.", "projector.")
_LAYERED = frozenset("vision." + c for c in TOWER_LAYER)


@record
class Match:
    """One component of one layer group (group None: the model's own components; "" outside the spec's layers)."""

    component: str
    group: str | None
    layers: tuple[int, ...]
    spec: int
    checkpoint: int
    status: str
    spec_per_layer: int | None = None
    checkpoint_per_layer: int | None = None  # None when the layers differ from one another
    note: str | None = None


@record
class Comparison:
    model: ModelSpec
    checkpoint: Checkpoint
    matches: tuple[Match, ...]

    @property
    def ok(self) -> bool:
        return all(m.status in (EQUAL, ELSEWHERE, UNUSED) for m in self.matches)

    def counted(self, status: str) -> int:
        return sum(m.status == status for m in self.matches)


def _status(spec: int, found: bool, equal: bool) -> str:
    if not found:
        return MISSING
    if not spec:
        return EXTRA
    return EQUAL if equal else DIFFERENT


def _rank(component: str) -> int:
    return ORDER.index(component) if component in ORDER else len(ORDER)


def _alias(spec: dict[str, int], held: set[str]) -> None:
    """Rename in `spec` the component a held checkpoint component stands for (names.ALIASES)."""
    for name, stands_for in ALIASES.items():
        if name in held and name not in spec:
            alias = next((a for a in stands_for if a in spec and a not in held), None)
            if alias:
                spec[name] = spec.pop(alias)


def compare(count, checkpoint: Checkpoint) -> Comparison:
    """`count` is the spec's llmcalc.formulas.params.ParamCount (its model, rows and buffers)."""
    model = count.model
    sums = checkpoint.layer_sums()
    present = set(sums)
    used: set[tuple[str, int | None]] = set()
    out: list[Match] = []
    layered = {group.name for group in model.groups}
    level: dict[str, int] = {}  # the model's own components, a vision tower's and a projector's (summed)
    tied: set[str] = set()
    for row in count.rows:
        if row.group not in layered:
            level[row.component] = level.get(row.component, 0) + row.total
            if row.note:
                tied.add(row.component)
    held = {c for c, layer in present if layer is None}
    _alias(level, held)
    for fused, parts in FUSED.items():
        if (fused, None) in present and any(p in level for p in parts):
            level[fused] = sum(level.pop(p, 0) for p in parts)
    for component, total in level.items():
        key = (component, None)
        if not total and key not in present:
            continue
        used.add(key)
        note = "the spec ties it to the token embedding" if component in tied and key in present else None
        out.append(Match(component, None, (), total, sums.get(key, 0),
                         _status(total, key in present, sums.get(key, 0) == total), note=note))
    for group in model.groups:
        indices = tuple(group.indices)
        spec = {r.component: r.per_layer for r in count.rows + tuple(count.buffers) if r.group == group.name}
        held = {c for c, layer in present if layer in set(indices)}
        _alias(spec, held)
        for fused, parts in FUSED.items():
            if fused in held and any(p in spec for p in parts):
                spec[fused] = sum(spec.pop(p, 0) for p in parts)
        if "attn.gate" in spec and "attn.gate" not in held and "attn.q" in spec:
            # the output gate is the second half of q_proj (Qwen3-Next): its weight, as wide as q's, goes with attn.q
            # and the rest, its bias, with attn.bias, where the checkpoint's q_proj.bias is
            gate, weight = spec.pop("attn.gate"), spec["attn.q"]
            spec["attn.q"] += weight
            if gate > weight:
                spec["attn.bias"] = spec.get("attn.bias", 0) + gate - weight
        for component in sorted(set(spec) | held, key=lambda c: (_rank(c), c)):
            per = spec.get(component, 0)
            values = [sums.get((component, i), 0) for i in indices]
            found = any((component, i) in present for i in indices)
            used.update((component, i) for i in indices)
            uniform = values[0] if len(set(values)) == 1 else None
            out.append(Match(component, group.name, indices, per * len(indices), sum(values),
                             _status(per, found, all(v == per for v in values)), per, uniform))
    left: dict[str, list[int | None]] = {}
    for key in sorted(present - used, key=lambda k: (_rank(k[0]), k[0], -1 if k[1] is None else k[1])):
        left.setdefault(key[0], []).append(key[1])
    for component, layers in left.items():
        total = sum(sums[(component, layer)] for layer in layers)
        inside = tuple(layer for layer in layers if layer is not None)
        note = "in layers the spec does not have" if inside else None
        out.append(Match(component, "" if inside else None, inside, 0, total, EXTRA, note=note))
    return Comparison(model, checkpoint, tuple(_pair(out, model, checkpoint)))


def _pair(matches: list[Match], model: ModelSpec, checkpoint: Checkpoint) -> list[Match]:
    """The rows of the other file of llama.cpp's pair "elsewhere"; LLaVA's mmproj layers as the module docstring
    says."""
    part = checkpoint.gguf_part
    if part is None or model.vision is None:
        return matches
    if part == "mmproj":
        where, theirs = "in the language model's GGUF", lambda c: not c.startswith(VISION)
    else:
        where, theirs = "in the mmproj GGUF", lambda c: c.startswith(VISION)
    out = [replace(m, status=ELSEWHERE, note=where) if m.status == MISSING and theirs(m.component) else m
           for m in matches]
    meta = dict(checkpoint.metadata)
    if part != "mmproj" or meta.get("clip.has_llava_projector") != "True":
        return out
    n = model.vision.n_layers
    held = {int(m.group(1)) for t in checkpoint.tensors if (m := GGUF_TOWER_LAYER.match(t.name))}
    k = len(held)
    if meta.get("clip.vision.block_count") == str(k) and held == set(range(k)) and 0 < k < n:
        out = _first_layers(out, k, n)
    unread = "LLaVA never reads it; not in llama.cpp's mmproj"
    return [replace(m, status=UNUSED, note=unread) if m.component == "vision.post_norm" and m.status == MISSING
            else m for m in out]


def _first_layers(matches: list[Match], k: int, n: int) -> list[Match]:
    """The tower's layer components held per layer over the file's first k layers; after them one "unused" row for
    the spec's last n - k."""
    out, per_layer, last = [], 0, None
    for m in matches:
        if m.group is None and m.component in _LAYERED and m.spec:
            per = m.spec // n
            per_layer += per
            status = m.status if m.status not in (EQUAL, DIFFERENT) else EQUAL if m.checkpoint == per * k else DIFFERENT
            m = Match(m.component, "vision", tuple(range(k)), per * k, m.checkpoint, status, per,
                      m.checkpoint // k if m.checkpoint % k == 0 else None)
            last = len(out)
        out.append(m)
    if last is not None:
        out.insert(last + 1, Match("vision.layers", "vision", tuple(range(k, n)), per_layer * (n - k), 0, UNUSED,
                                   per_layer, note="after the feature layer LLaVA reads; not in llama.cpp's mmproj"))
    return out
