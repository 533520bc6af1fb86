"""Mamba-2 / attention hybrids: some layers mix tokens with a Mamba-2 mixer, the others with attention, and every
layer has an MLP (bamba; granitemoehybrid: experts beside a shared MLP), or every layer runs both side by side
(falcon_h1), or each layer is one block of Mamba-2, attention, an MLP or experts (nemotron_h). Their mixers are
Mamba2Mixer's weights."""

from __future__ import annotations

from .blocks import GATED_ACTIVATIONS, PLAIN_ACTIVATIONS, attention_entry, base_spec, bias_entry, hybrid_stack, \
    moe_entry, partial_rotary, read_heads, read_layer_types
from .config import Config, got
from .mamba import RMSNORM, inner_width
from .registry import register

# The mixer settings these configs share (BambaConfig, GraniteMoeHybridConfig, FalconH1Config, transformers 5.23.0).
MAMBA2_DEFAULTS = {
    "mamba_n_heads": 128, "mamba_d_head": "auto", "mamba_n_groups": 1, "mamba_d_state": 256, "mamba_d_conv": 4,
    "mamba_expand": 2, "mamba_chunk_size": 256, "mamba_conv_bias": True, "mamba_proj_bias": False,
}
# time_step_limit clamps dt in the scan; z_loss_coefficient and num_logits_to_keep are training and generation
# settings: none changes a count.
HYBRID_IGNORED = frozenset(("time_step_limit", "z_loss_coefficient", "num_logits_to_keep", "use_mamba_kernels"))


def mamba2_mixer(c: Config, d_inner: int, inner_key: str = "mamba_expand x hidden_size") -> dict:
    """A Mamba-2 mixer of d_inner channels from the mamba_* keys (BambaMixer, bamba/modeling_bamba.py, transformers
    5.23.0: Mamba2Mixer's weights): mamba_n_heads heads of mamba_d_head ("auto": d_inner // heads), which must span
    d_inner (validate_architecture), mamba_n_groups groups dividing the heads, biases on in_proj and out_proj with
    mamba_proj_bias, on the conv with mamba_conv_bias."""
    heads = c.integer("mamba_n_heads")
    head_dim = d_inner // heads if c.raw("mamba_d_head") == "auto" else c.integer("mamba_d_head")
    if heads * head_dim != d_inner:
        raise c.error("mamba_n_heads", f"mamba_n_heads x mamba_d_head = {heads} x {head_dim} must equal {inner_key} "
                                       f"= {d_inner} (validate_architecture); allowed: heads that divide {d_inner}")
    groups = c.integer("mamba_n_groups")
    if heads % groups:
        raise c.error("mamba_n_groups", f"{groups} does not divide mamba_n_heads={heads}; allowed: a divisor of "
                                        f"{heads}")
    return {"kind": "mamba2", "d_inner": d_inner, "d_state": c.integer("mamba_d_state"),
            "d_conv": c.integer("mamba_d_conv"), "n_heads": heads, "n_groups": groups,
            "chunk_size": c.integer("mamba_chunk_size"), "conv_bias": c.boolean("mamba_conv_bias"),
            "bias": c.boolean("mamba_proj_bias")}


def _attention(c: Config, d: int) -> dict:
    """GQA with biases on all four projections (attention_bias), head_dim hidden_size // heads unless the config
    sets one (the attention reads getattr(config, "head_dim", ...): no field of these config classes)."""
    n_heads, n_kv, d_head = read_heads(c, d)
    bias = c.boolean("attention_bias")
    return attention_entry(n_heads, n_kv, d_head, bias_entry(bias, bias, bias, bias))


def map_bamba(c: Config) -> dict:
    """bamba (bamba/modeling_bamba.py), transformers 5.23.0: attention on the layers of attn_layer_indices (GQA,
    RoPE on int(head_dim x partial_rotary_factor) dims, 0.5 unless rope_parameters sets it: BambaConfig hardcodes
    it), a Mamba-2 mixer (BambaMixer) on the others; a SwiGLU MLP of intermediate_size (mlp_bias) on every layer; an
    RMSNorm before the token mixer and one before the MLP, a final one; embeddings untied by default."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = dict(RMSNORM)
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size"),
                   "bias": c.boolean("mlp_bias")}
    attention = _attention(c, d)
    mixer = mamba2_mixer(c, inner_width(c, d, "mamba_expand"))
    indices = c.integer_list("attn_layer_indices") or []
    if any(i >= n_layers for i in indices):
        raise c.error("attn_layer_indices", f"{got(indices)} names a layer past the last one, {n_layers - 1}; "
                                            f"allowed: layer indices 0 to {n_layers - 1}")
    if indices:
        partial_rotary(c, spec, attention["d_head"], "partial_rotary_factor", fixed=0.5)
    else:  # Mamba-2 layers only: nothing reads a position
        spec["position"] = "none"
    hybrid_stack(spec, [{"attention": attention if i in indices else None, "mixer": None if i in indices else mixer}
                        for i in range(n_layers)])
    return spec


POSITION_EMBEDDING_TYPES = {None: "none", "nope": "none", "rope": "rope"}


def map_granitemoehybrid(c: Config) -> dict:
    """granitemoehybrid (granitemoehybrid/modeling_granitemoehybrid.py), transformers 5.23.0: layer_types names each
    layer's token mixer ("mamba" / linear_attention: a Mamba-2 mixer, GraniteMoeHybridMambaLayer; "attention" /
    full_attention: GQA), RoPE only with position_embedding_type "rope"; every layer has the shared MLP (a SwiGLU of
    shared_intermediate_size, no biases) and, with num_local_experts > 0, beside it num_local_experts SwiGLU experts of
    intermediate_size behind a bias-free router (top num_experts_per_tok); two RMSNorms per layer and a final one.
    Granite's multipliers (embedding, attention, residual, logits) scale activations and change no count."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    kind = c.raw("position_embedding_type")
    if kind not in POSITION_EMBEDDING_TYPES:
        raise c.error("position_embedding_type", f"{got(kind)} is not one transformers builds; allowed: null, "
                                                 "\"nope\", \"rope\"")
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings", position=POSITION_EMBEDDING_TYPES[kind])
    spec["norm"] = dict(RMSNORM)
    activation = c.choice("hidden_act", GATED_ACTIVATIONS)
    n_experts = c.integer("num_local_experts", minimum=0)
    shared = c.integer("shared_intermediate_size", minimum=0 if n_experts else 1)
    if n_experts:
        spec["mlp"] = {"activation": activation, "d_ff": c.integer("intermediate_size")}
        spec["moe"] = moe_entry(n_experts, c.integer("num_experts_per_tok"), spec["mlp"]["d_ff"], c,
                                "num_experts_per_tok", n_shared_experts=1 if shared else 0, d_ff_shared=shared)
    else:  # no experts: the shared MLP alone (Granite 4.0 1B's num_experts_per_tok 0 routes nothing, still a count)
        c.integer("num_experts_per_tok", minimum=0)
        c.ignored_count("intermediate_size", "the experts' width; with none, the MLP is shared_intermediate_size wide")
        spec["mlp"] = {"activation": activation, "d_ff": shared}
    attention = _attention(c, d)
    mixer = mamba2_mixer(c, inner_width(c, d, "mamba_expand"))
    types = read_layer_types(c, n_layers, ["linear_attention"] * n_layers, ("linear_attention", "full_attention"))
    hybrid_stack(spec, [{"attention": attention if t == "full_attention" else None,
                         "mixer": mixer if t == "linear_attention" else None} for t in types])
    return spec


def map_falcon_h1(c: Config) -> dict:
    """falcon_h1 (falcon_h1/modeling_falcon_h1.py), transformers 5.23.0: every layer (FalconH1DecoderLayer) runs GQA
    attention (RoPE on every dim, attention_bias on all four projections) and a Mamba-2 mixer (FalconH1Mixer) side by
    side on one RMSNorm's output and adds the two, then a SwiGLU MLP (mlp_bias) after a second RMSNorm; the mixer is
    mamba_d_ssm wide (null: int(mamba_expand x hidden_size)), its gated RMSNorm only with mamba_rms_norm (else the
    gate alone), its in_proj bias mamba_proj_bias and its out_proj bias projectors_bias; a final RMSNorm; embeddings
    untied by default. The muP multipliers scale activations; FalconH1Model keeps ssm_multipliers as the mup_vector of
    each mixer, a buffer that is not persistent (no parameter, not in the checkpoint)."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings")
    spec["norm"] = dict(RMSNORM)
    ssm = c.optional_integer("mamba_d_ssm")
    spec["mixer"] = dict(mamba2_mixer(c, inner_width(c, d, "mamba_expand") if ssm is None else ssm,
                                      "mamba_expand x hidden_size" if ssm is None else "mamba_d_ssm"),
                         gated_norm=c.boolean("mamba_rms_norm"), out_bias=c.boolean("projectors_bias"))
    spec["attention"] = _attention(c, d)
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size"),
                   "bias": c.boolean("mlp_bias")}
    return spec


register(
    "bamba",  # bamba/configuration_bamba.py (head_dim is no field: BambaAttention reads it, else hidden // heads)
    defaults={
        "vocab_size": 128000, "tie_word_embeddings": False, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None,
        "hidden_act": "silu", "max_position_embeddings": 262144, "attn_layer_indices": None, **MAMBA2_DEFAULTS,
        "attention_bias": False, "mlp_bias": False,
    },
    mapper=map_bamba,
    # attn_rotary_emb: the rotated dims of older BambaConfigs (Bamba-9B's 64 of 128); transformers 5.23.0 does not read
    # it (partial_rotary_factor 0.5 is hardcoded), and RoPE has no parameters; mamba_dt_rank (Bamba-9B's file): a
    # Mamba-1 width BambaConfig does not take, a Mamba-2 mixer's dt being one value per head from in_proj
    ignored=HYBRID_IGNORED | {"attn_rotary_emb", "mamba_dt_rank"},
)


register(
    "granitemoehybrid",  # granitemoehybrid/configuration_granitemoehybrid.py (head_dim: as bamba's)
    defaults={
        "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": None, "head_dim": None, "hidden_act": "silu",
        "max_position_embeddings": 2048, "tie_word_embeddings": False, "attention_bias": False,
        "num_local_experts": 8, "num_experts_per_tok": 2, "shared_intermediate_size": 1024,
        "position_embedding_type": None, "layer_types": None, **MAMBA2_DEFAULTS,
    },
    mapper=map_granitemoehybrid,
    aliases={"layers_block_type": "layer_types"},
    # Granite's multipliers scale activations (embeddings, attention scores, residual branches, logits)
    ignored=HYBRID_IGNORED | {"embedding_multiplier", "logits_scaling", "residual_multiplier",
                              "attention_multiplier"},
)


register(
    "falcon_h1",  # falcon_h1/configuration_falcon_h1.py (head_dim: as bamba's)
    defaults={
        "vocab_size": 128000, "tie_word_embeddings": False, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None,
        "hidden_act": "silu", "max_position_embeddings": 8192, "mamba_d_ssm": 1024, **MAMBA2_DEFAULTS,
        "mamba_rms_norm": False, "projectors_bias": False, "attention_bias": False, "mlp_bias": False,
    },
    mapper=map_falcon_h1,
    # keys of TII's own configs that transformers 5.23.0 does not read: it builds an MLP and attention on every layer
    fixed={"mamba_use_mlp": (True,), "attn_layer_indices": (None,)},
    # the muP multipliers scale activations (mup_vector: a non-persistent buffer); mamba_norm_before_gate orders the
    # gated norm's two steps
    ignored=HYBRID_IGNORED | {"lm_head_multiplier", "embedding_multiplier", "mlp_multipliers", "key_multiplier",
                              "attention_out_multiplier", "attention_in_multiplier", "ssm_multipliers",
                              "ssm_in_multiplier", "ssm_out_multiplier", "mamba_norm_before_gate"},
)


NEMOTRON_BLOCKS = {"M": "linear_attention", "E": "moe", "*": "full_attention", "-": "mlp"}


def _nemotron_blocks(c: Config) -> list[str]:
    """layers_block_type (legacy names remapped), else hybrid_override_pattern's letters (NemotronHConfig.
    _pattern_to_list: M Mamba-2, E experts, * attention, - MLP), else NemotronHConfig's four blocks; the list's length
    is the depth (num_hidden_layers is derived from it)."""
    allowed = tuple(NEMOTRON_BLOCKS.values())
    value = c.raw("layer_types")
    if isinstance(value, list):
        return read_layer_types(c, len(value), [], allowed)
    pattern = c.raw("hybrid_override_pattern")
    if pattern is None:
        return ["linear_attention", "moe", "full_attention", "mlp"]
    if not isinstance(pattern, str) or not pattern or any(ch not in NEMOTRON_BLOCKS for ch in pattern):
        raise c.error("hybrid_override_pattern", f"must be a string of the letters M (Mamba-2), E (experts), * "
                                                 f"(attention) and - (MLP), got {got(pattern)}")
    return [NEMOTRON_BLOCKS[ch] for ch in pattern]


def map_nemotron_h(c: Config) -> dict:
    """nemotron_h (nemotron_h/modeling_nemotron_h.py), transformers 5.23.0: each layer (NemotronHBlock) is one
    RMSNorm and one block: a Mamba-2 mixer (NemotronHMamba2Mixer, mamba_num_heads x mamba_head_dim wide, in_proj and
    out_proj biases with use_bias), attention (GQA without biases or position encoding), an MLP (up and down of
    intermediate_size, mlp_hidden_act, mlp_bias) or experts (n_routed_experts of moe_intermediate_size with the MLP's
    activation, a bias-free router with its e_score_correction_bias buffer, one shared MLP of
    moe_shared_expert_intermediate_size, or of intermediate_size where that is 0); a final RMSNorm; the LM head is never tied (_tied_weights_keys is empty)."""
    types = _nemotron_blocks(c)
    c.ignored_count("num_hidden_layers", f"transformers takes the depth from the block list, {len(types)} here")
    if "full_attention" not in types and "linear_attention" not in types:
        key = "layer_types" if isinstance(c.raw("layer_types"), list) else "hybrid_override_pattern"
        raise c.error(key, "no block mixes the tokens (only MLPs and experts); allowed: at least one Mamba-2 (M) or "
                           "attention (*) block")
    d = c.integer("hidden_size")
    spec = base_spec(c, "vocab_size", d, len(types), "max_position_embeddings", position="none", tied=False)
    spec["norm"] = dict(RMSNORM)
    heads, head_dim, groups = c.integer("mamba_num_heads"), c.integer("mamba_head_dim"), c.integer("n_groups")
    if heads % groups:
        raise c.error("n_groups", f"{groups} does not divide mamba_num_heads={heads}; allowed: a divisor of {heads}")
    mixer = {"kind": "mamba2", "d_inner": heads * head_dim, "d_state": c.integer("ssm_state_size"),
             "d_conv": c.integer("conv_kernel"), "n_heads": heads, "n_groups": groups,
             "chunk_size": c.integer("chunk_size"), "conv_bias": c.boolean("use_conv_bias"),
             "bias": c.boolean("use_bias")}
    n_heads, n_kv, d_head = read_heads(c, d)
    attention = attention_entry(n_heads, n_kv, d_head)
    mlp = {"activation": c.choice("mlp_hidden_act", PLAIN_ACTIVATIONS), "d_ff": c.integer("intermediate_size"),
           "bias": c.boolean("mlp_bias")}
    moe = None
    if "moe" in types:
        if c.raw("moe_latent_size") is not None:
            raise c.error("moe_latent_size", "experts behind a latent projection are not modelled yet; allowed: null")
        if mlp["bias"]:  # NemotronHExperts has no biases, its shared MLP has them: a MoE here biases both or none
            raise c.error("mlp_bias", "biases on the shared MLP but not on the experts (NemotronHExperts) are not "
                                      "modelled; allowed: false, or no E (moe) blocks")
        # NemotronHMLP(intermediate_size=0) falls back on intermediate_size (`intermediate_size or ...`)
        shared = c.integer("moe_shared_expert_intermediate_size", minimum=0) or mlp["d_ff"]
        moe = moe_entry(c.integer("n_routed_experts"), c.integer("num_experts_per_tok"),
                        c.integer("moe_intermediate_size"), c, "num_experts_per_tok", n_shared_experts=1,
                        d_ff_shared=shared, routing_bias=True)
    blocks = {"linear_attention": {"mixer": mixer}, "full_attention": {"attention": attention, "mlp": None},
              "mlp": {"attention": None, "mlp": mlp}, "moe": {"attention": None, "mlp": mlp, "moe": moe}}
    hybrid_stack(spec, [blocks[t] for t in types], top={"attention": attention, "mlp": mlp})
    return spec


register(
    "nemotron_h",  # nemotron_h/configuration_nemotron_h.py
    defaults={
        "vocab_size": 131072, "hidden_size": 4096, "layer_types": None, "hybrid_override_pattern": None,
        "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "max_position_embeddings": 4096,
        "intermediate_size": 21504, "mlp_hidden_act": "relu2", "mlp_bias": False, "ssm_state_size": 128,
        "mamba_num_heads": 128, "mamba_head_dim": 64, "n_groups": 8, "conv_kernel": 4, "use_conv_bias": True,
        "chunk_size": 128, "use_bias": False, "n_routed_experts": 8, "moe_intermediate_size": 7688,
        "moe_shared_expert_intermediate_size": 7688, "moe_latent_size": None, "num_experts_per_tok": 2,
    },
    mapper=map_nemotron_h,
    # NemotronHConfig.__post_init__'s older names, and its attribute_map
    aliases={"layers_block_type": "layer_types", "num_local_experts": "n_routed_experts", "mamba_n_groups": "n_groups",
             "mamba_d_conv": "conv_kernel", "mamba_conv_bias": "use_conv_bias", "mamba_chunk_size": "chunk_size",
             "mamba_expand": "expand", "mamba_dt_min": "time_step_min", "mamba_dt_max": "time_step_max",
             "mamba_dt_limit": "time_step_limit", "mamba_dt_init_floor": "time_step_floor"},
    # Read by no module of transformers 5.23.0 that holds weights: num_hidden_layers (the depth is the block list's
    # length), expand and mamba_proj_bias (the mixer is mamba_num_heads x mamba_head_dim wide, its biases use_bias),
    # attention_bias and sliding_window (NemotronHAttention has neither), tie_word_embeddings (never tied),
    # n_shared_experts (one shared MLP always), the MTP keys (its layers are not built); the rest are routing, scan and
    # numerics settings (mamba_ssm_cache_dtype too: transformers keeps the SSM state in it, float32, where llmcalc
    # sizes every state in --kv-dtype, as the README says)
    ignored=HYBRID_IGNORED | {"num_hidden_layers", "expand", "mamba_proj_bias", "attention_bias", "sliding_window",
                              "tie_word_embeddings", "n_shared_experts", "num_nextn_predict_layers",
                              "mtp_layers_block_type", "mtp_hybrid_override_pattern", "mamba_hidden_act",
                              "time_step_min", "time_step_max", "time_step_floor", "mamba_ssm_cache_dtype",
                              "routed_scaling_factor", "n_group", "topk_group", "norm_topk_prob",
                              "moe_shared_expert_overlap", "residual_in_fp32", "rescale_prenorm_residual"},
)
