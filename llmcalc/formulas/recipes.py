"""llama.cpp's GGUF file types (`llama-quantize IN OUT Q4_K_M`), tensor by tensor, as its quantizer assigns the types:
src/llama-quant.cpp at 0c1e570 (llama-cpp-python 0.3.36's copy): llama_ftype_get_default_type,
tensor_allows_quantization, tensor_get_category, llama_tensor_get_type_impl and tensor_type_fallback, over the tensors
convert_hf_to_gguf.py writes, without an importance matrix.

The recipes and their file types: `q2_k_mix` (Q2_K), `q3_k_s`, `q3_k_m`, `q3_k_l`, `q4_k_s`, `q4_k_m`, `q5_k_s`,
`q5_k_m`, and those named like a single ggml type, suffixed `_mix` as the single types (formats.py: one type for
every matrix, llama-quantize --pure) keep the plain name: `q6_k_mix` (Q6_K), `q4_0_mix`, `q4_1_mix`, `q5_0_mix`,
`q5_1_mix`, `q8_0_mix` (Q4_0 ... Q8_0), `iq4_nl_mix` and `iq4_xs_mix` (IQ4_NL, IQ4_XS).

The tensors, in the loader's order (layer by layer): per layer attn_q, attn_k, attn_v, attn_output (MLA:
attn_q or attn_q_a and attn_q_b, attn_kv_a_mqa, and kv_b split into attn_k_b and attn_v_b, as conversion/deepseek.py
writes it for the absorbed MLA: no attn_kv_b is left), then ffn_gate, ffn_up, ffn_down or the experts' ffn_*_exps
(3-D, one tensor for all experts) and the shared experts' ffn_*_shexp; token_embd and output. GPT-2,
StarCoder, GPT-NeoX, BLOOM, Falcon, Phi-3 and DBRX convert q, k and v to one attn_qkv tensor, which takes attn_v's
rules (category_is_attn_v is tested before ATTENTION_QKV's own branch, which no tensor reaches). The router
(ffn_gate_inp) and the shared experts' gate (ffn_gate_inp_shexp) are not quantized (convert writes them F32), nor is
any 1-D tensor (norms, biases: F32).

The rules the recipes take (n_gqa: layer 0's heads over its KV heads, an MLA model's heads; "8 experts": exactly 8
routed experts, Mixtral; i: the layer, and for attn_v the count of attn_v tensors before it, of n_v):

- base type: the file type's (llama_ftype_get_default_type): Q2_K, Q3_K, Q4_K, Q5_K for the _K_ recipes, Q6_K,
  Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, IQ4_XS; token_embd keeps it;
- output (and token_embd when tied): Q8_0 on Falcon, when its rows are not a multiple of the base type's block, or
  for Q8_0; else Q6_K (the legacy and IQ4 types too);
- attn_v: Q2_K Q4_K when n_gqa >= 4, else Q3_K; Q3_K_M Q5_K on the first two, then Q4_K; Q3_K_L Q5_K; Q4_K_S Q5_K on
  the first four; Q4_K_M and Q5_K_M Q6_K where use_more_bits(i, n_v) picks (the first and last eighth and every
  third between); IQ4_NL and IQ4_XS Q5_K when n_gqa >= 4; the others the base type. On llama.cpp's "70B" type
  (llama arch: 80 layers with grouped KV heads, not 8 experts; qwen2: 80 layers) a Q3_K or Q4_K attn_v becomes
  Q5_K. With 8 experts attn_v is Q8_0 in every recipe;
- attn_k: Q8_0 with 8 experts, in every recipe;
- attn_output: with 8 experts Q5_K for Q2_K, Q3_K_S, Q3_K_M, Q4_K_S, Q4_K_M, IQ4_NL, IQ4_XS (Q3_K_L keeps Q3_K);
  otherwise Q3_K for Q2_K, Q4_K for Q3_K_M, Q5_K for Q3_K_L; on Falcon the base type (Q3_K_L: Q4_K);
- ffn_down (dense, routed experts and shared experts alike, by the layer of the tensor): Q3_K for Q2_K; Q3_K_M Q5_K
  in the first sixteenth of the layers, then Q4_K; Q3_K_L Q5_K; Q4_K_S Q5_K in the first eighth; Q4_K_M and Q5_K_M
  Q6_K where use_more_bits(i, n_layers); IQ4_NL and IQ4_XS Q5_K in the first eighth (the rule without an importance
  matrix); Q4_0 and Q5_0 change it only with an importance matrix. Falcon: Q3_K_M Q5_K in the first sixteenth, then
  Q4_K where use_more_bits picks and Q3_K elsewhere; Q3_K_L Q4_K; Q4_K_S the base type; Q4_K_M Q6_K in the first
  sixteenth, then Q5_K where use_more_bits picks and Q4_K elsewhere;
- ffn_gate, ffn_up, attn_q and MLA's low-rank matrices: the base type (Q3_K_S, Q5_K_S, Q6_K and the legacy types
  change nothing else);
- a matrix whose rows (ne[0], the input width) are not a multiple of its type's block (256, 32 for Q4_0 ... Q8_0
  and IQ4_NL) falls back: Q2_K and Q3_K to Q4_0, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, IQ4_XS to IQ4_NL; to F16
  when not a multiple of 32 either (a 32-block type goes to F16 at once).
"""

from __future__ import annotations

from .params import ParamCount

# bits per weight of the ggml block types (ggml-common.h: block_q2_K 84 bytes per 256 weights, ...)
GGUF_BITS = {"q2_k": 84 * 8 / 256, "q3_k": 110 * 8 / 256, "q4_k": 144 * 8 / 256, "q5_k": 176 * 8 / 256,
             "q6_k": 210 * 8 / 256, "q8_0": 34 * 8 / 32, "q4_0": 18 * 8 / 32, "q4_1": 20 * 8 / 32,
             "q5_0": 22 * 8 / 32, "q5_1": 24 * 8 / 32, "iq4_nl": 18 * 8 / 32, "iq4_xs": 136 * 8 / 256, "f16": 16}
BLOCK = {"q8_0": 32, "q4_0": 32, "q4_1": 32, "q5_0": 32, "q5_1": 32, "iq4_nl": 32, "f16": 1}  # the others: 256
FALLBACK = {"q2_k": "q4_0", "q3_k": "q4_0", "q4_k": "q5_0", "q5_k": "q5_1", "q6_k": "q8_0", "iq4_xs": "iq4_nl"}
# recipe -> its file type's base type (llama_ftype_get_default_type)
RECIPES = {"q2_k_mix": "q2_k", "q3_k_s": "q3_k", "q3_k_m": "q3_k", "q3_k_l": "q3_k", "q4_k_s": "q4_k",
           "q4_k_m": "q4_k", "q5_k_s": "q5_k", "q5_k_m": "q5_k", "q6_k_mix": "q6_k", "q4_0_mix": "q4_0",
           "q4_1_mix": "q4_1", "q5_0_mix": "q5_0", "q5_1_mix": "q5_1", "q8_0_mix": "q8_0", "iq4_nl_mix": "iq4_nl",
           "iq4_xs_mix": "iq4_xs"}
# recipe -> the file type llama-quantize takes for it
FTYPES = {r: "Q2_K" if r == "q2_k_mix" else r.removesuffix("_mix").upper() for r in RECIPES}
_OUTPUT = "Q6_K on the output layer"
RECIPE_DESCRIPTIONS = {
    "q2_k_mix": "GGUF Q2_K as llama-quantize's Q2_K mix (Q3_K ffn_down and attn_output, Q3_K/Q4_K attn_v, Q6_K output)",
    "q3_k_s": f"GGUF Q3_K_S (Q3_K, {_OUTPUT})",
    "q3_k_m": f"GGUF Q3_K_M (Q3_K, Q4_K/Q5_K on attn_v, ffn_down and attn_output, {_OUTPUT})",
    "q3_k_l": f"GGUF Q3_K_L (Q3_K, Q5_K on attn_v, ffn_down and attn_output, {_OUTPUT})",
    "q4_k_s": f"GGUF Q4_K_S (Q4_K, Q5_K on the first four attn_v and the first eighth's ffn_down, {_OUTPUT})",
    "q4_k_m": f"GGUF Q4_K_M (Q4_K, {_OUTPUT} and on attn_v and ffn_down of about half the layers)",
    "q5_k_s": f"GGUF Q5_K_S (Q5_K, {_OUTPUT})",
    "q5_k_m": f"GGUF Q5_K_M (Q5_K, {_OUTPUT} and on attn_v and ffn_down of about half the layers)",
    "q6_k_mix": "GGUF Q6_K file type (Q6_K, Q8_0 on attn_v and attn_k with 8 experts)",
    **{f"{t}_mix": f"GGUF {t.upper()} file type ({t.upper()}, {_OUTPUT})" for t in ("q4_0", "q4_1", "q5_0", "q5_1")},
    "q8_0_mix": "GGUF Q8_0 file type (Q8_0, F16 where rows do not split into its blocks)",
    **{f"{t}_mix": f"GGUF {t.upper()} file type ({t.upper()}, Q5_K on the first eighth's ffn_down and on attn_v when "
       f"4+ heads share a KV head, {_OUTPUT})" for t in ("iq4_nl", "iq4_xs")},
}
IQ4 = frozenset(("iq4_nl_mix", "iq4_xs_mix"))
# the recipes whose attn_output is Q5_K with 8 experts; without them, those that change it
EIGHT_EXPERT_ATTN_OUTPUT = frozenset(("q2_k_mix", "q3_k_s", "q3_k_m", "q4_k_s", "q4_k_m", *IQ4))
ATTN_OUTPUT = {"q2_k_mix": "q3_k", "q3_k_m": "q4_k", "q3_k_l": "q5_k"}
# the families llama.cpp converts to arch "llama" (its 70B type: 80 layers, n_head != n_head_kv, not 8 experts),
# and those whose own arch calls any 80-layer model 70B (src/models/qwen2.cpp, olmo.cpp)
LLAMA_ARCH = frozenset(("llama", "llama2", "llama3", "mistral", "mixtral"))
# the families whose converter writes q, k and v as one attn_qkv tensor (an attn_v-like category to the quantizer)
FUSED_QKV = frozenset(("gpt2", "gpt_bigcode", "phi3", "dbrx", "gpt_neox", "pythia", "bloom", "falcon"))
SEVENTY_B_AT_80 = frozenset(("qwen2", "olmo"))


def use_more_bits(i: int, n: int) -> bool:
    """llama-quant.cpp's use_more_bits: the layers a _M recipe gives more bits."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def recipe_refused(model) -> str | None:
    """Why a mixed recipe is not modelled for this model, or None: recurrent mixers and cross-attention follow
    tensors and rules not modelled here."""
    if model.is_recurrent:
        return (f"the recipes are modelled for attention models (dense, MoE, MLA); {model.mixer_names} layers quantize "
                "tensors not modelled here")
    if any(g.layer.attention is None or g.layer.mixer is not None or g.layer.cross_attention
           or g.layer.attention.to_images for g in model.groups):
        return "the recipes are modelled for attention models (dense, MoE, MLA) without cross-attention"
    if model.projected:
        return "the recipes are modelled for embeddings as wide as the model (llama.cpp converts no projections)"
    return None


def fallback(kind: str, d_in: int) -> str:
    """tensor_type_fallback: the type a matrix of rows of d_in weights gets instead of `kind` when they do not split
    into its blocks."""
    if d_in % BLOCK.get(kind, 256) == 0:
        return kind
    kind = FALLBACK.get(kind, kind)
    return kind if d_in % BLOCK.get(kind, 256) == 0 else "f16"


def gguf_tensors(model) -> list[tuple[str, int | None, str, int, int]]:
    """(llmcalc component, layer or None, llama.cpp's tensor category, d_in, parameters) of every matrix
    llama-quantize converts, layer by layer as its loader orders them."""
    from .finetune import linear_shapes

    category = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output", "q_a": "other", "q_b": "other",
                "kv_a": "other", "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}
    component = {"q": "attn.q", "k": "attn.k", "v": "attn.v", "o": "attn.o", "q_a": "attn.q_a", "q_b": "attn.q_b",
                 "kv_a": "attn.kv_a", "gate": "mlp.gate", "up": "mlp.up", "down": "mlp.down"}
    rows = {}
    for group in model.groups:
        shapes = linear_shapes(group.layer, model.d_model)
        fused = model.family in FUSED_QKV  # one attn_qkv tensor: q, k and v share its type
        tensors = [(component[t], "attn_qkv" if fused and t in ("q", "k", "v") else category[t], d_in, d_in * d_out)
                   for t, matrices in shapes.items() if t in category for d_in, d_out in matrices]
        att, moe = group.layer.attention, group.layer.moe
        if att.mla:  # kv_b as attn_k_b (ne[0] qk_nope_head_dim) and attn_v_b (ne[0] kv_lora_rank)
            mla, heads = att.mla, att.n_heads
            tensors += [("attn.kv_b", "other", mla.qk_nope_head_dim, heads * mla.qk_nope_head_dim * mla.kv_lora_rank),
                        ("attn.kv_b", "other", mla.kv_lora_rank, heads * mla.v_head_dim * mla.kv_lora_rank)]
        if moe:
            for name, d_ff, n in (("moe.experts", moe.d_ff, moe.n_experts),
                                  ("moe.shared", moe.d_ff_shared * moe.n_shared_experts, 1 if moe.n_shared_experts else 0)):
                if n:
                    d = model.d_model
                    up = [("ffn_gate", d), ("ffn_up", d)] if group.layer.mlp.gated else [("ffn_up", d)]
                    tensors += [(name, cat, d_in, n * d * d_ff) for cat, d_in in (*up, ("ffn_down", d_ff))]
        for i in group.indices:
            rows[i] = tensors
    return [(c, i, cat, d_in, count) for i in sorted(rows) for c, cat, d_in, count in rows[i]]


def _seventy_b(model, n_expert: int) -> bool:
    if model.n_layers != 80:
        return False
    if model.family in SEVENTY_B_AT_80:
        return True
    return model.family in LLAMA_ARCH and n_expert != 8 and any(
        g.layer.attention.n_kv_heads != g.layer.attention.n_heads for g in model.groups)


def _ffn_down(recipe: str, i: int, n: int, falcon: bool) -> str:
    """ffn_down's type in layer i of n (Falcon has rules of its own)."""
    base = RECIPES[recipe]
    if recipe == "q2_k_mix":
        return "q3_k"
    if recipe == "q3_k_m":
        return "q5_k" if i < n // 16 else "q4_k" if not falcon or use_more_bits(i, n) else "q3_k"
    if recipe == "q3_k_l":
        return "q4_k" if falcon else "q5_k"
    if recipe == "q4_k_m" and falcon:
        return "q6_k" if i < n // 16 else "q5_k" if use_more_bits(i, n) else "q4_k"
    if recipe in ("q4_k_m", "q5_k_m"):
        return "q6_k" if use_more_bits(i, n) else base
    if recipe in IQ4 or (recipe == "q4_k_s" and not falcon):
        return "q5_k" if i < n // 8 else base
    return base


def _attn_v(recipe: str, i: int, n: int, gqa: int) -> str:
    """attn_v's (or a fused attn_qkv's) type, the i-th of n, before the 70B and 8-expert rules."""
    if recipe == "q2_k_mix":
        return "q4_k" if gqa >= 4 else "q3_k"
    if recipe == "q3_k_m":
        return "q5_k" if i < 2 else "q4_k"
    if recipe == "q3_k_l" or (recipe in IQ4 and gqa >= 4) or (recipe == "q4_k_s" and i < 4):
        return "q5_k"
    if recipe in ("q4_k_m", "q5_k_m") and use_more_bits(i, n):
        return "q6_k"
    return RECIPES[recipe]


def recipe_types(model, recipe: str) -> list[tuple[str, int | None, str, int]]:
    """(component, layer or None, GGUF type, parameters) of every matrix the recipe converts, as
    llama_tensor_get_type_impl picks them (see the module's docstring)."""
    base = RECIPES[recipe]
    n = model.n_layers
    n_expert = max((g.layer.moe.n_experts for g in model.groups if g.layer.moe), default=0)
    first = model.groups[0].layer.attention  # hparams.n_gqa() reads layer 0
    gqa = first.n_heads // first.n_kv_heads if first.n_kv_heads and not first.mla else first.n_heads  # MLA: 1 KV head
    seventy_b = _seventy_b(model, n_expert)
    falcon = model.family == "falcon"
    tensors = gguf_tensors(model)
    n_wv = sum(1 for c, _, cat, _, _ in tensors if cat == "attn_v" or (cat == "attn_qkv" and c == "attn.q"))
    i_wv = i_down = 0
    qkv = base
    out = []
    for component, layer, cat, d_in, count in tensors:
        kind = base
        if cat == "attn_qkv" and component != "attn.q":
            kind = qkv  # the type the fused tensor took at its q rows
        elif cat in ("attn_v", "attn_qkv"):
            kind = _attn_v(recipe, i_wv, n_wv, gqa)
            if seventy_b and kind in ("q3_k", "q4_k"):
                kind = "q5_k"
            if n_expert == 8:
                kind = "q8_0"
            i_wv += 1
            qkv = kind
        elif cat == "attn_k" and n_expert == 8:
            kind = "q8_0"
        elif cat == "ffn_down":
            i = layer if n_expert > 1 else i_down  # layer_info: the tensor's name with experts, else a counter
            kind = _ffn_down(recipe, i, n, falcon)
            i_down += 1
        elif cat == "attn_output":
            if falcon:
                kind = "q4_k" if recipe == "q3_k_l" else base
            elif n_expert == 8:
                kind = "q5_k" if recipe in EIGHT_EXPERT_ATTN_OUTPUT else base
            else:
                kind = ATTN_OUTPUT.get(recipe, base)
        out.append((component, layer, fallback(kind, d_in), count))
    d, vocab = model.embed_width, model.vocab_size
    # Q8_0 on Falcon, for Q8_0, or when the rows do not split into the base type's blocks (a 32-block type's rows of
    # a multiple of 32 but not of 256 take Q6_K, which falls back to Q8_0 all the same)
    output = "q6_k" if d % 256 == 0 and not falcon and base != "q8_0" else "q8_0"
    out.append(("lm_head" if not model.tied_embeddings else "embed.token", None, fallback(output, d), vocab * d))
    if not model.tied_embeddings:
        out.append(("embed.token", None, fallback(base, d), vocab * d))
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
