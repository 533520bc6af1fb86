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
  per 32 (4.5), `q4_k` 144 per 256 (4.5), `q5_k` 176 per 256 (5.5), `q6_k` 210 per 256 (6.5625), `q2_k` 84 per
  256 (2.625), `q3_k` 110 per 256 (3.4375). The mixed recipes `q4_k_m` and `q5_k_m`: see RECIPES below.
"""

from __future__ import annotations

from .params import ParamCount, mlp_bias

# the linear layers' matrices of the blocks (memory.QUANTIZED: what int4, int8 and fp8 convert too)
LINEAR = frozenset(("attn.q", "attn.k", "attn.v", "attn.o", "attn.q_a", "attn.q_b", "attn.kv_a", "attn.kv_b",
                    "xattn.q", "xattn.k", "xattn.v", "xattn.o", "mlp.gate", "mlp.up", "mlp.down", "moe.experts",
                    "moe.shared"))
MATRICES = LINEAR | {"embed.token", "embed.position", "lm_head", "moe.router", "moe.shared_gate"}
EXPERTS = frozenset(("moe.experts",))

# name -> (bits per converted weight, the components converted, bits of every other parameter, what it is)
WEIGHT_FORMATS: dict[str, tuple[float, frozenset, int, str]] = {
    "fp8_block": (8 + 32 / (128 * 128), LINEAR, 16, "FP8 with a fp32 scale per 128 x 128 block"),
    "mxfp4": (4 + 8 / 32, EXPERTS, 16, "MXFP4 (E2M1, an E8M0 scale per 32) on the routed experts"),
    "nf4": (4 + 8 / 64 + 32 / (64 * 256), LINEAR, 16, "NF4, block 64, double quantization"),
    "q8_0": (34 * 8 / 32, MATRICES, 32, "GGUF Q8_0"),
    "q4_0": (18 * 8 / 32, MATRICES, 32, "GGUF Q4_0"),
    "q4_k": (144 * 8 / 256, MATRICES, 32, "GGUF Q4_K"),
    "q5_k": (176 * 8 / 256, MATRICES, 32, "GGUF Q5_K"),
    "q6_k": (210 * 8 / 256, MATRICES, 32, "GGUF Q6_K"),
    "q2_k": (84 * 8 / 256, MATRICES, 32, "GGUF Q2_K"),
    "q3_k": (110 * 8 / 256, MATRICES, 32, "GGUF Q3_K"),
}


def expert_biases(params: ParamCount, converted: frozenset) -> int:
    """The biases inside the converted expert rows (gpt-oss's experts have them): formats convert matrices only."""
    model, total = params.model, 0
    for group in model.groups:
        moe, mlp = group.layer.moe, group.layer.mlp
        if moe is None or not mlp.bias:
            continue
        if "moe.experts" in converted:
            total += group.count * moe.n_experts * mlp_bias(mlp, model.d_model, moe.d_ff)
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


# llama.cpp's mixed GGUF recipes (src/llama-quant.cpp, llama_tensor_get_type_impl, at 0c1e570): the base type on
# every matrix, Q6_K on the output layer (the token embedding too when tied), and on attn_v and ffn_down of the
# layers use_more_bits picks (the first and last eighth, and every third between: about half); llama.cpp's "70B"
# Llama type (80 layers, grouped KV heads) takes its other attn_v tensors to Q5_K. A matrix whose rows are not a
# multiple of 256 falls back to a 32-block type (tensor_type_fallback). Norms and biases stay f32.
GGUF_BITS = {"q4_k": 144 * 8 / 256, "q5_k": 176 * 8 / 256, "q6_k": 210 * 8 / 256, "q8_0": 34 * 8 / 32,
             "q5_0": 22 * 8 / 32, "q5_1": 24 * 8 / 32}
FALLBACK = {"q4_k": "q5_0", "q5_k": "q5_1", "q6_k": "q8_0"}
RECIPES = {"q4_k_m": "q4_k", "q5_k_m": "q5_k"}
RECIPE_DESCRIPTIONS = {name: f"GGUF {name.upper()} ({base.upper()}, Q6_K on the output layer and on attn_v and "
                             "ffn_down of about half the layers)" for name, base in RECIPES.items()}
LLAMA_ARCH = frozenset(("llama", "llama2", "llama3", "mistral"))  # the families llama.cpp converts to arch "llama"


def use_more_bits(i: int, n: int) -> bool:
    """llama-quant.cpp's use_more_bits: the layers a _M recipe gives more bits."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def recipe_refused(model) -> str | None:
    """Why a mixed recipe is not modelled for this model (MoE routers, MLA, Mamba mixers and blocks without attention
    follow other rules), or None."""
    if any(g.layer.moe or g.layer.mixer or g.layer.attention is None or g.layer.attention.mla
           or g.layer.cross_attention for g in model.groups):
        return ("the recipes are modelled for dense attention models (experts, MLA, Mamba mixers and layers without "
                "attention follow other rules)")
    return None


def _type(kind: str, d_in: int) -> str:
    return FALLBACK.get(kind, kind) if d_in % 256 else kind


def recipe_types(model, recipe: str) -> list[tuple[str, int | None, str, int]]:
    """(component, layer or None, GGUF type, parameters) of every matrix the recipe converts."""
    from .finetune import linear_shapes

    base = RECIPES[recipe]
    n = model.n_layers
    llama_70b = model.family in LLAMA_ARCH and n == 80 and any(
        g.layer.attention.n_kv_heads != g.layer.attention.n_heads for g in model.groups)
    out = []
    names = {"q": "attn.q", "k": "attn.k", "v": "attn.v", "o": "attn.o", "gate": "mlp.gate", "up": "mlp.up",
             "down": "mlp.down"}
    for group in model.groups:
        shapes = linear_shapes(group.layer, model.d_model)
        for i in group.indices:
            for target, matrices in shapes.items():
                for d_in, d_out in matrices:
                    kind = base
                    if target in ("v", "down") and use_more_bits(i, n):
                        kind = "q6_k"
                    elif target == "v" and llama_70b and base == "q4_k":
                        kind = "q5_k"
                    out.append((names[target], i, _type(kind, d_in), d_in * d_out))
    d, vocab = model.d_model, model.vocab_size
    out.append(("lm_head" if not model.tied_embeddings else "embed.token", None, _type("q6_k", d), vocab * d))
    if not model.tied_embeddings:
        out.append(("embed.token", None, _type(base, d), vocab * d))
    return out


def recipe_bytes(params: ParamCount, recipe: str) -> tuple[float, int, dict[str, float]]:
    """(bytes of the weights in the recipe, parameters kept in f32, bits per parameter of each converted
    component averaged over its layers)."""
    types = recipe_types(params.model, recipe)
    bits: dict[str, list[float]] = {}
    for component, _, kind, count in types:
        total = bits.setdefault(component, [0.0, 0])
        total[0] += count * GGUF_BITS[kind]
        total[1] += count
    converted = sum(count for *_, count in types)
    kept = params.total - converted
    data = sum(b for b, _ in bits.values()) / 8 + kept * 4
    return data, kept, {c: b / k for c, (b, k) in bits.items()}
