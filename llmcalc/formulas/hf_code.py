"""Which transformers modeling code the `transformers` activation profile follows for a model, and the traits of that
code that change what it saves for backward (transformers 5.23.0; hf_activations.py counts the tensors).

The code is the one of the spec's family when the family is a transformers model_type this module knows (the
Hugging Face import sets the family to the config's model_type; a built-in spec's family such as "qwen3-moe" is read
with "-" as "_"); a model_type the import knows whose code is not measured is refused (UNMEASURED); any other
family (a built-in spec's llama2, llama3) is held to Llama's code (modeling_llama.py), which mistral, qwen2, qwen3
and mixtral share line for line in what they save. Each code also names the features it assumes of the spec, and
hf_activations.unsupported refuses a spec that departs from them.
"""

from __future__ import annotations

from ..model import ModelSpec
from ..records import record


@record
class Code:
    """One modeling file's traits, as far as they change the saved tensors."""

    file: str                    # the modeling file under transformers/models/
    placement: str = "pre"       # where its norms sit: "pre", "post" or "sandwich" (pre and post each sub-block)
    # its norm (hf_rows.py): RMSNorms "llama" (x * rsqrt in fp32, cast back, times the weight), "gemma" (x * rsqrt
    # in fp32, times (1 + weight) in fp32, cast back) or "fp32" (OLMo 2: x * rsqrt times the weight in fp32, cast
    # back); LayerNorms "olmo" (no weight, in fp32), "layernorm" (nn.LayerNorm) or "cohere" (in Python, fp32)
    norm: str = "llama"
    eager_fp32_softmax: bool = True  # eager's softmax in fp32, kept with its bf16 copy (or in bf16: GPT-2, Falcon)
    # when K and V reach attention repeated to every query head: "eager" (repeat_kv under eager, or sdpa with a
    # mask: Llama) or "broadcast" (Falcon's new decoder architecture copies them to every head in both; its original
    # multi-query one, a single K/V head and one norm, lets eager's matmul broadcast it, copying nothing)
    kv_repeat: str = "eager"
    sdpa_mask: bool = False      # sdpa gets a materialised bf16 causal mask (batch x seq x seq), kept per layer
    index_split: bool = False    # K and V taken from the fused output with index lists (Falcon, fewer K/V heads
    #                              than q): two one-element int64 indices per layer
    mask_argument: bool = False  # eager's causal mask reaches each block as a positional argument, which gradient
    #                              checkpointing keeps (GPT-2)
    embedding_norm: bool = False  # a LayerNorm on the token embedding (BLOOM)
    # "rope", "learned" (a table of positions whose int64 ids its embedding keeps) or "alibi" (a bias, no gradient)
    positions: str = "rope"
    lm_head_bias: bool = False   # its LM head may have a bias (Phi, GPT-J: it keeps nothing more)
    parallel: bool = False       # attention and MLP may read the same input (the spec's residual "parallel")
    mlp: str = "gated"           # its MLP: "gated" (gate, up, down) or "plain" (fc, activation, proj)
    gelu_tanh: str = "fused"     # the spec's gelu_tanh as it runs: "fused" (gelu_pytorch_tanh) or "new" (gelu_new)
    # the q/k norm it has, if the spec has one: per head ("rmsnorm", or "layernorm_heads" / "layernorm" run as its
    # norm: Cohere, Phi) or over the whole projection ("rmsnorm_full": OLMo 2, OLMoE, OLMo 3)
    qk_norm: str = "rmsnorm"
    embed_scale: bool = False    # the embedding times sqrt(d_model) as a 0-d bf16 tensor made in every forward
    attn_softcap: bool = False   # eager: scores / cap, tanh, * cap (config attn_logit_softcapping, taken as set)
    final_softcap: bool = False  # logits / cap, tanh, * cap (config final_logit_softcapping, taken as set)
    rope_per_type: bool = False  # one cos/sin pair per layer type (sliding, full) instead of one for the model
    rope_fp32: bool = False      # cos and sin kept in fp32 (OLMo 2 rotates q and k in fp32; ERNIE 4.5)
    # the cos/sin pairs each layer's apply_rotary_pos_emb makes (a repeat_interleave of the model's halves: ERNIE
    # 4.5's in fp32, GLM-4's in bf16; GPT-J's one for q and one for k), kept instead of the model's pair
    rope_per_layer: int = 0
    qk_fp32: bool = False        # eager computes the scores from fp32 copies of q and k (GPT-J), which it keeps
    partial_rope: bool = False   # it rotates the leading rotary_dim dims of each head only (GLM-4's 0.5 by default)
    head_major_q: bool = False   # RoPE joins q's halves with torch.cat (Phi-3): q is contiguous head-major, so is
    #                              sdpa's output, and the o projection's input is a transposed copy of it
    sdpa: bool = True            # transformers offers sdpa for it (Gemma 2 refuses it: sdpa cannot softcap)
    mla: bool = False            # DeepSeek-V3's multi-head latent attention (eager only: see hf_activations)
    layout: str = "llama"        # the layer it runs: "llama" (hf_activations.py, parallel ones too) or "gpt2"
    #                              (hf_gpt2.py: GPT-2, GPTBigCode, BLOOM)
    moe: str | None = None       # the MoE block it runs (hf_moe.py): "mixtral", "qwen2_moe", "qwen3_moe", "olmoe",
    #                              "granitemoe" or "deepseek_v3"

    @property
    def norm_kind(self) -> str:
        """The spec's norm kind its norm is."""
        return "rmsnorm" if self.norm in ("llama", "gemma", "fp32") else "layernorm"


LLAMA = Code("llama/modeling_llama.py", moe="mixtral")
CODES = {
    "llama": LLAMA,
    "mistral": Code("mistral/modeling_mistral.py"),
    "qwen2": Code("qwen2/modeling_qwen2.py"),
    "qwen3": Code("qwen3/modeling_qwen3.py"),
    "mixtral": Code("mixtral/modeling_mixtral.py", moe="mixtral"),
    "qwen2_moe": Code("qwen2_moe/modeling_qwen2_moe.py", moe="qwen2_moe"),
    "qwen_moe": Code("qwen2_moe/modeling_qwen2_moe.py", moe="qwen2_moe"),  # the built-in Qwen1.5/Qwen2 MoE specs
    "qwen3_moe": Code("qwen3_moe/modeling_qwen3_moe.py", moe="qwen3_moe"),
    # fused qkv and gate_up: q, k, v and gate, up are views of one output; what is kept is as Llama's but sdpa's
    # output (partial_rotary_factor, which the phi3 import does not read into rotary_dim, is taken as 1: Phi-3's
    # default and configs; Phi-4-mini's 0.75 would keep narrower cos and sin)
    "phi3": Code("phi3/modeling_phi3.py", head_major_q=True),
    "olmo2": Code("olmo2/modeling_olmo2.py", placement="post", norm="fp32", qk_norm="rmsnorm_full", rope_fp32=True),
    "deepseek_v3": Code("deepseek_v3/modeling_deepseek_v3.py", mla=True, moe="deepseek_v3"),
    # Granite's embedding, residual, attention and logits multipliers scale by Python floats: nothing more is kept
    "granite": Code("granite/modeling_granite.py"),
    # SmolLM3's NoPE layers skip RoPE: q and k are then the projections' outputs, kept as RoPE's output would be
    "smollm3": Code("smollm3/modeling_smollm3.py"),
    "internlm3": Code("llama/modeling_llama.py"),  # transformers builds LlamaForCausalLM for it
    # EXAONE 4: RMSNorms after each sub-block (post), q/k RMSNorm per head, sliding and full layers
    "exaone4": Code("exaone4/modeling_exaone4.py", placement="post"),
    "ernie4_5": Code("ernie4_5/modeling_ernie4_5.py", rope_per_layer=1, rope_fp32=True),
    # GLM-4: four RMSNorms per layer, fused gate_up (kept as Llama's gate and up are), RoPE on the leading half of
    # each head joined back with torch.cat (q head-major, as Phi-3's)
    "glm4": Code("glm4/modeling_glm4.py", placement="sandwich", rope_per_layer=1, partial_rope=True,
                 head_major_q=True),
    "olmoe": Code("olmoe/modeling_olmoe.py", qk_norm="rmsnorm_full", moe="olmoe"),
    "granitemoe": Code("granitemoe/modeling_granitemoe.py", moe="granitemoe"),
    "granitemoeshared": Code("granitemoeshared/modeling_granitemoeshared.py", moe="granitemoe"),
    # OLMo 3: OLMo 2's layer with sliding and full layers, each type its own fp32 RoPE
    "olmo3": Code("olmo3/modeling_olmo3.py", placement="post", norm="fp32", qk_norm="rmsnorm_full", rope_fp32=True,
                  rope_per_type=True),
    "cohere2": Code("cohere2/modeling_cohere2.py", norm="cohere", qk_norm="layernorm_heads", parallel=True),
    # OLMo: non-parametric LayerNorms in fp32, RoPE in fp32 (clip_qkv, which the spec does not hold, is taken as
    # null, the default: clamping q, k and v in place keeps their projections' outputs too)
    "olmo": Code("olmo/modeling_olmo.py", norm="olmo", rope_fp32=True),
    # StarCoder2: nn.LayerNorms, biases, a plain MLP (gelu_pytorch_tanh, its default and its published configs)
    "starcoder2": Code("starcoder2/modeling_starcoder2.py", norm="layernorm", mlp="plain"),
    # Cohere: attention and MLP in parallel on one CohereLayerNorm's output, q/k norms per head (use_qk_norm);
    # interleaved RoPE, made once for the model; logit_scale multiplies by a Python float
    "cohere": Code("cohere/modeling_cohere.py", norm="cohere", qk_norm="layernorm_heads", parallel=True),
    # GPT-NeoX (Pythia): parallel (use_parallel_residual, two nn.LayerNorms of the same input) or not, fused qkv
    # and partial RoPE joined back with torch.cat (q head-major), a plain MLP (gelu: PyTorch's kernel)
    "gpt_neox": Code("gpt_neox/modeling_gpt_neox.py", norm="layernorm", parallel=True, mlp="plain",
                     partial_rope=True, head_major_q=True),
    "pythia": Code("gpt_neox/modeling_gpt_neox.py", norm="layernorm", parallel=True, mlp="plain",
                   partial_rope=True, head_major_q=True),  # the built-in Pythia specs
    # Phi-1/2: one nn.LayerNorm for attention and MLP in parallel, partial RoPE (q head-major), gelu_new's formula
    "phi": Code("phi/modeling_phi.py", norm="layernorm", parallel=True, mlp="plain", gelu_tanh="new",
                partial_rope=True, head_major_q=True, qk_norm="layernorm", lm_head_bias=True),
    # GPT-J: one nn.LayerNorm for attention and MLP in parallel, partial RoPE (interleaved, made per layer for q
    # and for k), eager only (transformers offers it no sdpa), scores from fp32 q and k, gelu_new's formula
    "gptj": Code("gptj/modeling_gptj.py", norm="layernorm", parallel=True, mlp="plain", gelu_tanh="new",
                 partial_rope=True, rope_per_layer=2, qk_fp32=True, sdpa=False, lm_head_bias=True),
    # Falcon (rotary, parallel_attn): one nn.LayerNorm or two (new_decoder_architecture), fused qkv, eager's softmax
    # in bf16, a causal mask handed to sdpa, a plain gelu MLP; under sdpa the original multi-query
    # architecture's single K/V head sends PyTorch on the CPU to its fp32 math fallback (refused, as DeepSeek-V3's)
    "falcon": Code("falcon/modeling_falcon.py", norm="layernorm", parallel=True, mlp="plain", sdpa_mask=True,
                   eager_fp32_softmax=False, kv_repeat="broadcast", index_split=True),
    # OPT (do_layer_norm_before, not projected: every size but 350m): nn.LayerNorms, learned positions (offset 2),
    # a ReLU MLP with biases; q scaled in the projection, no RoPE
    "opt": Code("opt/modeling_opt.py", norm="layernorm", positions="learned", mlp="plain"),
    "gpt2": Code("gpt2/modeling_gpt2.py", layout="gpt2", gelu_tanh="new", eager_fp32_softmax=False,
                 mask_argument=True, positions="learned"),
    "gpt_bigcode": Code("gpt_bigcode/modeling_gpt_bigcode.py", layout="gpt2", positions="learned"),
    # BLOOM: eager only (transformers offers it no sdpa); its GeLUFunction keeps its input only, as "fused" does
    "bloom": Code("bloom/modeling_bloom.py", layout="gpt2", positions="alibi", embedding_norm=True, sdpa=False),
    # GemmaRMSNorm and the scaled embedding; Gemma's config default and published configs: no softcapping
    "gemma": Code("gemma/modeling_gemma.py", norm="gemma", embed_scale=True),
    # Gemma 2 softcaps scores and logits: the config defaults (50, 30) and every published Gemma 2 config; the
    # spec does not hold the caps, so a config that sets them to null is counted as if they were set
    "gemma2": Code("gemma2/modeling_gemma2.py", placement="sandwich", norm="gemma", embed_scale=True,
                   attn_softcap=True, final_softcap=True, sdpa=False),
    # Gemma 3: no softcapping (the config defaults and the published configs), a local RoPE for sliding layers
    "gemma3_text": Code("gemma3/modeling_gemma3.py", placement="sandwich", norm="gemma", embed_scale=True,
                        rope_per_type=True),
}


# the transformers model_types the Hugging Face import knows (a config's model_type is its spec's family; the text
# model's for a multimodal wrapper) whose modeling code the profile was not measured on: refused by name, not held to
# Llama's code (tests/test_activations_crosscheck.py keeps the list complete)
UNMEASURED = frozenset((
    "arcee", "bamba", "dbrx", "deepseek_v2", "deepseek_v32", "ernie4_5_moe", "falcon_h1", "falcon_mamba", "glm4_moe",
    "gpt_oss",
    "granitemoehybrid", "helium", "hunyuan_v1_dense", "hunyuan_v1_moe", "jamba", "lfm2",
    "lfm2_moe", "llama4", "llama4_text", "mamba", "mamba2", "minimax", "minimax_m2", "ministral", "ministral3",
    "mistral3", "mllama", "nemotron_h", "openai_gpt", "qwen2_5_vl", "qwen2_5_vl_text", "qwen3_next", "qwen3_5", "qwen3_5_moe",
    "qwen3_5_text", "qwen3_5_moe_text", "seed_oss", "gemma4_text",
))


def family_key(model: ModelSpec) -> str:
    """The spec's family as a transformers model_type ("qwen3-moe" read as "qwen3_moe")."""
    return model.family.lower().replace("-", "_")


def code_of(model: ModelSpec) -> Code:
    """The modeling code the transformers profile follows for this model (see the module docstring)."""
    return CODES.get(family_key(model), LLAMA)
