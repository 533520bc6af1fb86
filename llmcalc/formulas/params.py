"""Exact parameter counts, one small formula per component, gathered into per-layer-group rows.

Every weight, bias and norm vector is counted; totals are sums of the rows, so "total = sum of
parts" holds by construction. Python integers are exact at any size.
"""

from __future__ import annotations

from ..model import MLP, Attention, Layer, LayerGroup, ModelSpec, MoE, Norm, Projector, VisionTower
from .indexer import indexer_rows
from .param_rows import ACTIVE_CONVENTIONS, ParamCount, ParamRow  # noqa: F401 (the results, named here too)
from .per_layer import per_layer_model_rows, per_layer_rows, projected_kv
from .recurrent import param_rows as mixer_param_rows

# ------------------------------------------------------------------------------ the formulas


def token_embedding(vocab_size: int, d_model: int) -> int:
    """Token embedding matrix V x d (Vaswani et al. 2017, sec. 3.4)."""
    return vocab_size * d_model


def position_embedding(position: str, rows: int, d_model: int) -> int:
    """Learned absolute positions n_ctx x d (Radford et al. 2018), n_ctx + 2 rows for OPT
    (OPTLearnedPositionalEmbedding's offset, opt/modeling_opt.py, transformers 5.23.0); RoPE, ALiBi, sinusoidal have
    none."""
    return rows * d_model if position == "learned" else 0


def embedding_projection(d_embed: int, d_model: int) -> int:
    """OPT's project_in (d_embed -> d) or project_out (d -> d_embed), linears without bias when the word embedding
    is narrower than the model (word_embed_proj_dim, opt/modeling_opt.py, transformers 5.23.0)."""
    return d_embed * d_model if d_embed != d_model else 0


def lm_head(vocab_size: int, d_model: int, tied: bool) -> int:
    """Output projection d x V, shared with the token embedding when tied (Press & Wolf 2017)."""
    return 0 if tied else vocab_size * d_model


def lm_head_bias(vocab_size: int, bias: bool) -> int:
    """The LM head's bias, one per vocabulary entry, its own even when the weight is tied (GPT-J and Phi-1/2:
    nn.Linear(hidden_size, vocab_size) with a bias, gptj/modeling_gptj.py and phi/modeling_phi.py, transformers
    5.23.0)."""
    return vocab_size if bias else 0


def norm_vector(norm: Norm, d_model: int) -> int:
    """One LayerNorm (weight + bias, Ba et al. 2016) or RMSNorm (weight, Zhang & Sennrich 2019)."""
    return norm.n_params * d_model


def attention_q(attention: Attention, d_model: int) -> int:
    """W_Q: d x (n_heads * d_head) (Vaswani et al. 2017, sec. 3.2.2)."""
    return d_model * attention.n_heads * attention.d_head


def attention_kv(attention: Attention, d_model: int) -> int:
    """W_K or W_V: d x (n_kv_heads * d_head); GQA (Ainslie et al. 2023) and MQA (Shazeer 2019) share K/V heads."""
    return d_model * attention.n_kv_heads * attention.d_head


def attention_o(attention: Attention, d_model: int) -> int:
    """W_O: (n_heads * d_head) x d (Vaswani et al. 2017, sec. 3.2.2)."""
    return attention.n_heads * attention.d_head * d_model


def attention_bias(attention: Attention, d_model: int) -> int:
    """Bias vectors of the q, k, v and o projections that have one (GPT-2 has all four, Qwen2 only q, k, v); none of
    a k or v projection the layer lacks (kv_shared, k_eq_v)."""
    q = attention.n_heads * attention.d_head if attention.bias_q else 0
    k, v = projected_kv(attention)
    kv = attention.n_kv_heads * attention.d_head
    return q + (kv * k if attention.bias_k else 0) + (kv * v if attention.bias_v else 0) + \
        (d_model if attention.bias_o else 0)


def qk_norm(attention: Attention) -> int:
    """RMSNorm weights of d_head on queries and on keys, shared by the heads (Qwen3; Dehghani et al. 2023); over the
    whole projections, n_heads x d_head and n_kv_heads x d_head (OLMo 2: modeling_olmo2.py's q_norm and k_norm;
    Groeneveld et al. 2025, sec. 3.1); Llama 4's L2 norm has none. LayerNorm: weight and bias of d_head on each
    (Phi-1/2's q_layernorm and k_layernorm, phi/modeling_phi.py); per head without bias, a weight of n_heads x d_head
    and one of n_kv_heads x d_head (Cohere's q_norm and k_norm, cohere/modeling_cohere.py; transformers 5.23.0)."""
    kind = attention.qk_norm
    if kind in ("rmsnorm_full", "layernorm_heads"):
        return (attention.n_heads + attention.n_kv_heads) * attention.d_head
    # a layer reusing an earlier layer's K and V has no k norm (Gemma4TextAttention, gemma4/modeling_gemma4.py)
    return {"rmsnorm": 2, "layernorm": 4}.get(kind, 0) * attention.d_head // (2 if attention.kv_shared else 1)


def output_gate(attention: Attention, d_model: int) -> int:
    """The output gate's half of q_proj, d x (n_heads * d_head) and its bias with q's, whose sigmoid multiplies the
    attention output before o (Qwen3NextAttention's q_proj of twice the width, qwen3_next/modeling_qwen3_next.py,
    transformers 5.23.0; Qiu et al. 2025, arXiv:2505.06708)."""
    if not attention.output_gate:
        return 0
    return attention_q(attention, d_model) + (attention.n_heads * attention.d_head if attention.bias_q else 0)


def attention_sinks(attention: Attention) -> int:
    """One learned sink logit per head, an extra softmax column with no value (gpt-oss; Xiao et al. 2023)."""
    return attention.n_heads if attention.sinks else 0


def mla_projections(attention: Attention, d_model: int) -> list[tuple[str, int]]:
    """MLA weights (DeepSeek-V2 sec. 2.1; HF DeepseekV3Attention): low-rank q (q_a, its RMSNorm, q_b) or a full
    q projection; kv_a to the latent plus the RoPE key, its RMSNorm; kv_b up to per-head K (nope) and V; o."""
    mla, heads = attention.mla, attention.n_heads
    q_out = heads * mla.qk_head_dim
    if mla.q_lora_rank:
        q = [("attn.q_a", d_model * mla.q_lora_rank), ("attn.q_norm", mla.q_lora_rank),
             ("attn.q_b", mla.q_lora_rank * q_out)]
    else:
        q = [("attn.q", d_model * q_out)]
    return q + [
        ("attn.kv_a", d_model * (mla.kv_lora_rank + mla.qk_rope_head_dim)),
        ("attn.kv_norm", mla.kv_lora_rank),
        ("attn.kv_b", mla.kv_lora_rank * heads * (mla.qk_nope_head_dim + mla.v_head_dim)),
        ("attn.o", heads * mla.v_head_dim * d_model),
    ]


def relative_position_bias(buckets: int, n_heads: int) -> int:
    """T5's relative position bias: one learned scalar per bucket and head, in each stack (Raffel et al. 2020, 2.1)."""
    return buckets * n_heads


def mlp_matrix(d_model: int, d_ff: int) -> int:
    """One MLP matrix d x d_ff: up, gate (GLU variants, Shazeer 2020 eq. 6) or down."""
    return d_model * d_ff


def mlp_bias(mlp: MLP, d_model: int, d_ff: int) -> int:
    """Biases of an MLP: d_ff for each input matrix (up, and gate when gated), d for the down projection."""
    return ((2 if mlp.gated else 1) * d_ff + d_model) if mlp.bias else 0


def mlp_block(mlp: MLP, d_model: int, d_ff: int) -> int:
    """A whole MLP of width d_ff: its matrices and biases (one expert of a MoE is one such block)."""
    return mlp.n_matrices * mlp_matrix(d_model, d_ff) + mlp_bias(mlp, d_model, d_ff)


def router(moe: MoE, d_model: int) -> int:
    """Router (gating) matrix d x n_experts, and its bias if any (Shazeer et al. 2017; Fedus et al. 2021); Gemma 4's
    scale of d on its input and per_expert_scale (Gemma4TextRouter, gemma4/modeling_gemma4.py, transformers 5.23.0)."""
    scales = d_model + moe.n_experts if moe.router_scales else 0
    return d_model * moe.n_experts + (moe.n_experts if moe.router_bias else 0) + scales


def shared_expert_gate(moe: MoE, d_model: int) -> int:
    """Sigmoid gate d -> 1 on the shared expert output (Qwen1.5-MoE / Qwen2-MoE)."""
    return d_model if moe.shared_gate else 0


def routing_bias(moe: MoE) -> int:
    """DeepSeek-V3's per-expert bias added to the routing scores for load balancing (sec. 2.1.2). It is moved
    by a fixed rule, not by gradients: a buffer (as in HF transformers), stored in the checkpoint, not a parameter;
    Ernie 4.5 MoE holds it as an nn.Parameter without gradient, which num_parameters() counts
    (Ernie4_5_MoeStatics.e_score_correction_bias, ernie4_5_moe/modeling_ernie4_5_moe.py, transformers 5.23.0)."""
    return moe.n_experts if moe.routing_bias else 0


def tanh_gates() -> int:
    """A gated block's two learned scalars, tanh(gate) scaling its attention's and its MLP's output: Mllama's
    cross_attn_attn_gate and cross_attn_mlp_gate (MllamaCrossAttentionDecoderLayer), and gate_attn and gate_ffn of its
    global vision layers (MllamaVisionEncoderLayer, is_gated), mllama/modeling_mllama.py, transformers 5.23.0; Flamingo's
    gated cross-attention (Alayrac et al. 2022, sec. 2.2)."""
    return 2


def mtp_projection(d_model: int) -> int:
    """A multi-token prediction module's M_k, 2d -> d, joining the hidden state and the next token's embedding
    (DeepSeek-V3 sec. 2.2)."""
    return 2 * d_model * d_model


def norm_names(norm: Norm, cross: bool = False) -> list[str]:
    """The norms of one layer: before (pre), after (post) or both (sandwich) each sub-block; a parallel block's
    one norm shared by attention and MLP (GPT-J's ln_1, gptj/modeling_gptj.py; Phi's and Cohere's
    input_layernorm, transformers 5.23.0)."""
    if norm.shared:
        return ["norm.shared"]
    blocks = ("attn", "xattn", "mlp") if cross else ("attn", "mlp")
    sides = {"pre": ("pre",), "post": ("post",), "sandwich": ("pre", "post")}[norm.placement]
    return [f"norm.{side}_{block}" for block in blocks for side in sides]


def layer_norm_names(layer: Layer, norm: Norm) -> list[str]:
    """The norms of one layer (norm_names); a layer with a recurrent mixer has norms around the mixer (and its MLP,
    when it has one): MambaBlock's one RMSNorm before the mixer (mamba/modeling_mamba.py, transformers 5.23.0); a
    layer of attention alone or an MLP alone has the norms of that one block (NemotronHBlock's one RMSNorm,
    nemotron_h/modeling_nemotron_h.py)."""
    if layer.mixer is None and layer.attention and layer.attention.to_images:  # cross-attention, no self-attention
        return [name.replace("_attn", "_xattn") for name in norm_names(norm)]
    if layer.mixer is None and layer.attention and layer.mlp:
        return norm_names(norm, layer.cross_attention)
    token = "mixer" if layer.mixer else "attn" if layer.attention else None
    blocks = [block for block in (token, "mlp" if layer.mlp else None) if block]
    sides = {"pre": ("pre",), "post": ("post",), "sandwich": ("pre", "post")}[norm.placement]
    return [f"norm.{side}_{block}" for block in blocks for side in sides]


def _attention_rows(att: Attention, d_model: int, prefix: str) -> list[tuple[str, int]]:
    kv, (k, v) = attention_kv(att, d_model), projected_kv(att)
    return [
        (f"{prefix}.q", attention_q(att, d_model)),
        (f"{prefix}.k", kv * k),
        (f"{prefix}.v", kv * v),
        (f"{prefix}.o", attention_o(att, d_model)),
        (f"{prefix}.bias", attention_bias(att, d_model)),
    ]


def layer_rows(layer: Layer, norm: Norm, d_model: int) -> list[tuple[str, int, int]]:
    """(component, params, active params) of one layer; zero-sized components are left out. A layer with both a
    recurrent mixer and attention (Falcon-H1's FalconH1DecoderLayer) has the rows of both."""
    att, mlp, moe = layer.attention, layer.mlp, layer.moe
    rows = mixer_param_rows(layer.mixer, d_model) if layer.mixer else []
    if att and att.to_images:
        rows += _attention_rows(att, d_model, "xattn") + [("xattn.qk_norm", qk_norm(att)),
                                                         ("xattn.gates", tanh_gates())]
    elif att and att.mla:  # and DSA's indexer, if any (formulas/indexer.py)
        rows += mla_projections(att, d_model) + indexer_rows(att, d_model)
    elif att:
        rows += _attention_rows(att, d_model, "attn") + [
            ("attn.gate", output_gate(att, d_model)),
            ("attn.qk_norm", qk_norm(att)),
            ("attn.sinks", attention_sinks(att)),
        ]
    if layer.cross_attention:
        # Cross-attention over the encoder output has the shapes of the self-attention (Vaswani et al. 2017).
        rows += _attention_rows(att, d_model, "xattn")
    rows += [(name, norm_vector(norm, d_model)) for name in layer_norm_names(layer, norm)]
    out = [(name, n, n) for name, n in rows]
    if moe is None and mlp:
        matrix = mlp_matrix(d_model, mlp.d_ff)
        dense = [("mlp.gate", matrix if mlp.gated else 0), ("mlp.up", matrix), ("mlp.down", matrix),
                 ("mlp.bias", mlp_bias(mlp, d_model, mlp.d_ff))]
        out += [(name, n, n) for name, n in dense]
    elif moe:
        expert = mlp_block(moe.routed(mlp), d_model, moe.d_ff)
        shared = moe.n_shared_experts * mlp_block(mlp, d_model, moe.d_ff_shared)
        counted_bias = routing_bias(moe) if moe.routing_bias_parameter else 0
        out += [
            ("moe.router", router(moe, d_model), router(moe, d_model)),
            ("moe.norms", moe.norms * norm_vector(norm, d_model), moe.norms * norm_vector(norm, d_model)),
            ("moe.routing_bias", counted_bias, counted_bias),
            ("moe.experts", moe.n_experts * expert, moe.top_k * expert),
            ("moe.shared", shared, shared),
            ("moe.shared_gate", shared_expert_gate(moe, d_model), shared_expert_gate(moe, d_model)),
        ]
    return [row for row in out + per_layer_rows(layer, norm, d_model) if row[1]]


def count_params(model: ModelSpec, active_includes_input_embedding: bool = True) -> ParamCount:
    """Every parameter of the model, per component and per layer group."""
    d, width = model.d_model, model.embed_width
    rows = [ParamRow("embed.token", None, 1, token_embedding(model.input_vocab, width),
                     token_embedding(model.input_vocab, width), embedding="input",
                     note="tied with the LM head" if model.tied_embeddings else None)]
    position = position_embedding(model.position, model.position_rows, d)
    if position:
        rows.append(ParamRow("embed.position", None, 1, position, position, embedding="input"))
    projection = embedding_projection(width, d)
    if projection:
        rows.append(ParamRow("embed.project_in", None, 1, projection, projection))
    if model.relative_buckets:
        stacks = 2 if model.is_encoder_decoder else 1
        bias = relative_position_bias(model.relative_buckets, model.layers[0].attention.n_heads)
        rows.append(ParamRow("embed.relative", None, stacks, bias, bias,
                             note="one table per stack, shared by its layers"))
    if model.embedding_norm:
        embed_norm = norm_vector(model.norm, d)
        rows.append(ParamRow("norm.embedding", None, 1, embed_norm, embed_norm))
    rows += per_layer_model_rows(model)
    for group in model.groups:
        rows += _group_rows(group, model.norm, d)
    if model.norm.final:
        final = norm_vector(model.norm, d)
        if model.is_encoder_decoder:
            rows.append(ParamRow("norm.final_encoder", None, 1, final, final))
        rows.append(ParamRow("norm.final", None, 1, final, final))
    if projection:
        rows.append(ParamRow("lm_head.project_out", None, 1, projection, projection))
    head = lm_head(model.vocab_size, width, model.tied_embeddings)
    rows.append(ParamRow("lm_head", None, 1, head, head, embedding="output",
                         note="tied: shares the token embedding" if model.tied_embeddings else None))
    if model.lm_head_bias:
        bias = lm_head_bias(model.vocab_size, True)
        rows.append(ParamRow("lm_head.bias", None, 1, bias, bias, embedding="output"))
    if model.vision:
        rows += vision_param_rows(model.vision)
    buffers = [ParamRow("moe.routing_bias", g.name, g.count, routing_bias(g.layer.moe), 0,
                        note="buffer: moved by a rule, not trained")
               for g in model.groups if g.layer.moe and g.layer.moe.routing_bias
               and not g.layer.moe.routing_bias_parameter]
    optional = _mtp_rows(model) if model.mtp_modules else []
    if model.mtp_modules and model.layers[-1].moe and model.layers[-1].moe.routing_bias:
        buffers.append(ParamRow("moe.routing_bias", "mtp", model.mtp_modules,
                                routing_bias(model.layers[-1].moe), 0, note="buffer: moved by a rule, not trained"))
    return ParamCount(model, tuple(rows), active_includes_input_embedding, tuple(buffers), tuple(optional))


# ------------------------------------------------------------------------------ a vision tower

NORM_SIZE = {"rmsnorm": 1, "layernorm": 2}  # vectors of the tower's width: a weight (and a bias)

def patch_embedding(tower: VisionTower) -> int:
    """The patch embedding, a convolution with a patch x patch kernel (x temporal_patch frames) and stride, from the
    image channels to the tower's width, and its bias if any: CLIPVisionEmbeddings' Conv2d without bias
    (clip/modeling_clip.py), SiglipVisionEmbeddings' with one (siglip/modeling_siglip.py), Qwen2_5_VisionPatchEmbed's
    Conv3d without (qwen2_5_vl/modeling_qwen2_5_vl.py), transformers 5.23.0."""
    kernel = tower.channels * tower.temporal_patch * tower.patch_size * tower.patch_size
    return kernel * tower.d_model + (tower.d_model if tower.patch_bias else 0)


def vision_positions(tower: VisionTower) -> int:
    """Learned position embeddings of (image_size // patch_size)^2 patches (+1 for the class token): CLIP's and
    SigLIP's nn.Embedding(num_positions, hidden_size); none under Qwen2.5-VL's 2-D RoPE; position_rows of them,
    interpolated to each image, Qwen3.5's nn.Embedding(num_position_embeddings, hidden_size)
    (qwen3_5/modeling_qwen3_5.py Qwen3_5VisionModel.pos_embed), transformers 5.23.0."""
    if tower.position == "interpolated":
        return tower.position_rows * tower.d_model
    if tower.position != "learned":
        return 0
    return (tower.grid * tower.grid + (1 if tower.class_token else 0)) * tower.d_model


def tile_positions(tower: VisionTower) -> int:
    """Mllama's tile position embeddings, one table row per supported aspect ratio and one for none: the gated
    positional embedding's tile_embedding, (ratios + 1) x tiles x (patches + 1) x d, and the pre- and post-tile
    embeddings, (ratios + 1) x tiles x d each (MllamaPrecomputedPositionEmbedding, MllamaPrecomputedAspectRatioEmbedding,
    mllama/modeling_mllama.py, transformers 5.23.0)."""
    if not tower.aspect_ratios:
        return 0
    rows, tokens = (tower.aspect_ratios + 1) * tower.tiles, tower.grid * tower.grid + (1 if tower.class_token else 0)
    return rows * tokens * tower.d_model + 2 * rows * tower.d_model


def pool_head(tower: VisionTower) -> int:
    """SigLIP's attention-pooling head (SiglipMultiheadAttentionPoolingHead, siglip/modeling_siglip.py 5.23.0): a
    probe vector, torch's nn.MultiheadAttention (in-projection 3d x d and out-projection d x d, with biases), a
    LayerNorm and an MLP like the layers'."""
    d = tower.d_model
    return d + 4 * d * d + 4 * d + 2 * d + mlp_block(tower.layer.mlp, d, tower.layer.mlp.d_ff)


def projector_rows(projector: Projector, d_vision: int) -> list[tuple[str, int]]:
    """The projector: LLaVA's linear_1 (vision width x feature layers -> text width), GELU, linear_2 (text width ->
    text width), with biases per multimodal_projector_bias (LlavaMultiModalProjector, llava/modeling_llava.py);
    Qwen2.5-VL's patch merger, an RMSNorm ln_q over the vision width, then Linear(4 x width, 4 x width), GELU,
    Linear(4 x width, out_hidden_size), both with biases (Qwen2_5_VLPatchMerger, qwen2_5_vl/modeling_qwen2_5_vl.py);
    one Linear when d_hidden is None; Llama 4's Llama4VisionMLP2 (fc1, fc2) and linear_1, bias-free (n_hidden 2,
    llama4/modeling_llama4.py); Mistral 3's RMSNorm, patch merger (Linear(width x merge^2, width), no bias), linear_1,
    activation, linear_2 (Mistral3MultiModalProjector, mistral3/modeling_mistral3.py); transformers 5.23.0."""
    rows = [("projector.norm", NORM_SIZE[projector.norm] * d_vision if projector.norm else 0),
            ("projector.merger", d_vision * projector.merge ** 2 * d_vision if projector.merger else 0)]
    widths = projector.widths
    return rows + [(name, d_in * d_out + (d_out if projector.bias else 0))
                   for name, d_in, d_out in zip(projector.linear_names(), widths, widths[1:])]


def vision_param_rows(tower: VisionTower) -> list[ParamRow]:
    """Every parameter of the tower (group "vision") and of the projector (group "projector"), zero rows left out;
    none active: a token's forward pass does not run them (they run once per image, before it)."""
    d, norm = tower.d_model, norm_vector(tower.norm, tower.d_model)
    single = [("vision.patch_embed", patch_embedding(tower)),
              ("vision.class_token", d if tower.class_token else 0),
              ("vision.position", vision_positions(tower)),
              ("vision.tile_position", tile_positions(tower)),
              # the gates of the position embedding and of the pre- and post-tile embeddings (Mllama)
              ("vision.gates", 3 if tower.aspect_ratios else 0),
              ("vision.pre_norm", norm if tower.pre_norm else 0)]
    after = [("vision.post_norm", norm if tower.norm.final else 0),
             ("vision.pool_head", pool_head(tower) if tower.pool_head else 0)]
    layer = layer_rows(tower.layer, tower.norm, d)
    rows = [ParamRow(name, "vision", 1, n, 0) for name, n in single if n]
    rows += [ParamRow(f"vision.{name}", "vision", tower.n_layers, n, 0) for name, n, _ in layer]
    rows += [ParamRow(name, "vision", 1, n, 0) for name, n in after if n]
    if tower.global_layers:  # Mllama's global transformer: the layers again, each with its two tanh gates
        rows += [ParamRow(f"vision.global.{name}", "vision", tower.global_layers, n, 0)
                 for name, n, _ in layer + [("gates", tanh_gates(), tanh_gates())]]
    return rows + [ParamRow(name, "projector", 1, n, 0) for name, n in projector_rows(tower.projector, d) if n]


def _group_rows(group: LayerGroup, norm: Norm, d_model: int) -> list[ParamRow]:
    name, count = group.name, group.count
    return [ParamRow(component, name, count, params, active)
            for component, params, active in layer_rows(group.layer, norm, d_model)]


def _mtp_rows(model: ModelSpec) -> list[ParamRow]:
    """DeepSeek-V3's MTP modules (sec. 2.2, Figure 3): RMSNorms on the hidden state and on the embedding, the 2d -> d
    projection, one transformer block like the model's last, a final norm; embedding and head are shared."""
    d, n = model.d_model, model.mtp_modules
    norms = 3 * norm_vector(model.norm, d)
    rows = [ParamRow("mtp.norms", "mtp", n, norms, norms), ParamRow("mtp.proj", "mtp", n, mtp_projection(d),
                                                                     mtp_projection(d))]
    return rows + [ParamRow(name, "mtp", n, params, active)
                   for name, params, active in layer_rows(model.layers[-1], model.norm, d)]
