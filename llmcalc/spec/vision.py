"""The `vision` section of a spec: a vision-language model's image encoder and its projector, checked into a
VisionTower. The builder hands over its readers of attention, mlp and norm, so the tower's layers are checked by the
same rules as the language model's."""

from __future__ import annotations

from typing import Callable

from ..model import ACTIVATIONS, IMAGE_RESIZES, NORM_KINDS, VISION_POSITIONS, MLP, Attention, Layer, Norm, Projector
from ..model import VisionTower
from .node import Node
from .schema import PROJECTOR_KEYS, VISION_KEYS


def read_vision(node: Node, text_d_model: int, attention: Callable[[Node, int], Attention],
                mlp: Callable[[Node], MLP], norm: Callable[[Node], Norm]) -> VisionTower:
    """The VisionTower of a `vision` mapping; `text_d_model` is the language model's width (the projector's output
    by default)."""
    node.check_keys(VISION_KEYS)
    d = node.integer("d_model")
    n_layers = node.integer("n_layers", minimum=0)  # 0: a tower of its embeddings alone, as transformers builds it
    layer = Layer(attention(node.mapping("attention"), d), mlp(node.mapping("mlp")), name="vision", stack="encoder")
    tower_norm = norm(node.mapping("norm"))
    if tower_norm.placement != "pre" or tower_norm.shared:
        raise node.mapping("norm").error("placement", "a vision tower's layers are pre-norm here (CLIP, SigLIP, "
                                         "Qwen2.5-VL); allowed: placement: pre, shared: false")
    projector = _projector(node.mapping("projector"), d, text_d_model)
    full_layers = node.data.get("full_layers") or []
    if not isinstance(full_layers, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                    and 0 <= i < n_layers for i in full_layers):
        raise node.error("full_layers", f"must be a list of layer indices 0 to {n_layers - 1} (the layers that "
                         "attend over the whole image, not within windows)")
    window = node.integer("window", None)
    if window is not None and window % projector.merge:
        raise node.error("window", f"{window} patches is not a whole number of projector.merge={projector.merge} "
                         "merged patches; allowed: a multiple of it", also=(("projector", "merge"),))
    if full_layers and window is None:
        raise node.error("full_layers", "only used with window; allowed: remove it, or set window")
    resize = node.choice("resize", IMAGE_RESIZES, "fixed")
    if resize == "smart":
        min_pixels, max_pixels = node.integer("min_pixels"), node.integer("max_pixels")
        if min_pixels > max_pixels:
            raise node.error("min_pixels", f"{min_pixels} is more than max_pixels={max_pixels}", also=("max_pixels",))
    else:
        for key in ("min_pixels", "max_pixels"):
            if node.has(key):
                raise node.error(key, "only used with resize: smart; allowed: remove it, or set resize: smart")
        min_pixels = max_pixels = 0
    tiles, aspect_ratios = node.integer("tiles", 1), node.integer("aspect_ratios", 0, minimum=0)
    if (tiles > 1 or aspect_ratios) and (resize != "fixed" or window is not None):
        raise node.error("tiles", "tiles are image_size squares whose tokens attend together; allowed: resize: fixed "
                         "and no window", also=("resize", "window"))
    class_token = node.boolean("class_token", False)
    drop = node.boolean("drop_class_token", False)
    position = node.choice("position", VISION_POSITIONS, "learned")
    if projector.pool != 1 and (resize != "fixed" or tiles > 1 or class_token != drop):
        raise node.mapping("projector").error("pool", "pools the image_size square's patch grid (Gemma 3); allowed: "
                                              "resize: fixed, one tile, the patches alone passed on",
                                              also=tuple(node.path + (k,) for k in ("resize", "tiles", "class_token",
                                                                                    "drop_class_token")))
    position_rows = node.integer("position_rows", None)
    if (position == "interpolated") != (position_rows is not None):
        raise node.error("position_rows", "the rows of the learned table position: interpolated resamples; allowed: "
                         "set with position: interpolated, and only then", also=("position",))
    if position == "learned" and resize != "fixed":
        raise node.error("resize", f"{resize} resizing changes the patch grid, which a learned position table of "
                         "image_size cannot follow here; allowed: fixed, or position: rope or interpolated",
                         also=("position",))
    row_break = node.boolean("row_break", False)
    if row_break and resize != "longest":
        raise node.error("row_break", "a token per row of merged patches follows Pixtral's processor; allowed: "
                         "with resize: longest, or false", also=("resize",))
    return VisionTower(
        d_model=d, n_layers=n_layers, layer=layer, norm=tower_norm, projector=projector,
        image_size=node.integer("image_size"), patch_size=node.integer("patch_size"),
        channels=node.integer("channels", 3), temporal_patch=node.integer("temporal_patch", 1),
        patch_bias=node.boolean("patch_bias", False), class_token=class_token, position=position,
        pre_norm=node.boolean("pre_norm", False), pool_head=node.boolean("pool_head", False), window=window,
        full_layers=tuple(sorted(set(full_layers))), resize=resize, min_pixels=min_pixels, max_pixels=max_pixels,
        drop_class_token=drop, tiles=tiles, aspect_ratios=aspect_ratios,
        global_layers=node.integer("global_layers", 0, minimum=0), pad_multiple=node.integer("pad_multiple", 1),
        position_rows=position_rows or 0, row_break=row_break,
    )


def _projector(node: Node, d_vision: int, d_text: int) -> Projector:
    node.check_keys(PROJECTOR_KEYS)
    merge = node.integer("merge", 1)
    pool = node.integer("pool", 1, minimum=0)
    if pool != 1 and merge != 1:
        raise node.error("pool", "pooling and merging patches are two projectors' ways to fewer tokens; allowed: one "
                         "of them (pool: 1 or merge: 1)", also=("merge",))
    d_hidden, n_hidden = node.integer("d_hidden", None), node.integer("n_hidden", 1)
    if n_hidden != 1 and d_hidden is None:
        raise node.error("n_hidden", "counts hidden layers of d_hidden, which is not set; allowed: set d_hidden, or "
                         "remove n_hidden", also=("d_hidden",))
    merger = node.boolean("merger", False)
    return Projector(
        d_in=node.integer("d_in", d_vision if merger else d_vision * merge * merge),
        d_out=node.integer("d_out", d_text),
        d_hidden=d_hidden, activation=node.choice("activation", ACTIVATIONS, "gelu"),
        bias=node.boolean("bias", True), merge=merge, norm=node.choice("norm", NORM_KINDS, None), pool=pool,
        n_hidden=n_hidden, merger=merger,
    )
