"""Rows the `transformers` activation profile's layouts share (hf_activations.py, hf_gpt2.py; transformers 5.23.0): a
norm as its modeling code runs it, and an MLP's inner tensors.

Norms (Code.norm): LlamaRMSNorm ("llama": the fp32 upcast of the input, the fp32 reciprocal RMS and the bf16
normalised input the weight multiplies), GemmaRMSNorm ("gemma": fp32 input, reciprocal RMS, normalised input and (1 +
weight) in fp32 made in every call), OLMo 2's RMSNorm ("fp32": its weight applied in fp32), OLMo's non-parametric
LayerNorm ("olmo", olmo/modeling_olmo.py: F.layer_norm of the fp32 upcast keeps it, its fp32 mean and reciprocal std),
nn.LayerNorm ("layernorm": its bf16 input, mean and reciprocal std, which PyTorch's CPU kernel, where the profile is
measured, keeps in bf16; CUDA's keeps them in fp32) and CohereLayerNorm ("cohere", cohere/modeling_cohere.py, in
Python: the fp32 centred input twice (the variance's and the normalisation's), the fp32 reciprocal std, the fp32
normalised input and an fp32 copy of the weight per call).

MLPs: a gated MLP keeps gate's output, its activation, up's output and their product (as fused gate_up does); a plain
one (fc, activation, proj) keeps fc's output (the activation's input) and the activation's output (proj's input) for
an activation PyTorch runs as one kernel (gelu, gelu_pytorch_tanh); ReLU keeps its output only, which proj keeps too;
gelu_new's Python formula (Code.gelu_tanh "new") keeps fc's output, half of it, the tanh, one plus the tanh and the
product.
"""

from __future__ import annotations

from ..model import MLP
from .hf_code import Code
from .saved import ACT, FP32, ActivationRow


def norm_row(name: str, group: str | None, width: int, code: Code, tokens: int, count: int = 1,
             input_kept: bool = True) -> ActivationRow:
    """A norm over `width` features, `count` of them per token (per head for a qk-norm), as `code` runs it;
    input_kept False: another norm keeps the same input already (a parallel layer's second nn.LayerNorm)."""
    if code.norm == "layernorm" and not input_kept:
        return ActivationRow(name, group, 2 * ACT * count, "bf16 mean and reciprocal std (its input kept already)")
    if code.norm == "gemma":
        return ActivationRow(name, group, (2 * FP32 * width + FP32) * count + FP32 * width / tokens,
                             "fp32 input, fp32 reciprocal RMS, fp32 normalised input; (1 + weight) in fp32 per call")
    if code.norm == "fp32":
        return ActivationRow(name, group, (2 * FP32 * width + FP32) * count,
                             "fp32 input, fp32 reciprocal RMS, fp32 normalised input (the weight applied in fp32)")
    if code.norm == "olmo":
        return ActivationRow(name, group, (FP32 * width + 2 * FP32) * count,
                             "fp32 upcast of the input, its fp32 mean and reciprocal std (no weight)")
    if code.norm == "layernorm":
        return ActivationRow(name, group, (ACT * width + 2 * ACT) * count,
                             "bf16 input, mean and reciprocal std (bf16 on CPU)")
    if code.norm == "cohere":
        return ActivationRow(name, group, (3 * FP32 * width + FP32 + FP32 * width / tokens) * count,
                             "the fp32 centred input twice, fp32 reciprocal std, fp32 normalised input; an fp32 "
                             "copy of the weight (one per head for a qk-norm) per call")
    return ActivationRow(name, group, ((FP32 + ACT) * width + FP32) * count,
                         "fp32 upcast of the input, fp32 reciprocal RMS, bf16 normalised input")


def mlp_inner_row(mlp: MLP, group: str, code: Code) -> ActivationRow:
    """What an MLP keeps past its input (see the module docstring)."""
    if mlp.gated:
        return ActivationRow("mlp.inner", group, 4 * ACT * mlp.d_ff,
                             "gate's output, its activation, up's output, their product")
    if mlp.activation == "relu":
        return ActivationRow("mlp.inner", group, ACT * mlp.d_ff, "ReLU's output (proj's input)")
    if mlp.activation == "gelu_tanh" and code.gelu_tanh == "new":
        return ActivationRow("mlp.inner", group, 5 * ACT * mlp.d_ff,
                             "fc's output, half of it, the tanh, one plus the tanh, their product (proj's input)")
    return ActivationRow("mlp.inner", group, 2 * ACT * mlp.d_ff, "fc's output (the activation's input) and the "
                         "activation's output (proj's input)")


def mlp_refused(mlp: MLP, code: Code) -> str | None:
    """Why this MLP is not the one `code` runs (biases keep nothing more: measured on ernie4_5), or None."""
    if code.mlp == "gated" and mlp.activation not in ("swiglu", "geglu"):
        return "its MLP is not a SwiGLU or GeGLU"
    if code.mlp == "plain" and mlp.activation not in ("gelu", "gelu_tanh", "relu"):
        return f"its MLP is not the plain (fc, activation, proj) MLP of {code.file}"
    return None
