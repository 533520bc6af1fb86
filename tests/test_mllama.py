"""Llama 3.2 Vision (model_type mllama): layers that cross-attend to the images in place of self-attention
(attention.source: images), the tiled vision tower, and what images cost such a model: FLOPs of a prefill and of a
decode step with images, and the images' K and V its cross-attention layers cache, against transformers 5.23.0 on
tiny eager models (the parameter counts and the text-only FLOPs and cache are in test_hf_crosscheck.py's GENERATORS).
"""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.errors import SpecError
from llmcalc.formulas.flops import count_flops
from llmcalc.formulas.kv import kv_cache
from llmcalc.formulas.params import count_params
from llmcalc.formulas.vision import count_flops_with_images, image_tokens

from conftest import MINIMAL

# a tiny Mllama-shaped spec: layer 1 of 2 cross-attends to the images of a 2-layer tower of 2 tiles
SPEC = MINIMAL + """
layers:
  - {count: 1}
  - {count: 1, name: cross, attention: {qk_norm: rmsnorm, source: images}}
vision:
  d_model: 16
  n_layers: 2
  global_layers: 1
  image_size: 8
  patch_size: 4
  class_token: true
  pre_norm: true
  tiles: 2
  aspect_ratios: 3
  pad_multiple: 8
  attention: {n_heads: 2}
  mlp: {activation: gelu, d_ff: 24, bias: true}
  norm: {kind: layernorm}
  projector: {d_in: 32}
"""


@pytest.fixture
def mllama(write_spec):
    return llmcalc.load(str(write_spec("tiny-mllama", SPEC)))


def test_an_image_is_its_tiles_of_patches_and_class_token(mllama):
    """2 tiles x ((8 / 4)^2 + 1) = 10 tokens, whatever the image's size (the processor pads to max_num_tiles)."""
    assert image_tokens(mllama.vision) == 2 * (2 * 2 + 1) == image_tokens(mllama.vision, 1080, 1920)


def test_cross_attention_layers_cache_the_images_not_the_tokens(mllama):
    """The cross-attention layer holds K and V of every image token per sequence, whatever the context; nothing per
    text token, and nothing without images."""
    per_token = 2 * mllama.layers[0].attention.n_kv_heads * mllama.layers[0].attention.d_head
    for context in (1, 100):
        cache = kv_cache(mllama, context, batch=3, dtype="fp32", images=2)
        assert cache.elements_per_token == per_token  # the self-attention layer's only
        assert cache.image_bytes_per_sequence == 4 * per_token * 2 * 10
        assert cache.bytes == 4 * 3 * (per_token * context + per_token * 2 * 10)
    assert kv_cache(mllama, 100).image_bytes_per_sequence == 0
    assert [g.name for g in mllama.groups] == ["self-attention", "cross"]


def test_without_images_the_cross_attention_layers_are_skipped(mllama):
    """As MllamaTextModel.forward skips them; with images they attend to the images' tokens only, the text sequence
    stays its own length, and a prefill adds encoding the images."""
    text = count_flops(mllama, 16)
    assert not text.group_rows("cross")
    with_images = count_flops_with_images(mllama, 16, 3)
    assert with_images.seq == 16 and with_images.image_tokens == 10
    scores = sum(r.matmul for r in with_images.group_rows("cross") if r.component == "xattn.scores")
    assert scores == 2 * 16 * 30 * 4 * 16  # 16 queries x 30 image tokens x 4 heads x d_head 16
    assert sum(r.total for r in with_images.rows if r.group in ("vision", "projector")) > 0
    decode = count_flops_with_images(mllama, 16, 3, decode=True)
    assert not [r for r in decode.rows if r.component in ("xattn.k", "xattn.v") or r.group == "vision"]


def test_params_of_the_cross_attention_layer_and_the_tower(mllama):
    count = count_params(mllama)
    cross = {r.component: r.total for r in count.group_rows("cross")}
    assert cross["xattn.qk_norm"] == 2 * 16 and cross["xattn.gates"] == 2
    assert "attn.q" not in cross and "norm.pre_xattn" in cross
    rows = {r.component: r.total for r in count.rows if r.group == "vision"}
    assert rows["vision.tile_position"] == 4 * 2 * 5 * 16 + 2 * 4 * 2 * 16 and rows["vision.gates"] == 3
    assert rows["vision.global.gates"] == 2 and rows["vision.global.attn.q"] == 256


def test_memory_images_add_the_cross_attention_cache_not_context(mllama):
    runner = CliRunner()
    def document(output: str) -> dict:
        loaded = json.loads(output)
        return loaded["models"][0] if "models" in loaded else loaded

    plain = document(runner.invoke(cli, ["memory", mllama.origin, "--context", "100", "--format", "json"]).output)
    result = runner.invoke(cli, ["memory", mllama.origin, "--context", "100", "--images", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    images = document(result.output)
    assert images["settings"]["context"] == plain["settings"]["context"] == 100 and images["settings"]["images"] == 2
    grown = kv_cache(mllama, 100, images=2).bytes - kv_cache(mllama, 100).bytes
    assert grown == kv_cache(mllama, 1, images=2).image_bytes_per_sequence > 0
    assert str(kv_cache(mllama, 100, images=2).bytes) in result.output
    flops = runner.invoke(cli, ["flops", mllama.origin, "--context", "16", "--images", "1"])
    assert flops.exit_code == 0 and "cross-attention layers attend to" in flops.output


def test_memory_images_are_counted_without_an_engine(mllama, write_spec):
    from llmcalc import api
    from llmcalc.errors import LlmcalcError

    with pytest.raises(LlmcalcError, match="without an engine"):
        api.estimate_memory(mllama, images=1, engine="llamacpp")
    with pytest.raises(LlmcalcError, match="without an engine"):
        api.estimate_memory(mllama, images=1, mode="training")
    llava = llmcalc.load(str(write_spec("llava-like", SPEC.replace("source: images", "source: self"))))
    with pytest.raises(LlmcalcError, match="join its sequence"):
        api.estimate_memory(llava, images=1)
    result = CliRunner().invoke(cli, ["memory", mllama.origin, "--images", "1", "--engine", "llamacpp"])
    assert result.exit_code == 2 and "without an engine" in result.output


@pytest.mark.parametrize("command", [["count"], ["explain"], ["diagram"], ["compare", "gpt2-small"], ["show"],
                                     ["memory", "--mode", "training"], ["speed"], ["fit"], ["verify"],
                                     ["sweep", "--vary", "context=1k..4k"], ["plan", "--n-gpus", "8"]])
def test_every_command_takes_it(mllama, command):
    result = CliRunner().invoke(cli, [command[0], mllama.origin, *command[1:]])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("change, key, needle", [
    (("source: images}}", "source: images, sliding_window: 4}}"), "layers[1].attention.source", "every image token"),
    (("source: images}}", "source: imagez}}"), "layers[1].attention.source", "allowed: self, images"),
    (("vision:", "input_vocab_size: 300\ntied_embeddings: true\nvision:"), "input_vocab_size", "tied"),
    (("global_layers: 1", "global_layers: -1"), "vision.global_layers", ">= 0"),
    (("pad_multiple: 8", "pad_multiple: 0"), "vision.pad_multiple", ">= 1"),
    (("tiles: 2", "tiles: 2.5"), "vision.tiles", "whole number"),
    (("tiles: 2", "tiles: 2\n  resize: smart\n  position: rope\n  min_pixels: 1\n  max_pixels: 9"), "vision.tiles",
     "resize: fixed"),
])
def test_bad_image_layers(write_spec, change, key, needle):
    with pytest.raises(SpecError) as info:
        llmcalc.load(str(write_spec("bad", SPEC.replace(*change))))
    assert info.value.key == key and needle in str(info.value), str(info.value)


# Llama 3.2 11B Vision's architecture values (meta-llama/Llama-3.2-11B-Vision's config.json; the file itself is not
# kept in tests/data/hf_configs: only these values are, the ones that shape the model)
LLAMA_3_2_11B_VISION = {
    "model_type": "mllama",
    "text_config": {"vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 40,
                    "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
                    "cross_attention_layers": [3, 8, 13, 18, 23, 28, 33, 38]},
    "vision_config": {"hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32, "num_global_layers": 8,
                      "attention_heads": 16, "image_size": 560, "patch_size": 14, "max_num_tiles": 4,
                      "vision_output_dim": 7680, "intermediate_layers_indices": [3, 7, 15, 23, 30]},
}
LLAMA_3_2_11B_VISION_TOTAL = 10_670_220_835  # transformers 5.23.0's num_parameters() of that config (tested below)


def test_llama_3_2_11b_vision_shape(tmp_path):
    """10.67B: the language model with its 8 cross-attention layers, 895.0M in the tower and projector; an image is
    4 x (40^2 + 1) = 6,404 tokens, whose K and V take 8 layers x 2 x 8 heads x 128 x 2 bytes = 32 KiB per token."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_3_2_11B_VISION))
    model = llmcalc.load(str(path))
    count = count_params(model)
    assert count.total == LLAMA_3_2_11B_VISION_TOTAL
    # the patch conv 3 x 14^2 x 1280, class token, 1,601 positions x 1280, tile positions 9 x 4 x 1,601 x 1280 and
    # 2 x 9 x 4 x 1280, 3 gates, 2 LayerNorms, 32 + 8 layers of 19,672,320 (+ 2 gates on the global ones), the
    # projector 7680 x 4096 + 4096
    tower = (752_640 + 1_280 + 2_049_280 + 73_774_080 + 92_160 + 3 + 5_120 + 40 * 19_672_320 + 8 * 2
             + 31_461_376)
    assert sum(r.total for r in count.rows if r.group in ("vision", "projector")) == tower == 895_028_755
    assert image_tokens(model.vision) == 6404
    assert kv_cache(model, 1, images=1).image_bytes_per_sequence == 6404 * 8 * 2 * 8 * 128 * 2


def test_image_layers_need_a_vision_section(write_spec):
    with pytest.raises(SpecError, match="with a vision section"):
        llmcalc.load(str(write_spec("bad", SPEC.split("vision:")[0])))


# ----------------------------------------------------------------------------- against transformers

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _cases(tmp_path, salt: str):
    """Tiny random Mllama models (test_hf_crosscheck's generator), with images: (llmcalc's model, the transformers
    model, batch, text tokens, images per sequence, the prefill's inputs)."""
    from test_hf_crosscheck import _small, imported, random_configs, tiny_model

    rng = random.Random(f"llmcalc-mllama-{salt}")
    for case, config in enumerate(random_configs("mllama", 5, salt=f"-{salt}")):
        config = _small(config)
        model = imported(config, tmp_path, f"mllama-{case}.json")
        tower = model.vision
        batch, seq, images = rng.choice([1, 2]), rng.randint(1, 9), rng.randint(1, 2)
        inputs = {"input_ids": torch.randint(0, model.vocab_size, (batch, seq)),
                  "pixel_values": torch.randn(batch, images, tower.tiles, tower.channels, tower.image_size,
                                              tower.image_size),
                  "aspect_ratio_ids": torch.ones(batch, images, dtype=torch.long),
                  "aspect_ratio_mask": torch.ones(batch, images, tower.tiles, dtype=torch.long),
                  "cross_attention_mask": torch.ones(batch, seq, images, tower.tiles, dtype=torch.long)}
        yield config, model, tiny_model(config), batch, seq, images, inputs


def _mask_products(model, batch: int, images: int) -> int:
    """MllamaVisionModel builds its attention mask as an outer product, mask @ mask^T, a bmm of inner size 1 over
    the padded tokens of each image that FlopCounterMode counts (2 x length^2): building a mask, not model
    compute, which llmcalc does not count."""
    tower = model.vision
    length = tower.tiles * -(-(tower.grid ** 2 + 1) // tower.pad_multiple) * tower.pad_multiple
    return batch * images * 2 * length * length


def test_mllama_forward_with_images_flops_match_flop_counter(tmp_path):
    """A prefill with images (the tower, the projector, the text layers and the cross-attention layers over the
    images' tokens), then one decode step with the cache (the images' K and V cached, no image encoded): torch's
    FlopCounterMode against llmcalc's matmul FLOPs under --attention full. The decode step is not compared where
    layer 0 cross-attends: transformers 5.23.0 takes the cache's length from layer 0 (Cache.get_seq_length), which
    there holds the images' tokens, and builds a mask of the wrong length (Llama 3.2 Vision's first cross-attention
    layer is layer 3)."""
    from torch.utils.flop_counter import FlopCounterMode

    decoded = 0
    for config, model, hf_model, batch, seq, images, inputs in _cases(tmp_path, "flops"):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            output = hf_model(**inputs, use_cache=True)
        ours = count_flops_with_images(model, seq, images, batch, "full", include_other=False).matmul
        assert ours + _mask_products(model, batch, images) == counter.get_total_flops(), json.dumps(config)
        if model.layers[0].attention.to_images:
            continue
        decoded += 1
        step = {"input_ids": inputs["input_ids"][:, -1:], "past_key_values": output.past_key_values,
                "cross_attention_mask": inputs["cross_attention_mask"][:, -1:], "use_cache": True}
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            hf_model(**step)
        ours = count_flops_with_images(model, seq, images, batch, "full", decode=True, include_other=False).matmul
        assert ours == counter.get_total_flops(), json.dumps(config)
    assert decoded


def test_mllama_cache_holds_the_images_tokens(tmp_path):
    """After a prefill with images, the cache's keys and values are llmcalc's kv_cache with those images (fp32)."""
    for config, model, hf_model, batch, seq, images, inputs in _cases(tmp_path, "kv"):
        with torch.no_grad():
            cache = hf_model(**inputs, use_cache=True).past_key_values
        tensors = [t for layer in cache.layers for t in (layer.keys, layer.values) if t is not None]
        ours = kv_cache(model, seq, batch, "fp32", images=images).bytes
        assert sum(t.numel() * t.element_size() for t in tensors) == ours, json.dumps(config)


def test_llama_3_2_11b_vision_counts_like_transformers():
    with torch.device("meta"):
        model = transformers.AutoModelForImageTextToText.from_config(
            transformers.AutoConfig.for_model(**json.loads(json.dumps(LLAMA_3_2_11B_VISION))))
    assert model.num_parameters() == LLAMA_3_2_11B_VISION_TOTAL


def test_image_tokens_follow_the_processor(tmp_path):
    """MllamaImageProcessorPil pads every image to max_num_tiles tiles of image_size, whatever its size; each tile is
    (image_size / patch_size)^2 patches and a class token: 4 x (40^2 + 1) = 6,404 for Llama 3.2 11B Vision's 560."""
    import numpy as np
    from transformers.models.mllama.image_processing_pil_mllama import MllamaImageProcessorPil

    from test_hf_crosscheck import imported

    config = {"model_type": "mllama", "vision_config": {"image_size": 560}}
    tower = imported(config, tmp_path).vision
    processor = MllamaImageProcessorPil(size={"height": 560, "width": 560}, max_image_tiles=4)
    rng = random.Random("llmcalc-mllama-tiles")
    for _ in range(4):
        height, width = rng.randint(20, 2500), rng.randint(20, 2500)
        pixels = processor(images=[[np.zeros((height, width, 3), dtype=np.uint8)]], return_tensors="np")
        tiles = pixels["pixel_values"].shape[2]
        assert image_tokens(tower, height, width) == tiles * ((560 // 14) ** 2 + 1) == 6404, (height, width)


def test_check_maps_the_cross_attention_layers_of_a_saved_checkpoint(tmp_path):
    """`check` against a tiny Mllama saved by transformers: every language-model tensor, the cross-attention layers'
    q, k, v, o, q/k norms, gates and their input_layernorm included, equals the spec's; so does each component of the
    vision tower (its gated global layers and tile position embeddings too) and of the projector, 8,573 parameters
    here."""
    from test_hf_import import CASES

    config = json.loads(json.dumps(CASES["mllama"][0]))
    config["text_config"]["pad_token_id"] = 0  # within the small vocabulary (transformers asserts it)
    hf_model = transformers.AutoModelForImageTextToText.from_config(transformers.AutoConfig.for_model(**config))
    hf_model.to(torch.bfloat16).save_pretrained(tmp_path / "tiny-mllama")
    folder = tmp_path / "tiny-mllama"
    result = CliRunner().invoke(cli, ["check", str(folder / "config.json"), str(folder / "model.safetensors"),
                                      "--format", "json"])
    doc = json.loads(result.output)
    assert doc["summary"] == {"equal": 50, "different": 0, "missing": 0, "extra": 0, "elsewhere": 0, "unused": 0}
    tower = sum(r.total for r in count_params(llmcalc.load(str(folder / "config.json"))).rows
                if r.group in ("vision", "projector"))
    compared = [r for r in doc["results"] if r["component"].startswith(("vision.", "projector."))]
    assert sum(r["checkpoint"] for r in compared) == sum(r["spec"] for r in compared) == tower == 8573
    assert {"vision.global.gates", "vision.tile_position", "projector.linear"} <= {r["component"] for r in compared}
    assert {r["component"] for r in doc["results"] if r["group"] == "cross-attention"} >= {
        "xattn.q", "xattn.k", "xattn.v", "xattn.o", "xattn.qk_norm", "xattn.gates", "norm.pre_attn"}

