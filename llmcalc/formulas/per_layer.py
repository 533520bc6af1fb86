"""Gemma 4's per-layer parts: the per-layer input embedding (PLE) and its projections, and attention layers that
project fewer of K and V (a layer reusing an earlier layer's K and V, or keys reused as values). Parameters and
matmul FLOPs, exact, following Gemma4TextModel, Gemma4TextDecoderLayer and Gemma4TextAttention
(gemma4/modeling_gemma4.py, transformers 5.23.0).

Which embedding counts as what: the per-layer input table (``embed.per_layer``) is an input embedding like the
token embedding: in ``embedding``, and in ``active`` unless the input embedding is left out (ParamCount.convention
says so for a model that has one). Its projection from the token embedding and the layers' gates and projections
are matmuls every token runs: never embedding, always active."""

from __future__ import annotations

from ..model import Attention, Layer, ModelSpec, Norm
from .param_rows import ParamRow

def projected_kv(attention: Attention) -> tuple[int, int]:
    """(1, 1) when the layer projects K and V; V is K's output under k_eq_v (Gemma4TextAttention's v_proj None); a
    layer reusing an earlier layer's K and V projects neither (is_kv_shared_layer)."""
    if attention.kv_shared:
        return 0, 0
    return 1, 0 if attention.k_eq_v else 1


def per_layer_width(model: ModelSpec) -> int:
    """The per-layer input's width (hidden_size_per_layer_input), 0 without one."""
    return model.layers[0].per_layer_input if model.per_layer_vocab else 0


def per_layer_model_rows(model: ModelSpec) -> list[ParamRow]:
    """embed_tokens_per_layer (vocab_size_per_layer_input x n_layers x w), per_layer_model_projection (d ->
    n_layers x w, no bias) and per_layer_projection_norm (an RMSNorm of w), Gemma4TextModel.__init__."""
    width = per_layer_width(model)
    if not width:
        return []
    table = model.per_layer_vocab * model.n_layers * width
    projection = model.d_model * model.n_layers * width
    norm = model.norm.n_params * width
    return [ParamRow("embed.per_layer", None, 1, table, table, embedding="input",
                     note="per-layer input embedding: n_layers x hidden_size_per_layer_input per token"),
            ParamRow("per_layer.model_projection", None, 1, projection, projection),
            ParamRow("per_layer.norm", None, 1, norm, norm)]


def per_layer_rows(layer: Layer, norm: Norm, d_model: int) -> list[tuple[str, int, int]]:
    """A layer's per_layer_input_gate (d -> w), per_layer_projection (w -> d), both bias-free, and
    post_per_layer_input_norm (d), Gemma4TextDecoderLayer.__init__."""
    width = layer.per_layer_input
    if not width:
        return []
    rows = [("per_layer.gate", d_model * width), ("per_layer.projection", width * d_model),
            ("per_layer.norm", norm.n_params * d_model)]
    return [(name, n, n) for name, n in rows]


def per_layer_model_flops(model: ModelSpec, tokens: int) -> int:
    """Matmul FLOPs of per_layer_model_projection over `tokens` (the table is a lookup)."""
    return 2 * tokens * model.d_model * model.n_layers * per_layer_width(model)


def per_layer_flop_rows(layer: Layer, d_model: int, tokens: int) -> list[tuple[str, int, int]]:
    """(component, matmul, other) of a layer's per-layer input: gate and projection matmuls; the activation (GELU,
    8 per element), the product with the layer's input (1), the norm (4) and the residual add (1). Estimates apart
    from the matmuls."""
    width = layer.per_layer_input
    if not width:
        return []
    return [("per_layer.gate", 2 * tokens * d_model * width, tokens * width * 9),
            ("per_layer.projection", 2 * tokens * width * d_model, tokens * d_model * 5)]
