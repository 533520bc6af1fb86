"""A vision-language model's image side: the vision tower's and the projector's parameters, the tokens one image
becomes, and the FLOPs of encoding it. Each follows the transformers 5.23.0 modeling file it cites; sizes are exact
integers (the FLOPs of norms, activations and softmax are estimates, as everywhere)."""

from __future__ import annotations

import math

import dataclasses

from ..model import ModelSpec, VisionTower
from .flops import (
    FlopCount,
    FlopRow,
    attention_scores,
    attention_values,
    count_flops,
    layer_flops,
    linear,
    norm_flops,
    softmax,
)

# ------------------------------------------------------------------------------ image tokens


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's resize, as Qwen2.5-VL's image processor runs it (qwen2_vl/image_processing_qwen2_vl.py,
    smart_resize, transformers 5.23.0): each side rounded to a multiple of `factor` (patch x merge, 28), then the
    area scaled into [min_pixels, max_pixels] keeping the aspect ratio."""
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def longest_edge_resize(height: int, width: int, longest: int, factor: int) -> tuple[int, int]:
    """Pixtral's resize, as Mistral 3's processor runs it (pixtral/image_processing_pixtral.py,
    get_resize_output_image_size, transformers 5.23.0, with PixtralProcessor's patch_size x spatial_merge_size as the
    factor): scaled down (never up) so both sides fit `longest`, each side floored, then rounded up to a multiple of
    `factor`."""
    ratio = max(height / longest, width / longest)
    if ratio > 1:
        height, width = int(math.floor(height / ratio)), int(math.floor(width / ratio))
    return ((height - 1) // factor + 1) * factor, ((width - 1) // factor + 1) * factor


def patch_grid(tower: VisionTower, height: int | None = None, width: int | None = None) -> tuple[int, int]:
    """Patches down and across one image of height x width pixels after the preprocessor: resize fixed, every image
    to image_size square (CLIPImageProcessor's resize and center crop, LLaVA-1.5); smart, smart_resize by patch x
    merge (Qwen2.5-VL); longest, the longest edge within image_size, sides multiples of patch x merge (Mistral 3). No
    size given: an image_size square."""
    height, width = height or tower.image_size, width or tower.image_size
    if tower.resize == "fixed":
        return tower.grid, tower.grid
    factor = tower.patch_size * tower.projector.merge
    if tower.resize == "longest":
        h, w = longest_edge_resize(height, width, tower.image_size, factor)
    else:
        h, w = smart_resize(height, width, factor, tower.min_pixels, tower.max_pixels)
    return h // tower.patch_size, w // tower.patch_size


def image_tokens(tower: VisionTower, height: int | None = None, width: int | None = None) -> int:
    """Tokens one image becomes in the language model's sequence: its patches, merged merge x merge (Qwen2.5-VL:
    (h/14 x w/14)/4 after smart_resize, qwen2_vl/image_processing_qwen2_vl.py), plus the class token unless it is
    dropped (LLaVA-1.5: (336/14)^2 = 576, vision_feature_select_strategy "default" dropping it,
    llava/modeling_llava.py get_image_features), transformers 5.23.0; Mllama's image is max_num_tiles tiles (its
    processor pads every image to that many, and MllamaForConditionalGeneration's static cache holds num_images x
    max_num_tiles x num_patches image tokens, mllama/modeling_mllama.py); Gemma 3's projector average-pools the patch
    grid by its kernel, (64 // 4)^2 = 256 (Gemma3MultiModalProjector, gemma3/modeling_gemma3.py); Mistral 3's rows
    of merged patches, each followed by [IMG_BREAK] (the last by [IMG_END]): rows x (cols + 1)
    (PixtralProcessor.replace_image_token, pixtral/processing_pixtral.py)."""
    rows, cols = patch_grid(tower, height, width)
    merge, pool = tower.projector.merge, tower.projector.pool
    if tower.row_break:
        return (rows // merge) * (cols // merge + 1)
    if pool != 1:  # nn.AvgPool2d(pool, stride=pool) over the patches alone (spec/vision.py sees to it); a kernel of
        return (rows // pool) * (cols // pool) if pool else 0  # 0 passes no image (checks.check_images refuses them)
    per_tile = rows * cols // (merge * merge) + (1 if tower.class_token else 0) - (1 if tower.drop_class_token else 0)
    return tower.tiles * per_tile  # Mllama: max_num_tiles x ((image_size / patch_size)^2 + 1), every image padded


# ------------------------------------------------------------------------------ FLOPs


def window_pairs(tower: VisionTower, rows: int, cols: int) -> int:
    """Query-key pairs of one windowed layer: Qwen2.5-VL's windows of window // merge merged patches a side over the
    grid of merged patches (the last row and column of windows cut short), each attending within itself
    (get_vision_window_index, qwen2_5_vl/modeling_qwen2_5_vl.py 5.23.0): sum over windows of (its patches)^2."""
    merge = tower.projector.merge
    side = tower.window // merge

    def squares(n: int) -> int:  # sum over the windows along one axis of (merged patches it holds)^2
        whole, rest = divmod(n, side)
        return whole * side * side + rest * rest

    return merge ** 4 * squares(rows // merge) * squares(cols // merge)


def vision_flop_rows(tower: VisionTower, height: int | None = None, width: int | None = None,
                     ) -> list[tuple[str, str, int, int, int]]:
    """(component, group, layers, matmul, other) of encoding one image: the patch embedding as a matmul over the
    patches, every layer over patches (+ class token) attending both ways (within windows on windowed layers), the
    norms, SigLIP's pooling head, and the projector over what it is fed (merged patches for Qwen2.5-VL). Mllama
    (MllamaVisionModel, mllama/modeling_mllama.py 5.23.0): every tile's patches and class token, padded to a multiple
    of pad_multiple, all tiles of an image in one sequence through the layers and the gated global layers; the
    projector over the unpadded tokens. Qwen3.5 (Qwen3_5VisionModel, qwen3_5/modeling_qwen3_5.py 5.23.0): the
    interpolated position table's bilinear weights, four rows per patch, no matmul."""
    rows, cols = patch_grid(tower, height, width)
    tiles, pad = tower.tiles, tower.pad_multiple
    patches = rows * cols
    tokens = patches + (1 if tower.class_token else 0)
    length = tiles * -(-tokens // pad) * pad  # Mllama: every tile's tokens padded to a multiple of 8, tiles together
    d, layer = tower.d_model, tower.layer
    kernel = tower.channels * tower.temporal_patch * tower.patch_size ** 2
    out = [("vision.patch_embed", "vision", 1, linear(tiles * patches, kernel, d),
            tiles * patches * d if tower.patch_bias else 0)]
    if tower.position == "interpolated":  # four table rows per patch weighted and summed (7), added to it (1)
        out.append(("vision.position", "vision", 1, 0, 8 * tiles * patches * d))
    if tower.aspect_ratios:  # adding the gated (pre-tile, position, tile, post-tile) embeddings
        out.append(("vision.tile_position", "vision", 1, 0, (tiles * patches + 3 * tiles * tokens + length) * d))
    out.append(("vision.pre_norm", "vision", 1, 0, norm_flops(tiles * tokens, tower.norm, d) if tower.pre_norm else 0))
    norm = norm_flops(length, tower.norm, d)
    full = layer_flops(layer, tower.norm, d, length, length, "full")
    windowed = tower.window is not None and len(tower.full_layers) < tower.n_layers
    if windowed:
        pairs = window_pairs(tower, rows, cols)
        local = {"attn.scores": (attention_scores(pairs, layer.attention), 0),
                 "attn.softmax": (0, softmax(pairs, layer.attention)),
                 "attn.values": (attention_values(pairs, layer.attention), 0)}
        n_local = tower.n_layers - len(tower.full_layers)
        out += [(f"vision.{name}", "vision", len(tower.full_layers), m, o) for name, m, o in full
                if name in local and tower.full_layers]
        out += [(f"vision.{name}", "vision", n_local, *local[name]) for name, _, _ in full if name in local]
        out += [(f"vision.{name}", "vision", tower.n_layers, m, o) for name, m, o in full if name not in local]
    else:
        out += [(f"vision.{name}", "vision", tower.n_layers, m, o) for name, m, o in full]
    out.append(("vision.post_norm", "vision", 1, 0, norm if tower.norm.final else 0))
    if tower.global_layers:  # Mllama's global layers, their tanh gates scaling attention and MLP outputs
        out += [(f"vision.global.{name}", "vision", tower.global_layers, m, o) for name, m, o in full]
        out.append(("vision.global.gates", "vision", tower.global_layers, 0, 2 * length * d))
    if tower.pool_head:
        mlp = layer_flops(layer, tower.norm, d, 1, 1, "full")
        head = 2 * linear(tokens, d, d) + 2 * linear(1, d, d) + 4 * tokens * d
        out.append(("vision.pool_head", "vision", 1, head + sum(m for n, m, _ in mlp if n.startswith("mlp.")), 0))
    return out + _projector_flops(tower, patches)


def _projector_flops(tower: VisionTower, patches: int) -> list[tuple[str, str, int, int, int]]:
    """The projector's rows of one image: Gemma 3's average pool (an add per patch and width, a scaling per pooled
    token) before its norm, which then runs on the pooled tokens; otherwise the norm on every patch (Qwen2.5-VL's
    ln_q, before merging)."""
    projector = tower.projector
    fed = image_tokens(tower) if tower.resize == "fixed" else patches // projector.merge ** 2
    out = []
    if projector.pool != 1:
        out.append(("projector.pool", "projector", 1, 0, (patches + fed) * tower.d_model))
    if projector.norm:
        normed = fed if projector.pool != 1 else patches
        out.append(("projector.norm", "projector", 1, 0, normed * tower.d_model * (4 if projector.norm == "rmsnorm"
                                                                                    else 7)))
    widths = projector.widths
    if projector.merger:  # Mistral 3's patch merger: merge x merge patches side by side to the tower's width
        out.append(("projector.merger", "projector", 1, linear(fed, tower.d_model * projector.merge ** 2,
                                                               tower.d_model), 0))
    for name, d_in, d_out in zip(projector.linear_names(), widths, widths[1:]):
        out.append((name, "projector", 1, linear(fed, d_in, d_out), fed * d_out if projector.bias else 0))
    return out


def count_flops_with_images(model: ModelSpec, seq: int, images: int, batch: int = 1, attention: str = "causal",
                            decode: bool = False, include_other: bool = True, height: int | None = None,
                            width: int | None = None) -> FlopCount:
    """A forward pass of a vision-language model over `seq` text tokens and `images` images of height x width per
    sequence: the images' tokens join the language model's sequence (or, where layers cross-attend to the images,
    Mllama, are what those layers attend to), and a prefill also encodes every image (vision tower and projector,
    `vision_flop_rows`); a decode step runs the language model only (the images were encoded at prefill)."""
    tower = model.vision
    per_image = image_tokens(tower, height, width)
    if model.cross_attends_images:  # the images' tokens are what its cross-attention layers attend to
        forward = count_flops(model, seq, batch, attention, decode, include_other, image_source=images * per_image)
    else:
        forward = count_flops(model, seq + images * per_image, batch, attention, decode, include_other)
    rows = forward.rows
    if images and not decode:
        rows += tuple(FlopRow(name, group, layers, batch * images * matmul, batch * images * other)
                      for name, group, layers, matmul, other in vision_flop_rows(tower, height, width))
    return dataclasses.replace(forward, rows=rows, images=images, image_tokens=per_image)
