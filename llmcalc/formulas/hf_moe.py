"""What transformers' MoE blocks save for backward, per token (part of the `transformers` activation profile; see
hf_activations.py). Both blocks run transformers 5.23.0's grouped experts (integrations/moe.py): the copies of every
token sorted by expert (int64 top-k indices, the sort order divided by top_k, the sort order and its inverse; int32
token counts per expert, made once per layer), the permuted copies, the experts' gate_up output, SiLU of gate and
the product, the per-copy routing weights and the experts' outputs before weighting.

MixtralSparseMoeBlock (mixtral/modeling_mixtral.py): the fp32 routing softmax, the fp32 top-k weights, their sum and
the normalised per-copy weights, all fp32.

Qwen2MoeSparseMoeBlock and Qwen3MoeSparseMoeBlock (qwen2_moe/modeling_qwen2_moe.py, qwen3_moe/modeling_qwen3_moe.py):
the fp32 routing softmax, the top-k weights cast to bf16 before they reach the copies; with norm_topk_prob the fp32
sum and the normalised weights too. The spec does not hold norm_topk_prob: Qwen3-MoE is counted with it (every
published Qwen3-MoE config sets it), Qwen2-MoE without (its default and its published configs). Qwen2-MoE's shared
expert (a gated MLP on every token) keeps its four inner tensors, the bf16 sigmoid of its gate and its output.

OlmoeSparseMoeBlock (olmoe/modeling_olmoe.py) keeps what Qwen2-MoE's keeps without a shared expert (norm_topk_prob,
which the spec does not hold, taken as OLMoE's default and published configs: false). GraniteMoeMoE
(granitemoe/modeling_granitemoe.py) takes the top-k of the fp32 logits first: the fp32 softmax over those k and the
bf16 per-copy weights; GraniteMoeShared (granitemoeshared/modeling_granitemoeshared.py) adds a gated shared MLP on
every token, kept as the shared experts are.

DeepseekV3MoE (deepseek_v3/modeling_deepseek_v3.py): the router runs in fp32 (an fp32 copy of its input, and of
its weight in every call), keeps the fp32 sigmoid scores, the normalised fp32 top-k weights and their sum, and the
per-copy weights in fp32; the shared experts run as one gated MLP with no gate. Its choice of expert groups (topk
over the groups, masked_fill of the others) saves int64 indices and a bool mask too, but in a branch of the graph
whose values nothing uses: it is freed during the forward and held by no backward. The spec holds no
norm_topk_prob: it is taken as DeepSeek-V3's (normalised: the transformers default and the published config).

What these blocks keep frozen, under LoRA (no permuted copies, no experts' products), is hf_lora.py's.
"""

from __future__ import annotations

from ..model import Layer
from .saved import ACT, FP32, IDS, INT32, ActivationRow


def moe_rows(layer: Layer, group: str, d_model: int, tokens: int, block: str) -> list[ActivationRow]:
    """The rows of one MoE layer's block ("mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "granitemoe" or
    "deepseek_v3"), after its input."""
    moe = layer.moe
    k, experts = moe.top_k, moe.n_experts
    sorting = 4 * IDS * k + INT32 * experts / tokens
    if block == "deepseek_v3":
        router = ActivationRow("moe.router", group, FP32 * d_model + FP32 * experts * d_model / tokens
                               + FP32 * experts + FP32 + 2 * FP32 * k + sorting,
                               "fp32 copies of the input and (per call) the weight, fp32 sigmoid scores, fp32 top-k "
                               "weights, their sum and per-copy weights; int64 top-k, sort and unsort indices; int32 "
                               "counts per expert")
    elif block == "mixtral":
        router = ActivationRow("moe.router", group, FP32 * experts + FP32 + 2 * FP32 * k + sorting,
                               "fp32 routing softmax, top-k weights, their sum and per-copy weights; int64 top-k, "
                               "sort and unsort indices; int32 counts per expert")
    elif block == "granitemoe":
        router = ActivationRow("moe.router", group, FP32 * k + ACT * k + sorting,
                               "fp32 softmax over the top-k logits, bf16 per-copy weights; int64 top-k, sort and "
                               "unsort indices; int32 counts per expert")
    else:
        normalised = block == "qwen3_moe"
        router = ActivationRow("moe.router", group, FP32 * experts + (FP32 + FP32 * k if normalised else 0)
                               + ACT * k + sorting,
                               "fp32 routing softmax" + (", the top-k weights' fp32 sum and normalised weights"
                                                         if normalised else "")
                               + ", bf16 per-copy weights; int64 top-k, sort and unsort indices; int32 counts per "
                               "expert")
    rows = [
        router,
        ActivationRow("moe.tokens", group, 2 * ACT * d_model * k, "the top_k permuted copies of every token and the "
                      "experts' outputs before weighting"),
        ActivationRow("moe.experts", group, 4 * ACT * moe.d_ff * k, "per copy: gate_up's output, SiLU of gate, the "
                      "product"),
    ]
    if moe.n_shared_experts and moe.shared_gate:
        rows.append(ActivationRow("moe.shared", group, 4 * ACT * moe.d_ff_shared + ACT + ACT * d_model,
                                  "the shared expert's gate output, SiLU, up output and product; the bf16 sigmoid "
                                  "of its gate and its output"))
    elif moe.n_shared_experts:
        rows.append(ActivationRow("moe.shared", group, 4 * ACT * moe.n_shared_experts * moe.d_ff_shared,
                                  "the shared experts' gate output, SiLU, up output and product (one MLP)"))
    return rows


def moe_refused(layer: Layer, block: str | None) -> str | None:
    """Why this MoE layer is not the block its modeling code runs, or None."""
    moe = layer.moe
    if block is None or moe.router_bias or moe.routing_bias != (block == "deepseek_v3"):
        return ("its MoE layers are not a block the profile knows (Mixtral's, Qwen2-MoE's, Qwen3-MoE's, OLMoE's, "
                "GraniteMoE's, DeepSeek-V3's)")
    if block == "olmoe":
        shared_ok = not moe.n_shared_experts
    elif block == "granitemoe":  # GraniteMoeShared's shared MLP is one ungated-by-sigmoid gated MLP
        shared_ok = not moe.shared_gate
    elif block == "qwen2_moe":
        shared_ok = moe.n_shared_experts == 1 and moe.shared_gate
    else:
        shared_ok = not moe.shared_gate and (block == "deepseek_v3" or not moe.n_shared_experts)
    if not shared_ok:
        return f"its shared experts are not those {block}'s block runs"
    if layer.mlp.activation != "swiglu":
        return "its experts are not SwiGLU"
    return None
