"""Tensor names onto llmcalc's components (llmcalc.present.describe.COMPONENT_LABELS) and layer indices.

Hugging Face names follow transformers' modeling files (LlamaForCausalLM `model.layers.N.self_attn.q_proj.weight`,
Gemma2's four layer norms, Mixtral's `block_sparse_moe`, Qwen-MoE's and DeepSeek-V3's `mlp.gate`/`shared_experts`,
gpt-oss's fused `mlp.experts.gate_up_proj` and MXFP4 `_blocks`/`_scales`, GPT-2's `transformer.h.N.attn.c_attn`).
GGUF names follow llama.cpp's gguf-py/gguf/constants.py TENSOR_NAMES (`blk.N.attn_q.weight`, `blk.N.ffn_gate_exps`,
`token_embd`, `output_norm`, `output`). A fused tensor maps onto a fused component (`attn.qkv`, `mlp.gate_up`) that
compare.py matches against the sum of the spec's parts. OPT's `fc1`/`fc2`/`self_attn_layer_norm` and the recurrent
mixers' modules (Mamba/Mamba-2, LFM2's short conv, Qwen3-Next's Gated DeltaNet, MiniMax's lightning attention) map by
their transformers 5.23.0 names too; where a name tells the module but not where the spec puts it (a norm before or
after, a mixer's input norm), ALIASES tell compare.py which of the spec's components it stands for. Vision towers and
projectors: towers.py. A name matched by none of these is None ("other")."""

from __future__ import annotations

import re

from .towers import mmproj_component, tower_component

# fused checkpoint component -> the spec's components it holds
FUSED = {"attn.qkv": ("attn.q", "attn.k", "attn.v"), "mlp.gate_up": ("mlp.gate", "mlp.up"),
         "vision.attn.qkv": ("vision.attn.q", "vision.attn.k", "vision.attn.v")}
# a checkpoint component -> the spec's components it stands for in a layer group whose spec lacks it (the first one
# the spec has and the checkpoint does not): a name tells the module, not where the spec puts it. OPT's post-norm
# layers; a mixer's input norm (Bamba, Falcon-H1, LFM2, Qwen3-Next, Nemotron-H); Mllama's cross-attention norm; a
# parallel block's one norm (Cohere, Falcon, Phi); OLMo 2's and EXAONE 4's post_attention_layernorm after attention;
# Nemotron-H's MLP blocks; MiniMax's lightning attention's qkv_proj and out_proj; GGUF's ssm_* in Qwen3-Next; GGUF's
# token_embd_norm, LFM2's embedding_norm, which Lfm2Model applies after the last layer; an mmproj file's v.post_ln,
# which is Qwen2.5-VL's merger.ln_q (convert_hf_to_gguf.py maps both onto V_POST_NORM)
ALIASES = {"norm.pre_attn": ("norm.pre_xattn", "norm.pre_mixer", "norm.post_attn", "norm.pre_mlp", "norm.shared"),
           "norm.pre_mlp": ("norm.post_mlp", "norm.post_attn"), "attn.qkv": ("lightning.qkv_proj",),
           "attn.o": ("lightning.out_proj",), "norm.embedding": ("norm.final",),
           "vision.post_norm": ("projector.norm",),
           # Qwen3.5's post_attention_layernorm (the norm before its MLP), llama.cpp's post_attention_norm
           "norm.post_attn": ("norm.pre_mlp",)} | {
    "mamba." + name: ("deltanet." + delta,) for name, delta in (("in_proj", "in_proj_qkvz"), ("conv", "conv"),
                                                                ("dt_bias", "dt_bias"), ("A_log", "A_log"),
                                                                ("norm", "norm"), ("out_proj", "out_proj"))}

_HF_LAYER = re.compile(r"(?:^|\.)(?:layers|h|blocks|block)\.(\d+)\.(.+)$")
_GGUF_LAYER = re.compile(r"^blk\.(\d+)\.(.+)$")
# stored tensors that are no parameters: rotary tables (HF `rotary_emb.inv_freq`, llama.cpp `rope_freqs`)
# and MiniMax's lightning-attention decay tables (minimax/modeling_minimax.py MiniMaxLightningAttention's buffers)
NOT_PARAMETERS = re.compile(r"(?:^|\.)(?:rotary_emb\.inv_freq|inv_freq|rope_freqs\.weight|rope_freqs|slope_rate"
                            r"|query_decay|key_decay|diagonal_decay|layer_scalar)$")  # Gemma 4's scalar per layer
# the order components are listed in (that of llmcalc.formulas.params.layer_rows)
ORDER = ("embed.token", "embed.position", "embed.per_layer", "per_layer.model_projection", "norm.embedding", "attn.q", "attn.k", "attn.v", "attn.qkv", "attn.o", "attn.bias",
         "attn.qk_norm", "attn.sinks", "attn.q_a", "attn.q_norm", "attn.q_b", "attn.kv_a", "attn.kv_norm",
         "attn.kv_b", "attn.indexer.wq_b", "attn.indexer.wk", "attn.indexer.k_norm", "attn.indexer.weights_proj",
         "xattn.q", "xattn.k", "xattn.v", "xattn.o", "xattn.qk_norm", "xattn.gates", "norm.pre_attn",
         "norm.post_attn", "norm.pre_mlp", "norm.post_mlp", "mlp.gate", "mlp.up",
         "mlp.gate_up", "mlp.down", "mlp.bias", "moe.router", "moe.experts", "moe.shared", "moe.shared_gate",
         "moe.routing_bias", "moe.norms", "per_layer.gate", "per_layer.projection", "per_layer.norm", "norm.pre_mixer", "mamba.in_proj", "mamba.conv", "mamba.x_proj", "mamba.dt_proj",
         "mamba.dt_bias", "mamba.A_log", "mamba.D", "mamba.norm", "mamba.inner_norms", "mamba.out_proj", "mamba.bias",
         "shortconv.in_proj", "shortconv.conv", "shortconv.out_proj", "shortconv.bias", "deltanet.in_proj_qkvz",
         "deltanet.in_proj_ba", "deltanet.conv", "deltanet.dt_bias", "deltanet.A_log", "deltanet.norm",
         "deltanet.out_proj", "lightning.qkv_proj", "lightning.output_gate", "lightning.norm", "lightning.out_proj",
         "norm.final", "lm_head", "lm_head.bias")
TOWER_LAYER = ("attn.q", "attn.k", "attn.v", "attn.qkv", "attn.o", "attn.bias", "attn.qk_norm", "norm.pre_attn", "norm.pre_mlp",
                "mlp.gate", "mlp.up", "mlp.down", "mlp.bias")
# a vision tower's (vision_param_rows' order) and its projector's after the text model's
ORDER += (("vision.patch_embed", "vision.class_token", "vision.position", "vision.tile_position", "vision.gates",
           "vision.pre_norm") + tuple("vision." + c for c in TOWER_LAYER) + ("vision.post_norm", "vision.pool_head")
          + tuple("vision.global." + c for c in TOWER_LAYER + ("gates",))
          + ("projector.norm", "projector.merger", "projector.linear", "projector.linear_1", "projector.linear_2"))
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
    "self_attn.kv_b_proj": "attn.kv_b", "self_attn.indexer.wq_b": "attn.indexer.wq_b",
    "self_attn.indexer.wk": "attn.indexer.wk", "self_attn.indexer.k_norm": "attn.indexer.k_norm",
    "self_attn.indexer.weights_proj": "attn.indexer.weights_proj",
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
    # OPT (opt/modeling_opt.py OPTDecoderLayer): before or after each block as do_layer_norm_before says; the
    # checkpoint cannot tell, so these are the "pre" names and compare.py's ALIASES take the spec's "post" ones
    "self_attn.out_proj": "attn.o", "fc1": "mlp.up", "fc2": "mlp.down", "self_attn_layer_norm": "norm.pre_attn",
    "final_layer_norm": "norm.pre_mlp",
    # Bamba's, Falcon-H1's pre_ff_layernorm, LFM2's operator_norm and ffn_norm, Nemotron-H's one norm per block
    "pre_ff_layernorm": "norm.pre_mlp", "operator_norm": "norm.pre_attn", "ffn_norm": "norm.pre_mlp",
    "norm": "norm.pre_attn",
    # LFM2 (lfm2/modeling_lfm2.py Lfm2MLP: w2(silu(w1 x) * w3 x)), LFM2-MoE's router
    "feed_forward.w1": "mlp.gate", "feed_forward.w3": "mlp.up", "feed_forward.w2": "mlp.down",
    "feed_forward.gate": "moe.router", "self_attn.q_layernorm": "attn.qk_norm", "self_attn.k_layernorm": "attn.qk_norm",
    # MiniMax's lightning attention (its qkv_proj and out_proj as attn.qkv, attn.o: compare.py's ALIASES)
    "self_attn.output_gate": "lightning.output_gate", "self_attn.norm": "lightning.norm",
    # BLOOM's and Falcon's self_attention, GPT-NeoX's attention (fused query_key_value, dense), their
    # dense_h_to_4h/dense_4h_to_h; Falcon's ln_attn/ln_mlp; GPT-J's attn and fc_in/fc_out; Phi's dense and fc1/fc2
    "self_attention.query_key_value": "attn.qkv", "self_attention.dense": "attn.o",
    "attention.query_key_value": "attn.qkv", "attention.dense": "attn.o", "self_attn.dense": "attn.o",
    "mlp.dense_h_to_4h": "mlp.up", "mlp.dense_4h_to_h": "mlp.down", "ln_attn": "norm.pre_attn",
    "ln_mlp": "norm.pre_mlp", "attn.q_proj": "attn.q", "attn.k_proj": "attn.k", "attn.v_proj": "attn.v",
    "attn.out_proj": "attn.o", "mlp.fc_in": "mlp.up", "mlp.fc_out": "mlp.down", "mlp.fc1": "mlp.up",
    "mlp.fc2": "mlp.down",
    # DBRX (dbrx/modeling_dbrx.py: norm_attn_norm.attn.Wqkv, fused experts w1/v1/w2, ffn.router.layer)
    "norm_attn_norm.attn.Wqkv": "attn.qkv", "norm_attn_norm.attn.out_proj": "attn.o",
    "norm_attn_norm.norm_1": "norm.pre_attn", "norm_attn_norm.norm_2": "norm.pre_mlp",
    "ffn.router.layer": "moe.router", "ffn.experts.mlp.w1": "moe.experts", "ffn.experts.mlp.v1": "moe.experts",
    "ffn.experts.mlp.w2": "moe.experts",
    # GLM-4's sandwich norms; Hunyuan's q/k norms and router (mlp.gate.wg)
    "post_self_attn_layernorm": "norm.post_attn", "post_mlp_layernorm": "norm.post_mlp",
    "self_attn.query_layernorm": "attn.qk_norm", "self_attn.key_layernorm": "attn.qk_norm",
    "mlp.gate.wg": "moe.router",
    # Granite-MoE (granitemoe/modeling_granitemoe.py GraniteMoeMoE: fused experts, router.layer)
    "block_sparse_moe.input_linear": "moe.experts", "block_sparse_moe.output_linear": "moe.experts",
    "block_sparse_moe.router.layer": "moe.router",
    # Gemma 4 (gemma4/modeling_gemma4.py Gemma4TextDecoderLayer: per-layer input, router, the norms of its MoE block)
    "per_layer_input_gate": "per_layer.gate", "per_layer_projection": "per_layer.projection",
    "post_per_layer_input_norm": "per_layer.norm", "router.proj": "moe.router", "router.scale": "moe.router",
    "router.per_expert_scale": "moe.router", "post_feedforward_layernorm_1": "moe.norms",
    "post_feedforward_layernorm_2": "moe.norms", "pre_feedforward_layernorm_2": "moe.norms",
}
# the recurrent mixers, by the module prefix in the layer: Mamba/Mamba-2 (`mamba.` in Jamba, Bamba, Falcon-H1,
# Granite-MoE-Hybrid; `mixer.` in Mamba and Nemotron-H), LFM2's short conv (`conv.`), Qwen3-Next's Gated DeltaNet
# (`linear_attn.`); a `dt_bias` reads `dt` here, its "_bias" cut as a suffix
_MAMBA = {"in_proj": "mamba.in_proj", "conv1d": "mamba.conv", "x_proj": "mamba.x_proj", "dt_proj": "mamba.dt_proj",
          "dt": "mamba.dt_bias", "A_log": "mamba.A_log", "D": "mamba.D", "norm": "mamba.norm",
          "out_proj": "mamba.out_proj", "dt_layernorm": "mamba.inner_norms", "b_layernorm": "mamba.inner_norms",
          "c_layernorm": "mamba.inner_norms"}
_MIXERS = {
    "mamba.": _MAMBA, "mixer.": _MAMBA,
    "conv.": {"in_proj": "shortconv.in_proj", "conv": "shortconv.conv", "out_proj": "shortconv.out_proj"},
    "linear_attn.": {name: "deltanet." + name for name in ("in_proj_qkvz", "in_proj_ba", "A_log", "norm", "out_proj")}
    | {"conv1d": "deltanet.conv", "dt": "deltanet.dt_bias",
       # Qwen3.5's Qwen3_5GatedDeltaNet splits them (qwen3_5/modeling_qwen3_5.py)
       "in_proj_qkv": "deltanet.in_proj_qkvz", "in_proj_z": "deltanet.in_proj_qkvz",
       "in_proj_b": "deltanet.in_proj_ba", "in_proj_a": "deltanet.in_proj_ba"},
}
# a projection's bias is the mixer's bias component; a conv's stays with it; Mamba's dt_proj bias is its dt bias
_MIXER_BIAS = {"mamba.in_proj": "mamba.bias", "mamba.out_proj": "mamba.bias", "mamba.dt_proj": "mamba.dt_bias",
               "shortconv.in_proj": "shortconv.bias", "shortconv.out_proj": "shortconv.bias"}
# DeepSeek-V3's (mlp.gate), MiniMax-M2's (block_sparse_moe) and Ernie 4.5 MoE's (mlp.moe_statics, as the Hub holds
# it; mlp.gate.moe_statics, as transformers 5.23.0 names it) e_score_correction_bias, its "_bias" cut as a suffix
ROUTING_BIAS_NAMES = frozenset(prefix + suffix for prefix in ("mlp.gate.", "block_sparse_moe.", "mlp.moe_statics.",
                                                              "mlp.gate.moe_statics.")
                               for suffix in ("e_score_correction_bias", "e_score_correction")) | {
    "feed_forward.expert"}  # LFM2-MoE's expert_bias buffer (lfm2_moe/modeling_lfm2_moe.py)
_HF_PREFIX_IN_LAYER = (
    ("mlp.experts.", "moe.experts"), ("block_sparse_moe.experts.", "moe.experts"),
    ("feed_forward.experts.", "moe.experts"), ("mlp.shared_experts.", "moe.shared"),
    ("mlp.shared_expert.", "moe.shared"), ("feed_forward.shared_expert.", "moe.shared"),
    ("mlp.shared_mlp.", "moe.shared"), ("experts.", "moe.experts"),  # Gemma 4's experts beside its MLP
)
_HF_MODEL = {
    "embed_tokens": "embed.token", "wte": "embed.token", "wpe": "embed.position", "embed_positions": "embed.position",
    "norm": "norm.final", "ln_f": "norm.final", "final_layernorm": "norm.final", "lm_head": "lm_head",
    "word_embeddings": "embed.token", "word_embeddings_layernorm": "norm.embedding",
    # OPT's projections around a narrower embedding; Mamba's and Nemotron-H's backbone; LFM2's embedding_norm, which
    # Lfm2Model applies after the last layer (lfm2/modeling_lfm2.py): its final norm
    "project_in": "embed.project_in", "project_out": "lm_head.project_out", "embeddings": "embed.token",
    "norm_f": "norm.final", "embedding_norm": "norm.final", "final_layer_norm": "norm.final",
    # GPT-NeoX's embed_in/embed_out, GPT-1's tokens_embed/positions_embed
    "embed_in": "embed.token", "embed_out": "lm_head", "tokens_embed": "embed.token",
    "positions_embed": "embed.position",
    # Gemma 4's per-layer input embedding, its projection and norm (Gemma4TextModel)
    "embed_tokens_per_layer": "embed.per_layer", "per_layer_model_projection": "per_layer.model_projection",
    "per_layer_projection_norm": "per_layer.norm",
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
    # the recurrent mixers (MODEL_TENSOR.SSM_*, SHORTCONV_*): Mamba's and Mamba-2's names, which Qwen3-Next's Gated
    # DeltaNet shares (its ssm_* as deltanet.* through ALIASES); the dt bias is ssm_dt.bias
    "ssm_in": "mamba.in_proj", "ssm_conv1d": "mamba.conv", "ssm_x": "mamba.x_proj", "ssm_dt": "mamba.dt_proj",
    "ssm_a": "mamba.A_log", "ssm_d": "mamba.D", "ssm_norm": "mamba.norm", "ssm_out": "mamba.out_proj",
    "ssm_dt_norm": "mamba.inner_norms", "ssm_b_norm": "mamba.inner_norms", "ssm_c_norm": "mamba.inner_norms",
    "ssm_ba": "deltanet.in_proj_ba", "shortconv.in_proj": "shortconv.in_proj", "shortconv.conv": "shortconv.conv",
    "shortconv.out_proj": "shortconv.out_proj",
    # Qwen3.5's DeltaNet: its in_proj_b and in_proj_a (its in_proj_qkv and in_proj_z: attn_qkv and attn_gate of a
    # DeltaNet layer, gguf_component); Gemma 4's per-layer input gate, projection and norm
    "ssm_beta": "deltanet.in_proj_ba", "ssm_alpha": "deltanet.in_proj_ba",
    "inp_gate": "per_layer.gate", "proj": "per_layer.projection", "post_norm": "per_layer.norm",
}
_GGUF_MODEL = {"token_embd": "embed.token", "position_embd": "embed.position", "output_norm": "norm.final",
               "output": "lm_head", "token_embd_norm": "norm.embedding",
               # Gemma 4's per-layer input embedding, its projection and norm
               "per_layer_token_embd": "embed.per_layer", "per_layer_model_proj": "per_layer.model_projection",
               "per_layer_proj_norm": "per_layer.norm"}
_BIAS_OF = {"attn.q": "attn.bias", "attn.k": "attn.bias", "attn.v": "attn.bias", "attn.o": "attn.bias",
            "attn.qkv": "attn.bias", "mlp.gate": "mlp.bias", "mlp.up": "mlp.bias", "mlp.down": "mlp.bias",
            "mlp.gate_up": "mlp.bias"}


def _split(name: str) -> tuple[str, bool]:
    """('model.layers.0.self_attn.q_proj', is a bias) from 'model.layers.0.self_attn.q_proj.bias'."""
    match = _SUFFIX.search(name)
    if not match:
        return name, False
    return name[: match.start()], (match.group(1) or match.group(2)) == "bias"


def hf_component(name: str, gemma_norms: bool = False, routed: bool = False,
                 adapter: bool = False) -> tuple[str | None, int | None]:
    """(component, layer) of a Hugging Face tensor name; (None, layer or None) when not recognised. `gemma_norms`:
    the checkpoint has `pre_feedforward_layernorm`, so `post_attention_layernorm` is the norm after attention
    (Gemma 2/3) rather than the one before the MLP (Llama). `routed`: the checkpoint has Granite's routed experts
    (`block_sparse_moe.input_linear`) or Gemma 4's (`experts.gate_up_proj` beside `mlp`), so its `shared_mlp` (its
    `mlp`) is the shared expert rather than the layer's MLP. A
    vision tower's or projector's tensor is a model-level `vision.*`/`projector.*` component (towers.py; `adapter`:
    the checkpoint has Llama 4's vision adapter)."""
    module, bias = _split(name)
    tower = tower_component(module, bias, adapter)
    if tower is not False:
        return tower, None
    layer = _HF_LAYER.search(module)
    if layer:
        index, inner = int(layer.group(1)), layer.group(2)
        return _in_layer(inner, bias, gemma_norms, routed), index
    component = _HF_MODEL.get(module.rsplit(".", 1)[-1])
    return ("lm_head.bias" if bias and component == "lm_head" else component), None


def _in_layer(inner: str, bias: bool, gemma_norms: bool, routed: bool) -> str | None:
    if inner == "post_attention_layernorm":
        return "norm.post_attn" if gemma_norms else "norm.pre_mlp"
    if inner in ROUTING_BIAS_NAMES:
        return "moe.routing_bias"
    if routed and inner in ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"):  # Gemma 4's MLP beside its experts
        return "moe.shared"
    if inner.startswith("shared_mlp."):  # Granite-MoE-Shared's and Granite-MoE-Hybrid's (fused gate and up)
        return "moe.shared" if routed else {"input_linear": "mlp.gate_up", "output_linear": "mlp.down"}.get(
            inner[len("shared_mlp."):])
    for prefix, table in _MIXERS.items():
        if inner.startswith(prefix):
            rest = inner[len(prefix):]
            if rest in table:
                component = table[rest]
                return _MIXER_BIAS.get(component, component) if bias else component
            if prefix == "mixer.":  # Nemotron-H's attention, MLP and MoE blocks are `mixer.` too
                inner = ("self_attn." if rest in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp.") + rest
                if inner in ROUTING_BIAS_NAMES:
                    return "moe.routing_bias"
    component = _HF_IN_LAYER.get(inner)
    if component is None:
        return next((c for prefix, c in _HF_PREFIX_IN_LAYER if (inner + ".").startswith(prefix)), None)
    if bias and component in _BIAS_OF:
        return _BIAS_OF[component]
    return component


def gguf_component(name: str, linears: tuple[int, ...] = (),
                   deltanet: frozenset[int] = frozenset()) -> tuple[str | None, int | None]:
    """(component, layer) of a GGUF tensor name; (None, layer or None) when not recognised. An mmproj file's tower
    and projector tensors are model-level `vision.*`/`projector.*` components (towers.py; `linears` the indices of
    its 2-D `mm.N` weights). `deltanet`: the layers with Qwen3.5's ssm_alpha/ssm_beta, whose attn_qkv and attn_gate
    are the DeltaNet's in_proj_qkv and in_proj_z (gguf-py's TensorNameMap for MODEL_ARCH.QWEN35)."""
    module, bias = _split(name)
    tower = mmproj_component(module, bias, linears)
    if tower is not False:
        return tower, None
    layer = _GGUF_LAYER.match(module)
    if layer:
        inner = layer.group(2)
        if int(layer.group(1)) in deltanet and inner in ("attn_qkv", "attn_gate"):
            return "deltanet.in_proj_qkvz", int(layer.group(1))
        component = _GGUF_IN_LAYER.get(inner)
        if bias:
            component = _BIAS_OF.get(component, _MIXER_BIAS.get(component, component))
        return component, int(layer.group(1))
    return _GGUF_MODEL.get(module), None
