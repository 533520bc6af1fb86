"""Qwen3.5 (model_types qwen3_5_text, qwen3_5_moe_text): Qwen3-Next's Gated DeltaNet and gated attention layers, with
a dense SwiGLU MLP on every layer or experts with a gated shared expert on every layer."""

from __future__ import annotations

from .blocks import LLAMA_LIKE, hybrid_stack, moe_entry, rmsnorm_gated_spec
from .config import Config
from .qwen3_next import deltanet_layers
from .registry import register


def map_qwen3_5_text(c: Config) -> dict:
    """qwen3_5_text (qwen3_5/modeling_qwen3_5.py) and qwen3_5_moe_text (qwen3_5_moe/modeling_qwen3_5_moe.py),
    transformers 5.23.0: Qwen3-Next's layers (qwen3_next.deltanet_layers). Qwen3_5GatedDeltaNet splits Qwen3-Next's
    in_proj_qkvz and in_proj_ba into in_proj_qkv, in_proj_z, in_proj_b and in_proj_a of the same widths (the same
    parameters and matmuls); Qwen3_5Attention is Qwen3NextAttention; the text RoPE is M-RoPE (mrope_section, a text
    token's three position ids equal), partial_rotary_factor of each head. Qwen3_5DecoderLayer: a SwiGLU MLP of
    intermediate_size on every layer. Qwen3_5MoeDecoderLayer: Qwen3NextSparseMoeBlock on every layer (no
    decoder_sparse_step, no mlp_only_layers): num_experts experts of moe_intermediate_size, top num_experts_per_tok,
    a bias-free router, one shared expert of shared_expert_intermediate_size behind a sigmoid gate. Two RMSNorms per
    layer, a final one; embeddings untied by default. The checkpoints' MTP weights (mtp.*) are not built."""
    moe = c.model_type == "qwen3_5_moe_text"
    spec = rmsnorm_gated_spec(c, c.integer("moe_intermediate_size" if moe else "intermediate_size"))
    attention, mixer, types = deltanet_layers(c, spec)
    experts = None
    if moe:
        n_experts = c.integer("num_experts")
        experts = moe_entry(n_experts, c.integer("num_experts_per_tok"), c.integer("moe_intermediate_size"), c,
                            "num_experts_per_tok", n_shared_experts=1,
                            d_ff_shared=c.integer("shared_expert_intermediate_size"), shared_gate=True)
    hybrid_stack(spec, [{"attention": attention if t == "full_attention" else None,
                         "mixer": mixer if t == "linear_attention" else None, "moe": experts} for t in types])
    return spec


_TEXT = {
    **LLAMA_LIKE, "head_dim": 256, "vocab_size": 248320, "max_position_embeddings": 32768, "num_attention_heads": 16,
    "attention_bias": False, "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_value_head_dim": 128,
    "linear_num_key_heads": 16, "linear_num_value_heads": 32, "layer_types": None, "full_attention_interval": 4,
    "partial_rotary_factor": 0.25,
}
# mtp_num_hidden_layers, mtp_use_dedicated_embeddings: the checkpoints' multi-token-prediction layer, which
# Qwen3_5ForCausalLM and Qwen3_5ForConditionalGeneration do not build (_keys_to_ignore_on_load_unexpected: ^mtp.*);
# mrope_section, mrope_interleaved: which of the rotated dims follow the temporal, height and width positions (no
# parameter, no matmul)
_TEXT_IGNORED = frozenset(("mtp_num_hidden_layers", "mtp_use_dedicated_embeddings", "mrope_section",
                           "mrope_interleaved", "use_sliding_window"))
# Qwen3_5TextConfig and Qwen3_5MoeTextConfig delete mlp_only_layers; attn_output_gate is no field (the gate is
# always built)
_TEXT_FIXED = {"mlp_only_layers": (None, []), "attn_output_gate": (True,)}
register(
    "qwen3_5_text",  # qwen3_5/configuration_qwen3_5.py, Qwen3_5TextConfig (full_attention_interval,
    # partial_rotary_factor: kwargs)
    defaults={**_TEXT, "hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 32,
              "num_key_value_heads": 4},
    mapper=map_qwen3_5_text,
    ignored=_TEXT_IGNORED,
    fixed=_TEXT_FIXED,
)
register(
    "qwen3_5_moe_text",  # qwen3_5_moe/configuration_qwen3_5_moe.py, Qwen3_5MoeTextConfig
    defaults={**_TEXT, "hidden_size": 2048, "num_hidden_layers": 40, "num_key_value_heads": 2,
              "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512, "num_experts_per_tok": 8,
              "num_experts": 256},
    mapper=map_qwen3_5_text,
    # norm_topk_prob: Qwen3_5MoeTopKRouter always renormalises the top-k weights (no parameter, no matmul);
    # intermediate_size: no Qwen3_5MoeTextConfig field, no layer reads it (every layer holds experts)
    ignored=_TEXT_IGNORED | {"norm_topk_prob", "intermediate_size"},
    fixed={**_TEXT_FIXED, "decoder_sparse_step": (1,)},
)
