"""The `transformers` activation profile: the tensors Hugging Face transformers' modeling code saves for backward,
per token, as torch.autograd.graph.saved_tensors_hooks sees them in a bf16 training step (deduplicated by storage,
parameters left out; tests/test_hf_crosscheck.py measures it on random configs).

For a Llama-style layer (modeling_llama.py, transformers 5.23.0): each LlamaRMSNorm keeps its input upcast to fp32,
the fp32 reciprocal RMS of every token and the bf16 normalised input the weight multiplies; the q/k/v projections
keep their shared input and the MLP's gate/up theirs; RoPE keeps cos and sin (once for the model: every layer uses
the same two tensors); attention keeps q, k and v, and with `sdpa` (PyTorch's fused kernel) its output and fp32
log-sum-exp, with `eager` the fp32 softmax and its bf16 copy over every key (k and v repeated to every query head
for GQA); SwiGLU keeps gate's output, its SiLU, up's output and their product. Around the layers: the int64 token
ids, the final norm's three tensors and the head's input, and the loss's fp32 log-softmax over the vocabulary, its
int64 labels and one fp32 scalar. Dropout is 0 in these configs: no masks.

MoE layers as MixtralSparseMoeBlock runs them (transformers 5.23's grouped experts): the router's fp32 softmax, top-k
weights and their sum, int64 top-k, sort and unsort indices, int32 token counts per expert, the permuted copies, the
experts' gate_up output, SiLU and product, their outputs before weighting.

Covered: dense or MoE (without shared experts or router biases) layers with RMSNorm before each sub-block, a gated (SiLU) MLP, multi-head or grouped-query
attention without sinks, windows or chunks, with or without Qwen3's per-head RMSNorm on q and k (llama, mistral
without a window, qwen2, qwen3). Anything else is refused with the reason, rather than given an unmeasured number.
"""

from __future__ import annotations

from ..model import Layer, ModelSpec
from .saved import ACT, IDS, STATS, ActivationRow

FP32 = 4
INT32 = 4


def unsupported(model: ModelSpec) -> str | None:
    """Why the transformers profile does not cover this model, or None."""
    if model.norm.kind != "rmsnorm" or model.norm.placement != "pre":
        return "its norms are not RMSNorm before each sub-block"
    if model.residual != "sequential" or model.rotary_dim is not None or model.lm_head_bias:
        return "its attention and MLP run in parallel, its RoPE is partial or its LM head has a bias"
    for group in model.groups:
        layer, att = group.layer, group.layer.attention
        moe = layer.moe
        if moe is not None and (moe.n_shared_experts or moe.router_bias or moe.routing_bias):
            return "its MoE layers have shared experts or router biases"
        if moe is not None and att.qk_norm:  # Qwen3-MoE keeps its per-copy routing weights in bf16: not measured
            return "its MoE layers route as Qwen3-MoE does, which is not measured"
        if att.mla is not None:
            return "it has multi-head latent attention"
        if att.qk_norm not in (None, "rmsnorm") or att.sinks or att.local_span:
            return "its attention has a qk-norm other than Qwen3's per-head RMSNorm, sinks, a window or chunks"
        if layer.mlp.activation != "swiglu" or layer.mlp.bias:
            return "its MLP is not a bias-free SwiGLU"
        if layer.cross_attention or layer.stack != "decoder":
            return "it is an encoder-decoder"
    if model.position != "rope":
        return "its positions are not RoPE"
    return None


def _norm(name: str, group: str | None, d_model: int) -> ActivationRow:
    return ActivationRow(name, group, FP32 * d_model + FP32 + ACT * d_model,
                         "fp32 upcast of the input, fp32 reciprocal RMS, bf16 normalised input")


def layer_rows(layer: Layer, group: str, d_model: int, seq: int, attention_impl: str,
               micro_batch: int = 1) -> list[ActivationRow]:
    """What one Llama-style layer saves per token (see the module docstring)."""
    att, mlp = layer.attention, layer.mlp
    eager = attention_impl == "eager"
    kv_heads = att.n_heads if eager else att.n_kv_heads  # eager's repeat_kv copies K/V to every query head
    rows = [
        _norm("norm.pre_attn", group, d_model),
        ActivationRow("attn.input", group, ACT * d_model, "input of q/k/v (the norm's output)"),
        ActivationRow("attn.q", group, ACT * att.n_heads * att.qk_head_dim, "after RoPE"),
        ActivationRow("attn.k", group, ACT * kv_heads * att.qk_head_dim,
                      "after RoPE" + (", repeated to every query head" if eager else "")),
        ActivationRow("attn.v", group, ACT * kv_heads * att.v_head_dim,
                      "repeated to every query head" if eager else ""),
    ]
    if att.qk_norm == "rmsnorm":  # Qwen3: an RMSNorm over each head of q and of k, before RoPE
        for name, heads in (("attn.q_norm", att.n_heads), ("attn.k_norm", att.n_kv_heads)):
            rows.append(ActivationRow(name, group, (FP32 + ACT) * heads * att.qk_head_dim + FP32 * heads,
                                      "per head: fp32 upcast, fp32 reciprocal RMS, bf16 normalised input"))
    if eager:
        rows.append(ActivationRow("attn.scores", group, (FP32 + ACT) * att.n_heads * seq,
                                  "fp32 softmax and its bf16 copy over every key"))
    else:
        rows.append(ActivationRow("attn.softmax_stats", group, STATS * att.n_heads, "fp32 log-sum-exp per head"))
    rows += [
        ActivationRow("attn.output", group, ACT * att.n_heads * att.v_head_dim, "input of o (and what SDPA keeps)"),
        _norm("norm.pre_mlp", group, d_model),
        ActivationRow("mlp.input", group, ACT * d_model, "input of gate and up (the norm's output)"),
    ]
    moe = layer.moe
    if moe is None:
        rows.append(ActivationRow("mlp.inner", group, 4 * ACT * mlp.d_ff,
                                  "gate's output, its SiLU, up's output, their product"))
        return rows
    k = moe.top_k
    tokens = seq * micro_batch
    rows += [
        ActivationRow("moe.router", group, FP32 * moe.n_experts + FP32 + 2 * FP32 * k + 4 * IDS * k
                      + INT32 * moe.n_experts / tokens,
                      "fp32 routing softmax, top-k weights, their sum and per-copy weights; int64 top-k, sort and "
                      "unsort indices; int32 counts per expert"),
        ActivationRow("moe.tokens", group, 2 * ACT * d_model * k, "the top_k permuted copies of every token and the "
                      "experts' outputs before weighting"),
        ActivationRow("moe.experts", group, 4 * ACT * moe.d_ff * k, "per copy: gate_up's output, SiLU of gate, the "
                      "product"),
    ]
    return rows


def model_rows(model: ModelSpec, seq: int, micro_batch: int) -> tuple[list[ActivationRow], list[ActivationRow]]:
    """(the first stage's rows, the last stage's rows) around the layers, per token of a micro-batch."""
    d_head = model.layers[0].attention.qk_head_dim
    tokens = seq * micro_batch
    first = [ActivationRow("embed.token_ids", None, IDS, "int64 token ids"),
             ActivationRow("rope.cos_sin", None, 2 * ACT * d_head / micro_batch,
                           "RoPE's cos and sin over the positions, shared by every layer and sequence")]
    last = [_norm("norm.final", None, model.d_model),
            ActivationRow("lm_head.input", None, ACT * model.d_model, "output layer input"),
            # the labels are a slice of labels padded by one id: for one sequence the slice is contiguous already
            # and keeps the padded storage, one id longer
            ActivationRow("lm_head.cross_entropy", None,
                          FP32 * model.vocab_size + IDS + (FP32 + (IDS if micro_batch == 1 else 0)) / tokens,
                          "fp32 log-softmax over the vocabulary, int64 labels, the loss's fp32 scalar")]
    return first, last
