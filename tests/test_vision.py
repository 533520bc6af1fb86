"""Vision-language models: a spec's vision section (the vision tower and the projector), the tokens an image becomes,
and the options that put images before such a model (`flops --images`, `memory --images`). The counts and FLOPs
against transformers are in test_hf_crosscheck.py; the smart_resize rule against its code there too."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc import api
from llmcalc.cli import cli
from llmcalc.errors import LlmcalcError, SpecError
from llmcalc.formulas.flops import count_flops
from llmcalc.formulas.kv import kv_cache
from llmcalc.formulas.params import count_params
from llmcalc.formulas.vision import count_flops_with_images, image_tokens, smart_resize, window_pairs

from conftest import MINIMAL

# LLaVA-1.5-7B's tower and projector (llava-hf/llava-1.5-7b-hf config.json: CLIP ViT-L/14-336, feature layer -2,
# strategy default) on a small language model
CLIP_L_336 = """
vision:
  d_model: 1024
  n_layers: 24
  image_size: 336
  patch_size: 14
  class_token: true
  pre_norm: true
  drop_class_token: true
  attention: {n_heads: 16, bias: true}
  mlp: {activation: gelu, d_ff: 4096, bias: true}
  norm: {kind: layernorm}
  projector: {d_hidden: 64}
"""

QWEN_VL = """
vision:
  d_model: 32
  n_layers: 4
  image_size: 28
  patch_size: 14
  temporal_patch: 2
  position: rope
  window: 8
  full_layers: [3]
  resize: smart
  min_pixels: 3136
  max_pixels: 1003520
  attention: {n_heads: 2, bias: true}
  mlp: {activation: swiglu, d_ff: 64, bias: true}
  norm: {kind: rmsnorm, final: false}
  projector: {merge: 2, d_hidden: 128, norm: rmsnorm}
"""


@pytest.fixture
def llava(write_spec):
    return llmcalc.load(str(write_spec("llava", MINIMAL + CLIP_L_336)))


@pytest.fixture
def qwen_vl(write_spec):
    return llmcalc.load(str(write_spec("qwen-vl", MINIMAL + QWEN_VL)))


def test_llava_1_5_image_is_576_tokens_whatever_its_size(llava):
    """(336 / 14)^2 = 576 patches; the class token is the first token, dropped by the default feature selection
    (llava/modeling_llava.py get_image_features: selected_image_feature[:, 1:])."""
    assert image_tokens(llava.vision) == 576
    assert image_tokens(llava.vision, 1080, 1920) == 576  # CLIPImageProcessor resizes and crops to 336 x 336


def test_llava_tower_counts_as_clip_vit_l_336(llava):
    """CLIP ViT-L/14-336's vision model has 303,507,456 parameters (CLIPVisionModel in transformers 5.23.0, as
    LlavaForConditionalGeneration holds it); the projector 1024 x 64 + 64 and 64 x 64 + 64."""
    count = count_params(llava)
    assert sum(r.total for r in count.rows if r.group == "vision") == 303_507_456
    assert sum(r.total for r in count.rows if r.group == "projector") == 1024 * 64 + 64 + 64 * 64 + 64
    assert count.total == sum(r.total for r in count.rows)


def test_a_model_without_vision_counts_as_before(write_spec):
    count = count_params(llmcalc.load(str(write_spec("plain", MINIMAL))))
    assert {r.group for r in count.rows} <= {None, "layers"}


def test_smart_resize_rules():
    """qwen2_vl/image_processing_qwen2_vl.py smart_resize (factor 28, min 56 x 56, max 28 x 28 x 1280): sides rounded
    to multiples of 28; a 1080p frame is scaled down into max_pixels keeping its aspect; a tiny image scaled up."""
    assert smart_resize(336, 336, 28, 3136, 1003520) == (336, 336)
    assert smart_resize(1080, 1920, 28, 3136, 1003520) == (728, 1316)  # sqrt(1080 x 1920 / 1003520) = 1.4375
    assert smart_resize(10, 10, 28, 3136, 1003520) == (56, 56)
    assert smart_resize(30, 100, 28, 3136, 1003520) == (28, 112)  # 28 x 112 is min_pixels exactly: kept


def test_qwen_vl_image_tokens(qwen_vl):
    """(h / 14) x (w / 14) patches after smart_resize, 2 x 2 of them merged into one token."""
    assert image_tokens(qwen_vl.vision, 336, 336) == 24 * 24 // 4 == 144
    assert image_tokens(qwen_vl.vision, 1080, 1920) == 52 * 94 // 4 == 1222
    assert image_tokens(qwen_vl.vision) == 4  # its image_size square, 28 x 28, scaled up to min_pixels: 56 x 56
    with pytest.raises(LlmcalcError, match="image_size: qwen-vl"):  # a size is needed, as the tokens follow it
        api.count_flops(qwen_vl, 16, images=1)
    assert api.count_flops(qwen_vl, 16, images=1, image_size=(336, 336)).seq == 16 + 144


def test_window_pairs_by_hand(qwen_vl):
    """A 6 x 10 grid of merged patches under windows of 4 x 4 of them (8 patches a side): windows of 4 and 2 rows, 4,
    4 and 2 columns, each patch-square of merge^2 = 4 patches: sum of (rows x cols x 4)^2."""
    tower = qwen_vl.vision
    expected = sum((r * c * 4) ** 2 for r in (4, 2) for c in (4, 4, 2))
    assert window_pairs(tower, 12, 20) == expected


def test_images_join_the_sequence_and_prefill_encodes_them(llava):
    text = count_flops(llava, 100 + 2 * 576)
    with_images = count_flops_with_images(llava, 100, 2)
    assert with_images.seq == 1252 and with_images.image_tokens == 576
    tower = sum(r.total for r in with_images.rows if r.group in ("vision", "projector"))
    assert tower > 0 and with_images.total == text.total + tower
    decode = count_flops_with_images(llava, 100, 2, decode=True)
    assert decode.total == count_flops(llava, 1252, decode=True).total  # the images were encoded at prefill


def test_images_need_a_vision_tower(write_spec):
    plain = llmcalc.load(str(write_spec("plain", MINIMAL)))
    with pytest.raises(LlmcalcError, match="no vision tower"):
        api.count_flops(plain, 16, images=1)
    runner = CliRunner()
    result = runner.invoke(cli, ["flops", str(write_spec("plain", MINIMAL)), "--images", "1"])
    assert result.exit_code == 2 and "vision tower" in result.output


def test_flops_and_memory_options(llava):
    runner = CliRunner()
    path = llava.origin
    result = runner.invoke(cli, ["flops", path, "--context", "100", "--images", "2", "--image-size", "480x640",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    doc = document["models"][0] if "models" in document else document
    assert doc["context"] == 1252 and doc["images"]["tokens_per_image"] == 576
    assert runner.invoke(cli, ["flops", path, "--image-size", "480x640"]).exit_code == 2  # needs --images
    assert runner.invoke(cli, ["flops", path, "--images", "1", "--image-size", "480by640"]).exit_code == 2
    plain = runner.invoke(cli, ["memory", path, "--context", "100", "--format", "json"])
    images = runner.invoke(cli, ["memory", path, "--context", "100", "--images", "3", "--format", "json"])
    assert plain.exit_code == 0 and images.exit_code == 0, images.output
    per_token = kv_cache(llava, 1).bytes
    grown = kv_cache(llava, 100 + 3 * 576).bytes - kv_cache(llava, 100).bytes
    assert grown == 3 * 576 * per_token and str(kv_cache(llava, 100 + 3 * 576).bytes) in images.output
    training = runner.invoke(cli, ["memory", path, "--mode", "training", "--images", "1"])
    assert training.exit_code == 2 and "--images" in training.output


def test_count_shows_the_tower_and_projector(llava):
    result = CliRunner().invoke(cli, ["count", llava.origin])
    assert result.exit_code == 0
    assert "vision tower" in result.output and "projector" in result.output and "patch embedding" in result.output
    document = json.loads(CliRunner().invoke(cli, ["count", llava.origin, "--format", "json"]).output)
    doc = document["models"][0] if "models" in document else document
    assert [g["name"] for g in doc["vision"]] == ["vision", "projector"]
    assert sum(g["params"] for g in doc["vision"]) + sum(g["params"] for g in doc["groups"]) \
        + sum(c["params"] for c in doc["components"]) == doc["params"]["total"]


@pytest.mark.parametrize("command", [["explain"], ["diagram"], ["compare", "gpt2-small"], ["show"],
                                     ["memory", "--mode", "training"], ["verify"]])
def test_other_commands_take_a_vision_model(llava, command):
    result = CliRunner().invoke(cli, [command[0], llava.origin, *command[1:]])
    assert result.exit_code == 0, result.output


def test_interpolated_positions_are_a_table_of_position_rows(write_spec):
    """position: interpolated (Qwen3.5): position_rows x d_model parameters whatever the image, smart resizing allowed,
    and 8 FLOPs per patch and width to resample and add them (no matmul); rope has neither."""
    rope = llmcalc.load(str(write_spec("rope", MINIMAL + QWEN_VL)))
    table = llmcalc.load(str(write_spec("table", MINIMAL + QWEN_VL.replace(
        "position: rope", "position: interpolated\n  position_rows: 9"))))
    assert count_params(table).total - count_params(rope).total == 9 * 32
    with_rope, with_table = (count_flops_with_images(m, 10, images=1, height=56, width=84) for m in (rope, table))
    assert with_table.matmul == with_rope.matmul
    assert with_table.total - with_rope.total == 8 * (56 // 14) * (84 // 14) * 32


@pytest.mark.parametrize("change, key, needle", [
    (("window: 8", "window: 7"), "vision.window", "multiple of"),
    (("full_layers: [3]", "full_layers: [4]"), "vision.full_layers", "0 to 3"),
    (("min_pixels: 3136", "min_pixels: 2000000"), "vision.min_pixels", "more than max_pixels"),
    (("position: rope", "position: learned"), "vision.resize", "position: rope"),
    (("merge: 2", "merje: 2"), "vision.projector.merje", "merge"),
    (("position: rope", "position: interpolated"), "vision.position_rows", "position: interpolated"),
    (("position: rope", "position: rope\n  position_rows: 16"), "vision.position_rows", "only then"),
    (("position: rope", "position: interpolated\n  position_rows: 0"), "vision.position_rows", ">= 1"),
    (("kind: rmsnorm, final: false", "kind: rmsnorm, placement: post"), "vision.norm.placement", "pre"),
    (("resize: smart", "resize: smart\n  row_break: true"), "vision.row_break", "resize: longest"),
    (("norm: rmsnorm}", "norm: rmsnorm, merger: 1}"), "vision.projector.merger", "true or false"),
])
def test_bad_vision_sections(write_spec, change, key, needle):
    path = write_spec("bad", MINIMAL + QWEN_VL.replace(*change))
    with pytest.raises(SpecError) as info:
        llmcalc.load(str(path))
    assert info.value.key == key and needle in str(info.value)


def test_longest_edge_resize_and_row_breaks(write_spec):
    """resize: longest (Pixtral's processor for Mistral 3): scaled down to fit image_size, never up, sides rounded up
    to multiples of patch x merge; row_break adds a token per row of merged patches; merger adds its bias-free
    Linear(d x merge^2, d) before linear_1 (d_in the tower's width). The processor itself: test_hf_crosscheck.py."""
    pixtral = QWEN_VL.replace("  temporal_patch: 2\n", "").replace("  window: 8\n  full_layers: [3]\n", "").replace(
        "resize: smart\n  min_pixels: 3136\n  max_pixels: 1003520", "resize: longest\n  row_break: true").replace(
        "image_size: 28", "image_size: 112").replace("norm: rmsnorm}", "norm: rmsnorm, merger: true}")
    model = llmcalc.load(str(write_spec("pixtral", MINIMAL + pixtral)))
    tower = model.vision
    assert image_tokens(tower) == 4 * (4 + 1)  # 112 / 28 merged patches a side, a break after each row
    assert image_tokens(tower, 30, 300) == 1 * (4 + 1)  # scaled to 11 x 112: one row of 28 (rounded up)
    assert image_tokens(tower, 20, 30) == 1 * (2 + 1)  # never scaled up: 28 x 56
    rows = {r.component: r.total for r in count_params(model).rows}
    assert rows["projector.merger"] == 32 * 4 * 32 and rows["projector.linear_1"] == 32 * 128 + 128
    assert api.count_flops(model, 16, images=1, image_size=(30, 300)).seq == 16 + 5
    with pytest.raises(LlmcalcError, match="side under one pixel"):  # 1 x 200 scaled by 112 / 200: 0 pixels high
        api.count_flops(model, 16, images=1, image_size=(1, 200))


def test_explain_tells_the_image_side_apart(llava, write_spec):
    """An images aspect when a model has a vision tower (and only then); the language model's aspects count the
    language model's parameters, not the tower's biases and norms."""
    plain = llmcalc.load(str(write_spec("plain", MINIMAL)))
    aspects = {a.aspect: a for a in llmcalc.explain([llava, plain]).aspects}
    images = aspects["vision"]
    assert images.values[0].endswith("576 tokens per image") and images.values[1] == "none"
    assert images.figures == (sum(r.total for r in count_params(llava).rows if r.group in ("vision", "projector")), 0)
    assert aspects["biases"].figures[0] == 0 and aspects["norm"].figures == aspects["norm"].figures[1:] * 2
    assert "vision" not in {a.aspect for a in llmcalc.explain([plain]).aspects}


def test_compare_names_the_tower_rows_apart(llava):
    """The tower's layer components are not the language model's: compare labels them 'vision ...'."""
    result = CliRunner().invoke(cli, ["compare", llava.origin, "gpt2-small"])
    assert result.exit_code == 0
    assert "vision attention q" in result.output and "projector linear 1" in result.output


def test_csv_records_name_the_tower_groups(llava):
    import csv
    import io

    out = CliRunner().invoke(cli, ["count", llava.origin, "--format", "csv"]).output
    rows = list(csv.DictReader(io.StringIO(out)))
    tower = [r for r in rows if r["group"] in ("vision", "projector")]
    assert {r["group"] for r in tower} == {"vision", "projector"}
    assert sum(int(r["params"]) for r in rows) == count_params(llava).total
