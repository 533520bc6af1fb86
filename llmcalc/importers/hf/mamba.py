"""State-space models (model_types mamba, falcon_mamba and mamba2): every layer is an RMSNorm and a Mamba mixer on
the residual stream, with no attention and no MLP; an RMSNorm at the end, no position encoding. And Jamba, which interleaves
attention layers with Mamba layers and puts experts on every other layer."""

from __future__ import annotations

from ...spec import MAX_LAYERS
from .blocks import GATED_ACTIVATIONS, attention_entry, base_spec, hybrid_stack, moe_entry, read_heads
from .config import Config, got
from .registry import register

# Mamba has no position limit: the spec's context length is the one the state-spaces checkpoints were trained at,
# 2,048 tokens (Gu & Dao 2023, arXiv:2312.00752, sec. 4.2; Dao & Gu 2024, arXiv:2405.21060, sec. 9.2).
TRAINED_CONTEXT = 2048
RMSNORM = {"kind": "rmsnorm"}
# Settings of the scan's initialisation, numerics and fallbacks: none changes a count. The keys the
# state-spaces configs carry that transformers 5.23.0 does not read (fused_add_norm, rms_norm, norm_before_gate,
# pad_vocab_size_multiple, n_layer, and intermediate_size, which MambaConfig recomputes as expand x hidden_size; and
# mamba_ssm's own d_model, d_inner and ssm_cfg, which state-spaces/mamba-130m-hf still carries).
IGNORED = frozenset(("hidden_act", "residual_in_fp32", "rescale_prenorm_residual", "use_mambapy",
                     "use_associative_scan", "time_step_scale", "time_step_min", "time_step_max",
                     "time_step_init_scheme", "time_step_floor", "time_step_limit", "fused_add_norm", "rms_norm",
                     "norm_before_gate", "pad_vocab_size_multiple", "n_layer", "intermediate_size", "d_model",
                     "d_inner", "ssm_cfg"))


def inner_width(c: Config, d: int, key: str = "expand") -> int:
    """int(expand x hidden_size), as MambaConfig.__post_init__ and Mamba2Mixer.__init__ compute it (Bamba's and the
    other hybrids' mixers read mamba_expand)."""
    expand = c.raw(key)
    if isinstance(expand, bool) or not isinstance(expand, (int, float)) or int(expand * d) < 1:
        raise c.error(key, f"must be a number with {key} x hidden_size >= 1, got {got(expand)}")
    return int(expand * d)


def _spec(c: Config, mixer: dict) -> dict:
    for key in ("intermediate_size", "d_inner", "d_model", "n_layer"):  # ignored, but a nonsense size is refused
        c.ignored_count(key, "transformers reads expand, hidden_size and num_hidden_layers instead")
    n_layers = c.integer("num_hidden_layers")
    if n_layers > MAX_LAYERS:
        raise c.error("num_hidden_layers", f"{n_layers:,} layers; llmcalc takes at most {MAX_LAYERS:,}")
    spec = {"family": c.model_type, "vocab_size": c.integer("vocab_size"), "d_model": c.integer("hidden_size"),
            "n_layers": n_layers, "context_length": TRAINED_CONTEXT, "position": "none",
            "tied_embeddings": c.boolean("tie_word_embeddings")}
    spec["notes"] = (f"Mamba has no position limit; context_length is the {TRAINED_CONTEXT:,} tokens the state-spaces "
                     "checkpoints were trained at")
    spec["norm"] = dict(RMSNORM)
    spec["mixer"] = mixer
    return spec


def map_mamba(c: Config) -> dict:
    """mamba (mamba/modeling_mamba.py MambaMixer), transformers 5.23.0: in_proj to 2 x intermediate_size (x and the
    gate), a depthwise conv1d of conv_kernel taps, x_proj to time_step_rank + 2 x state_size (dt, B, C), dt_proj back
    to intermediate_size, A_log and D, out_proj; biases on in_proj and out_proj with use_bias, on the conv with
    use_conv_bias; time_step_rank "auto" is ceil(hidden_size / 16); embeddings tied by default."""
    d = c.integer("hidden_size")
    rank = c.raw("time_step_rank")
    mixer = {"kind": "mamba", "d_inner": inner_width(c, d), "d_state": c.integer("state_size"),
             "d_conv": c.integer("conv_kernel"),
             "dt_rank": -(-d // 16) if rank == "auto" else c.integer("time_step_rank"),
             "conv_bias": c.boolean("use_conv_bias"), "bias": c.boolean("use_bias")}
    return _spec(c, mixer)


def map_mamba2(c: Config) -> dict:
    """mamba2 (mamba2/modeling_mamba2.py Mamba2Mixer), transformers 5.23.0: in_proj to z, x (intermediate_size
    each), B and C (n_groups x state_size each) and dt (num_heads), a depthwise conv1d over x, B and C, dt_bias, A_log
    and D per head, a gated RMSNorm of intermediate_size, out_proj; num_heads x head_dim must be intermediate_size
    (Mamba2Config.validate_architecture); the scan runs in chunks of chunk_size; embeddings untied by default."""
    d = c.integer("hidden_size")
    inner, heads, head_dim = inner_width(c, d), c.integer("num_heads"), c.integer("head_dim")
    if heads * head_dim != inner:
        raise c.error("num_heads", f"num_heads x head_dim = {heads} x {head_dim} must equal expand x hidden_size = "
                                   f"{inner} (Mamba2Config.validate_architecture)")
    groups = c.integer("n_groups")
    if heads % groups:
        raise c.error("n_groups", f"{groups} does not divide num_heads={heads}; allowed: a divisor of {heads}")
    mixer = {"kind": "mamba2", "d_inner": inner, "d_state": c.integer("state_size"),
             "d_conv": c.integer("conv_kernel"), "n_heads": heads, "n_groups": groups,
             "chunk_size": c.integer("chunk_size"), "conv_bias": c.boolean("use_conv_bias"),
             "bias": c.boolean("use_bias")}
    return _spec(c, mixer)


def _period(c: Config, period_key: str, offset_key: str) -> tuple[int, int]:
    period, offset = c.integer(period_key), c.integer(offset_key, minimum=0)
    if offset >= period:
        raise c.error(offset_key, f"{offset} must be smaller than {period_key}={period} "
                                  "(JambaConfig.validate_architecture)")
    return period, offset


def map_jamba(c: Config) -> dict:
    """jamba (jamba/modeling_jamba.py), transformers 5.23.0: attention on the layers i % attn_layer_period ==
    attn_layer_offset (GQA without biases or position encoding; head_dim hidden_size // heads unless the config sets
    one), a Mamba mixer on the others (JambaMambaMixer: MambaMixer's weights of mamba_expand x hidden_size, plus
    RMSNorms on dt, B and C), a SwiGLU MLP of intermediate_size on every layer, replaced by num_experts experts of
    that size with a bias-free router on the layers i % expert_layer_period == expert_layer_offset (num_experts 1
    keeps every layer dense); two RMSNorms per layer, a final one; embeddings untied by default."""
    d = c.integer("hidden_size")
    n_layers = c.integer("num_hidden_layers")
    spec = base_spec(c, "vocab_size", d, n_layers, "max_position_embeddings", position="none")
    spec["norm"] = dict(RMSNORM)
    spec["mlp"] = {"activation": c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": c.integer("intermediate_size")}
    n_heads, n_kv, d_head = read_heads(c, d)
    attention = attention_entry(n_heads, n_kv, d_head)
    rank = c.raw("mamba_dt_rank")
    mixer = {"kind": "mamba", "d_inner": c.integer("mamba_expand") * d, "d_state": c.integer("mamba_d_state"),
             "d_conv": c.integer("mamba_d_conv"),
             "dt_rank": -(-d // 16) if rank == "auto" else c.integer("mamba_dt_rank"), "inner_norms": True,
             "conv_bias": c.boolean("mamba_conv_bias"), "bias": c.boolean("mamba_proj_bias")}
    attn_period, attn_offset = _period(c, "attn_layer_period", "attn_layer_offset")
    expert_period, expert_offset = _period(c, "expert_layer_period", "expert_layer_offset")
    n_experts = c.integer("num_experts")
    moe = moe_entry(n_experts, c.integer("num_experts_per_tok"), spec["mlp"]["d_ff"], c, "num_experts_per_tok") \
        if n_experts > 1 else None
    layers = [{"attention": attention if i % attn_period == attn_offset else None,
               "mixer": None if i % attn_period == attn_offset else mixer,
               "moe": moe if i % expert_period == expert_offset else None} for i in range(n_layers)]
    hybrid_stack(spec, layers)
    return spec


register(
    "mamba",  # mamba/configuration_mamba.py
    defaults={
        "vocab_size": 50280, "hidden_size": 768, "state_size": 16, "num_hidden_layers": 32, "expand": 2,
        "conv_kernel": 4, "use_bias": False, "use_conv_bias": True, "time_step_rank": "auto",
        "tie_word_embeddings": True,
    },
    mapper=map_mamba,
    ignored=IGNORED,
)


register(
    # falcon_mamba/configuration_falcon_mamba.py. FalconMambaMixer (modeling_falcon_mamba.py, transformers 5.23.0) is
    # MambaMixer with weightless RMSNorms (FalconMambaWeightlessRMSNorm, eps mixer_rms_eps) on dt, B and C: the same
    # parameters and matmuls (the norms are left out of the elementwise estimate); use_falcon_mambapy is use_mambapy's
    # old name
    "falcon_mamba",
    defaults={
        "vocab_size": 50280, "hidden_size": 768, "state_size": 16, "num_hidden_layers": 32, "expand": 2,
        "conv_kernel": 4, "use_bias": False, "use_conv_bias": True, "time_step_rank": "auto",
        "tie_word_embeddings": True,
    },
    mapper=map_mamba,
    ignored=IGNORED | {"mixer_rms_eps", "use_falcon_mambapy"},
)


register(
    "mamba2",  # mamba2/configuration_mamba2.py
    defaults={
        "num_heads": 128, "head_dim": 64, "vocab_size": 32768, "hidden_size": 4096, "state_size": 128,
        "num_hidden_layers": 64, "expand": 2, "conv_kernel": 4, "n_groups": 8, "use_bias": False,
        "use_conv_bias": True, "chunk_size": 256, "tie_word_embeddings": False,
    },
    mapper=map_mamba2,
    # time_step_rank: Mamba2Config derives it, Mamba2Mixer keeps it, no weight has its width
    ignored=IGNORED | {"time_step_rank"},
)


register(
    "jamba",  # jamba/configuration_jamba.py
    defaults={
        "vocab_size": 65536, "tie_word_embeddings": False, "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None,
        "hidden_act": "silu", "max_position_embeddings": 262144, "num_experts_per_tok": 2, "num_experts": 16,
        "expert_layer_period": 2, "expert_layer_offset": 1, "attn_layer_period": 8, "attn_layer_offset": 4,
        "mamba_d_state": 16, "mamba_d_conv": 4, "mamba_expand": 2, "mamba_dt_rank": "auto", "mamba_conv_bias": True,
        "mamba_proj_bias": False,
    },
    mapper=map_jamba,
    aliases={"num_local_experts": "num_experts"},
    ignored=frozenset(("use_mamba_kernels", "use_mambapy", "use_associative_scan", "output_router_logits",
                       "router_aux_loss_coef", "num_logits_to_keep", "calc_logits_for_entire_prompt")),
)
