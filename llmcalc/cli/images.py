"""--images and --image-size: the options of `flops` and `memory` that put images before a vision-language model
(a spec with a vision section): their tokens join each sequence, and a prefill encodes them."""

from __future__ import annotations

import re
from typing import Callable

import click

_SIZE = re.compile(r"\s*(\d{1,7})\s*[xX×]\s*(\d{1,7})\s*")


class ImageSize(click.ParamType):
    """HEIGHTxWIDTH in pixels, e.g. 1080x1920."""

    name = "HxW"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        match = _SIZE.fullmatch(str(value))
        if not match or not all(int(side) for side in match.groups()):
            self.fail(f"{value!r} is not HEIGHTxWIDTH in whole pixels, e.g. 1080x1920", param, ctx)
        return int(match.group(1)), int(match.group(2))


def image_options(function: Callable) -> Callable:
    function = click.option("--image-size", type=ImageSize(), help="Each image's HEIGHTxWIDTH in pixels before the "
                            "preprocessor resizes it (LLaVA: any size becomes its image_size square; Qwen2.5-VL: "
                            "smart_resize; Mistral 3: its longest edge within image_size). Default: the tower's "
                            "image_size square.")(function)
    return click.option("--images", type=click.IntRange(min=0), default=0, show_default=True,
                        help="Images per sequence (a vision-language model): their tokens join the sequence, and a "
                             "forward pass encodes them.")(function)


def check_image_options(model, images: int, image_size) -> None:
    """--image-size needs --images; either needs a model with a vision tower (one usage line, not a traceback)."""
    if image_size and not images:
        raise click.UsageError("--image-size needs --images (how many images each sequence holds)")
    if images and model.vision is None:
        raise click.UsageError(f"--images applies to models with a vision tower; {model.name} has none")
