"""Tensor names onto llmcalc's components (llmcalc.present.describe.COMPONENT_LABELS) and layer indices.

Hugging Face names follow transformers' modeling files (LlamaForCausalLM `model.layers.N.self_attn.q_proj.weight`,
Gemma2's four layer norms, Mixtral's `block_sparse_moe`, Qwen-MoE's and DeepSeek-V3's `mlp.gate`/`shared_experts`,
gpt-oss's fused `mlp.experts.gate_up_proj` and MXFP4 `_blocks`/`_scales`, GPT-2's `transformer.h.N.attn.c_attn`).
GGUF names follow llama.cpp's gguf-py/gguf/constants.py TENSOR_NAMES (`blk.N.attn_q.weight`, `blk.N.ffn_gate_exps`,
`token_embd`, `output_norm`, `output`). A fused tensor maps onto a fused component (`attn.qkv`, `mlp.gate_up`) that
compare.py matches against the sum of the spec's parts. A name matched by none of these is None ("other").
"""

from __future__ import annotations

import re

# fused checkpoint component -> the spec's components it holds
FUSED = {"attn.qkv": ("attn.q", "attn.k", "attn.v"), "mlp.gate_up": ("mlp.gate", "mlp.up")}

_HF_LAYER = re.compile(r"(?:^|\.)(?:layers|h|blocks|block)\.(\d+)\.(.+)$")
_GGUF_LAYER = re.compile(r"^blk\.(\d+)\.(.+)$")
_NOT_TEXT = re.compile(r"(?:^|\.)(?:vision_tower|vision_model|visual|vision|audio_tower|audio_model|multi_modal"
                       r"|mm_projector|multi_modal_projector)(?:\.|$)")
# stored tensors that are no parameters: rotary tables (HF `rotary_emb.inv_freq`, llama.cpp `rope_freqs`)
NOT_PARAMETERS = re.compile(r"(?:^|\.)(?:rotary_emb\.inv_freq|inv_freq|rope_freqs\.weight|rope_freqs)$")
# the order components are listed in (that of llmcalc.formulas.params.layer_rows)
ORDER = ("embed.token", "embed.position", "norm.embedding", "attn.q", "attn.k", "attn.v", "attn.qkv", "attn.o", "attn.bias",
         "attn.qk_norm", "attn.sinks", "attn.q_a", "attn.q_norm", "attn.q_b", "attn.kv_a", "attn.kv_norm",
         "attn.kv_b", "xattn.q", "xattn.k", "xattn.v", "xattn.o", "xattn.qk_norm", "xattn.gates", "norm.pre_attn",
         "norm.post_attn", "norm.pre_mlp", "norm.post_mlp", "mlp.gate", "mlp.up",
         "mlp.gate_up", "mlp.down", "mlp.bias", "moe.router", "moe.experts", "moe.shared", "moe.shared_gate",
         "moe.routing_bias", "norm.final", "lm_head")
_SUFFIX = re.compile(r"\.(weight|bias|weight_scale_inv|weight_scale|scale_inv|input_scale|blocks|scales|qweight|qzeros|"
                     r"g_idx)$|"
                     r"_(blocks|scales|bias|scale_inv)$")

# Within a layer, the module path (after `layers.N.`, suffix such as `.weight` cut) -> component.
_HF_IN_LAYER = {
    "self_attn.q_proj": "attn.q", "self_attn.k_proj": "attn.k", "self_attn.v_proj": "attn.v",
    "self_attn.o_proj": "attn.o", "self_attn.qkv_proj": "attn.qkv", "self_attn.W_pack": "attn.qkv",
    "self_attn.q_norm": "attn.qk_norm", "self_attn.k_norm": "attn.qk_norm", "self_attn.sinks": "attn.sinks",
    "self_attn.q_a_proj": "attn.q_a", "self_attn.q_a_layernorm": "attn.q_norm", "self_attn.q_b_proj": "attn.q_b",
    "self_attn.kv_a_proj_with_mqa": "attn.kv_a", "self_attn.kv_a_layernorm": "attn.kv_norm",
    "self_attn.kv_b_proj": "attn.kv_b",
    "attn.c_attn": "attn.qkv", "attn.c_proj": "attn.o",
    "input_layernorm": "norm.pre_attn", "ln_1": "norm.pre_attn", "ln_2": "norm.pre_mlp",
    "pre_feedforward_layernorm": "norm.pre_mlp", "post_feedforward_layernorm": "norm.post_mlp",
    "mlp.gate_proj": "mlp.gate", "mlp.up_proj": "mlp.up", "mlp.down_proj": "mlp.down",
    "mlp.gate_up_proj": "mlp.gate_up", "mlp.c_fc": "mlp.up", "mlp.c_proj": "mlp.down",
    "mlp.gate": "moe.router", "mlp.router": "moe.router", "block_sparse_moe.gate": "moe.router",
    "feed_forward.router": "moe.router", "feed_forward.gate_proj": "mlp.gate", "feed_forward.up_proj": "mlp.up",
    "feed_forward.down_proj": "mlp.down",
    "mlp.shared_expert_gate": "moe.shared_gate",
    # Mllama's cross-attention layers (mllama/modeling_mllama.py MllamaCrossAttentionDecoderLayer)
    "cross_attn.q_proj": "xattn.q", "cross_attn.k_proj": "xattn.k", "cross_attn.v_proj": "xattn.v",
    "cross_attn.o_proj": "xattn.o", "cross_attn.q_norm": "xattn.qk_norm", "cross_attn.k_norm": "xattn.qk_norm",
    "cross_attn_attn_gate": "xattn.gates", "cross_attn_mlp_gate": "xattn.gates",
}
# DeepSeek-V3's (mlp.gate), MiniMax-M2's (block_sparse_moe) and Ernie 4.5 MoE's (mlp.moe_statics, as the Hub holds
# it; mlp.gate.moe_statics, as transformers 5.23.0 names it) e_score_correction_bias, its "_bias" cut as a suffix
ROUTING_BIAS_NAMES = frozenset(prefix + suffix for prefix in ("mlp.gate.", "block_sparse_moe.", "mlp.moe_statics.",
                                                              "mlp.gate.moe_statics.")
                               for suffix in ("e_score_correction_bias", "e_score_correction"))
_HF_PREFIX_IN_LAYER = (
    ("mlp.experts.", "moe.experts"), ("block_sparse_moe.experts.", "moe.experts"),
    ("feed_forward.experts.", "moe.experts"), ("mlp.shared_experts.", "moe.shared"),
    ("mlp.shared_expert.", "moe.shared"), ("feed_forward.shared_expert.", "moe.shared"),
)
_HF_MODEL = {
    "embed_tokens": "embed.token", "wte": "embed.token", "wpe": "embed.position", "embed_positions": "embed.position",
    "norm": "norm.final", "ln_f": "norm.final", "final_layernorm": "norm.final", "lm_head": "lm_head",
    "word_embeddings": "embed.token", "word_embeddings_layernorm": "norm.embedding",
}
_GGUF_IN_LAYER = {
    "attn_q": "attn.q", "attn_k": "attn.k", "attn_v": "attn.v", "attn_output": "attn.o", "attn_qkv": "attn.qkv",
    "attn_q_norm": "attn.qk_norm", "attn_k_norm": "attn.qk_norm", "attn_sinks": "attn.sinks",
    "attn_q_a": "attn.q_a", "attn_q_a_norm": "attn.q_norm", "attn_q_b": "attn.q_b", "attn_kv_a_mqa": "attn.kv_a",
    "attn_kv_a_norm": "attn.kv_norm", "attn_kv_b": "attn.kv_b", "attn_k_b": "attn.kv_b", "attn_v_b": "attn.kv_b",
    "attn_norm": "norm.pre_attn", "post_attention_norm": "norm.post_attn", "ffn_norm": "norm.pre_mlp",
    "post_ffw_norm": "norm.post_mlp",
    "ffn_gate": "mlp.gate", "ffn_up": "mlp.up", "ffn_down": "mlp.down",
    "ffn_gate_inp": "moe.router", "ffn_gate_exps": "moe.experts", "ffn_up_exps": "moe.experts",
    "ffn_down_exps": "moe.experts", "ffn_gate_up_exps": "moe.experts", "ffn_gate_shexp": "moe.shared",
    "ffn_up_shexp": "moe.shared", "ffn_down_shexp": "moe.shared", "ffn_gate_inp_shexp": "moe.shared_gate",
    "exp_probs_b": "moe.routing_bias",
}
_GGUF_MODEL = {"token_embd": "embed.token", "position_embd": "embed.position", "output_norm": "norm.final",
               "output": "lm_head"}
_BIAS_OF = {"attn.q": "attn.bias", "attn.k": "attn.bias", "attn.v": "attn.bias", "attn.o": "attn.bias",
            "attn.qkv": "attn.bias", "mlp.gate": "mlp.bias", "mlp.up": "mlp.bias", "mlp.down": "mlp.bias",
            "mlp.gate_up": "mlp.bias"}


def _split(name: str) -> tuple[str, bool]:
    """('model.layers.0.self_attn.q_proj', is a bias) from 'model.layers.0.self_attn.q_proj.bias'."""
    match = _SUFFIX.search(name)
    if not match:
        return name, False
    return name[: match.start()], (match.group(1) or match.group(2)) == "bias"


def hf_component(name: str, gemma_norms: bool = False) -> tuple[str | None, int | None]:
    """(component, layer) of a Hugging Face tensor name; (None, layer or None) when not recognised. `gemma_norms`:
    the checkpoint has `pre_feedforward_layernorm`, so `post_attention_layernorm` is the norm after attention
    (Gemma 2/3) rather than the one before the MLP (Llama)."""
    if _NOT_TEXT.search(name):
        return None, None
    module, bias = _split(name)
    layer = _HF_LAYER.search(module)
    if layer:
        index, inner = int(layer.group(1)), layer.group(2)
        if inner == "post_attention_layernorm":
            return ("norm.post_attn" if gemma_norms else "norm.pre_mlp"), index
        if inner in ROUTING_BIAS_NAMES:
            return "moe.routing_bias", index
        component = _HF_IN_LAYER.get(inner)
        if component is None:
            component = next((c for prefix, c in _HF_PREFIX_IN_LAYER if (inner + ".").startswith(prefix)), None)
            return component, index
        if bias and component in _BIAS_OF:
            return _BIAS_OF[component], index
        return component, index
    return _HF_MODEL.get(module.rsplit(".", 1)[-1]), None


def gguf_component(name: str) -> tuple[str | None, int | None]:
    """(component, layer) of a GGUF tensor name; (None, layer or None) when not recognised."""
    module, bias = _split(name)
    layer = _GGUF_LAYER.match(module)
    if layer:
        component = _GGUF_IN_LAYER.get(layer.group(2))
        if bias and component in _BIAS_OF:
            component = _BIAS_OF[component]
        return component, int(layer.group(1))
    return _GGUF_MODEL.get(module), None
