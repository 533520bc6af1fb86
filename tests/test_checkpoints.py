"""Checkpoint headers (llmcalc.checkpoints): `count FILE` and `check SPEC FILE` on small safetensors, sharded-index
and GGUF files built here (headers by hand with struct and json; the real writers where installed), packed formats
counted as transformers counts the dequantized model, and every corrupt file refused in one line."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcalc import api
from llmcalc.checkpoints import is_checkpoint, read
from llmcalc.errors import LlmcalcError
from llmcalc.checkpoints.gguf import GGML_TYPES
from llmcalc.checkpoints.names import gguf_component, hf_component
from llmcalc.cli import cli

BITS = {"BF16": 16, "F16": 16, "F32": 32, "F8_E4M3": 8, "U8": 8, "I64": 64, "I32": 32}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def counted(path) -> dict:
    """`count PATH --format json`: the checkpoint's document (count wraps each model's in {"models": [...]})."""
    result = run("count", path, "--format", "json")
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.output)["models"]
    return doc


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]], metadata: dict | None = None) -> Path:
    """A valid safetensors file: the header by hand, zero bytes as data."""
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = math.prod(shape) * BITS[dtype] // 8
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))
    return path


def write_raw(path: Path, header: bytes, data: bytes = b"", length: int | None = None) -> Path:
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + data)
    return path


LLAMA = {"model_type": "llama", "vocab_size": 128, "hidden_size": 64, "intermediate_size": 96,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": False}


def llama_tensors(config: dict = LLAMA, dtype: str = "BF16") -> dict[str, tuple[str, list[int]]]:
    d, ff, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    kv = config["num_key_value_heads"] * d // config["num_attention_heads"]
    out = {"model.embed_tokens.weight": (dtype, [v, d])}
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        out |= {p + "self_attn.q_proj.weight": (dtype, [d, d]), p + "self_attn.k_proj.weight": (dtype, [kv, d]),
                p + "self_attn.v_proj.weight": (dtype, [kv, d]), p + "self_attn.o_proj.weight": (dtype, [d, d]),
                p + "mlp.gate_proj.weight": (dtype, [ff, d]), p + "mlp.up_proj.weight": (dtype, [ff, d]),
                p + "mlp.down_proj.weight": (dtype, [d, ff]), p + "input_layernorm.weight": (dtype, [d]),
                p + "post_attention_layernorm.weight": (dtype, [d])}
    return out | {"model.norm.weight": (dtype, [d]), "lm_head.weight": (dtype, [v, d])}


@pytest.fixture
def llama_folder(tmp_path: Path) -> Path:
    """A tiny Llama saved by transformers itself (bf16 safetensors and config.json)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(**{k: v for k, v in LLAMA.items() if k != "model_type"})
    model = transformers.LlamaForCausalLM(config).to(torch.bfloat16)
    folder = tmp_path / "tiny-llama"
    model.save_pretrained(folder)
    (folder / "expected").write_text(str(model.num_parameters()))
    return folder


def test_dense_bf16_counts_equal_transformers_and_the_spec(llama_folder):
    expected = int((llama_folder / "expected").read_text())
    doc = counted(llama_folder)
    assert doc["params"] == expected == api.count_params(str(llama_folder / "config.json")).total
    assert doc["by_dtype"] == [{"dtype": "BF16", "tensors": 21, "elements": expected, "bytes": 2 * expected}]
    components = {(c["component"], tuple(c["layers"])): c["params"] for c in doc["components"]}
    assert components[("attn.k", (0, 1))] == 2 * 32 * 64
    assert components[("norm.pre_mlp", (0, 1))] == 2 * 64
    assert not any(c["component"] == "other" for c in doc["components"])
    check = run("check", llama_folder / "config.json", llama_folder / "model.safetensors")
    assert check.exit_code == 0, check.output
    assert "12 equal, 0 different, 0 missing, 0 extra" in check.output


def test_check_reports_a_spec_that_differs(llama_folder, tmp_path):
    result = run("check", llama_folder, llama_folder, "--set", "n_layers=3", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert not doc["ok"] and doc["summary"]["different"] == 9  # each of the 9 layer components: 3 layers, 2 found
    wider = dict(LLAMA, intermediate_size=128)
    (tmp_path / "wide.json").write_text(json.dumps(wider))
    doc = json.loads(run("check", tmp_path / "wide.json", llama_folder, "--format", "json").output)
    bad = {r["component"]: r for r in doc["results"] if r["status"] != "equal"}
    assert set(bad) == {"mlp.gate", "mlp.up", "mlp.down"}
    assert bad["mlp.up"]["spec"] - bad["mlp.up"]["checkpoint"] == 2 * 64 * 32


def test_missing_and_extra_tensors(tmp_path):
    tensors = llama_tensors()
    del tensors["model.layers.1.mlp.down_proj.weight"]
    tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = ("F32", [8])  # a buffer: neither counted nor extra
    tensors["model.layers.0.mystery.weight"] = ("BF16", [5])
    (tmp_path / "config.json").write_text(json.dumps(LLAMA))
    ck = write_safetensors(tmp_path / "model.safetensors", tensors)
    result = run("check", tmp_path / "config.json", ck, "--format", "json")
    assert result.exit_code == 1
    rows = {(r["component"], r["status"]) for r in json.loads(result.output)["results"]}
    assert ("mlp.down", "different") in rows and ("other", "extra") in rows
    doc = counted(ck)
    assert doc["buffer_values"] == 8
    assert doc["params"] == api.count_params(str(tmp_path / "config.json")).total - 64 * 96 + 5
    table = run("count", ck).output
    assert "model.layers.0.mystery.weight" in table and "other" in table


def test_fp8_block_scales_are_bytes_not_parameters(tmp_path):
    tensors = llama_tensors(dtype="F8_E4M3")
    for name in [n for n in tensors if n.startswith("model.layers.") and n.endswith("proj.weight")]:
        rows, cols = tensors[name][1]
        tensors[name + "_scale_inv"] = ("F32", [-(-rows // 128), -(-cols // 128)])
    ck = read(str(write_safetensors(tmp_path / "fp8.safetensors", tensors)))
    logical = sum(math.prod(s) for n, (_, s) in tensors.items() if not n.endswith("_scale_inv"))
    assert ck.params == logical == api.count_params(_config(tmp_path)).total
    by = {r.dtype: r for r in ck.by_dtype()}
    assert by["F32"].nbytes == 14 * 4 and by["F8_E4M3"].nbytes == logical
    assert ck.nbytes == logical + 14 * 4
    assert [t.component for t in ck.tensors if t.role == "scale"][:2] == ["attn.q", "attn.k"]
    assert run("check", tmp_path / "config.json", tmp_path / "fp8.safetensors").exit_code == 0


def _config(tmp_path: Path, config: dict = LLAMA) -> str:
    (tmp_path / "config.json").write_text(json.dumps(config))
    return str(tmp_path / "config.json")


def test_mxfp4_blocks_hold_two_weights_a_byte(tmp_path):
    """gpt-oss: the bf16 model's parameter shapes from transformers, the experts packed as its MXFP4 checkpoint
    stores them (transformers integrations/mxfp4.py: blocks (E, out, in/32, 16) U8, scales (E, out, in/32))."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = {"model_type": "gpt_oss", "vocab_size": 256, "hidden_size": 64, "intermediate_size": 64,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
              "num_local_experts": 4, "num_experts_per_tok": 2, "layer_types": ["sliding_attention",
                                                                                "full_attention"]}
    model = transformers.GptOssForCausalLM(transformers.GptOssConfig(
        **{k: v for k, v in config.items() if k != "model_type"}))
    tensors = {}
    for name, param in model.state_dict().items():
        shape = list(param.shape)
        if name.endswith(("experts.gate_up_proj", "experts.down_proj")):
            experts, n_in, n_out = shape
            tensors[name + "_blocks"] = ("U8", [experts, n_out, n_in // 32, 16])
            tensors[name + "_scales"] = ("U8", [experts, n_out, n_in // 32])
        else:
            tensors[name] = ("BF16", shape)
    ck = read(str(write_safetensors(tmp_path / "model.safetensors", tensors)))
    assert ck.params == model.num_parameters() == api.count_params(_config(tmp_path, config)).total
    assert "MXFP4 blocks" in ck.packing
    u8 = next(r for r in ck.by_dtype() if r.dtype == "U8")
    assert u8.nbytes == (model.num_parameters() - sum(math.prod(s) for _, s in
                                                       (v for k, v in tensors.items() if v[0] == "BF16"))) // 2 \
        + sum(math.prod(s) for k, (_, s) in tensors.items() if k.endswith("_scales"))
    result = run("check", tmp_path / "config.json", tmp_path / "model.safetensors")
    assert result.exit_code == 0, result.output


def test_sharded_index(tmp_path):
    tensors = llama_tensors()
    names = list(tensors)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
    for shard, part in shards.items():
        write_safetensors(tmp_path / shard, {n: tensors[n] for n in part})
    weight_map = {n: shard for shard, part in shards.items() for n in part}
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (tmp_path / "config.json").write_text(json.dumps(LLAMA))
    doc = counted(tmp_path)  # the folder: the checkpoint wins
    assert len(doc["files"]) == 2 and doc["path"].endswith("model.safetensors.index.json")
    assert doc["params"] == api.count_params(str(tmp_path / "config.json")).total
    assert run("check", tmp_path, index).exit_code == 0


def write_gguf(path: Path, tensors: list[tuple[str, list[int], int]], version: int = 3,
               magic: bytes = b"GGUF") -> Path:
    """A GGUF file by hand: a string, a uint32, and an array of strings as metadata; tensor infos; zero data."""
    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = [string("general.architecture") + struct.pack("<I", 8) + string("llama"),
          string("llama.block_count") + struct.pack("<II", 4, 2),
          string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2) + string("a") + string("bc")]
    out = magic + struct.pack("<IQQ", version, len(tensors), len(kv)) + b"".join(kv)
    offset = 0
    for name, dims, kind in tensors:
        out += string(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        out += struct.pack("<IQ", kind, offset)
        _, block, size = GGML_TYPES.get(kind, ("", 1, 1))
        offset += -(-(math.prod(dims) // block * size) // 32) * 32
    out += bytes(-len(out) % 32) + bytes(offset)
    path.write_bytes(out)
    return path


GGUF_TENSORS = [("token_embd.weight", [8, 4], 1), ("blk.0.attn_q.weight", [64, 4], 8),
                ("blk.0.ffn_gate_exps.weight", [256, 2], 12), ("blk.1.ffn_down.weight", [512, 1], 14),
                ("output_norm.weight", [8], 0), ("rope_freqs.weight", [4], 0)]


def test_gguf_quant_bytes_are_blocks_times_bytes_per_block(tmp_path):
    ck = read(str(write_gguf(tmp_path / "tiny.gguf", GGUF_TENSORS)))
    by = {r.dtype: r.nbytes for r in ck.by_dtype()}
    # F16: 2 bytes; Q8_0: 256/32 blocks of 34; Q4_K: 512/256 blocks of 144; Q6_K: 512/256 blocks of 210
    assert by == {"F16": 64, "Q8_0": 8 * 34, "Q4_K": 2 * 144, "Q6_K": 2 * 210, "F32": 48}
    assert ck.params == 32 + 256 + 512 + 512 + 8  # dims' product, whatever the quant; rope_freqs is no parameter
    assert [(t.component, t.layer) for t in ck.tensors] == [
        ("embed.token", None), ("attn.q", 0), ("moe.experts", 0), ("mlp.down", 1), ("norm.final", None),
        ("other", None)]
    assert dict(ck.metadata)["general.architecture"] == "llama"
    doc = counted(tmp_path / "tiny.gguf")
    assert doc["packing"] == ["GGUF quant types Q4_K, Q6_K, Q8_0"] and doc["format"] == "gguf"


def test_gguf_agrees_with_gguf_py(tmp_path):
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    writer = gguf.GGUFWriter(str(tmp_path / "w.gguf"), "llama")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float16))
    q8 = gguf.quantize(np.zeros((4, 64), dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("blk.0.attn_q.weight", q8, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    ours = read(str(tmp_path / "w.gguf"))
    theirs = gguf.GGUFReader(str(tmp_path / "w.gguf"))
    assert [(t.name, t.nbytes, t.params) for t in ours.tensors] == [
        (t.name, int(t.n_bytes), int(t.n_elements)) for t in theirs.tensors]
    assert ours.tensors[1].dtype == "Q8_0" and ours.tensors[1].nbytes == 8 * 34
    ours_hand = read(str(write_gguf(tmp_path / "h.gguf", GGUF_TENSORS)))
    theirs_hand = gguf.GGUFReader(str(tmp_path / "h.gguf"))
    assert [(t.name, t.nbytes) for t in ours_hand.tensors] == [(t.name, int(t.n_bytes)) for t in theirs_hand.tensors]


def write_split_gguf(folder: Path) -> Path:
    """A model in three parts as gguf-py's writer splits it (llama.cpp's gguf-split layout: split.no, split.count,
    split.tensors.count in every part, the model's metadata in the first), two tensors to a part."""
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    writer = gguf.GGUFWriter(str(folder / "m.gguf"), "llama", split_max_tensors=2)
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float16))
    q8 = gguf.quantize(np.zeros((4, 64), dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("blk.0.attn_q.weight", q8, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("blk.0.attn_k.weight", np.zeros((4, 8), dtype=np.float16))
    writer.add_tensor("output_norm.weight", np.zeros((8,), dtype=np.float32))
    writer.add_tensor("output.weight", np.zeros((4, 8), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return folder


def test_a_split_gguf_is_read_whole_from_any_part(tmp_path):
    folder = write_split_gguf(tmp_path)
    parts = sorted(folder.glob("m-*-of-00003.gguf"))
    assert [p.name for p in parts] == ["m-00001-of-00003.gguf", "m-00002-of-00003.gguf", "m-00003-of-00003.gguf"]
    gguf = pytest.importorskip("gguf")
    theirs = [(t.name, int(t.n_bytes), int(t.n_elements)) for p in parts for t in gguf.GGUFReader(str(p)).tensors]
    for path in (parts[0], parts[2], folder):
        ck = read(str(path))
        assert [(t.name, t.nbytes, t.params) for t in ck.tensors] == theirs
        assert ck.files == tuple(str(p) for p in parts) and ck.file_bytes == sum(p.stat().st_size for p in parts)
        assert dict(ck.metadata)["general.architecture"] == "llama"  # from the first part
    assert ck.params == 32 + 256 + 32 + 8 + 32


def test_a_split_gguf_with_a_part_missing_or_misnamed_is_refused(tmp_path):
    folder = write_split_gguf(tmp_path)
    (folder / "m-00002-of-00003.gguf").rename(folder / "elsewhere.gguf")
    with pytest.raises(LlmcalcError, match=r"part 2 of 3 is missing: .*m-00002-of-00003.gguf"):
        read(str(folder / "m-00001-of-00003.gguf"))
    (folder / "elsewhere.gguf").rename(folder / "m-00002-of-00003.gguf")
    (folder / "m-00003-of-00003.gguf").write_bytes((folder / "m-00002-of-00003.gguf").read_bytes())
    with pytest.raises(LlmcalcError, match="m-00003-of-00003.gguf: split.no 1 of 3; expected 2 of 3"):
        read(str(folder / "m-00001-of-00003.gguf"))
    (folder / "m-00001-of-00003.gguf").rename(folder / "renamed.gguf")
    with pytest.raises(LlmcalcError, match="the name is not PREFIX-NNNNN-of-00003.gguf"):
        read(str(folder / "renamed.gguf"))


def test_names_map_onto_components():
    assert hf_component("model.layers.3.mlp.experts.7.up_proj.weight") == ("moe.experts", 3)
    assert hf_component("model.layers.3.mlp.gate.weight") == ("moe.router", 3)
    assert hf_component("model.layers.0.self_attn.q_proj.bias") == ("attn.bias", 0)
    assert hf_component("model.layers.0.post_attention_layernorm.weight", gemma_norms=True) == ("norm.post_attn", 0)
    assert hf_component("transformer.h.2.attn.c_attn.weight") == ("attn.qkv", 2)
    assert hf_component("model.vision_tower.layers.0.mlp.up_proj.weight") == ("vision.mlp.up", None)
    assert hf_component("model.audio_tower.layers.0.mlp.up_proj.weight") == (None, None)
    assert gguf_component("blk.5.ffn_up_shexp.weight") == ("moe.shared", 5)
    assert gguf_component("output.weight") == ("lm_head", None)
    for module in ("mlp.gate", "block_sparse_moe", "mlp.moe_statics", "mlp.gate.moe_statics"):
        assert hf_component(f"model.layers.4.{module}.e_score_correction_bias") == ("moe.routing_bias", 4)


def test_routing_bias_is_a_buffer_but_ernie_s_a_parameter(tmp_path):
    """DeepSeek-V3's and MiniMax-M2's e_score_correction_bias are buffers; Ernie 4.5 MoE's (moe_statics) an
    nn.Parameter that transformers counts, as the spec's routing_bias: parameter does."""
    path = write_safetensors(tmp_path / "model.safetensors", {
        "model.layers.0.mlp.gate.e_score_correction_bias": ("F32", [8]),
        "model.layers.0.block_sparse_moe.e_score_correction_bias": ("F32", [8]),
        "model.layers.0.mlp.moe_statics.e_score_correction_bias": ("F32", [1, 8])})
    checkpoint = read(str(path))
    assert checkpoint.buffer_values == 16 and checkpoint.params == 8


def test_is_checkpoint_tells_files_from_specs(tmp_path):
    assert not is_checkpoint("llama3-8b")
    (tmp_path / "config.json").write_text("{}")
    assert not is_checkpoint(str(tmp_path)) and not is_checkpoint(str(tmp_path / "config.json"))
    write_gguf(tmp_path / "weights.bin", GGUF_TENSORS[:1])
    assert is_checkpoint(str(tmp_path / "weights.bin"))  # by its magic
    assert run("count", "gpt2-small", "--format", "json").exit_code == 0


def corrupt_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    st = tmp_path / "st"
    st.mkdir()
    index = st / "model.safetensors.index.json"
    write_safetensors(st / "a.safetensors", {"x.weight": ("F32", [2])})
    index.write_text(json.dumps({"weight_map": {"x.weight": "a.safetensors", "y.weight": "b.safetensors"}}))
    entry = {"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x10\x00\x00")
    return {
        "truncated header": (short, "8-byte header length"),
        "header past the file": (write_raw(tmp_path / "long.safetensors", b"{}", length=4096), "past the end"),
        "JSON not a mapping": (write_raw(tmp_path / "list.safetensors", b"[1, 2]"), "JSON object"),
        "bad JSON": (write_raw(tmp_path / "junk.safetensors", b"{not json"), "not valid JSON"),
        "offsets past the data": (write_raw(tmp_path / "off.safetensors", json.dumps(entry).encode(), bytes(8)),
                                  "run past the end"),
        "shape against offsets": (write_raw(tmp_path / "shape.safetensors", json.dumps(
            {"t": {"dtype": "F16", "shape": [4], "data_offsets": [0, 16]}}).encode(), bytes(16)), "needs 8 bytes"),
        "bad magic": (write_gguf(tmp_path / "magic.gguf", GGUF_TENSORS, magic=b"GGUX"), "magic 'GGUF'"),
        "gguf version 1": (write_gguf(tmp_path / "v1.gguf", GGUF_TENSORS, version=1), "version 1"),
        "unknown ggml type": (write_gguf(tmp_path / "type.gguf", [("blk.0.attn_q.weight", [32], 4)]),
                              "unknown ggml type 4"),
        "index names a missing shard": (index, "b.safetensors"),
    }


CORRUPT = ["truncated header", "header past the file", "JSON not a mapping", "bad JSON", "offsets past the data",
           "shape against offsets", "bad magic", "gguf version 1", "unknown ggml type", "index names a missing shard"]


@pytest.mark.parametrize("case", CORRUPT)
def test_a_corrupt_file_is_one_error_line_naming_it(tmp_path, case):
    path, words = corrupt_files(tmp_path)[case]
    for command in (["count", path], ["check", "llama3-8b", path]):
        result = run(*command)
        assert result.exit_code == 2, (case, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
        assert str(path) in lines[0] and words in lines[0], lines[0]


def test_a_truncated_gguf_is_refused(tmp_path):
    path = write_gguf(tmp_path / "cut.gguf", GGUF_TENSORS)
    whole = path.read_bytes()
    path.write_bytes(whole[:300])  # inside the tensor infos
    result = run("count", path)
    assert result.exit_code == 2 and "truncated header: tensor" in result.stderr and str(path) in result.stderr
    path.write_bytes(whole[:60])  # the counts promise more than the rest of the file can hold
    result = run("count", path)
    assert result.exit_code == 2 and "tensor count is 6, more than" in result.stderr


def test_set_is_refused_for_a_checkpoint(tmp_path):
    path = write_gguf(tmp_path / "tiny.gguf", GGUF_TENSORS)
    result = run("count", path, "--set", "n_layers=2")
    assert result.exit_code == 2 and "--set does not apply to a checkpoint" in result.stderr
    result = run("count", path, "--strict")
    assert result.exit_code == 2 and result.stderr == ("error: --strict applies to a config.json; a checkpoint's "
                                                       "header has no keys to refuse\n")
    assert run("count", path, "gpt2-small", "--strict").exit_code == 0  # it applies to the spec beside it


def test_check_a_gguf_against_its_config(tmp_path):
    """The tiny Llama with llama.cpp's tensor names (dims innermost first, as GGUF stores them) matches its config;
    without the LM head it does not."""
    renames = {"model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output",
               "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
               "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
               "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    tensors = []
    for name, (_, shape) in llama_tensors().items():
        name = name.replace("model.layers.", "blk.")
        for old, new in renames.items():
            name = name.replace(old, new)
        tensors.append((name, shape[::-1], 1))
    write_gguf(tmp_path / "llama.gguf", tensors)
    config = _config(tmp_path)
    assert run("check", config, tmp_path / "llama.gguf").exit_code == 0
    write_gguf(tmp_path / "headless.gguf", [t for t in tensors if t[0] != "output.weight"])
    result = run("check", config, tmp_path / "headless.gguf", "--format", "csv")
    assert result.exit_code == 1 and ",lm_head,,,8192,0,missing" in result.output


def test_the_checked_in_tiny_llama_counts_without_torch():
    # tests/data/checkpoints/tiny-llama: LlamaForCausalLM(vocab 128, hidden 64, 2 layers, 4 heads, 2 KV heads,
    # intermediate 96) saved by transformers 5.23 in bf16 with every weight zeroed; num_parameters() == 78,144
    folder = Path(__file__).parent / "data" / "checkpoints" / "tiny-llama"
    doc = counted(folder)
    assert doc["params"] == 78_144 == api.count_params(str(folder / "config.json")).total
    check = run("check", folder / "config.json", folder)
    assert check.exit_code == 0 and "12 equal, 0 different, 0 missing, 0 extra" in check.output


def int_packed(tensors: dict, scheme: str, bits: int = 4, group: int = 32, g_idx: bool = True) -> dict:
    """The linear layers of `tensors` packed as GPTQ (AutoGPTQ's QuantLinear: qweight (in x bits/32, out), qzeros
    (groups, out x bits/32), fp16 scales (groups, out), g_idx (in,)) or AWQ (AutoAWQ's WQLinear_GEMM: qweight (in,
    out x bits/32), qzeros (groups, out x bits/32), scales (groups, out)) store them."""
    out = {}
    for name, (dtype, shape) in tensors.items():
        if not (name.startswith("model.layers.") and name.endswith("proj.weight")):
            out[name] = (dtype, shape)
            continue
        base, (n_out, n_in) = name[: -len(".weight")], shape
        pack = 32 // bits
        out[base + ".qweight"] = ("I32", [n_in // pack, n_out] if scheme == "gptq" else [n_in, n_out // pack])
        out[base + ".qzeros"] = ("I32", [n_in // group, n_out // pack])
        out[base + ".scales"] = ("F16", [n_in // group, n_out])
        if scheme == "gptq" and g_idx:
            out[base + ".g_idx"] = ("I32", [n_in])
    return out


@pytest.mark.parametrize("scheme, bits, g_idx", [("gptq", 4, True), ("gptq", 8, False), ("gptq", 4, False),
                                                  ("awq", 4, False)])
def test_gptq_and_awq_count_their_logical_weights(tmp_path, scheme, bits, g_idx):
    tensors = int_packed(llama_tensors(), scheme, bits, g_idx=g_idx)
    ck = read(str(write_safetensors(tmp_path / "q.safetensors", tensors)))
    assert ck.params == api.count_params(_config(tmp_path)).total  # the dequantized model's count
    assert "GPTQ or AWQ int32-packed weights" in ck.packing
    scales = [t for t in ck.tensors if t.role == "scale"]
    assert {t.name.rsplit(".", 1)[1] for t in scales} == ({"qzeros", "scales", "g_idx"} if g_idx else {"qzeros", "scales"})
    assert {t.component for t in ck.tensors if t.name.endswith(".qweight")} >= {"attn.q", "mlp.down"}
    linear = sum(math.prod(s) for n, (_, s) in llama_tensors().items() if n.startswith("model.layers.")
                 and n.endswith("proj.weight"))
    qweight_bytes = sum(t.nbytes for t in ck.tensors if t.name.endswith(".qweight"))
    assert qweight_bytes == linear * bits // 8  # bits per weight on disk
    assert run("check", tmp_path / "config.json", tmp_path / "q.safetensors").exit_code == 0


def test_an_int_packed_weight_without_its_scales_is_one_error(tmp_path):
    tensors = {k: v for k, v in int_packed(llama_tensors(), "awq").items() if not k.endswith(".scales")}
    result = run("count", str(write_safetensors(tmp_path / "q.safetensors", tensors)))
    assert result.exit_code == 2 and "needs its .scales and .qzeros" in result.output


def test_names_of_opt_towers_and_mixers():
    """Without torch: the names transformers 5.23.0 saves for OPT, the vision towers and projectors of LLaVA (CLIP
    and SigLIP), Qwen2.5-VL and Mllama, and the recurrent mixers (Mamba-2 in Bamba/Nemotron-H, LFM2's short conv,
    Qwen3-Next's Gated DeltaNet, MiniMax's lightning attention)."""
    expected = {
        "model.decoder.layers.1.self_attn.out_proj.bias": ("attn.bias", 1),
        "model.decoder.layers.0.fc1.weight": ("mlp.up", 0), "model.decoder.layers.0.fc2.bias": ("mlp.bias", 0),
        "model.decoder.layers.0.self_attn_layer_norm.weight": ("norm.pre_attn", 0),
        "model.decoder.layers.0.final_layer_norm.bias": ("norm.pre_mlp", 0),
        "model.decoder.final_layer_norm.weight": ("norm.final", None),
        "model.decoder.project_in.weight": ("embed.project_in", None),
        "model.decoder.project_out.weight": ("lm_head.project_out", None),
        "vision_tower.encoder.layers.2.self_attn.out_proj.bias": ("vision.attn.bias", None),
        "vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight": ("vision.mlp.up", None),
        "vision_tower.vision_model.head.attention.in_proj_weight": ("vision.pool_head", None),
        "vision_tower.pre_layrnorm.bias": ("vision.pre_norm", None),
        "multi_modal_projector.linear_2.bias": ("projector.linear_2", None),
        "visual.blocks.3.attn.qkv.weight": ("vision.attn.qkv", None),
        "visual.merger.mlp.0.bias": ("projector.linear_1", None), "visual.merger.ln_q.weight": ("projector.norm", None),
        "vision_model.global_transformer.layers.0.gate_ffn": ("vision.global.gates", None),
        "vision_model.gated_positional_embedding.tile_embedding.weight": ("vision.tile_position", None),
        "multi_modal_projector.weight": ("projector.linear", None),
        "model.layers.2.mamba.dt_bias": ("mamba.dt_bias", 2), "model.layers.2.mamba.in_proj.bias": ("mamba.bias", 2),
        "model.layers.2.mamba.conv1d.bias": ("mamba.conv", 2), "model.layers.2.pre_ff_layernorm.weight":
            ("norm.pre_mlp", 2),
        "backbone.layers.1.mixer.o_proj.weight": ("attn.o", 1), "backbone.layers.1.mixer.A_log": ("mamba.A_log", 1),
        "backbone.layers.3.mixer.experts.0.up_proj.weight": ("moe.experts", 3),
        "backbone.embeddings.weight": ("embed.token", None), "backbone.norm_f.weight": ("norm.final", None),
        "model.layers.0.conv.in_proj.bias": ("shortconv.bias", 0), "model.layers.0.conv.conv.bias":
            ("shortconv.conv", 0),
        "model.layers.0.feed_forward.w3.weight": ("mlp.up", 0), "model.layers.0.feed_forward.expert_bias":
            ("moe.routing_bias", 0),
        "model.embedding_norm.weight": ("norm.final", None),
        "model.layers.1.linear_attn.in_proj_qkvz.weight": ("deltanet.in_proj_qkvz", 1),
        "model.layers.1.linear_attn.dt_bias": ("deltanet.dt_bias", 1),
        "model.layers.0.self_attn.output_gate.weight": ("lightning.output_gate", 0),
        "model.layers.0.block_sparse_moe.input_linear.weight": ("moe.experts", 0),
        "transformer.h.0.self_attention.query_key_value.bias": ("attn.bias", 0),
        "gpt_neox.layers.1.mlp.dense_4h_to_h.weight": ("mlp.down", 1), "embed_out.weight": ("lm_head", None),
        "lm_head.bias": ("lm_head.bias", None), "transformer.blocks.0.ffn.experts.mlp.v1": ("moe.experts", 0),
        "model.layers.0.mlp.shared_mlp.up_proj.weight": ("moe.shared", 0),
        "model.layers.0.post_self_attn_layernorm.weight": ("norm.post_attn", 0),
    }
    assert {name: hf_component(name) for name in expected} == expected
    assert hf_component("model.layers.0.shared_mlp.input_linear.weight") == ("mlp.gate_up", 0)
    assert hf_component("model.layers.0.shared_mlp.input_linear.weight", routed=True) == ("moe.shared", 0)


def _supported() -> list[str]:
    from llmcalc.importers import hf

    return sorted(hf.SUPPORTED)


# three random configs of every supported model_type (tests/test_hf_crosscheck.py's GENERATORS); these needed names
# of their own: OPT, the vision towers, the recurrent mixers, and the fused or renamed modules of BLOOM, Falcon,
# GPT-NeoX, GPT-J, Phi, DBRX, GLM-4, Hunyuan, Cohere, OLMo 2/3, EXAONE 4, GPT-1, Granite-MoE
@pytest.mark.parametrize("model_type", _supported())
def test_check_finds_every_tensor_of_a_saved_model_equal(tmp_path, model_type):
    """Tiny random models of each type saved by transformers' save_pretrained: every tensor maps onto a component
    (none "other" but buffers: MiniMax's lightning decay tables), the header's count is num_parameters(), and
    `check` against the config it was built from finds every component equal."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import test_hf_crosscheck as crosscheck

    configs = crosscheck.random_configs(model_type, 3, salt="-checkpoint")
    if model_type == "opt":  # pre-LN with its final norm, post-LN, and a narrower word embedding (project_in/out)
        configs += [dict(configs[0], do_layer_norm_before=True, _remove_final_layer_norm=False,
                         layer_norm_elementwise_affine=True, enable_bias=True, word_embed_proj_dim=4),
                    dict(configs[0], do_layer_norm_before=False, layer_norm_elementwise_affine=True)]
    for n, config in enumerate(configs):
        folder = tmp_path / f"{model_type}-{n}"
        torch.manual_seed(n)
        model = crosscheck.auto_class(config).from_config(crosscheck.hf_config(config))
        model.save_pretrained(folder)
        (folder / "config.json").write_text(json.dumps(config))  # the config as llmcalc reads it
        doc = counted(folder)
        assert doc["params"] == model.num_parameters(), config
        assert not [c for c in doc["components"] if c["component"] == "other" and c["role"] != "buffer"], config
        result = run("check", folder / "config.json", folder, "--format", "json")
        summary = json.loads(result.output)["summary"]
        assert result.exit_code == 0 and summary["different"] == summary["missing"] == summary["extra"] == 0, (
            config, [r for r in json.loads(result.output)["results"] if r["status"] != "equal"])


# (Qwen3-Next is left out: llama.cpp's converter splits transformers' fused experts, which TensorNameMap alone
# does not, and its qwen3next tensors have no dense MLP, which the random configs hold)
@pytest.mark.parametrize("model_type, arch", [("mamba2", "mamba2"), ("falcon_h1", "falcon-h1"), ("lfm2", "lfm2"),
                                             ("falcon_mamba", "mamba"), ("ministral3", "mistral3"),
                                             ("qwen3_5_text", "qwen35"), ("gemma4_text", "gemma4")])
def test_check_a_recurrent_gguf_named_as_llama_cpp_names_it(tmp_path, model_type, arch):
    """A tiny model saved by transformers, its tensors renamed as llama.cpp's converter names them (gguf-py's
    TensorNameMap, after convert_hf_to_gguf.py's rename of Mamba-2's dt_bias to dt_proj.bias), dims innermost first:
    `check` against the config finds every component equal, the ssm_* and shortconv tensors included, Qwen3.5's
    DeltaNet attn_qkv and attn_gate and Gemma 4's per-layer input tensors too."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    gguf = pytest.importorskip("gguf")
    import test_hf_crosscheck as crosscheck

    names = gguf.get_tensor_name_map({v: k for k, v in gguf.MODEL_ARCH_NAMES.items()}[arch], 64)
    for n, config in enumerate(crosscheck.random_configs(model_type, 3, salt="-gguf")):
        if model_type == "gemma4_text":  # its experts' router scale has no GGUF name in gguf-py: dense layers here
            config = dict(config, enable_moe_block=False)
        torch.manual_seed(n)
        model = crosscheck.auto_class(config).from_config(crosscheck.hf_config(config))
        tensors = []
        for name, param in model.named_parameters():  # a tied LM head once
            name = name.replace(".dt_bias", ".dt_proj.bias")
            renamed = names.get_name(name, try_suffixes=(".weight", ".bias"))
            assert renamed, name
            tensors.append((renamed, list(param.shape)[::-1] or [1], 0))
        (tmp_path / "config.json").write_text(json.dumps(config))
        write_gguf(tmp_path / f"{n}.gguf", tensors)
        assert read(str(tmp_path / f"{n}.gguf")).params == model.num_parameters()
        result = run("check", tmp_path / "config.json", tmp_path / f"{n}.gguf", "--format", "json")
        assert result.exit_code == 0, (config, [r for r in json.loads(result.output)["results"]
                                                if r["status"] != "equal"])
