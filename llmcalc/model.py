"""The validated, frozen description of a model: what a spec means once it has been loaded.

Every value here is known to be sane (``llmcalc.spec.builder`` checks them), so the formulas never re-check.
A model is a sequence of layers; identical layers are gathered into ``LayerGroup``s so that
"per layer" figures come for free and no formula special-cases a model name.

May import: llmcalc.records, llmcalc.figures, llmcalc.mixers (nothing else: the model is what every later stage shares).
"""

from __future__ import annotations

from dataclasses import field
from functools import cached_property

from .figures import TOLERANCE_RULES, PublishedFigure  # noqa: F401 (a spec's published figures, named here too)
from .mixers import MIXER_KINDS, Mamba  # noqa: F401 (a layer's recurrent mixer, named here too)
from .records import record

# The largest whole number a spec key or an option may hold (2^53, where floats stop being exact): every product
# the formulas form of such numbers still converts to a float, so no figure overflows into a traceback.
MAX_WHOLE = 2**53
GATED_ACTIVATIONS = ("swiglu", "geglu", "reglu")
PLAIN_ACTIVATIONS = ("gelu", "gelu_tanh", "relu", "silu", "relu2")
ACTIVATIONS = PLAIN_ACTIVATIONS + GATED_ACTIVATIONS
NORM_KINDS = ("layernorm", "rmsnorm")
NORM_PLACEMENTS = ("pre", "post", "sandwich")
POSITIONS = ("learned", "sinusoidal", "rope", "alibi", "relative", "none")
QK_NORMS = ("rmsnorm", "rmsnorm_full", "l2", "layernorm", "layernorm_heads")
# How a layer's attention and MLP sit on the residual stream: one after the other, or both reading the same input
# (GPT-J, GPT-NeoX, PaLM: x + attn(norm(x)) + mlp(norm(x))).
RESIDUALS = ("sequential", "parallel")
# How a checkpoint stores its weights: a plain storage type, or a format (llmcalc/formulas/formats.py says which
# tensors each converts and its bits per weight).
WEIGHT_STORAGE = ("fp32", "bf16", "fp16", "fp8", "int8", "int4", "fp8_block", "mxfp4", "nf4", "q8_0", "q4_0", "q4_k",
                  "q5_k", "q6_k", "q2_k", "q3_k")


@record
class MLA:
    """Multi-head latent attention (DeepSeek-V2, Liu et al. 2024, sec. 2.1): K and V decompressed from a
    shared latent of kv_lora_rank, plus a decoupled RoPE key of qk_rope_head_dim; q optionally low-rank."""

    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim


@record
class Attention:
    """Self-attention of one layer: query heads, key/value heads, head size, biases, window (and MLA)."""

    n_heads: int
    n_kv_heads: int
    d_head: int
    bias_q: bool = False
    bias_k: bool = False
    bias_v: bool = False
    bias_o: bool = False
    sliding_window: int | None = None
    mla: MLA | None = None
    # "rmsnorm" (a d_head weight on q and on k: Qwen3), "rmsnorm_full" (one RMSNorm over the whole q projection,
    # n_heads x d_head, and one over k, n_kv_heads x d_head: OLMo 2, OLMoE), "l2" (no weights: Llama 4),
    # "layernorm" (a LayerNorm of d_head, weight and bias, on q and on k: Phi-1/2) or "layernorm_heads" (a bias-free
    # LayerNorm per head with a weight per head, n_heads x d_head on q and n_kv_heads x d_head on k: Cohere)
    qk_norm: str | None = None
    sinks: bool = False         # a learned sink logit per head (gpt-oss)
    chunk_size: int | None = None  # chunked local attention: a query sees only its own chunk (Llama 4)

    @property
    def local_span(self) -> int | None:
        """Most keys a query of this layer can see, however long the sequence (None: unbounded)."""
        spans = [s for s in (self.sliding_window, self.chunk_size) if s]
        return min(spans) if spans else None

    @property
    def qk_head_dim(self) -> int:
        """Size of one head's query and key (what a score's dot product runs over)."""
        return self.mla.qk_head_dim if self.mla else self.d_head

    @property
    def v_head_dim(self) -> int:
        return self.mla.v_head_dim if self.mla else self.d_head

    @property
    def kind(self) -> str:
        """MLA, MHA (one K/V head per query head), MQA (one K/V head) or GQA (in between)."""
        if self.mla:
            return "MLA"
        if self.n_kv_heads == self.n_heads:
            return "MHA"
        if self.n_kv_heads == 1:
            return "MQA"
        return "GQA"


@record
class MLP:
    """Feed-forward block: plain (up, down) or gated (gate, up, down)."""

    activation: str
    d_ff: int
    bias: bool = False

    @property
    def gated(self) -> bool:
        return self.activation in GATED_ACTIVATIONS

    @property
    def n_matrices(self) -> int:
        return 3 if self.gated else 2


@record
class MoE:
    """Mixture of experts replacing the MLP of a layer; experts use the layer's MLP activation and bias."""

    n_experts: int
    top_k: int
    d_ff: int
    n_shared_experts: int = 0
    d_ff_shared: int = 0
    shared_gate: bool = False
    router_bias: bool = False
    routing_bias: bool = False  # DeepSeek-V3's load-balancing bias per expert: a buffer, not a trained parameter


@record
class Norm:
    """Normalisation: LayerNorm (weight, optional bias) or RMSNorm (weight); where it sits. ``shared``: a parallel
    block's attention and MLP read one norm's output (GPT-J, Phi-2, Cohere) instead of a norm each (GPT-NeoX)."""

    kind: str
    bias: bool
    placement: str
    final: bool
    shared: bool = False
    affine: bool = True  # False: no weight and no bias at all (OLMo's non-parametric LayerNorm)

    @property
    def n_params(self) -> int:
        """Vectors of size d per norm: the weight, and the bias when there is one (none without `affine`)."""
        return (2 if self.bias else 1) if self.affine else 0


@record
class Layer:
    """One block: a token mixer (``attention``, or a recurrent ``mixer`` such as Mamba, whose ``attention`` is
    None, or both side by side on the same normalised input, their outputs added: Falcon-H1), a channel mixer
    (``mlp``, ``moe`` over it; a Mamba block has neither) and norms. ``moe`` is None for a dense layer. In an encoder-decoder model the encoder's blocks have ``stack`` "encoder" and the decoder's have
    cross-attention over the encoder output."""

    attention: Attention | None
    mlp: MLP | None
    moe: MoE | None = None
    name: str | None = None
    stack: str = "decoder"
    cross_attention: bool = False
    mixer: Mamba | None = None


@record
class LayerGroup:
    """Identical layers of a model: the layer, its name and the (0-based) positions it holds."""

    name: str
    layer: Layer
    indices: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.indices)


VISION_POSITIONS = ("learned", "rope")  # a learned table of the patch grid (CLIP, SigLIP), or 2-D RoPE (Qwen2.5-VL)
IMAGE_RESIZES = ("fixed", "smart")  # every image resized to image_size (LLaVA), or Qwen2-VL's smart_resize


@record
class Projector:
    """The multimodal projector from the vision tower to the language model: an optional norm over the tower's width,
    then Linear(d_in, d_hidden), an activation and Linear(d_hidden, d_out) (LLaVA's two layers with GELU; Qwen2.5-VL's
    patch merger, whose input is `merge` x `merge` neighbouring patches side by side), or one Linear(d_in, d_out)
    when d_hidden is None (Mllama)."""

    d_in: int
    d_out: int
    d_hidden: int | None = None
    activation: str = "gelu"
    bias: bool = True
    merge: int = 1
    norm: str | None = None


@record
class VisionTower:
    """A ViT image encoder (Dosovitskiy et al. 2021) in front of the language model, and its projector: a patch
    embedding (a convolution of patch x patch pixels, x temporal_patch frames), an optional class token, learned
    position embeddings or 2-D RoPE, optional norms before and after its identical layers, SigLIP's attention-pooling
    head. ``window``: the side, in patches, of the windows its layers attend within, except ``full_layers``
    (Qwen2.5-VL). How an image becomes tokens: ``resize`` fixed (to image_size, LLaVA) or smart (Qwen2-VL's
    smart_resize between min_pixels and max_pixels); ``drop_class_token``: the first token is not passed on (LLaVA's
    default feature selection, a patch when the tower has no class token)."""

    d_model: int
    n_layers: int
    layer: Layer
    norm: Norm
    projector: Projector
    image_size: int
    patch_size: int
    channels: int = 3
    temporal_patch: int = 1
    patch_bias: bool = False
    class_token: bool = False
    position: str = "learned"
    pre_norm: bool = False
    pool_head: bool = False
    window: int | None = None
    full_layers: tuple[int, ...] = ()
    resize: str = "fixed"
    min_pixels: int = 0
    max_pixels: int = 0
    drop_class_token: bool = False

    @property
    def grid(self) -> int:
        """Patches per side of an image_size x image_size image."""
        return self.image_size // self.patch_size


@record
class Training:
    tokens: float | None = None
    context: int | None = None


@record
class ModelSpec:
    """A whole model as resolved from its spec (after ``extends``)."""

    name: str
    display_name: str
    family: str
    vocab_size: int
    d_model: int
    n_layers: int
    context_length: int
    position: str
    tied_embeddings: bool
    norm: Norm
    layers: tuple[Layer, ...] = field(repr=False)  # one per layer: the groups property says it shortly
    year: int | None = None
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: str | None = None
    training: Training = field(default_factory=Training)
    published: tuple[PublishedFigure, ...] = ()
    origin: str = "<memory>"
    mtp_modules: int = 0  # DeepSeek-V3 multi-token prediction modules (optional, counted apart)
    relative_buckets: int = 0  # T5 relative position buckets (position "relative"): a bias per bucket and head
    rumour: str | None = None  # set when the architecture is hearsay, not published (GPT-4)
    weights_format: str | None = None  # how the published checkpoint stores its weights (WEIGHT_STORAGE)
    overrides: tuple[str, ...] = ()  # the key=value overrides (--set) applied on top of the spec file
    unread_keys: tuple[str, ...] = ()  # keys of a config.json its importer did not read, assumed to change nothing
    residual: str = "sequential"  # RESIDUALS: "parallel" when attention and MLP read the same input (GPT-J)
    rotary_dim: int | None = None  # partial RoPE: the leading dims of each head rotated (None: all; GPT-NeoX 25%)
    lm_head_bias: bool = False  # the LM head adds a bias of vocab_size (GPT-J, Phi-1/2)
    embedding_norm: bool = False  # a norm (of the model's kind) on the token embedding's output (BLOOM)
    vision: VisionTower | None = None  # a vision-language model's image encoder and projector

    @cached_property
    def groups(self) -> tuple[LayerGroup, ...]:
        """Identical layers gathered together, in order of first appearance (computed once per model)."""
        return group_layers(self.layers)

    @property
    def is_moe(self) -> bool:
        return any(group.layer.moe is not None for group in self.groups)

    @property
    def is_recurrent(self) -> bool:
        """Some layer mixes tokens with a recurrent mixer (Mamba), instead of attention or beside it."""
        return any(group.layer.mixer is not None for group in self.groups)

    @property
    def is_encoder_decoder(self) -> bool:
        return any(group.layer.stack == "encoder" for group in self.groups)


def group_layers(layers: tuple[Layer, ...]) -> tuple[LayerGroup, ...]:
    """Gather identical layers; name each group by its own name or by what sets it apart."""
    order: list[Layer] = []
    positions: dict[Layer, list[int]] = {}
    previous, slot = None, []
    for index, layer in enumerate(layers):
        if layer is not previous:  # a spec repeats one object per group: hash it once per run, not per layer
            slot = positions.get(layer)
            if slot is None:
                order.append(layer)
                slot = positions[layer] = []
            previous = layer
        slot.append(index)
    names = _group_names(order)
    return tuple(LayerGroup(name, layer, tuple(positions[layer])) for name, layer in zip(names, order))


def _span(layer: Layer) -> int | None:
    return layer.attention.local_span if layer.attention else None


def _token_mixer(layer: Layer) -> str:
    """What mixes the tokens of a layer: attention, a recurrent mixer's kind (or both), or nothing (an MLP block)."""
    parts = [part for part in ("attention" if layer.attention else "", layer.mixer.kind if layer.mixer else "") if part]
    return "+".join(parts) or "mlp"


def _group_names(layers: list[Layer]) -> list[str]:
    if len(layers) == 1:
        return [layers[0].name or "layers"]
    names = []
    for layer in layers:
        if layer.name:
            names.append(layer.name)
            continue
        traits = []
        if any(other.stack != layer.stack for other in layers):
            traits.append(layer.stack)
        if any(other.moe != layer.moe for other in layers):
            traits.append("moe" if layer.moe else "dense")
        if any(_token_mixer(other) != _token_mixer(layer) for other in layers):
            traits.append(_token_mixer(layer))
        if any(_span(other) != _span(layer) for other in layers):
            traits.append("local" if _span(layer) else "global")
        names.append("-".join(traits) or "layers")
    # Names must be unique: number the ones that collide.
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    counter: dict[str, int] = {}
    unique = []
    for name in names:
        if seen[name] > 1:
            counter[name] = counter.get(name, 0) + 1
            unique.append(f"{name}-{counter[name]}")
        else:
            unique.append(name)
    return unique
