"""A vision-language model's image side: the vision tower (a ViT) and the projector into the language model, frozen
like the rest of the model (``llmcalc.model`` names them; ``llmcalc.spec.vision`` builds them, ``llmcalc.formulas.
vision`` and ``llmcalc.formulas.params`` count them).

May import: llmcalc.records (a tower's `layer` and `norm` are ``llmcalc.model``'s Layer and Norm: annotations only,
never evaluated, so this module need not import the model that imports it).
"""

from __future__ import annotations

from .records import record

VISION_POSITIONS = ("learned", "rope", "interpolated")
# every image resized to image_size (LLaVA), Qwen2-VL's smart_resize, or Pixtral's longest edge within image_size
IMAGE_RESIZES = ("fixed", "smart", "longest")


@record
class Projector:
    """The multimodal projector from the vision tower to the language model: an optional norm over the tower's width,
    then Linear(d_in, d_hidden), an activation and Linear(d_hidden, d_out) (LLaVA's two layers with GELU; Qwen2.5-VL's
    patch merger, whose input is `merge` x `merge` neighbouring patches side by side), or one Linear(d_in, d_out)
    when d_hidden is None (Mllama); with n_hidden 2, three (Llama 4's pixel-shuffle adapter fc1 and fc2, then its
    projector's linear_1), the activation after each hidden layer. ``pool``: the patch grid is average-pooled by a
    pool x pool kernel first, its stride the kernel (nn.AvgPool2d), and the norm runs on the pooled tokens (Gemma 3's
    projector); 0 is the kernel a config can give that no image can pass (a grid smaller than the tokens' side).
    ``merger``: the merge x merge patches side by side first go through a bias-free Linear(tower width x merge^2,
    tower width) (Mistral 3's patch merger), so the linear layers start from the tower's width (d_in)."""

    d_in: int
    d_out: int
    d_hidden: int | None = None
    activation: str = "gelu"
    bias: bool = True
    merge: int = 1
    norm: str | None = None
    pool: int = 1
    n_hidden: int = 1  # hidden layers of d_hidden (Llama 4's adapter fc1, fc2, then linear_1: 2)
    merger: bool = False  # Mistral 3's patch merger: Linear(tower width x merge^2 -> tower width), no bias, first

    @property
    def widths(self) -> tuple[int, ...]:
        """The widths its linear layers map between, in order: d_in, d_hidden n_hidden times, d_out."""
        return (self.d_in, self.d_out) if self.d_hidden is None else \
            (self.d_in, *(self.d_hidden,) * self.n_hidden, self.d_out)

    def linear_names(self) -> tuple[str, ...]:
        """The components of its linear layers: `projector.linear` alone, else `projector.linear_1`, `_2`, ..."""
        n = len(self.widths) - 1
        return ("projector.linear",) if n == 1 else tuple(f"projector.linear_{i}" for i in range(1, n + 1))


@record
class VisionTower:
    """A ViT image encoder (Dosovitskiy et al. 2021) in front of the language model, and its projector: a patch
    embedding (a convolution of patch x patch pixels, x temporal_patch frames), an optional class token, learned
    position embeddings or 2-D RoPE, optional norms before and after its identical layers, SigLIP's attention-pooling
    head. ``window``: the side, in patches, of the windows its layers attend within, except ``full_layers``
    (Qwen2.5-VL). How an image becomes tokens: ``resize`` fixed (to image_size, LLaVA), smart (Qwen2-VL's
    smart_resize between min_pixels and max_pixels) or longest (Pixtral's: scaled down so its longest edge fits
    image_size, each side then rounded up to a multiple of patch x merge); ``row_break``: one more token per row of
    merged patches (Pixtral's [IMG_BREAK] after each row, the last one [IMG_END]); ``drop_class_token``: the first
    token is not passed on (LLaVA's default feature selection, a patch when the tower has no class token). Mllama's
    tiles: an image is cut into at most ``tiles`` image_size squares (the processor pads it to that many), each its
    patches and class token; with ``aspect_ratios`` (the supported tile layouts) gated tile position embeddings (pre-
    and post-tile, one per tile and layout, and one per patch, tile and layout); each tile's tokens padded to a
    multiple of ``pad_multiple`` before the layers; ``global_layers`` gated layers (tanh gates on attention and MLP)
    after the post norm. ``position`` interpolated: a learned table of ``position_rows`` positions (a square grid)
    resampled bilinearly to each image's patch grid and added to the patches, with 2-D RoPE in the layers (Qwen3.5's
    Qwen3_5VisionModel)."""

    d_model: int
    n_layers: int
    layer: Layer
    norm: Norm
    projector: Projector
    image_size: int
    patch_size: int
    channels: int = 3
    temporal_patch: int = 1
    patch_bias: bool = False
    class_token: bool = False
    position: str = "learned"
    pre_norm: bool = False
    pool_head: bool = False
    window: int | None = None
    full_layers: tuple[int, ...] = ()
    resize: str = "fixed"
    min_pixels: int = 0
    max_pixels: int = 0
    drop_class_token: bool = False
    tiles: int = 1
    aspect_ratios: int = 0
    global_layers: int = 0
    pad_multiple: int = 1
    position_rows: int = 0  # position "interpolated": the rows of the learned table
    row_break: bool = False  # a token after each row of merged patches (Pixtral's [IMG_BREAK], the last [IMG_END])

    @property
    def grid(self) -> int:
        """Patches per side of an image_size x image_size image."""
        return self.image_size // self.patch_size
