"""Vision-tower and projector tensor names onto llmcalc's vision components (llmcalc.formulas.params
vision_param_rows: `vision.*` for the tower, `vision.global.*` for Mllama's gated global layers, `projector.*`).

A tower's tensors are model-level components (layer None): the spec counts the tower as a whole, so `check` holds
each component's sum over the tower's layers against the spec's total. Names follow transformers 5.23.0:
LLaVA's CLIP tower (clip/modeling_clip.py: `vision_tower.embeddings.*`, `encoder.layers.N.layer_norm1`,
`self_attn.out_proj`, `mlp.fc1`, `pre_layrnorm`, `post_layernorm`) or SigLIP tower (siglip/modeling_siglip.py: the
same under `vision_tower.vision_model.`, its pooling `head.*`) and `multi_modal_projector.linear_1/2`
(llava/modeling_llava.py); Qwen2.5-VL's `visual.patch_embed.proj`, `visual.blocks.N.attn.qkv`/`attn.proj`,
`norm1`/`norm2` and patch merger `visual.merger.ln_q`, `merger.mlp.0`/`mlp.2` (qwen2_5_vl/modeling_qwen2_5_vl.py);
Qwen3.5's `visual.pos_embed`, `blocks.N.mlp.linear_fc1`/`linear_fc2` and `merger.norm`, `merger.linear_fc1`/
`linear_fc2` (qwen3_5/modeling_qwen3_5.py);
Mllama's `vision_model.*` with its gated and tile position embeddings, `transformer.layers.N.*`,
`global_transformer.layers.N.*` (gate_attn, gate_ffn) and one-Linear `multi_modal_projector`
(mllama/modeling_mllama.py); Gemma 3's SigLIP tower and `multi_modal_projector.mm_soft_emb_norm` and
`mm_input_projection_weight` (gemma3/modeling_gemma3.py); Mistral 3's Pixtral tower `vision_tower.patch_conv`,
`ln_pre`, `transformer.layers.N.attention.q_proj`..., `attention_norm`, `ffn_norm`, `feed_forward.gate_proj`... and
`multi_modal_projector.norm`, `patch_merger.merging_layer` (pixtral/modeling_pixtral.py,
mistral3/modeling_mistral3.py); Llama 4's `vision_model.patch_embedding.linear`,
`positional_embedding_vlm`, `model.layers.N.*` and `vision_adapter.mlp.fc1`/`fc2` (llama4/modeling_llama4.py). Audio towers are not modelled: None ("other").

llama.cpp's multimodal projector files (`mmproj-*.gguf`, general.architecture "clip") name them as gguf-py's
constants.py TENSOR_NAMES for MODEL_ARCH.MMPROJ (gguf 0.19.0) and tools/mtmd/clip-impl.h: `v.patch_embd.weight` (and
`.weight.1`, the second frame of Qwen2.5-VL's Conv3d, which convert_hf_to_gguf.py's Qwen2VLVisionModel splits in two),
`v.class_embd`, `v.position_embd`, `v.pre_ln`, `v.blk.N.attn_q/attn_k/attn_v/attn_qkv/attn_out`, `ln1`, `ln2`,
`ffn_up/ffn_gate/ffn_down`, `v.post_ln` (Qwen2.5-VL's merger.ln_q: names.ALIASES), `v.head.*` (SigLIP's pooling
head) and the projector's `mm.N`: its 2-D weights in index order are linear 1 and linear 2 (LLaVA's legacy converter
and Qwen's merger write mm.0 and mm.2, the Pixtral path mm.1 and mm.2; one alone is the projector's one linear), a
1-D mm.N a norm. clip.cpp takes a LLaVA file's ffn_up/ffn_down swapped when the legacy converter named fc1 ffn_down
("is_ffn_swapped"): their weights hold d x d_ff either way and their biases are both the MLP's bias, so the count is
the same. Audio (`a.*`, `mm.a.*`) is not modelled: None.
"""

from __future__ import annotations

import re

TOWER = re.compile(r"(?:^|\.)(vision_tower|vision_model|visual|multi_modal_projector|mm_projector)(?:\.|$)(.*)$")
AUDIO = re.compile(r"(?:^|\.)(?:audio_tower|audio_model)(?:\.|$)")
_LAYER = re.compile(r"^(?:encoder\.|transformer\.|model\.|(global_transformer)\.)?(?:layers|blocks)\.\d+\.(.+)$")

# within a tower layer: module path -> component (before the `vision.` or `vision.global.` prefix)
_IN_LAYER = {
    "self_attn.q_proj": "attn.q", "self_attn.k_proj": "attn.k", "self_attn.v_proj": "attn.v",
    "self_attn.out_proj": "attn.o", "self_attn.o_proj": "attn.o", "attn.qkv": "attn.qkv", "attn.proj": "attn.o",
    "layer_norm1": "norm.pre_attn", "layer_norm2": "norm.pre_mlp", "norm1": "norm.pre_attn", "norm2": "norm.pre_mlp",
    "input_layernorm": "norm.pre_attn", "post_attention_layernorm": "norm.pre_mlp",
    "mlp.fc1": "mlp.up", "mlp.fc2": "mlp.down", "mlp.gate_proj": "mlp.gate", "mlp.up_proj": "mlp.up",
    "mlp.down_proj": "mlp.down", "gate_attn": "gates", "gate_ffn": "gates",
    "mlp.linear_fc1": "mlp.up", "mlp.linear_fc2": "mlp.down",  # Qwen3.5's Qwen3_5VisionMLP
    # Pixtral's PixtralAttentionLayer
    "attention.q_proj": "attn.q", "attention.k_proj": "attn.k", "attention.v_proj": "attn.v",
    "attention.o_proj": "attn.o", "attention_norm": "norm.pre_attn", "ffn_norm": "norm.pre_mlp",
    "feed_forward.gate_proj": "mlp.gate", "feed_forward.up_proj": "mlp.up", "feed_forward.down_proj": "mlp.down",
}
_BIAS_OF = {"attn.q": "attn.bias", "attn.k": "attn.bias", "attn.v": "attn.bias", "attn.o": "attn.bias",
            "attn.qkv": "attn.bias", "mlp.gate": "mlp.bias", "mlp.up": "mlp.bias", "mlp.down": "mlp.bias"}
# outside the layers: module path (after the tower's prefix, a SigLIP `vision_model.` cut) -> component; a bias goes
# with its weight (the spec counts each of these with its bias)
_OUTSIDE = {
    "embeddings.patch_embedding": "vision.patch_embed", "patch_embedding": "vision.patch_embed",
    "patch_embed.proj": "vision.patch_embed", "embeddings.class_embedding": "vision.class_token",
    "class_embedding": "vision.class_token", "embeddings.position_embedding": "vision.position",
    "gated_positional_embedding.embedding": "vision.position",
    "gated_positional_embedding.tile_embedding": "vision.tile_position",
    "pre_tile_positional_embedding.embedding": "vision.tile_position",
    "post_tile_positional_embedding.embedding": "vision.tile_position",
    "gated_positional_embedding.gate": "vision.gates", "pre_tile_positional_embedding.gate": "vision.gates",
    "post_tile_positional_embedding.gate": "vision.gates",
    "pre_layrnorm": "vision.pre_norm", "layernorm_pre": "vision.pre_norm",
    "post_layernorm": "vision.post_norm", "layernorm_post": "vision.post_norm",
    "merger.ln_q": "projector.norm", "merger.mlp.0": "projector.linear_1", "merger.mlp.2": "projector.linear_2",
    # Qwen3.5's interpolated position table and Qwen3_5VisionPatchMerger
    "pos_embed": "vision.position", "merger.norm": "projector.norm", "merger.linear_fc1": "projector.linear_1",
    "merger.linear_fc2": "projector.linear_2",
    # Llama 4: Llama4UnfoldConvolution's linear, the position table, the pixel-shuffle adapter's fc1 and fc2 (the
    # first two of its projector's three linears: the third is multi_modal_projector.linear_1)
    "patch_embedding.linear": "vision.patch_embed", "positional_embedding_vlm": "vision.position",
    "vision_adapter.mlp.fc1": "projector.linear_1", "vision_adapter.mlp.fc2": "projector.linear_2",
    "patch_conv": "vision.patch_embed", "ln_pre": "vision.pre_norm",  # Pixtral's
}
_PROJECTOR = {"": "projector.linear", "linear_1": "projector.linear_1", "linear_2": "projector.linear_2",
              # Gemma3MultiModalProjector: its norm, and its projection, a bare nn.Parameter (vision x text width)
              "mm_soft_emb_norm": "projector.norm", "mm_input_projection_weight": "projector.linear",
              # Mistral3MultiModalProjector: its norm and patch merger before linear_1 and linear_2
              "norm": "projector.norm", "patch_merger.merging_layer": "projector.merger"}

# llama.cpp's mmproj names (see the module docstring): within a `v.blk.N.` layer, and outside the layers
GGUF_TOWER_LAYER = re.compile(r"^v\.blk\.(\d+)\.(.+)$")
_GGUF_IN_LAYER = {"attn_q": "attn.q", "attn_k": "attn.k", "attn_v": "attn.v", "attn_qkv": "attn.qkv", "attn_out": "attn.o",
                  "attn_q_norm": "attn.qk_norm", "attn_k_norm": "attn.qk_norm", "ln1": "norm.pre_attn",
                  "ln2": "norm.pre_mlp", "ffn_up": "mlp.up", "ffn_gate": "mlp.gate", "ffn_down": "mlp.down"}
_GGUF_OUTSIDE = {"v.patch_embd": "vision.patch_embed", "v.class_embd": "vision.class_token",
                 "v.position_embd": "vision.position", "v.pre_ln": "vision.pre_norm", "v.post_ln": "vision.post_norm",
                 # Idefics3's one linear (mm.model.fc), Gemma 3's input projection and its norm
                 "mm.model.fc": "projector.linear", "mm.input_projection": "projector.linear",
                 "mm.soft_emb_norm": "projector.norm", "mm.input_norm": "projector.norm",
                 "mm.patch_merger": "projector.merger"}  # Mistral 3's (gguf-py: V_MM_PATCH_MERGER)
_MM = re.compile(r"^mm\.(\d+)$")
_FRAME = re.compile(r"\.weight\.\d+$")  # v.patch_embd.weight.1


def tower_component(module: str, bias: bool, adapter: bool = False) -> str | None | bool:
    """The vision component of a tensor's module path (its `.weight`/`.bias` cut; `bias` whether it was a bias);
    False when the name is no tower's, None when it is a tower's but not recognised. `adapter`: the checkpoint has
    Llama 4's vision_adapter, whose two linears come before multi_modal_projector.linear_1."""
    match = TOWER.search(module)
    if not match:
        return None if AUDIO.search(module) else False
    root, rest = match.group(1), match.group(2)
    if root in ("multi_modal_projector", "mm_projector"):
        return "projector.linear_3" if adapter and rest == "linear_1" else _PROJECTOR.get(rest)
    if rest.startswith("vision_model."):  # SigLIP inside LLaVA
        rest = rest[len("vision_model."):]
    if rest == "head" or rest.startswith("head."):
        return "vision.pool_head"
    layer = _LAYER.match(rest)
    if layer:
        return _in_layer(_IN_LAYER, layer.group(2), bias, "vision.global." if layer.group(1) else "vision.")
    return _OUTSIDE.get(rest)


def _in_layer(table: dict[str, str], inner: str, bias: bool, prefix: str) -> str | None:
    """A layer's component by its module path in the layer (a bias its weight's bias component)."""
    component = table.get(inner)
    if component is None:
        return None
    return prefix + (_BIAS_OF.get(component, component) if bias else component)


def mmproj_component(module: str, bias: bool, linears: tuple[int, ...] = ()) -> str | None | bool:
    """The vision component of an mmproj GGUF tensor's module path (its `.weight`/`.bias` cut); False when the name is
    no mmproj name, None when it is one but not recognised (audio too). `linears`: the indices N of the file's 2-D
    `mm.N.weight` tensors, in order."""
    if not module.startswith(("v.", "mm.", "a.")):
        return False
    if module.startswith(("a.", "mm.a.")):
        return None
    module = _FRAME.sub("", module)
    if module == "v.head" or module.startswith("v.head."):
        return "vision.pool_head"
    layer = GGUF_TOWER_LAYER.match(module)
    if layer:
        return _in_layer(_GGUF_IN_LAYER, layer.group(2), bias, "vision.")
    projector = _MM.match(module)
    if projector:
        index = int(projector.group(1))
        if index not in linears:
            return "projector.norm"
        if len(linears) == 1:
            return "projector.linear"
        return {linears[0]: "projector.linear_1", linears[-1]: "projector.linear_2"}.get(index)
    return _GGUF_OUTSIDE.get(module)
