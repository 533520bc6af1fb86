"""The `transformers` activation profile under LoRA: what a Llama-code model (modeling_llama.py, transformers 5.23.0)
with PEFT's LoRA adapters (peft/tuners/lora/layer.py, PEFT 0.21.2; no dropout) saves for backward, per token, as
torch.autograd.graph.saved_tensors_hooks sees it in a bf16 step (tests/test_activations_crosscheck.py measures it).

Autograd saves a tensor only for a gradient some input needs, and the frozen base needs few:
- a frozen linear layer keeps no input (its weight needs no gradient, the input's needs only the weight), nor does
  the frozen embedding keep the token ids; an RMSNorm keeps its fp32 input and reciprocal RMS only where its input
  needs a gradient, and never the normalised input its frozen weight multiplies;
- gradients flow from the first adapter on: the first layer's input needs none, so its first norm keeps nothing and
  its attention keeps its tensors only if an adapter on q, k or v feeds it; every later layer, the final norm and
  the loss keep theirs. The first layer is its own row group here (the first layer with an adapter: a MoE model's
  targets may skip its dense layers, or its MoE layers, and the layers before keep nothing);
- attention (sdpa) keeps q, k, v, its output and the fp32 log-sum-exp whenever one of q, k, v needs a gradient, as
  without LoRA; RoPE's cos and sin once for the model;
- the gated MLP keeps gate's output and its activation (the SiLU and the product's other operand) and up's output,
  not the product, which only the frozen down projection reads;
- each adapter keeps its input and the r-wide output of A that B reads: in fp32, PEFT's default on a bf16 base
  (autocast_adapter_dtype), the input is a fresh fp32 copy per adapter; in bf16 it is the input itself, shared by
  the adapters that read it (q, k and v; gate and up) and, for o, the attention output that sdpa keeps already
  (in the first layer, when no adapter feeds q, k or v, sdpa keeps nothing and the o adapter its own input);
- Qwen3's per-head q/k RMSNorms (qwen3/modeling_qwen3.py, qwen3_moe/modeling_qwen3_moe.py) and OLMoE's over the
  whole projection (olmoe/modeling_olmoe.py) keep their fp32 input and reciprocal RMS where q's (k's) projection
  needs a gradient.

A frozen MoE block (mixtral/modeling_mixtral.py, qwen2_moe/modeling_qwen2_moe.py, qwen3_moe/modeling_qwen3_moe.py,
olmoe/modeling_olmoe.py, granitemoe/modeling_granitemoe.py: GraniteMoE's softmax over the top-k logits; the grouped
experts of integrations/moe.py; what it keeps when trained: hf_moe.py) keeps what its input's gradient
needs: the routing's tensors as without LoRA (the softmax, top-k weights and indices, the sort order and its
inverse, the per-copy weights, the token gather's indices and the int32 counts per expert), the experts' outputs
before weighting, gate_up's output and SiLU of gate per copy, but not the permuted copies of the tokens nor the
product, which only the frozen weights' gradients read. Where only the router's adapter needs a gradient (a first
layer without adapters before it) the routing keeps its softmax, top-k, sort order, inverse and the experts' outputs
only. Transformers' routers are not nn.Linear: PEFT adapts their weight (target_parameters, lora.ParamWrapper),
adding B A to it for the call, and the router's F.linear then keeps its bf16 input and, where that input needs a
gradient, the summed bf16 weight (once per call); with bf16 adapters on the CPU, where the profile is measured,
PEFT multiplies A and B in fp32 and keeps those fp32 copies (a GPU would not). Qwen2-MoE's shared expert keeps,
frozen, its gate output, SiLU and up output, the bf16 sigmoid of its gate and, where its input needs a gradient,
its output; its adapters (gate, up, down: the target `shared`) keep their inputs as the MLP's do (in bf16 the
block's input is the router adapter's already). LoRA on the routed experts (3-D fused parameters, which PEFT adapts
only through target_parameters, one adapter on gate and up together) is refused.

Covered: the dense Llama code (llama, mistral without a window, qwen2, granite, smollm3, internlm3), qwen3, and the
MoE families mixtral, qwen2_moe, qwen3_moe, olmoe and granitemoe (adapters on q, k, v, o, the router, Qwen2-MoE's
shared expert and the dense layers' MLPs), under sdpa; anything else is refused (granitemoeshared, whose shared MLP
fuses gate and up into one input_linear, is not measured).
"""

from __future__ import annotations

from ..model import ModelSpec
from .finetune import linear_shapes
from .hf_code import code_of
from .saved import ACT, FP32, IDS, INT32, ActivationRow, Activations, StagePeak


# the modeling files whose layers save, under LoRA, what modeling_llama.py's do (internlm3 runs modeling_llama.py),
# Qwen3's with its per-head q/k norms, and the MoE files whose blocks are modelled frozen below
LORA_FILES = ("llama/modeling_llama.py", "mistral/modeling_mistral.py", "qwen2/modeling_qwen2.py",
              "granite/modeling_granite.py", "smollm3/modeling_smollm3.py", "qwen3/modeling_qwen3.py",
              "mixtral/modeling_mixtral.py", "qwen2_moe/modeling_qwen2_moe.py", "qwen3_moe/modeling_qwen3_moe.py",
              "olmoe/modeling_olmoe.py", "granitemoe/modeling_granitemoe.py")
LORA_BLOCKS = ("mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "granitemoe")


def lora_refused(model: ModelSpec, attention_impl: str, targets: tuple[str, ...] = ()) -> str | None:
    """Why the LoRA rows do not cover this model (with these targets), or None."""
    code = code_of(model)
    if attention_impl != "sdpa":
        return "LoRA is measured under sdpa attention"
    if code.file not in LORA_FILES:
        return ("LoRA is measured on the Llama code (llama, mistral, qwen2, qwen3, granite, smollm3, internlm3) and "
                "on mixtral, qwen2_moe, qwen3_moe, olmoe and granitemoe only")
    if "experts" in targets:
        return ("LoRA on the routed experts is not measured (transformers fuses them into 3-D tensors, which PEFT "
                "adapts only through target_parameters, one adapter on gate and up together)")
    for group in model.groups:
        layer, att = group.layer, group.layer.attention
        if layer.moe and code.moe not in LORA_BLOCKS:
            return "LoRA is measured on the MoE blocks of mixtral, qwen2_moe, qwen3_moe, olmoe and granitemoe only"
        if att.qk_norm not in (None, "rmsnorm", "rmsnorm_full") or att.mla or att.sliding_window or att.local_span or \
                att.sinks or layer.mlp.activation != "swiglu" or layer.mlp.bias or layer.stack != "decoder":
            return "LoRA is measured on SwiGLU layers without windows, q/k LayerNorms or biases"
    if model.position != "rope" or model.norm.kind != "rmsnorm" or model.norm.placement != "pre":
        return "LoRA is measured on RoPE models with RMSNorm before each sub-block"
    return None


def _adapter_row(labels: tuple[str, ...], name: str, count: int, width: int, rank: int, adapter_bytes: int,
                 shared_input: bool, where: str = "") -> ActivationRow:
    """`count` adapters reading one input of `width` features: their inputs and A's outputs."""
    if adapter_bytes == FP32:
        inputs = FP32 * width * count
        what = f"an fp32 copy of the input per adapter ({', '.join(labels)})"
    else:
        inputs = ACT * width if shared_input else 0
        what = ("its input" if count == 1 else "the input they share") if shared_input else \
            f"no input of their own ({where} keeps it)"
    return ActivationRow(f"lora.{'_'.join(labels)}", name, inputs + adapter_bytes * rank * count,
                         f"{what}; A's {rank}-wide output per adapter")


def _layer(model: ModelSpec, group, targets: tuple[str, ...], rank: int, adapter_bytes: int, grad_in: bool,
           tokens: int) -> list[ActivationRow]:
    """One layer's rows, whether gradients flow into it (`grad_in`) or not (the first layer)."""
    att, d = group.layer.attention, model.d_model
    name = group.name if grad_in else f"{group.name} (first)"
    norm = FP32 * d + FP32
    rows = []

    def adapters(wanted: tuple[str, ...], width: int, shared_input: bool, where: str = "") -> None:
        present = tuple(t for t in wanted if t in targets)
        if present:
            rows.append(_adapter_row(present, name, len(present), width, rank, adapter_bytes, shared_input, where))

    if grad_in:
        rows.append(ActivationRow("norm.pre_attn", name, norm, "fp32 upcast of the input, fp32 reciprocal RMS"))
    attention = grad_in or any(t in targets for t in ("q", "k", "v"))
    if attention:
        rows.append(ActivationRow("attn.sdpa", name, ACT * (att.n_heads * att.qk_head_dim + att.n_kv_heads * (
            att.qk_head_dim + att.v_head_dim) + att.n_heads * att.v_head_dim) + FP32 * att.n_heads,
            "q, k, v after RoPE, the output and its fp32 log-sum-exp"))
    if att.qk_norm:  # where q's (k's) projection needs a gradient, its fp32 upcast and RMS: per head (Qwen3) or
        for proj, heads in (("q", att.n_heads), ("k", att.n_kv_heads)):  # over the whole projection (OLMoE)
            if grad_in or proj in targets:
                rms = FP32 * (heads if att.qk_norm == "rmsnorm" else 1)
                rows.append(ActivationRow(f"attn.{proj}_norm", name, FP32 * att.qk_head_dim * heads + rms,
                                          "fp32 upcast, fp32 reciprocal RMS" + (" of each head" if rms > FP32
                                                                                 else "")))
    adapters(("q", "k", "v"), d, True)
    adapters(("o",), att.n_heads * att.v_head_dim, not attention, "sdpa")  # sdpa keeps it where it keeps anything
    mlp_in = attention or "o" in targets
    if mlp_in:
        rows.append(ActivationRow("norm.pre_mlp", name, norm, "fp32 upcast of the input, fp32 reciprocal RMS"))
    if group.layer.moe:
        return rows + _moe_rows(group.layer, code_of(model).moe, name, d, tokens, targets, rank, adapter_bytes,
                                mlp_in)
    d_ff = group.layer.mlp.d_ff
    gate = mlp_in or "gate" in targets
    up = mlp_in or "up" in targets
    kept = (ACT * d_ff if gate else 0) * 2 + (ACT * d_ff if up else 0)  # gate's output and SiLU if it needs a
    if kept:  # gradient (the SiLU and the product keep them), up's output if it does
        rows.append(ActivationRow("mlp.inner", name, kept, "gate's output, its SiLU, up's output (not the product: "
                                                          "the frozen down projection keeps no input)"))
    adapters(("gate", "up"), d, True)
    adapters(("down",), d_ff, True)
    return rows


def _moe_rows(layer, block: str, name: str, d: int, tokens: int, targets: tuple[str, ...], rank: int,
              adapter_bytes: int, grad_in: bool) -> list[ActivationRow]:
    """A frozen MoE block's rows (see the module docstring), with the router's and the shared expert's adapters."""
    moe = layer.moe
    k, experts = moe.top_k, moe.n_experts
    router = "router" in targets
    rows = []
    if grad_in or router:  # the routing weights need a gradient
        if block == "mixtral":
            probs, per_copy = FP32 * experts + FP32 + FP32 * k, FP32 * k
        elif block == "granitemoe":  # the softmax over the top-k fp32 logits
            probs, per_copy = FP32 * k, ACT * k
        else:
            probs = FP32 * experts + (FP32 + FP32 * k if block == "qwen3_moe" else 0)
            per_copy = ACT * k
        what = ("fp32 softmax over the top-k logits" if block == "granitemoe" else "fp32 routing softmax"
                + (", the top-k weights and their sum" if block in ("mixtral", "qwen3_moe") else ""))
        kept = probs + 3 * IDS * k  # the top-k indices, the sort order the weights are gathered by, its inverse
        if grad_in:  # the experts' input needs a gradient: the token gather's indices, the counts, the weights
            kept += per_copy + IDS * k + INT32 * experts / tokens
            what += ", per-copy weights; int64 top-k, sort order (twice) and inverse; int32 counts per expert"
        else:
            what += "; int64 top-k, sort order and inverse"
        rows += [ActivationRow("moe.router", name, kept, what),
                 ActivationRow("moe.tokens", name, ACT * d * k, "the experts' outputs before weighting (not the "
                               "permuted copies: the frozen experts keep no input)")]
    if grad_in:
        rows.append(ActivationRow("moe.experts", name, 3 * ACT * moe.d_ff * k, "per copy: gate_up's output and "
                                  "SiLU of gate (not the product: the frozen down keeps no input)"))
    if router:  # PEFT's ParamWrapper adds B A to the router's weight for the call: F.linear keeps its input and,
        # where the input needs a gradient, that bf16 weight; on the CPU it multiplies bf16 factors in fp32
        cpu_copies = FP32 * rank * (d + experts) if adapter_bytes != FP32 else 0
        rows.append(ActivationRow("lora.router", name, ACT * d + (ACT * experts * d * grad_in + cpu_copies) / tokens,
                                  "the router's bf16 input" + (", its weight plus B A (per call)" if grad_in else "")
                                  + (", fp32 copies of A and B (per call, on the CPU)" if cpu_copies else "")))
    if moe.n_shared_experts:  # Qwen2-MoE's: a gated MLP times the sigmoid of its own gate
        width = moe.d_ff_shared * moe.n_shared_experts
        shared = "shared" in targets
        if grad_in or shared:
            rows.append(ActivationRow("moe.shared", name, 3 * ACT * width + ACT + ACT * d * grad_in,
                                      "the shared expert's gate output, SiLU, up output; the bf16 sigmoid of its "
                                      "gate" + (" and its output" if grad_in else "")))
        if shared:
            rows += [_adapter_row(("shared.gate", "up"), name, 2, d, rank, adapter_bytes, not router, "the router"),
                     _adapter_row(("shared.down",), name, 1, width, rank, adapter_bytes, True)]
    return rows


def lora_rows(model: ModelSpec, targets: tuple[str, ...], rank: int, adapter_dtype: str, seq: int,
              micro_batch: int) -> tuple[list[ActivationRow], list[tuple[str, int]]]:
    """(rows, (row group, layers) counts): the first adapted layer's rows under "<group> (first)", once; every later
    layer's under its group (the layers before it keep nothing: no adapter, no gradient); the model's rows (group
    None) once."""
    adapter_bytes = FP32 if adapter_dtype == "fp32" else ACT
    tokens = seq * micro_batch
    first = min(i for group in model.groups for i in group.indices  # a MoE model's router or shared expert, or its
                if set(targets) & set(linear_shapes(group.layer, model.d_model)))  # dense layers' MLP, may come later
    rows, counts = [], []
    for group in model.groups:
        if first in group.indices:
            rows += _layer(model, group, targets, rank, adapter_bytes, False, tokens)
            counts.append((f"{group.name} (first)", 1))
    for group in model.groups:
        n = sum(1 for i in group.indices if i > first)
        if n:
            rows += _layer(model, group, targets, rank, adapter_bytes, True, tokens)
            counts.append((group.name, n))
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
