"""A checkpoint path to a Checkpoint: a .safetensors file, a .safetensors.index.json (its shards), a .gguf file, or
a folder holding one of them; each tensor's role, logical parameters and component.

Packed formats count the parameters the model computes with, as transformers counts the dequantized model:
FP8 weights with block scales (DeepSeek-V3's `weight_scale_inv`, compressed-tensors' `weight_scale`,
`input_scale`): the weight's elements are parameters, the scales bytes only; MXFP4 (gpt-oss, transformers'
integrations/mxfp4.py): a U8 `*_blocks` tensor holds two 4-bit weights per byte (its last dim of 16 bytes is a
block of 32 values), the E8M0 `*_scales` beside it are bytes only; GPTQ and AWQ (int32 `qweight` packing 32 / bits
weights to an element, with `qzeros`, fp16 `scales` per group and GPTQ's `g_idx`, which are bytes only): the
linear layer's in x out, out being the last dim of its `scales`; GPTQ packs along the input (AutoGPTQ's QuantLinear:
qweight (in x bits / 32, out), g_idx (in,)), AWQ along the output (AutoAWQ's WQLinear_GEMM: qweight (in, out x
bits / 32), as vLLM's awq_linear unpacks it); a GGUF quant type: the dims' product.
"""

from __future__ import annotations

import os
import re

from ..errors import LlmcalcError
from . import names as naming
from .gguf import read_gguf
from .safetensors import MAX_SHARDS, MAX_TENSORS, read_header, read_index
from .tensors import OTHER, Checkpoint, Tensor

INDEX = "model.safetensors.index.json"
SCALE_SUFFIXES = ("_scale_inv", ".weight_scale", ".input_scale", ".weight_scale_2", ".weight_global_scale")
INT_PACKED = (".qzeros", ".scales", ".g_idx")  # beside a GPTQ/AWQ .qweight: bytes, not parameters


def read_checkpoint(path: str) -> Checkpoint:
    if os.path.isdir(path):
        return _folder(path)
    if not os.path.exists(path):
        raise LlmcalcError(f"{path}: no such file or folder")
    lower = path.lower()
    if lower.endswith(".json"):
        return _safetensors(path, read_index(path))
    if lower.endswith(".safetensors"):
        return _safetensors(path, [(path, None)])
    return _gguf(path)


def _folder(path: str) -> Checkpoint:
    try:
        entries = sorted(os.listdir(path))
    except OSError as exc:
        raise LlmcalcError(f"{path}: cannot list the folder: {exc.strerror or exc}") from None
    indexes = [n for n in entries if n.lower().endswith(".safetensors.index.json")]
    if INDEX in indexes or len(indexes) == 1:
        index = os.path.join(path, INDEX if INDEX in indexes else indexes[0])
        return _safetensors(index, read_index(index))
    if indexes:
        raise LlmcalcError(f"{path}: holds {len(indexes)} safetensors indexes ({', '.join(indexes[:4])}); name one")
    shards = [n for n in entries if n.lower().endswith(".safetensors")]
    if len(shards) > MAX_SHARDS:
        raise LlmcalcError(f"{path}: holds {len(shards):,} .safetensors files; llmcalc reads at most {MAX_SHARDS:,}")
    if shards:
        return _safetensors(path, [(os.path.join(path, n), None) for n in shards])
    ggufs = [n for n in entries if n.lower().endswith(".gguf")]
    if len(ggufs) == 1 or len({SPLIT.sub("", n) for n in ggufs} - {""}) == 1 and all(SPLIT.search(n) for n in ggufs):
        return _gguf(os.path.join(path, ggufs[0]))  # one file, or the parts of one split file
    if ggufs:
        raise LlmcalcError(f"{path}: holds {len(ggufs)} .gguf files ({', '.join(ggufs[:4])}); name one")
    raise LlmcalcError(f"{path}: no .safetensors, {INDEX} or .gguf file in this folder")


def _safetensors(path: str, shards: list[tuple[str, list[str] | None]]) -> Checkpoint:
    raw, files, total = [], [], 0
    seen: dict[str, str] = {}
    for shard, expected in shards:
        tensors, _, size = read_header(shard)
        total += size
        files.append(shard)
        for name, dtype, shape, nbytes in tensors:
            if name in seen:
                raise LlmcalcError(f"{shard}: tensor {name} is also in {seen[name]}")
            seen[name] = shard
            raw.append((name, dtype, shape, nbytes, shard))
        if len(raw) > MAX_TENSORS:
            raise LlmcalcError(f"{path}: more than {MAX_TENSORS:,} tensors")
        if expected is not None:
            missing = sorted(set(expected) - {t[0] for t in tensors})
            if missing:
                raise LlmcalcError(f"{path}: weight_map puts {missing[0]} in {os.path.basename(shard)}, which does "
                                   f"not hold it ({len(missing)} such tensor(s))")
            unlisted = sorted({t[0] for t in tensors} - set(expected))
            if unlisted:
                raise LlmcalcError(f"{shard}: holds {unlisted[0]}, which the index's weight_map does not put there "
                                   f"({len(unlisted)} such tensor(s))")
    all_names = {t[0] for t in raw}
    shapes = {t[0]: t[2] for t in raw}
    gemma = any("pre_feedforward_layernorm" in name for name in all_names)
    # routed experts beside a shared MLP: Granite's block_sparse_moe, Gemma 4's experts beside its mlp
    routed = any("block_sparse_moe.input_linear" in name or re.search(r"layers\.\d+\.experts\.gate_up_proj", name)
                 for name in all_names)
    adapter = any(".vision_adapter." in name for name in all_names)  # Llama 4's: its projector's first two linears
    packing: list[str] = []
    out = []
    for name, dtype, shape, nbytes, shard in raw:
        component, layer = naming.hf_component(name, gemma, routed, adapter)
        elements = _elements(shape)
        role, params = "weight", elements
        if name.endswith(SCALE_SUFFIXES) or (name.endswith("_scales") and name[:-7] + "_blocks" in all_names):
            role, params = "scale", 0
            _note(packing, "MXFP4 blocks" if name.endswith("_scales") else "FP8 or int block scales")
        elif name.endswith("_blocks") and dtype == "U8":
            params = 2 * elements
            _note(packing, "MXFP4 blocks")
        elif name.endswith(".qweight"):
            params = _int_packed(name, shape, shapes)
            _note(packing, "GPTQ or AWQ int32-packed weights")
        elif name.endswith(INT_PACKED) and name.rsplit(".", 1)[0] + ".qweight" in all_names:
            role, params = "scale", 0
        out.append(_tensor(name, dtype, shape, params, nbytes, component, layer, role, shard))
    return Checkpoint(path, "safetensors", tuple(files), total, tuple(out), (), tuple(packing))


# llama.cpp's gguf-split names its parts PREFIX-00001-of-00003.gguf (llama_split_path: "%s-%05d-of-%05d.gguf")
SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


# the header fields a checkpoint shows; an mmproj file's (llama.cpp's clip.* keys) tell compare.py its layout
SHOWN = ("general.architecture", "general.name", "general.file_type", "clip.projector_type",
         "clip.vision.projector_type", "clip.has_llava_projector", "clip.vision.block_count")
MM_WEIGHT = re.compile(r"^mm\.(\d+)\.weight$")
DELTANET = re.compile(r"^blk\.(\d+)\.ssm_(?:alpha|beta)\.")  # Qwen3.5's DeltaNet layers (names.gguf_component)


def _gguf(path: str) -> Checkpoint:
    tensors, metadata, size = read_gguf(path)
    files = [(path, tensors)]
    if metadata.get("split.count", 1) != 1:
        files, size, metadata = _split_parts(path, metadata)
    linears = tuple(sorted(int(m.group(1)) for _, part in files for name, _, dims, _, _ in part
                           if len(dims) >= 2 and (m := MM_WEIGHT.match(name))))
    deltanet = frozenset(int(m.group(1)) for _, part in files for name, *_ in part if (m := DELTANET.match(name)))
    out = [_tensor(name, kind, dims, elements, nbytes, *naming.gguf_component(name, linears, deltanet), "weight",
                   file) for file, part in files for name, kind, dims, elements, nbytes in part]
    shown = tuple((key, str(metadata[key])) for key in SHOWN
                  if key in metadata and isinstance(metadata[key], (str, int)))
    quants = sorted({t.dtype for t in out} - {"F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64"})
    packing = (f"GGUF quant types {', '.join(quants)}",) if quants else ()
    return Checkpoint(path, "gguf", tuple(f for f, _ in files), size, tuple(out), shown, packing)


def _split_parts(path: str, metadata: dict) -> tuple[list, int, dict]:
    """Every part of a split GGUF (gguf-split: split.no from 0, split.count, and split.tensors.count in each part;
    the model's metadata in the first), read in order from any one of them: (file, tensors) of each part, their
    bytes together, the first part's metadata."""
    count, match = metadata.get("split.count"), SPLIT.search(path)
    if type(count) is not int or not 1 < count <= MAX_SHARDS:
        raise LlmcalcError(f"{path}: split.count {count!r}; allowed: 2 to {MAX_SHARDS}")
    if not match or int(match.group(2)) != count:
        raise LlmcalcError(f"{path}: split.count {count} but the name is not PREFIX-NNNNN-of-{count:05d}.gguf, as "
                           "gguf-split names the parts; rename it so")
    stem = path[:match.start()]
    files, size, first, names = [], 0, metadata, set()
    for number in range(1, count + 1):
        part = f"{stem}-{number:05d}-of-{count:05d}{path[match.end() - 5:]}"
        if not os.path.isfile(part):
            raise LlmcalcError(f"{path}: part {number} of {count} is missing: {part}")
        tensors, meta, part_size = read_gguf(part)
        if meta.get("split.no") != number - 1 or meta.get("split.count") != count:
            raise LlmcalcError(f"{part}: split.no {meta.get('split.no')!r} of {meta.get('split.count')!r}; expected "
                               f"{number - 1} of {count} from its name")
        for name, *_ in tensors:
            if name in names:
                raise LlmcalcError(f"{part}: tensor {name} is also in an earlier part")
            names.add(name)
        first = meta if number == 1 else first
        files.append((part, tensors))
        size += part_size
    expected = first.get("split.tensors.count")
    if expected is not None and expected != len(names):
        raise LlmcalcError(f"{path}: the parts hold {len(names):,} tensors; split.tensors.count says {expected!r}")
    return files, size, first


def _int_packed(name: str, shape: tuple[int, ...], shapes: dict[str, tuple[int, ...]]) -> int:
    """The logical in x out of a GPTQ or AWQ `qweight` (see the module docstring), from the shapes beside it."""
    base = name[: -len(".qweight")]
    scales, zeros = shapes.get(base + ".scales"), shapes.get(base + ".qzeros")
    if len(shape) != 2 or not scales or not zeros or len(zeros) != 2 or not scales[-1]:
        raise LlmcalcError(f"{name}: an int-packed weight needs its .scales and .qzeros beside it (GPTQ or AWQ) to "
                           "tell its size")
    out = scales[-1]
    if shape[1] != out:  # AWQ: packed along the output
        return shape[0] * out
    g_idx = shapes.get(base + ".g_idx")
    if g_idx:
        return g_idx[0] * out
    bits = 32 * zeros[1] // out  # GPTQ's qzeros pack the zero points along the output: (groups, out x bits / 32)
    if bits not in (2, 3, 4, 8):
        raise LlmcalcError(f"{name}: its .qzeros give {bits}-bit weights; GPTQ packs 2, 3, 4 or 8 bits")
    return shape[0] * 32 // bits * out


def _elements(shape: tuple[int, ...]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def _note(packing: list[str], what: str) -> None:
    if what not in packing:
        packing.append(what)


def _tensor(name, dtype, shape, params, nbytes, component, layer, role, file) -> Tensor:
    # a routing bias is a buffer, but Ernie 4.5 MoE's (moe_statics) an nn.Parameter transformers counts
    if role == "weight" and ((component == "moe.routing_bias" and "moe_statics" not in name)
                             or naming.NOT_PARAMETERS.search(name)):
        role = "buffer"
    return Tensor(name, dtype, tuple(shape), params, nbytes, component or OTHER, layer, role, file)
