"""What GPT-2's modeling code saves for backward, per token (gpt2/modeling_gpt2.py, transformers 5.23.0; part of the
`transformers` activation profile, see hf_activations.py).

Each LayerNorm keeps its bf16 input and its mean and reciprocal standard deviation per token, which PyTorch's CPU
kernel (where the profile is measured) keeps in bf16 (CUDA's keeps them in fp32: 4 more bytes per token each). The
Conv1D projections keep their input (c_attn the norm's output, c_proj the heads' output, c_fc the second norm's
output, the MLP's c_proj the activation's output). c_attn's output is split into q, k and v views: sdpa keeps a
contiguous copy of q and of v, k as the view (so the whole fused output), its output and fp32 log-sum-exp; eager's
matmuls keep copies of k and v and, for more than one sequence, of q (for one sequence q is a view of the fused
output, kept whole), and the bf16 softmax (no upcast). GPT-2's activation gelu_new (NewGELUActivation, the tanh
formula in Python) keeps c_fc's output, half of it, the tanh and one plus the tanh. Around the layers: token and
position ids (int64; the positions once for the batch), the final LayerNorm, the head's input and the loss.

The spec's `gelu_tanh` is taken as GPT-2's gelu_new (its default and its published configs); gelu_pytorch_tanh,
PyTorch's fused kernel, would keep c_fc's output only.

GPTBigCode (gpt_bigcode/modeling_gpt_bigcode.py: SantaCoder, StarCoder) runs the same block with nn.Linear, multi-query
attention by default (c_attn's output is q, then one head of k and one of v: sdpa keeps it whole, q a view of it,
with copies of k and v; eager for one sequence the same, for more copies of q and of k and v repeated to every
head), eager's softmax in fp32 (and its bf16 copy), and gelu_pytorch_tanh (its default and published configs: the
spec's gelu_tanh taken as it), which keeps c_fc's output and its own.

BLOOM (bloom/modeling_bloom.py: eager only, transformers offers it no sdpa) runs it too, with ALiBi (its bias made
without gradient: nothing kept for it) in place of positions, a LayerNorm on the embedding, fused query_key_value
(eager keeps what GPT-2's does, the softmax in fp32 and its bf16 copy), and its GeLUFunction (the tanh formula as one
autograd function) keeping its input only, as a fused kernel would.
"""

from __future__ import annotations

from ..model import Layer, ModelSpec
from .hf_code import Code
from .hf_rows import mlp_inner_row
from .saved import ACT, FP32, IDS, STATS, ActivationRow


def layernorm(name: str, group: str | None, d_model: int) -> ActivationRow:
    return ActivationRow(name, group, ACT * d_model + 2 * ACT, "bf16 input, mean and reciprocal std (bf16 on CPU)")


def gpt2_layer_rows(layer: Layer, group: str, d_model: int, seq: int, attention_impl: str,
                    micro_batch: int, code: Code) -> list[ActivationRow]:
    """What one GPT2Block (or GPTBigCodeBlock) saves per token (see the module docstring)."""
    att = layer.attention
    width = att.n_heads * att.d_head
    kv = att.n_kv_heads * att.d_head
    whole = width + 2 * kv  # c_attn's output: q, k and v side by side
    rows = [layernorm("norm.pre_attn", group, d_model),
            ActivationRow("attn.input", group, ACT * d_model, "input of c_attn (the norm's output)")]
    if attention_impl == "eager":
        one = micro_batch == 1
        rows.append(ActivationRow("attn.qkv", group, ACT * (whole + 2 * kv if one else 3 * width),
                                  "c_attn's output whole (q a view of it), copies of k and v" if one else
                                  "copies of q, and of k and v (repeated to every head)"))
        if code.eager_fp32_softmax:
            rows.append(ActivationRow("attn.scores", group, (FP32 + ACT) * att.n_heads * seq,
                                      "fp32 softmax and its bf16 copy over every key"))
        else:
            rows.append(ActivationRow("attn.scores", group, ACT * att.n_heads * seq, "bf16 softmax over every key"))
    else:
        rows += [ActivationRow("attn.qkv", group, ACT * (whole + 2 * kv), "c_attn's output whole (a view of it "
                               "kept: k, or q for multi-query), contiguous copies of the other two"),
                 ActivationRow("attn.softmax_stats", group, STATS * att.n_heads, "fp32 log-sum-exp per head")]
    rows += [
        ActivationRow("attn.output", group, ACT * width, "input of c_proj (and what SDPA keeps)"),
        layernorm("norm.pre_mlp", group, d_model),
        ActivationRow("mlp.input", group, ACT * d_model, "input of c_fc (the norm's output)"),
        mlp_inner_row(layer.mlp, group, code),
    ]
    return rows


def gpt2_model_rows(model: ModelSpec, seq: int, micro_batch: int, attention_impl: str, checkpointed: bool,
                    code: Code) -> tuple[list[ActivationRow], list[ActivationRow]]:
    """(the first stage's rows, the last stage's rows but the loss) around the layers, per token of a micro-batch.
    Under gradient checkpointing eager's bf16 causal mask (batch x seq x seq), which GPT2Model hands every block as
    a positional argument, is one of the inputs the checkpoints keep."""
    first = [ActivationRow("embed.token_ids", None, IDS, "int64 token ids")]
    if code.positions == "learned":
        first.append(ActivationRow("embed.position_ids", None, IDS / micro_batch, "int64 positions, once for the "
                                   "batch"))
    if code.embedding_norm:
        first.append(layernorm("embed.norm", None, model.d_model))
    if checkpointed and attention_impl == "eager" and code.mask_argument:
        first.append(ActivationRow("attn.mask", None, ACT * seq, "eager's bf16 causal mask, kept by the checkpoints"))
    last = [layernorm("norm.final", None, model.d_model),
            ActivationRow("lm_head.input", None, ACT * model.d_model, "output layer input")]
    return first, last


def gpt2_refused(model: ModelSpec, code: Code) -> str | None:
    """Why this model is not the GPT-2 (GPTBigCode, BLOOM) that its modeling code runs, or None."""
    if model.norm.kind != "layernorm" or model.norm.placement != "pre" or not model.norm.bias:
        return "its norms are not LayerNorms with biases before each sub-block"
    if model.position != code.positions or model.position_offset:
        return f"its positions are not {code.positions} (or their table has an offset)"
    if model.embedding_norm != code.embedding_norm:
        return f"it has{' no' if code.embedding_norm else ''} norm on the embedding, unlike {code.file}"
    for group in model.groups:
        layer, att = group.layer, group.layer.attention
        if layer.moe is not None or layer.mlp.activation != "gelu_tanh" or not layer.mlp.bias:
            return f"its MLP is not {code.file}'s (GELU, tanh approximation, with biases)"
        if att.kind not in ("MHA", "MQA") or att.qk_norm or att.sinks or att.local_span or layer.cross_attention:
            return "its attention is not GPT-2's (multi-head or multi-query, full, no qk-norm)"
        if layer.stack != "decoder":
            return "it is an encoder-decoder"
    return None
