"""The `transformers` activation profile under LoRA: what a Llama-code model (modeling_llama.py, transformers 5.23.0)
with PEFT's LoRA adapters (peft/tuners/lora/layer.py, PEFT 0.21.2; no dropout) saves for backward, per token, as
torch.autograd.graph.saved_tensors_hooks sees it in a bf16 step (tests/test_activations_crosscheck.py measures it).

Autograd saves a tensor only for a gradient some input needs, and the frozen base needs few:
- a frozen linear layer keeps no input (its weight needs no gradient, the input's needs only the weight), nor does
  the frozen embedding keep the token ids; an RMSNorm keeps its fp32 input and reciprocal RMS only where its input
  needs a gradient, and never the normalised input its frozen weight multiplies;
- gradients flow from the first adapter on: the first layer's input needs none, so its first norm keeps nothing and
  its attention keeps its tensors only if an adapter on q, k or v feeds it; every later layer, the final norm and
  the loss keep theirs. The first layer is its own row group here;
- attention (sdpa) keeps q, k, v, its output and the fp32 log-sum-exp whenever one of q, k, v needs a gradient, as
  without LoRA; RoPE's cos and sin once for the model;
- the gated MLP keeps gate's output and its activation (the SiLU and the product's other operand) and up's output,
  not the product, which only the frozen down projection reads;
- each adapter keeps its input and the r-wide output of A that B reads: in fp32, PEFT's default on a bf16 base
  (autocast_adapter_dtype), the input is a fresh fp32 copy per adapter; in bf16 it is the input itself, shared by
  the adapters that read it (q, k and v; gate and up) and, for o, the attention output that sdpa keeps already
  (in the first layer, when no adapter feeds q, k or v, sdpa keeps nothing and the o adapter its own input).

Covered: the dense Llama code (llama, mistral without a window, qwen2, granite, smollm3, internlm3) under sdpa;
anything else is refused.
"""

from __future__ import annotations

from ..model import ModelSpec
from .hf_code import code_of
from .saved import ACT, FP32, IDS, ActivationRow, Activations, StagePeak


# the modeling files whose layers save, under LoRA, what modeling_llama.py's do (internlm3 runs modeling_llama.py)
LORA_FILES = ("llama/modeling_llama.py", "mistral/modeling_mistral.py", "qwen2/modeling_qwen2.py",
              "granite/modeling_granite.py", "smollm3/modeling_smollm3.py")


def lora_refused(model: ModelSpec, attention_impl: str) -> str | None:
    """Why the LoRA rows do not cover this model, or None."""
    code = code_of(model)
    if attention_impl != "sdpa":
        return "LoRA is measured under sdpa attention"
    if code.file not in LORA_FILES:
        return "LoRA is measured on the Llama code (llama, mistral, qwen2, granite, smollm3, internlm3) only"
    for group in model.groups:
        layer, att = group.layer, group.layer.attention
        if layer.moe or att.qk_norm or att.mla or att.sliding_window or att.local_span or att.sinks or \
                layer.mlp.activation != "swiglu" or layer.mlp.bias or layer.stack != "decoder":
            return "LoRA is measured on dense SwiGLU layers without windows, q/k norms or biases"
    if model.position != "rope" or model.norm.kind != "rmsnorm" or model.norm.placement != "pre":
        return "LoRA is measured on RoPE models with RMSNorm before each sub-block"
    return None


def _layer(model: ModelSpec, group, targets: tuple[str, ...], rank: int, adapter_bytes: int,
           grad_in: bool) -> list[ActivationRow]:
    """One layer's rows, whether gradients flow into it (`grad_in`) or not (the first layer)."""
    att, d, d_ff = group.layer.attention, model.d_model, group.layer.mlp.d_ff
    name = group.name if grad_in else f"{group.name} (first)"
    norm = FP32 * d + FP32
    fp32 = adapter_bytes == FP32
    rows = []

    def adapters(wanted: tuple[str, ...], width: int, shared_input: bool, where: str) -> None:
        present = [t for t in wanted if t in targets]
        if not present:
            return
        if fp32:
            inputs = FP32 * width * len(present)
            what = f"an fp32 copy of the input per adapter ({', '.join(present)})"
        else:
            inputs = ACT * width if shared_input else 0
            what = "the input they share" if shared_input else f"no input of their own ({where} keeps it)"
        rows.append(ActivationRow(f"lora.{'_'.join(present)}", name, inputs + adapter_bytes * rank * len(present),
                                  f"{what}; A's {rank}-wide output per adapter"))

    if grad_in:
        rows.append(ActivationRow("norm.pre_attn", name, norm, "fp32 upcast of the input, fp32 reciprocal RMS"))
    attention = grad_in or any(t in targets for t in ("q", "k", "v"))
    if attention:
        rows.append(ActivationRow("attn.sdpa", name, ACT * (att.n_heads * att.qk_head_dim + att.n_kv_heads * (
            att.qk_head_dim + att.v_head_dim) + att.n_heads * att.v_head_dim) + FP32 * att.n_heads,
            "q, k, v after RoPE, the output and its fp32 log-sum-exp"))
    adapters(("q", "k", "v"), d, True, "")
    adapters(("o",), att.n_heads * att.v_head_dim, not attention, "sdpa")  # sdpa keeps it where it keeps anything
    mlp_in = attention or "o" in targets
    if mlp_in:
        rows.append(ActivationRow("norm.pre_mlp", name, norm, "fp32 upcast of the input, fp32 reciprocal RMS"))
    gate = mlp_in or "gate" in targets
    up = mlp_in or "up" in targets
    kept = (ACT * d_ff if gate else 0) * 2 + (ACT * d_ff if up else 0)  # gate's output and SiLU if it needs a
    if kept:  # gradient (the SiLU and the product keep them), up's output if it does
        rows.append(ActivationRow("mlp.inner", name, kept, "gate's output, its SiLU, up's output (not the product: "
                                                          "the frozen down projection keeps no input)"))
    adapters(("gate", "up"), d, True, "")
    adapters(("down",), d_ff, True, "")
    return rows


def lora_rows(model: ModelSpec, targets: tuple[str, ...], rank: int, adapter_dtype: str, seq: int,
              micro_batch: int) -> tuple[list[ActivationRow], list[tuple[str, int]]]:
    """(rows, (row group, layers) counts): the first layer's rows under "<group> (first)", once; every other layer's
    under its group; the model's rows (group None) once."""
    adapter_bytes = FP32 if adapter_dtype == "fp32" else ACT
    first = model.groups[0]
    rows = _layer(model, first, targets, rank, adapter_bytes, False)
    counts = [(f"{first.name} (first)", 1)]
    for group in model.groups:
        n = group.count - (1 if group is first else 0)
        if n:
            rows += _layer(model, group, targets, rank, adapter_bytes, True)
            counts.append((group.name, n))
    tokens = seq * micro_batch
    d_head = model.layers[0].attention.qk_head_dim
    if len(counts) > 1 or "q" in targets or "k" in targets:  # some q or k needs a gradient: RoPE keeps cos and sin
        rows.append(ActivationRow("rope.cos_sin", None, 2 * ACT * d_head / micro_batch, "RoPE's cos and sin, shared"))
    rows += [ActivationRow("norm.final", None, FP32 * model.d_model + FP32, "fp32 upcast, fp32 reciprocal RMS"),
             ActivationRow("lm_head.cross_entropy", None,
                           FP32 * model.vocab_size + IDS + (FP32 + (IDS if micro_batch == 1 else 0)) / tokens,
                           "fp32 log-softmax over the vocabulary, int64 labels, the loss's fp32 scalar")]
    return rows, counts


def lora_activations(model: ModelSpec, targets: tuple[str, ...], rank: int, adapter_dtype: str, seq: int,
                     micro_batch: int, settings: dict) -> Activations:
    """The saved tensors of one micro-batch under LoRA (one device, see the module docstring)."""
    rows, counts = lora_rows(model, targets, rank, adapter_dtype, seq, micro_batch)
    per_group = dict(counts)
    per_token = sum(r.bytes_per_token * (per_group[r.group] if r.group else 1) for r in rows)
    tokens = seq * micro_batch
    return Activations(tuple(rows), tokens, StagePeak(0, 1, tuple(counts), per_token * tokens), settings)
