"""Weight formats below 16 bits that checkpoints ship in: which tensors each converts and its exact bits per weight,
constants included, from the format's own block layout.

- `fp8_block`: FP8 E4M3 with one fp32 scale per 128 x 128 block (DeepSeek-V3's weight_block_size [128, 128]): the
  linear layers; embeddings, the output layer, norms and routers bf16. 8 + 32/16384 bits.
- `mxfp4`: OCP microscaling FP4 (E2M1) with one E8M0 scale per 32 weights, on the routed experts' matrices only, as
  gpt-oss ships (its model card: MoE weights in MXFP4, the rest bf16; checkpoints of 60.8 and 12.8 GiB).
  4 + 8/32 = 4.25 bits.
- `nf4`: bitsandbytes' NormalFloat4 of the QLoRA paper, block 64 with double quantization: the linear layers.
  4 + 0.127 bits.
- GGUF types (ggml's block structs in ggml-common.h), on every matrix, embeddings and output layer included; 1-D
  tensors (norms, biases) stay f32 as llama.cpp stores them: `q8_0` 34 bytes per 32 weights (8.5 bits), `q4_0` 18
  per 32 (4.5), `q4_1` 20 per 32 (5), `q5_0` 22 per 32 (5.5), `q5_1` 24 per 32 (6), `iq4_nl` 18 per 32 (4.5),
  `iq4_xs` 136 per 256 (4.25), `q4_k` 144 per 256 (4.5), `q5_k` 176 per 256 (5.5), `q6_k` 210 per 256 (6.5625),
  `q2_k` 84 per 256 (2.625), `q3_k` 110 per 256 (3.4375): one type for all (llama-quantize --pure). llama.cpp's
  file types tensor by tensor, as llama-quantize writes them without --pure (formulas/recipes.py): `q2_k_mix` (its
  Q2_K), `q3_k_s`, `q3_k_m`, `q3_k_l`, `q4_k_s`, `q4_k_m`, `q5_k_s`, `q5_k_m`, `q6_k_mix` (Q6_K), `q4_0_mix`,
  `q4_1_mix`, `q5_0_mix`, `q5_1_mix`, `q8_0_mix` (Q4_0 ... Q8_0), `iq4_nl_mix` and `iq4_xs_mix` (IQ4_NL, IQ4_XS).
"""

from __future__ import annotations

from .params import ParamCount, mlp_bias
from .recipes import GGUF_BITS, RECIPE_DESCRIPTIONS, RECIPES, recipe_bytes

# the linear layers' matrices of the blocks (memory.QUANTIZED: what int4, int8 and fp8 convert too)
LINEAR = frozenset(("attn.q", "attn.k", "attn.v", "attn.o", "attn.q_a", "attn.q_b", "attn.kv_a", "attn.kv_b",
                    "xattn.q", "xattn.k", "xattn.v", "xattn.o", "mlp.gate", "mlp.up", "mlp.down", "moe.experts",
                    "moe.shared", "embed.project_in", "lm_head.project_out"))
MATRICES = LINEAR | {"embed.token", "embed.position", "lm_head", "moe.router", "moe.shared_gate"}
EXPERTS = frozenset(("moe.experts",))

# name -> (bits per converted weight, the components converted, bits of every other parameter, what it is)
WEIGHT_FORMATS: dict[str, tuple[float, frozenset, int, str]] = {
    "fp8_block": (8 + 32 / (128 * 128), LINEAR, 16, "FP8 with a fp32 scale per 128 x 128 block"),
    "mxfp4": (4 + 8 / 32, EXPERTS, 16, "MXFP4 (E2M1, an E8M0 scale per 32) on the routed experts"),
    "nf4": (4 + 8 / 64 + 32 / (64 * 256), LINEAR, 16, "NF4, block 64, double quantization"),
    **{name: (GGUF_BITS[name], MATRICES, 32, f"GGUF {name.upper()}")
       for name in ("q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q2_k", "q3_k", "q4_1", "q5_0", "q5_1", "iq4_nl", "iq4_xs")},
}


def expert_biases(params: ParamCount, converted: frozenset) -> int:
    """The biases inside the converted expert rows (gpt-oss's experts have them): formats convert matrices only."""
    model, total = params.model, 0
    for group in model.groups:
        moe, mlp = group.layer.moe, group.layer.mlp
        if moe is None:
            continue
        if "moe.experts" in converted:
            total += group.count * moe.n_experts * mlp_bias(moe.routed(mlp), model.d_model, moe.d_ff)
        if "moe.shared" in converted:
            total += group.count * moe.n_shared_experts * mlp_bias(mlp, model.d_model, moe.d_ff_shared)
    return total


def format_bytes(params: ParamCount, name: str) -> tuple[float, int, str]:
    """(bytes of the weights in format `name`, parameters it leaves at their own width, a description). Biases stay
    at the other width, also those counted inside an expert's row."""
    if name in RECIPES:
        data, kept, _ = recipe_bytes(params, name)
        return data, kept, RECIPE_DESCRIPTIONS[name]
    bits, converted, other_bits, description = WEIGHT_FORMATS[name]
    inside = sum(row.total for row in params.rows if row.component in converted) - expert_biases(params, converted)
    outside = params.total - inside
    return inside * bits / 8 + outside * other_bits / 8, outside, description
