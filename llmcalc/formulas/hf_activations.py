"""The `transformers` activation profile: the tensors Hugging Face transformers' modeling code saves for backward, per
token, as torch.autograd.graph.saved_tensors_hooks sees them in a bf16 training step (deduplicated by storage,
parameters left out; tests/test_activations_crosscheck.py holds every covered family to the measurement, exactly).
Which modeling file a model runs, and its traits, is hf_code.py's choice (by the spec's family).

For a Llama-style layer (modeling_llama.py, transformers 5.23.0): each LlamaRMSNorm keeps its input upcast to fp32,
the fp32 reciprocal RMS of every token and the bf16 normalised input the weight multiplies; the q/k/v projections keep
their shared input and the MLP's gate/up theirs; RoPE keeps cos and sin (once for the model: every layer uses the same
two tensors); attention keeps q, k and v, and with `sdpa` (PyTorch's fused kernel) its output and fp32 log-sum-exp,
with `eager` the fp32 softmax and its bf16 copy over every key (k and v repeated to every query head for GQA); the
gated MLP keeps gate's output, its activation (SiLU, or GELU for GeGLU: PyTorch's fused gelu, as gelu and
gelu_pytorch_tanh run it; gelu_new's Python formula would keep more), up's output and their product. Around the
layers: the int64 token ids, the final norm's tensors and the head's input, and the loss's fp32 log-softmax over the
vocabulary, its int64 labels and one fp32 scalar. Dropout is 0 in these configs: no masks.

Sliding-window layers (masking_utils.py, sdpa_attention.py): eager masks the scores it keeps anyway; sdpa gets a
materialised bf16 mask (batch x seq x seq, made per layer) once the sequence reaches the window, and then repeats K
and V to every query head (enable_gqa only without a mask). Shorter sequences run as plain causal attention.

Gemma (gemma/, gemma2/, gemma3/modeling_gemma*.py, 5.23.0): GemmaRMSNorm keeps the fp32 input, the fp32 reciprocal
RMS, the fp32 normalised input and (1 + weight) in fp32, made anew in every call; the scaled embedding keeps the 0-d
bf16 scale; Gemma 2 and 3 put an RMSNorm before and after each sub-block (sandwich); Gemma 2's eager attention
softcaps the scores (tanh keeps its bf16 output) and its head the logits (the same over the vocabulary); Gemma 3
normalises each head of q and k with GemmaRMSNorm and gives sliding layers their own RoPE cos/sin.

Phi-3 (phi3/modeling_phi3.py): fused qkv and gate_up keep what Llama's separate projections keep, but its RoPE joins q
with torch.cat, so sdpa's output is head-major and o's input a transposed copy. OLMo 2 (olmo2/modeling_olmo2.py):
RMSNorms after each sub-block only (post), one over the whole q projection and one over k's, each applying its weight
in fp32 (fp32 input, reciprocal RMS and normalised input), and RoPE in fp32 (fp32 cos and sin).

DeepSeek-V3 (deepseek_v3/modeling_deepseek_v3.py): multi-head latent attention keeps the q_a (with q_lora_rank) and
kv_a RMSNorms, the latents q_b and kv_b take, and per head q, k and v; its RoPE covers qk_rope_head_dim only. Eager
only: under sdpa on the CPU, where the profile is measured, q/k heads unlike v's send PyTorch to its fp32 math
fallback (fp32 copies of q, k, v and an fp32 softmax over every key), which a GPU's kernels do not do.

Parallel layers (the spec's residual "parallel": Cohere, GPT-NeoX, Phi): attention and MLP read the layer's input,
through one norm whose output both keep (Cohere, Phi), or through a norm each (GPT-NeoX's two nn.LayerNorms of the
same input: the second keeps its statistics and its output only). Partial RoPE (GPT-NeoX, Phi, GLM-4) keeps cos and
sin of the rotated dims only and joins each head back with torch.cat, which makes q head-major. A bias on the LM head
keeps nothing more. Other norms and plain MLPs (fc, activation, proj): hf_rows.py. MoE layers: hf_moe.py (Mixtral's
block, Qwen2-MoE's with its gated shared expert, Qwen3-MoE's, OLMoE's, GraniteMoE's, DeepSeek-V3's). GPT-2's layer
(LayerNorm, learned positions, fused Conv1D q/k/v, gelu_new MLP with biases) and GPTBigCode's: hf_gpt2.py.

Gradient checkpointing (recompute "full": model.activation_checkpointing_enable(), alias
gradient_checkpointing_enable, with transformers' default use_reentrant=False; modeling_layers.py
GradientCheckpointingLayer): in the forward each layer keeps only its positional inputs, the hidden states (and
GPT-2's eager causal mask), while everything around the layers is saved as without it. This is what the forward holds,
as measured. It leaves out what the measurement cannot see: the working set of the one layer being recomputed at
backward (that layer's rows without recomputation, held while its backward runs), and the tensors the checkpoints'
closures hold as keyword arguments rather than save (RoPE's cos and sin, a sliding window's mask).

Covered: llama, mistral, qwen2, qwen3 (its per-head q/k RMSNorm), mixtral, qwen2_moe, qwen3_moe, phi3, olmo2, granite
(its multipliers are Python floats: nothing more kept), smollm3 (a NoPE layer keeps its projections' q and k as RoPE's
output would be kept), internlm3 (modeling_llama.py), exaone4 (post norms, per-head q/k norms), ernie4_5 (fp32 cos and
sin made in every layer), glm4 (sandwich norms; bf16 cos and sin of the rotated part made in every layer; q
head-major), olmo (non-parametric fp32 LayerNorms, fp32 RoPE; clip_qkv taken as null), starcoder2 (nn.LayerNorm, a
plain MLP), cohere (parallel; CohereLayerNorm, per head on q and k with use_qk_norm), gpt_neox (parallel or
sequential; partial RoPE, q head-major), phi (parallel; partial RoPE, gelu_new, per-head q/k LayerNorms with
qk_layernorm), gptj (eager only: transformers offers it no sdpa; parallel, fp32 q and k for the scores, cos and sin
made per layer for q and for k), opt (learned positions, whose int64 ids the embedding keeps per sequence; ReLU; not
the projected 350m), olmoe, granitemoe and granitemoeshared (hf_moe.py), olmo3 (OLMo 2's layer, windows, a RoPE per
layer type), cohere2 (Cohere's, windows), falcon (parallel or not, one norm or two; Falcon-7B's multi-query
architecture eager only: under sdpa its single K/V head takes the CPU's fp32 math fallback; a single K/V head with one
norm is taken as that architecture, not the new decoder architecture; ALiBi refused), gpt2, gpt_bigcode and bloom
(eager only; hf_gpt2.py), gemma, gemma2 (eager only: transformers offers it no sdpa), gemma3_text and deepseek_v3
(eager only), with sdpa or eager, sliding windows included; an MLP's biases keep nothing more; MTP modules are not run
by transformers and not counted. Anything else is refused with the reason, rather than given an unmeasured number: a
model_type the import knows whose code is not measured by name (hf_code.UNMEASURED), the built-in Pythia specs as
GPT-NeoX, other families (llama2, llama3) as Llama's code.
"""

from __future__ import annotations

from ..model import Attention, LayerGroup, ModelSpec
from .hf_code import LLAMA, UNMEASURED, Code, code_of, family_key
from .hf_gpt2 import gpt2_layer_rows, gpt2_model_rows, gpt2_refused
from .hf_moe import moe_refused, moe_rows
from .hf_rows import mlp_inner_row, mlp_refused, norm_row
from .saved import ACT, FP32, IDS, STATS, ActivationRow


def unsupported(model: ModelSpec, attention_impl: str = "sdpa") -> str | None:
    """Why the transformers profile does not cover this model (with this attention), or None."""
    code = code_of(model)
    if family_key(model) in UNMEASURED:
        return f"transformers runs its own modeling code for {model.family}, which the profile was not measured on"
    if model.residual == "parallel" and not code.parallel:
        return f"its attention and MLP run in parallel, which {code.file} does not do"
    if model.residual == "parallel" and not model.norm.shared and code.norm != "layernorm":
        return "its parallel attention and MLP have a norm each, measured with nn.LayerNorm only"
    if model.projected:
        return "its embedding is projected"
    if model.lm_head_bias and not code.lm_head_bias:
        return f"its LM head has a bias, which {code.file}'s has not"
    if model.rotary_dim is not None and not code.partial_rope:
        return f"its RoPE is partial, which {code.file} does not do"
    if attention_impl == "sdpa" and not code.sdpa:
        return f"transformers runs {code.file} with eager attention only"
    if code.layout == "gpt2":
        return gpt2_refused(model, code)
    if model.norm.kind != code.norm_kind or model.norm.placement != code.placement or \
            model.norm.affine != (code.norm != "olmo"):
        return f"its norms are not those of {code.file} ({code.norm_kind}, {code.placement})"
    for group in model.groups:
        layer, att = group.layer, group.layer.attention
        moe = layer.moe
        if moe is not None and moe_refused(layer, code.moe):
            return moe_refused(layer, code.moe)
        if (att.mla is not None) != code.mla:
            return ("its attention is not the multi-head latent attention of " + code.file if code.mla else
                    "it has multi-head latent attention, covered for the family deepseek_v3 only, as a DeepSeek-V3 "
                    "config.json names it")
        if attention_impl == "sdpa" and _single_kv_broadcast(model, att, code):
            return ("under sdpa its single K/V head (multi-query, not repeated) takes, on the CPU where the profile "
                    "is measured, PyTorch's fp32 math fallback, which a GPU's kernels do not; run it with "
                    "attention_impl eager")
        if att.mla is not None and attention_impl == "sdpa":
            return ("under sdpa its multi-head latent attention takes, on the CPU where the profile is measured, "
                    "PyTorch's fp32 math fallback (q/k heads unlike v's), which a GPU's kernels do not; run it with "
                    "attention_impl eager")
        if att.qk_norm not in (None, code.qk_norm) or att.sinks or att.chunk_size:
            return "its attention has a qk-norm other than its code's, sinks or chunks"
        if mlp_refused(layer.mlp, code):
            return mlp_refused(layer.mlp, code)
        if layer.cross_attention or layer.stack != "decoder":
            return "it is an encoder-decoder"
        if att.to_images:
            return "layers cross-attend to images (not measured)"
    if model.position != code.positions:
        return f"its positions are not {code.file}'s ({code.positions})"
    return None


def _mla_rows(att: Attention, group: str, code: Code, tokens: int, micro_batch: int) -> list[ActivationRow]:
    """DeepseekV3Attention's latents (deepseek_v3/modeling_deepseek_v3.py): the q_a and kv_a RMSNorms, the inputs of
    q_b and kv_b, and q, k (the decompressed heads with the shared RoPE key) and v per head, which eager's matmul
    takes as a view of kv_b's whole output for one sequence (the batch folds into the heads without a copy) and
    copies for more."""
    mla = att.mla
    rows = []
    if mla.q_lora_rank:
        rows += [norm_row("attn.q_a_norm", group, mla.q_lora_rank, code, tokens),
                 ActivationRow("attn.q_latent", group, ACT * mla.q_lora_rank, "input of q_b (the norm's output)")]
    rows += [norm_row("attn.kv_a_norm", group, mla.kv_lora_rank, code, tokens),
             ActivationRow("attn.kv_latent", group, ACT * mla.kv_lora_rank, "input of kv_b (the norm's output)"),
             ActivationRow("attn.q", group, ACT * att.n_heads * att.qk_head_dim, "q_nope and RoPE'd q_rot joined"),
             ActivationRow("attn.k", group, ACT * att.n_heads * att.qk_head_dim,
                           "k_nope and the shared RoPE'd key, per head"),
             ActivationRow("attn.v", group, ACT * att.n_heads * att.v_head_dim, "a copy of kv_b's value part")
             if micro_batch > 1 else
             ActivationRow("attn.v", group, ACT * att.n_heads * (mla.qk_nope_head_dim + att.v_head_dim),
                           "a view of kv_b's output, kept whole (k_nope and v)")]
    return rows


def _single_kv_broadcast(model: ModelSpec, att: Attention, code: Code) -> bool:
    """Falcon's original multi-query architecture: one K/V head, one norm (see Code.kv_repeat)."""
    return code.kv_repeat == "broadcast" and att.n_kv_heads == 1 and model.norm.shared


def _attention_rows(model: ModelSpec, att: Attention, group: str, seq: int, eager: bool, code: Code,
                    micro_batch: int) -> list[ActivationRow]:
    """q, k, v (and their norms, the window's mask) of a multi-head or grouped-query attention."""
    tokens = seq * micro_batch
    rotary = model.rotary_dim or att.qk_head_dim
    masked = not eager and att.sliding_window is not None and seq >= att.sliding_window
    if code.kv_repeat == "broadcast":
        repeated = att.n_kv_heads != att.n_heads and not _single_kv_broadcast(model, att, code)
    else:  # repeat_kv copies K/V to every query head
        repeated = (eager or masked) and att.n_kv_heads != att.n_heads
    kv_heads = att.n_heads if repeated else att.n_kv_heads
    qk = FP32 if eager and code.qk_fp32 else ACT
    what = "an fp32 copy after RoPE" if qk == FP32 else "after RoPE"
    rows = [
        ActivationRow("attn.q", group, qk * att.n_heads * att.qk_head_dim, what),
        ActivationRow("attn.k", group, qk * kv_heads * att.qk_head_dim,
                      what + (", repeated to every query head" if repeated else "")),
        ActivationRow("attn.v", group, ACT * kv_heads * att.v_head_dim,
                      "repeated to every query head" if repeated else ""),
    ]
    if att.qk_norm in ("rmsnorm", "layernorm_heads", "layernorm"):  # Qwen3, Gemma 3, Cohere, Phi: per head
        rows += [norm_row("attn.q_norm", group, att.qk_head_dim, code, tokens, att.n_heads),
                 norm_row("attn.k_norm", group, att.qk_head_dim, code, tokens, att.n_kv_heads)]
    elif att.qk_norm == "rmsnorm_full":  # OLMo 2: one RMSNorm over the whole q projection, one over k's
        rows += [norm_row("attn.q_norm", group, att.n_heads * att.qk_head_dim, code, tokens),
                 norm_row("attn.k_norm", group, att.n_kv_heads * att.qk_head_dim, code, tokens)]
    if masked or (code.sdpa_mask and not eager):
        rows.append(ActivationRow("attn.mask", group, ACT * seq, "the bf16 mask sdpa gets (causal, or the sliding "
                                  "window's), kept per layer"))
    if code.index_split and att.n_kv_heads != att.n_heads:
        rows.append(ActivationRow("attn.kv_index", group, 2 * IDS / tokens, "the int64 indices of K and V in the "
                                  "fused output"))
    if code.rope_per_layer:
        width = FP32 if code.rope_fp32 else ACT
        rows.append(ActivationRow("rope.cos_sin", group, code.rope_per_layer * 2 * width * rotary / micro_batch,
                                  f"this layer's {'fp32' if code.rope_fp32 else 'bf16'} cos and sin (interleaved"
                                  + (", made for q and again for k" if code.rope_per_layer > 1 else "")
                                  + "), shared by every sequence"))
    return rows


def layer_rows(model: ModelSpec, layer_group: LayerGroup, seq: int, attention_impl: str, micro_batch: int = 1,
               code: Code = LLAMA) -> list[ActivationRow]:
    """What one layer of the group saves per token under `code` (see the module docstring)."""
    layer, group, d_model = layer_group.layer, layer_group.name, model.d_model
    if code.layout == "gpt2":
        return gpt2_layer_rows(layer, group, d_model, seq, attention_impl, micro_batch, code)
    att, mlp = layer.attention, layer.mlp
    tokens = seq * micro_batch
    eager = attention_impl == "eager"
    pre = code.placement in ("pre", "sandwich")
    post = code.placement in ("post", "sandwich")
    rows = [norm_row("norm.pre_attn", group, d_model, code, tokens)] if pre else []
    rows.append(ActivationRow("attn.input", group, ACT * d_model,
                              "input of the q/k/v projections" + (" (the norm's output)" if pre else
                                                                  " (the layer's input)")))
    rows += _mla_rows(att, group, code, tokens, micro_batch) if att.mla else \
        _attention_rows(model, att, group, seq, eager, code, micro_batch)
    if eager and not code.eager_fp32_softmax:
        copied = micro_batch > 1 and _single_kv_broadcast(model, att, code)  # the matmul with the broadcast V
        rows.append(ActivationRow("attn.scores", group, (2 if copied else 1) * ACT * att.n_heads * seq,
                                  "bf16 softmax over every key" + (" and its copy for the matmul with the single "
                                                                   "V head" if copied else "")))
    elif eager:
        softcap = code.attn_softcap
        rows.append(ActivationRow("attn.scores", group, (FP32 + ACT + (ACT if softcap else 0)) * att.n_heads * seq,
                                  ("tanh of the softcapped scores, " if softcap else "")
                                  + "fp32 softmax and its bf16 copy over every key"))
    else:
        rows.append(ActivationRow("attn.softmax_stats", group, STATS * att.n_heads, "fp32 log-sum-exp per head"))
    if eager or not code.head_major_q:
        rows.append(ActivationRow("attn.output", group, ACT * att.n_heads * att.v_head_dim,
                                  "input of o (and what SDPA keeps)"))
    else:
        rows.append(ActivationRow("attn.output", group, 2 * ACT * att.n_heads * att.v_head_dim,
                                  "what SDPA keeps (head-major, as q is) and its transposed copy, the input of o"))
    if post:
        rows.append(norm_row("norm.post_attn", group, d_model, code, tokens))
    if model.residual == "parallel":  # the MLP reads the layer's input too: through the attention's norm (shared),
        if not model.norm.shared:     # or a second norm of the same input, which keeps its statistics only
            rows += [norm_row("norm.pre_mlp", group, d_model, code, tokens, input_kept=False),
                     ActivationRow("mlp.input", group, ACT * d_model, "the MLP's input (its norm's output)")]
    else:
        if pre:
            rows.append(norm_row("norm.pre_mlp", group, d_model, code, tokens))
        rows.append(ActivationRow("mlp.input", group, ACT * d_model,
                                  "input of gate and up (the norm's output)" if pre else "input of gate and up"))
    moe = layer.moe
    if moe is None:
        rows.append(mlp_inner_row(mlp, group, code))
    else:
        rows += moe_rows(layer, group, d_model, tokens, code.moe)
    if post:
        rows.append(norm_row("norm.post_mlp", group, d_model, code, tokens))
    return rows


def rope_tables(model: ModelSpec, code: Code) -> int:
    """How many cos/sin pairs the model makes: one, or one per layer type (sliding, full) for Gemma 3."""
    if not code.rope_per_type:
        return 1
    return len({group.layer.attention.sliding_window is not None for group in model.groups})


def checkpointed_row(group: str, d_model: int) -> ActivationRow:
    """What a layer under gradient checkpointing saves in the forward (see the module docstring)."""
    return ActivationRow("layer.input", group, ACT * d_model, "the layer's input, which the checkpoint keeps to "
                         "recompute the layer at backward")


def model_rows(model: ModelSpec, seq: int, micro_batch: int, code: Code | None = None, checkpointed: bool = False,
               attention_impl: str = "sdpa") -> tuple[list[ActivationRow], list[ActivationRow]]:
    """(the first stage's rows, the last stage's rows) around the layers, per token of a micro-batch; checkpointed:
    RoPE's cos and sin are held by the checkpoints' recomputation, not saved."""
    code = code or code_of(model)
    tokens = seq * micro_batch
    # the labels are a slice of labels padded by one id: for one sequence the slice is contiguous already and keeps
    # the padded storage, one id longer
    loss = ActivationRow("lm_head.cross_entropy", None,
                         FP32 * model.vocab_size + IDS + (FP32 + (IDS if micro_batch == 1 else 0)) / tokens,
                         "fp32 log-softmax over the vocabulary, int64 labels, the loss's fp32 scalar")
    if code.layout == "gpt2":
        first, last = gpt2_model_rows(model, seq, micro_batch, attention_impl, checkpointed, code)
        return first, last + [loss]
    att = model.layers[0].attention
    d_head = att.mla.qk_rope_head_dim if att.mla else model.rotary_dim or att.qk_head_dim  # the rotated dims only
    first = [ActivationRow("embed.token_ids", None, IDS, "int64 token ids")]
    if code.embed_scale:
        first.append(ActivationRow("embed.scale", None, ACT / tokens, "the 0-d bf16 sqrt(d_model) it multiplies by"))
    if code.positions == "learned":
        first.append(ActivationRow("embed.position_ids", None, IDS, "int64 positions (plus any offset), per sequence"))
    tables = 0 if checkpointed or code.rope_per_layer or code.positions != "rope" else rope_tables(model, code)
    if tables:
        first.append(ActivationRow("rope.cos_sin", None,
                                   tables * 2 * (FP32 if code.rope_fp32 else ACT) * d_head / micro_batch,
                                   "RoPE's cos and sin over the positions, shared by every layer and sequence"
                                   + (" (one pair per layer type)" if tables > 1 else "")))
    last = [norm_row("norm.final", None, model.d_model, code, tokens),
            ActivationRow("lm_head.input", None, ACT * model.d_model, "output layer input")]
    if code.final_softcap:
        last.append(ActivationRow("lm_head.softcap", None, ACT * model.vocab_size, "tanh of the softcapped logits"))
    return first, last + [loss]
