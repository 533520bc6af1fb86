"""Plain-words descriptions of a model's architecture, for `compare` and `list`."""

from __future__ import annotations

from typing import Callable

from ..model import MIXER_NAMES, Layer, ModelSpec

COMPONENT_LABELS = {
    "embed.token": "token embedding",
    "embed.position": "position embedding",
    "embed.relative": "relative position bias (T5)",
    "embed.project_in": "embedding projection in (d_embed -> d)",
    "lm_head.project_out": "projection out (d -> d_embed)",
    "xattn.q": "cross-attention q",
    "xattn.k": "cross-attention k",
    "xattn.v": "cross-attention v",
    "xattn.o": "cross-attention o",
    "xattn.bias": "cross-attention biases",
    "xattn.qk_norm": "cross-attention q/k norms",
    "xattn.gates": "tanh gates (attention, MLP)",
    "xattn.scores": "cross-attention scores",
    "xattn.softmax": "cross-attention softmax",
    "xattn.values": "cross-attention x values",
    "norm.pre_xattn": "norm before cross-attention",
    "norm.post_xattn": "norm after cross-attention",
    "norm.final_encoder": "final norm (encoder)",
    "attn.q": "attention q",
    "attn.k": "attention k",
    "attn.v": "attention v",
    "attn.o": "attention o",
    "attn.bias": "attention biases",
    "attn.qk_norm": "attention q/k norms",
    "attn.sinks": "attention sinks",
    "attn.q_a": "attention q down (MLA)",
    "attn.q_norm": "attention q norm (MLA)",
    "attn.q_b": "attention q up (MLA)",
    "attn.kv_a": "attention kv down + rope key (MLA)",
    "attn.kv_norm": "attention kv norm (MLA)",
    "attn.kv_b": "attention kv up (MLA)",
    "attn.indexer.wq_b": "indexer q up (DSA)",
    "attn.indexer.wk": "indexer key (DSA)",
    "attn.indexer.k_norm": "indexer key norm (DSA)",
    "attn.indexer.weights_proj": "indexer head weights (DSA)",
    "attn.indexer.scores": "indexer scores (DSA)",
    "norm.pre_attn": "norm before attention",
    "norm.post_attn": "norm after attention",
    "norm.pre_mlp": "norm before MLP",
    "norm.post_mlp": "norm after MLP",
    "mlp.gate": "MLP gate",
    "mlp.up": "MLP up",
    "mlp.down": "MLP down",
    "mlp.bias": "MLP biases",
    "moe.router": "router",
    "moe.experts": "routed experts",
    "moe.shared": "shared experts",
    "moe.shared_gate": "shared-expert gate",
    "moe.routing_bias": "routing bias",
    "moe.norms": "norms around experts and MLP",
    "embed.per_layer": "per-layer input embedding",
    "per_layer.model_projection": "per-layer input projection",
    "per_layer.gate": "per-layer input gate",
    "per_layer.projection": "per-layer input projection",
    "per_layer.norm": "per-layer input norm",
    "mtp.norms": "MTP norms (hidden, embedding, final)",
    "mtp.proj": "MTP projection 2d -> d",
    "norm.shared": "norm before attention and MLP (shared)",
    "norm.final": "final norm",
    "lm_head": "LM head",
    "lm_head.bias": "LM head bias",
    "vision.patch_embed": "patch embedding",
    "vision.class_token": "class token",
    "vision.position": "position embedding (patches)",
    "vision.tile_position": "tile position embeddings (per aspect ratio)",
    "vision.gates": "position and tile embedding gates",
    "vision.pre_norm": "norm before the layers",
    "vision.post_norm": "norm after the layers",
    "vision.layers": "the tower's last layers",
    "vision.pool_head": "attention-pooling head",
    "projector.norm": "projector norm",
    "projector.merger": "projector patch merger",
    "projector.linear": "projector linear",
    "projector.linear_1": "projector linear 1",
    "projector.linear_2": "projector linear 2",
    # FLOPs-only components
    "attn.gate": "attention output gate",
    "attn.scores": "attention scores (QK^T)",
    "attn.softmax": "attention softmax",
    "attn.values": "attention x values",
    "norms": "norms",
    "residual": "residual adds",
    "mlp.act": "MLP activation (+ biases)",
    "mamba.in_proj": "Mamba in projection",
    "mamba.conv": "Mamba causal conv",
    "mamba.x_proj": "Mamba x projection (dt, B, C)",
    "mamba.dt_proj": "Mamba dt projection",
    "mamba.dt_bias": "Mamba dt bias",
    "mamba.A_log": "Mamba A (log)",
    "mamba.D": "Mamba D (skip)",
    "mamba.norm": "Mamba gated norm",
    "mamba.inner_norms": "Mamba dt, B, C norms",
    "mamba.out_proj": "Mamba out projection",
    "mamba.bias": "Mamba projection biases",
    "mamba.scan": "Mamba selective scan",
    "shortconv.in_proj": "short conv in projection (B, C, x)",
    "shortconv.conv": "short conv causal conv",
    "shortconv.out_proj": "short conv out projection",
    "shortconv.bias": "short conv projection biases",
    "deltanet.in_proj_qkvz": "DeltaNet q, k, v, z projection",
    "deltanet.in_proj_ba": "DeltaNet beta, a projection",
    "deltanet.conv": "DeltaNet causal conv",
    "deltanet.dt_bias": "DeltaNet dt bias",
    "deltanet.A_log": "DeltaNet A (log)",
    "deltanet.norm": "DeltaNet gated norm",
    "deltanet.out_proj": "DeltaNet out projection",
    "deltanet.delta_rule": "DeltaNet delta rule",
    "deltanet.solve": "DeltaNet triangular solves",
    "lightning.qkv_proj": "lightning q, k, v projection",
    "lightning.output_gate": "lightning output gate",
    "lightning.norm": "lightning norm",
    "lightning.out_proj": "lightning out projection",
    "lightning.attention": "lightning attention (blocks)",
    "norm.pre_mixer": "norm before mixer",
    "norm.post_mixer": "norm after mixer",
}

ACTIVATION_LABELS = {
    "gelu": "GELU", "gelu_tanh": "GELU (tanh)", "relu": "ReLU", "silu": "SiLU", "relu2": "squared ReLU",
    "swiglu": "SwiGLU", "geglu": "GeGLU", "reglu": "ReGLU",
}
NORM_LABELS = {"layernorm": "LayerNorm", "rmsnorm": "RMSNorm"}
POSITION_LABELS = {"learned": "learned absolute", "sinusoidal": "sinusoidal", "rope": "RoPE",
                   "alibi": "ALiBi", "relative": "T5 relative buckets", "none": "none"}


def _per_group(model: ModelSpec, describe: Callable[[Layer], int | str]) -> int | str:
    """One value when every layer agrees (a plain size stays an int), else each group's value with its name."""
    groups = model.groups
    values = [describe(g.layer) for g in groups]
    if len(set(values)) == 1:
        return values[0]
    return "; ".join(f"{g.name}: {v:,}" if isinstance(v, int) else f"{g.name}: {v}" for g, v in zip(groups, values))


def _layers(model: ModelSpec) -> int | str:
    groups = model.groups
    if len(groups) == 1:
        return model.n_layers
    return f"{model.n_layers} ({' + '.join(f'{g.count} {g.name}' for g in groups)})"


def _mixer(layer: Layer) -> str:
    """A recurrent mixer in words: Mamba's state and conv, Mamba-2's heads and groups too; the short conv's taps;
    Gated DeltaNet's key and value heads."""
    m = layer.mixer
    if m.kind == "short_conv":
        return f"short conv: {m.d_conv} taps over {m.width:,} channels, gated before and after"
    if m.kind == "lightning":
        return f"lightning attention: {m.n_heads} heads of {m.head_dim}, blocks of {m.block_size:,}, output gate"
    if m.kind == "gated_deltanet":
        return (f"Gated DeltaNet: {m.n_key_heads} key heads of {m.key_head_dim}, {m.n_value_heads} value heads of "
                f"{m.value_head_dim}, conv {m.d_conv}, chunks of {m.chunk_size:,}")
    heads = f", {m.n_heads} heads of {m.head_dim}, {m.n_groups} groups, chunks of {m.chunk_size:,}" \
        if m.kind == "mamba2" else f", dt rank {m.dt_rank}"
    return f"{MIXER_NAMES[m.kind]}: d_inner {m.d_inner:,}, state {m.d_state}, conv {m.d_conv}{heads}"


def _attention(layer: Layer) -> str:
    """The token mixer: attention, a recurrent mixer, or both side by side."""
    att = layer.attention
    if att is None:
        return _mixer(layer) if layer.mixer else "none (an MLP block)"
    extras = [f"sliding window {att.sliding_window:,}" if att.sliding_window else "",
              f"chunks of {att.chunk_size:,}" if att.chunk_size else "",
              f"{att.qk_norm} qk-norm" if att.qk_norm else "", "sinks" if att.sinks else "",
              "cross-attention to the images, gated" if att.to_images else "",
              "output gate" if att.output_gate else ""]
    text = ", ".join([att.kind] + [e for e in extras if e])
    return f"{text}, in parallel with {_mixer(layer)}" if layer.mixer else text


def _heads(layer: Layer) -> str:
    att = layer.attention
    if att is None:
        return "-"
    if att.mla:
        return f"{att.n_heads} / latent {att.mla.kv_lora_rank} / {att.qk_head_dim} (v {att.v_head_dim})"
    return f"{att.n_heads} / {att.n_kv_heads} / {att.d_head}"


def _mlp(layer: Layer) -> str:
    mlp = layer.mlp
    if mlp is None:
        return "none"
    return f"{ACTIVATION_LABELS[mlp.activation]}, {mlp.n_matrices} matrices"


def _d_ff(layer: Layer) -> int | str:
    if layer.moe:
        shared = f" + shared {layer.moe.n_shared_experts} x {layer.moe.d_ff_shared:,}" if layer.moe.n_shared_experts else ""
        return f"experts {layer.moe.d_ff:,}{shared}"
    return layer.mlp.d_ff if layer.mlp else "-"


def _experts(layer: Layer) -> str:
    moe = layer.moe
    if moe is None:
        return "-"
    shared = f" + {moe.n_shared_experts} shared" if moe.n_shared_experts else ""
    return f"{moe.n_experts}, top-{moe.top_k}{shared}"


def _biases(layer: Layer) -> str:
    att, mixer = layer.attention, layer.mixer
    parts = [name for name, on in zip("qkvo", (att.bias_q, att.bias_k, att.bias_v, att.bias_o)) if on] if att else []
    out = []
    if parts:
        out.append("attention " + ",".join(parts))
    if mixer and mixer.kind.startswith("mamba") and (mixer.bias or mixer.out_bias or mixer.conv_bias):
        out.append("Mamba " + ", ".join(n for n, on in (("in_proj", mixer.bias), ("out_proj", mixer.out_bias),
                                                        ("conv", mixer.conv_bias)) if on))
    if mixer and mixer.kind == "short_conv" and mixer.bias:
        out.append("short conv projections, conv")
    if layer.mlp and layer.mlp.bias:
        out.append("MLP")
    if layer.moe and layer.moe.router_bias:
        out.append("router")
    return "; ".join(out) or "none"


def _norm(model: ModelSpec) -> str:
    norm = model.norm
    bias = " (no bias)" if norm.kind == "layernorm" and not norm.bias else ""
    bias = bias if norm.affine else " (no parameters)"
    placement = {"pre": "pre", "post": "post", "sandwich": "pre + post"}[norm.placement]
    final = ", final norm" if norm.final else ""
    parallel = ""
    if model.residual == "parallel":
        parallel = ", parallel attention + MLP" + (" (one shared norm)" if norm.shared else "")
    return f"{NORM_LABELS[norm.kind]}{bias}, {placement}{parallel}{final}"


def _position(model: ModelSpec) -> str:
    if model.rotary_dim is None:
        return POSITION_LABELS[model.position]
    return f"{POSITION_LABELS[model.position]} on {model.rotary_dim} dims of each head"


ARCHITECTURE_ROWS: tuple[tuple[str, Callable[[ModelSpec], int | str]], ...] = (
    ("layers", _layers),
    ("d_model", lambda m: m.d_model),
    ("heads / kv heads / d_head", lambda m: _per_group(m, _heads)),
    ("attention", lambda m: _per_group(m, _attention)),  # or the recurrent mixer in its place
    ("MLP", lambda m: _per_group(m, _mlp)),
    ("d_ff", lambda m: _per_group(m, _d_ff)),
    ("experts", lambda m: _per_group(m, _experts)),
    ("norm", _norm),
    ("position", _position),
    ("biases", lambda m: _per_group(m, _biases)),
    ("tied embeddings", lambda m: "yes" if m.tied_embeddings else "no"),
    ("vocabulary", lambda m: m.vocab_size if m.input_vocab == m.vocab_size
     else f"{m.vocab_size:,} (embedding {m.input_vocab:,})"),
    ("context", lambda m: m.context_length),
)


def architecture(model: ModelSpec) -> list[tuple[str, int | str]]:
    """(row label, value) pairs describing the model, in a fixed order: a plain size is an int (JSON and CSV
    keep it a number; tables write it with thousands separators), anything else a description."""
    return [(label, describe(model)) for label, describe in ARCHITECTURE_ROWS]
