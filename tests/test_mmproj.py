"""llama.cpp's multimodal projector files (`mmproj-*.gguf`, general.architecture "clip"): `count` maps every tensor
onto llmcalc's vision components, and `check CONFIG` holds the tower and projector rows of a llava or qwen2_5_vl
config.json against one, the language model's rows "elsewhere" (in the other GGUF file of the pair), and a GGUF of
the language model the other way round.

The files are written with gguf-py's GGUFWriter, their tensors generated from a tiny model transformers builds from
the config, renamed as llama.cpp's converters name them:
- LLaVA-1.5: tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py (docs/multimodal/llava.md; convert_hf_to_gguf.py
  --mmproj refuses it: its LlavaVisionModel takes Pixtral and Mistral 3 only): the tower's layers up to the feature
  layer (vision_feature_layer -2: all but the last), no post_layernorm, fc1 named ffn_down and fc2 ffn_up (clip.cpp's
  "is_ffn_swapped"), multi_modal_projector.linear_1 and linear_2 as mm.0 and mm.2, dims squeezed;
  clip.has_llava_projector and clip.vision.block_count (the layers kept) in the header.
- Qwen2.5-VL: convert_hf_to_gguf.py's Qwen2VLVisionModel (conversion/qwenvl.py): the fused qkv split into q, k and v,
  the Conv3d patch embedding split into its two frames (v.patch_embd.weight and v.patch_embd.weight.1), every other
  `visual.*` tensor by gguf-py's TensorNameMap for MODEL_ARCH.MMPROJ (merger.ln_q as v.post_ln, merger.mlp.0 and
  mlp.2 as mm.0 and mm.2).
- Gemma 3: conversion/gemma.py's Gemma3VisionModel: every `vision_tower.*` and `multi_modal_projector.*` tensor
  (SigLIP's pooling head dropped, none in Gemma 3), `_weight` written `.weight` (mm_input_projection_weight, a bare
  parameter of vision x text width), named by the TensorNameMap (mm.input_projection, mm.soft_emb_norm, v.post_ln);
  clip.vision.projector.scale_factor, the pooling kernel, where it is not 4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcalc.checkpoints import read
from llmcalc.checkpoints.names import gguf_component
from llmcalc.cli import cli

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

TEXT = dict(model_type="llama", vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2)
LLAVA = dict(model_type="llava", text_config=TEXT, vision_feature_layer=-2, vision_feature_select_strategy="default",
             vision_config=dict(model_type="clip_vision_model", hidden_size=16, num_attention_heads=2,
                                num_hidden_layers=3, intermediate_size=24, image_size=8, patch_size=4))
# the header keys of the legacy LLaVA converter that compare.py reads (clip.vision.block_count: the layers kept)
LLAVA_META = {"clip.has_llava_projector": True, "clip.projector_type": "mlp"}
QWEN = dict(model_type="qwen2_5_vl", vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2,
            vision_config=dict(depth=4, hidden_size=16, num_heads=2, intermediate_size=24, patch_size=4,
                               spatial_merge_size=2, temporal_patch_size=2, window_size=16, out_hidden_size=32,
                               fullatt_block_indexes=[1, 3]))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


GEMMA3 = dict(model_type="gemma3", text_config=dict(TEXT, model_type="gemma3_text", head_dim=8),
              vision_config=dict(model_type="siglip_vision_model", hidden_size=16, num_attention_heads=2,
                                 num_hidden_layers=3, intermediate_size=24, image_size=16, patch_size=4,
                                 vision_use_head=False),
              mm_tokens_per_image=4)


def model_of(config: dict):
    """The tiny transformers model of `config`, and its parameters by the Hub's names (no `model.` prefix)."""
    torch.manual_seed(0)
    if config["model_type"] == "gemma3":
        hf = transformers.AutoConfig.for_model(**json.loads(json.dumps(config)))
        model = transformers.Gemma3ForConditionalGeneration(hf)
    elif config["model_type"] == "llava":
        hf = transformers.LlavaConfig(text_config=config["text_config"], vision_config=config["vision_config"],
                                      vision_feature_layer=config["vision_feature_layer"])
        model = transformers.LlavaForConditionalGeneration(hf)
    else:
        hf = transformers.Qwen2_5_VLConfig(**{k: v for k, v in config.items() if k != "model_type"})
        model = transformers.Qwen2_5_VLForConditionalGeneration(hf)
    return model, {name.removeprefix("model."): p.detach() for name, p in model.named_parameters()}


def write(path: Path, arch: str, tensors: list[tuple[str, tuple[int, ...]]], meta: dict | None = None) -> Path:
    """A GGUF file by gguf-py's GGUFWriter: zero tensors of the given (torch-order) shapes, as the converters write
    them (GGUFWriter stores the dims innermost first)."""
    writer = gguf.GGUFWriter(str(path), arch)
    for key, value in (meta or {}).items():
        if isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        else:
            writer.add_string(key, value)
    for name, shape in tensors:
        writer.add_tensor(name, np.zeros(shape, dtype=np.float16 if len(shape) >= 2 else np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


MMPROJ_NAMES = gguf.get_tensor_name_map(gguf.MODEL_ARCH.MMPROJ, 64)
SWAPPED = {"ffn_up": "ffn_down", "ffn_down": "ffn_up"}  # the legacy converter names fc1 ffn_down, fc2 ffn_up


def llava_mmproj(params: dict, config: dict) -> tuple[list, int]:
    """The tensors of LLaVA-1.5's mmproj as llama.cpp's legacy converter writes them (see the module docstring), and
    the layers it keeps."""
    n = config["vision_config"]["num_hidden_layers"]
    kept = n + config["vision_feature_layer"] + 1
    out = []
    for name, p in params.items():
        if not name.startswith(("vision_tower.", "multi_modal_projector.")) or "post_layernorm" in name:
            continue
        if ".layers." in name and int(name.split(".layers.")[1].split(".")[0]) >= kept:
            continue
        if name.startswith("vision_tower.") and not name.startswith("vision_tower.vision_model."):
            name = name.replace("vision_tower.", "vision_tower.vision_model.", 1)  # the Hub's names (CLIPModel's)
        new = MMPROJ_NAMES.get_name(name, try_suffixes=(".weight", ".bias"))
        assert new, name
        parts = new.split(".")
        if parts[0] == "v" and len(parts) > 3 and parts[3] in SWAPPED:
            new = ".".join(parts[:3] + [SWAPPED[parts[3]]] + parts[4:])
        new = new.replace("mm.1.", "mm.0.")  # the legacy converter's linear_1
        out.append((new, tuple(s for s in p.shape if s != 1)))  # data.squeeze()
    return out, kept


def qwen_mmproj(params: dict) -> list:
    """The tensors convert_hf_to_gguf.py's Qwen2VLVisionModel writes (see the module docstring)."""
    out = []
    for name, p in params.items():
        if not name.startswith("visual."):
            continue
        shape = tuple(p.shape)
        if ".qkv." in name:
            third = (shape[0] // 3,) + shape[1:]
            out += [(MMPROJ_NAMES.get_name(name.replace("qkv", part), try_suffixes=(".weight", ".bias")), third)
                    for part in "qkv"]
        elif "patch_embed.proj.weight" in name:
            frame = shape[:2] + shape[3:]
            out += [("v.patch_embd.weight", frame), ("v.patch_embd.weight.1", frame)]
        else:
            new = MMPROJ_NAMES.get_name(name, try_suffixes=(".weight", ".bias"))
            assert new, name
            out.append((new, shape))
    return out


def gemma3_mmproj(params: dict) -> list:
    """The tensors conversion/gemma.py's Gemma3VisionModel writes (see the module docstring)."""
    out = []
    for name, p in params.items():
        if name.startswith("vision_tower.") and not name.startswith("vision_tower.vision_model."):
            name = name.replace("vision_tower.", "vision_tower.vision_model.", 1)  # the Hub's names
        if not name.startswith(("vision_tower.", "multi_modal_projector.")) or "vision_model.head." in name:
            continue
        new = MMPROJ_NAMES.get_name(name.replace("_weight", ".weight"), try_suffixes=(".weight", ".bias"))
        assert new, name
        out.append((new, tuple(p.shape)))
    return out


def text_gguf(params: dict, n_layers: int, arch=gguf.MODEL_ARCH.LLAMA) -> list:
    """The language model's tensors named as convert_hf_to_gguf.py's LlamaModel (or Qwen2VLModel, arch QWEN2VL)
    names them (TensorNameMap)."""
    names = gguf.get_tensor_name_map(arch, n_layers)
    out = []
    for name, p in params.items():
        if name.startswith(("vision_tower.", "multi_modal_projector.", "visual.")):
            continue
        hub = name.replace("language_model.", "model.") if not name.startswith("lm_head") else name
        new = names.get_name(hub, try_suffixes=(".weight", ".bias"))
        assert new, name
        out.append((new, tuple(p.shape)))
    return out


def checked(config_path: Path, gguf_path: Path) -> tuple[int, dict]:
    result = run("check", config_path, gguf_path, "--format", "json")
    return result.exit_code, json.loads(result.output)


@pytest.fixture
def llava(tmp_path):
    model, params = model_of(LLAVA)
    (tmp_path / "config.json").write_text(json.dumps(LLAVA))
    tensors, kept = llava_mmproj(params, LLAVA)
    path = write(tmp_path / "mmproj-llava.gguf", "clip", tensors, LLAVA_META | {"clip.vision.block_count": kept})
    return model, params, path, kept


def test_count_maps_every_tensor_of_a_llava_mmproj(llava):
    model, params, path, kept = llava
    doc = json.loads(run("count", path, "--format", "json").output)["models"][0]
    assert not [c for c in doc["components"] if c["component"] == "other"]
    held = sum(p.numel() for name, p in params.items() if name.startswith(("vision_tower.", "multi_modal_projector."))
               and "post_layernorm" not in name and f".layers.{kept}." not in name)
    assert doc["params"] == held
    components = {c["component"] for c in doc["components"]}
    assert components == {"vision.patch_embed", "vision.class_token", "vision.position", "vision.pre_norm",
                          "vision.attn.q", "vision.attn.k", "vision.attn.v", "vision.attn.o", "vision.attn.bias",
                          "vision.norm.pre_attn", "vision.norm.pre_mlp", "vision.mlp.up", "vision.mlp.down",
                          "vision.mlp.bias", "projector.linear_1", "projector.linear_2"}


def test_check_a_llava_config_against_its_mmproj(llava, tmp_path):
    model, params, path, kept = llava
    code, doc = checked(tmp_path / "config.json", path)
    assert code == 0 and doc["ok"], doc
    summary = doc["summary"]
    assert summary["different"] == summary["missing"] == summary["extra"] == 0
    rows = {r["component"]: r for r in doc["results"] if r["component"].startswith(("vision.", "projector."))}
    assert {c: r["status"] for c, r in rows.items() if r["status"] != "equal"} == {"vision.layers": "unused",
                                                                                  "vision.post_norm": "unused"}
    last = sum(p.numel() for name, p in params.items() if f"encoder.layers.{kept}." in name)
    assert rows["vision.layers"]["spec"] == last and rows["vision.layers"]["layers"] == [kept]
    assert rows["vision.attn.q"]["layers"] == list(range(kept))
    language = [r for r in doc["results"] if not r["component"].startswith(("vision.", "projector."))]
    assert language and all(r["status"] == "elsewhere" and r["note"] == "in the language model's GGUF" for r in language)
    assert summary["elsewhere"] == len(language) and summary["unused"] == 2
    tower = sum(r["checkpoint"] for r in rows.values())
    assert tower == read(str(path)).params
    table = run("check", tmp_path / "config.json", path).output
    assert "0 different, 0 missing, 0 extra" in table and "in the language model's GGUF" in table


def test_check_the_language_models_gguf_puts_the_tower_in_the_mmproj(llava, tmp_path):
    model, params, _, _ = llava
    path = write(tmp_path / "llava-text.gguf", "llama", text_gguf(params, 2))
    assert read(str(path)).params == model.model.language_model.num_parameters() + model.lm_head.weight.numel()
    code, doc = checked(tmp_path / "config.json", path)
    assert code == 0 and doc["summary"]["different"] == doc["summary"]["missing"] == doc["summary"]["extra"] == 0
    vision = [r for r in doc["results"] if r["component"].startswith(("vision.", "projector."))]
    assert vision and all(r["status"] == "elsewhere" and r["note"] == "in the mmproj GGUF" for r in vision)
    assert {r["status"] for r in doc["results"]} == {"equal", "elsewhere"}


def test_a_wrong_tower_is_still_different(llava, tmp_path):
    """The pair's rules excuse only the other file's rows: a tower of another width fails."""
    _, _, path, _ = llava
    wider = json.loads(json.dumps(LLAVA))
    wider["vision_config"]["intermediate_size"] = 32
    (tmp_path / "wide.json").write_text(json.dumps(wider))
    code, doc = checked(tmp_path / "wide.json", path)
    bad = {r["component"] for r in doc["results"] if r["status"] == "different"}
    assert code == 1 and bad == {"vision.mlp.up", "vision.mlp.down", "vision.mlp.bias"}
    fewer = json.loads(json.dumps(LLAVA))
    fewer["vision_config"]["num_hidden_layers"] = 2  # the file's 2 layers are all of this spec's: no layer unused
    (tmp_path / "two.json").write_text(json.dumps(fewer))
    code, doc = checked(tmp_path / "two.json", path)
    assert code == 0 and "vision.layers" not in {r["component"] for r in doc["results"]}


@pytest.fixture
def qwen(tmp_path):
    model, params = model_of(QWEN)
    (tmp_path / "config.json").write_text(json.dumps(QWEN))
    depth = QWEN["vision_config"]["depth"]
    path = write(tmp_path / "mmproj-qwen.gguf", "clip", qwen_mmproj(params),
                 {"clip.projector_type": "qwen2.5vl_merger", "clip.vision.block_count": depth})
    return model, params, path


def test_count_and_check_a_qwen2_5_vl_mmproj(qwen, tmp_path):
    model, params, path = qwen
    doc = json.loads(run("count", path, "--format", "json").output)["models"][0]
    assert not [c for c in doc["components"] if c["component"] == "other"]
    assert doc["params"] == model.model.visual.num_parameters()
    by = {c["component"]: c["params"] for c in doc["components"]}
    vision = QWEN["vision_config"]
    d, merged = vision["hidden_size"], vision["hidden_size"] * vision["spatial_merge_size"] ** 2
    assert by["vision.patch_embed"] == 3 * 2 * 4 * 4 * d  # both frames of the Conv3d
    assert by["vision.post_norm"] == d  # merger.ln_q, under llama.cpp's V_POST_NORM name
    assert by["projector.linear_1"] == merged * merged + merged
    assert by["projector.linear_2"] == merged * vision["out_hidden_size"] + vision["out_hidden_size"]
    code, doc = checked(tmp_path / "config.json", path)
    summary = doc["summary"]
    assert code == 0 and summary["different"] == summary["missing"] == summary["extra"] == summary["unused"] == 0
    tower = [r for r in doc["results"] if r["status"] == "equal"]
    assert {r["component"] for r in tower} >= {"vision.attn.q", "vision.mlp.gate", "vision.post_norm",
                                               "projector.linear_1", "projector.linear_2", "vision.patch_embed"}
    assert sum(r["checkpoint"] for r in tower) == model.model.visual.num_parameters()
    assert all(r["status"] == "elsewhere" for r in doc["results"]
               if not r["component"].startswith(("vision.", "projector.")))
    text = write(tmp_path / "qwen-text.gguf", "qwen2vl", text_gguf(params, 2, gguf.MODEL_ARCH.QWEN2VL))
    code, doc = checked(tmp_path / "config.json", text)
    assert code == 0 and {r["status"] for r in doc["results"]} == {"equal", "elsewhere"}
    assert sum(r["checkpoint"] for r in doc["results"]) == model.num_parameters() - model.model.visual.num_parameters()


def test_count_and_check_a_gemma3_mmproj(tmp_path):
    """Gemma 3's mmproj holds its whole SigLIP tower (post LayerNorm included) and its projector: every row of the
    config's tower and projector equal, the language model's elsewhere."""
    model, params = model_of(GEMMA3)
    (tmp_path / "config.json").write_text(json.dumps(GEMMA3))
    tensors = gemma3_mmproj(params)
    assert {"mm.input_projection.weight", "mm.soft_emb_norm.weight", "v.post_ln.weight"} <= {n for n, _ in tensors}
    path = write(tmp_path / "mmproj-gemma3.gguf", "clip", tensors,
                 {"clip.projector_type": "gemma3", "clip.vision.block_count": 3,
                  "clip.vision.projector.scale_factor": 2})
    held = model.model.vision_tower.num_parameters() + model.model.multi_modal_projector.mm_soft_emb_norm.weight.numel() \
        + model.model.multi_modal_projector.mm_input_projection_weight.numel()
    doc = json.loads(run("count", path, "--format", "json").output)["models"][0]
    assert not [c for c in doc["components"] if c["component"] == "other"] and doc["params"] == held
    by = {c["component"]: c["params"] for c in doc["components"]}
    assert by["projector.linear"] == 16 * 32 and by["projector.norm"] == 16 and by["vision.post_norm"] == 2 * 16
    code, doc = checked(tmp_path / "config.json", path)
    summary = doc["summary"]
    assert code == 0 and summary["different"] == summary["missing"] == summary["extra"] == summary["unused"] == 0, doc
    tower = [r for r in doc["results"] if r["status"] == "equal"]
    assert {r["component"] for r in tower} >= {"vision.patch_embed", "vision.position", "vision.attn.q",
                                               "vision.post_norm", "projector.norm", "projector.linear"}
    assert sum(r["checkpoint"] for r in tower) == held
    assert all(r["status"] == "elsewhere" for r in doc["results"]
               if not r["component"].startswith(("vision.", "projector.")))
    text = write(tmp_path / "gemma3-text.gguf", "gemma3", text_gguf(params, 2, gguf.MODEL_ARCH.GEMMA3))
    code, doc = checked(tmp_path / "config.json", text)
    assert code == 0 and {r["status"] for r in doc["results"]} == {"equal", "elsewhere"}, doc
    assert sum(r["checkpoint"] for r in doc["results"]) == model.num_parameters() - held


def test_mmproj_names():
    """The projector's mm.N by the file's 2-D mm weights: the legacy LLaVA's and Qwen's mm.0 and mm.2, the Pixtral
    path's mm.1 and mm.2, Idefics3's one mm.model.fc; audio is not modelled."""
    assert gguf_component("mm.0.weight", (0, 2)) == ("projector.linear_1", None)
    assert gguf_component("mm.2.bias", (0, 2)) == ("projector.linear_2", None)
    assert gguf_component("mm.1.weight", (1, 2)) == ("projector.linear_1", None)
    assert gguf_component("mm.0.weight", (0,)) == ("projector.linear", None)
    assert gguf_component("mm.1.weight", (0, 3)) == ("projector.norm", None)  # a 1-D mm.N between two linears
    assert gguf_component("mm.model.fc.weight") == ("projector.linear", None)
    assert gguf_component("mm.patch_merger.weight", (1, 2)) == ("projector.merger", None)  # Mistral 3's
    assert gguf_component("mm.input_norm.weight", (1, 2)) == ("projector.norm", None)
    assert gguf_component("v.patch_embd.weight.1") == ("vision.patch_embed", None)
    assert gguf_component("v.blk.3.attn_qkv.bias") == ("vision.attn.bias", None)
    assert gguf_component("v.blk.0.attn_q_norm.weight") == ("vision.attn.qk_norm", None)
    assert gguf_component("v.head.attention.in_weight") == ("vision.pool_head", None)
    assert gguf_component("a.blk.0.attn_q.weight") == (None, None)
    assert gguf_component("blk.0.attn_q.weight") == ("attn.q", 0)


def test_the_checked_in_tiny_llava_mmproj_is_what_the_converter_writes():
    """tests/data/checkpoints/tiny-llava (the README's example): LLAVA's config and its mmproj as llava_mmproj
    writes it (zero data), so the file cannot drift from the generator."""
    folder = Path(__file__).parent / "data" / "checkpoints" / "tiny-llava"
    assert json.loads((folder / "config.json").read_text()) == LLAVA
    tensors, kept = llava_mmproj(model_of(LLAVA)[1], LLAVA)
    ck = read(str(folder / "mmproj-tiny-llava-f16.gguf"))
    assert [(t.name, t.shape) for t in ck.tensors] == [(name, shape[::-1]) for name, shape in tensors]
    assert dict(ck.metadata)["clip.vision.block_count"] == str(kept)
    code, doc = checked(folder / "config.json", folder / "mmproj-tiny-llava-f16.gguf")
    assert code == 0 and doc["summary"] == {"equal": 16, "different": 0, "missing": 0, "extra": 0, "elsewhere": 12,
                                            "unused": 2}
