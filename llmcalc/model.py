"""The validated, frozen description of a model: what a spec means once it has been loaded.

Every value here is known to be sane (``llmcalc.spec.builder`` checks them), so the formulas never re-check.
A model is a sequence of layers; identical layers are gathered into ``LayerGroup``s so that
"per layer" figures come for free and no formula special-cases a model name.

May import: llmcalc.records, llmcalc.figures, llmcalc.mixers, llmcalc.grouping, llmcalc.vision (nothing else: the
model is what every later stage shares).
"""

from __future__ import annotations

from dataclasses import field
from functools import cached_property

from .figures import TOLERANCE_RULES, PublishedFigure  # noqa: F401 (a spec's published figures, named here too)
from .grouping import group_layers
from .mixers import (  # noqa: F401 (a layer's recurrent mixer, named here too)
    MIXER_KINDS, MIXER_NAMES, GatedDeltaNet, LightningAttention, Mamba, Mixer, ShortConv)
from .vision import IMAGE_RESIZES, VISION_POSITIONS, Projector, VisionTower  # noqa: F401 (its image side)
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
# What a layer's attention attends to: its own sequence, or only the tokens of the images (Mllama's cross-attention
# layers, which have no self-attention: K and V come from the vision tower's output, once per image).
ATTENTION_SOURCES = ("self", "images")
QK_NORMS = ("rmsnorm", "rmsnorm_full", "l2", "layernorm", "layernorm_heads")
# How a layer's attention and MLP sit on the residual stream: one after the other, or both reading the same input
# (GPT-J, GPT-NeoX, PaLM: x + attn(norm(x)) + mlp(norm(x))).
RESIDUALS = ("sequential", "parallel")
# How a checkpoint stores its weights: a plain storage type, or a format (llmcalc/formulas/formats.py says which
# tensors each converts and its bits per weight; formulas/recipes.py llama-quantize's file types).
WEIGHT_FORMATS = ("fp8_block", "mxfp4", "nf4", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q2_k", "q3_k", "q4_1", "q5_0",
                  "q5_1", "iq4_nl", "iq4_xs", "q3_k_s", "q3_k_m", "q3_k_l", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m",
                  *(f"{t}_mix" for t in ("q2_k", "q6_k", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "iq4_nl", "iq4_xs")))
WEIGHT_STORAGE = ("fp32", "bf16", "fp16", "fp8", "int8", "int4", *WEIGHT_FORMATS)


@record
class Indexer:
    """DeepSeek Sparse Attention's lightning indexer (DeepSeek-V3.2): n_heads query heads of head_dim from MLA's q
    latent, one key of head_dim per token, scoring every earlier token; the MLA attention keeps the topk best."""

    n_heads: int
    head_dim: int
    topk: int


@record
class MLA:
    """Multi-head latent attention (DeepSeek-V2, Liu et al. 2024, sec. 2.1): K and V decompressed from a
    shared latent of kv_lora_rank, plus a decoupled RoPE key of qk_rope_head_dim; q optionally low-rank."""

    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None
    indexer: Indexer | None = None  # DSA's lightning indexer (needs q_lora_rank)

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
    # q_proj also outputs a gate of n_heads x d_head, whose sigmoid multiplies the attention output before o
    # (Qwen3-Next's gated attention, Qiu et al. 2025, arXiv:2505.06708)
    output_gate: bool = False
    # "images": cross-attention to the images' tokens in place of self-attention, with a tanh gate on the attention's
    # and on the MLP's output (Flamingo's gated cross-attention, Alayrac et al. 2022; Mllama's
    # MllamaCrossAttentionDecoderLayer): it caches K and V of every image token once, nothing per text token
    source: str = "self"
    # K and V of an earlier layer reused: no k/v projections, no k norm, no cache of its own (Gemma 4's last
    # num_kv_shared_layers); k_eq_v: no v projection, V is the k projection's output (Gemma 4's attention_k_eq_v)
    kv_shared: bool = False
    k_eq_v: bool = False

    @property
    def to_images(self) -> bool:
        """Cross-attention to the images' tokens only (no self-attention)."""
        return self.source == "images"

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
    routing_bias_parameter: bool = False  # ... held as a parameter (without gradient) and counted (Ernie 4.5 MoE)
    expert_bias: bool | None = None  # the routed experts' biases when they differ from the MLP's (Ernie 4.5 MoE)
    router_scales: bool = False  # a learned scale of d_model on the router's input and one per expert (Gemma 4)
    norms: int = 0  # RMSNorms of d_model the MoE adds to its layer (Gemma 4's three around experts and dense MLP)

    def routed(self, mlp: MLP) -> MLP:
        """The MLP one routed expert is: the layer's, with the experts' own biases where they differ."""
        if self.expert_bias is None or self.expert_bias == mlp.bias:
            return mlp
        return MLP(mlp.activation, mlp.d_ff, self.expert_bias)


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
    """One block: a token mixer (``attention``, or a recurrent ``mixer`` such as Mamba, LFM2's short conv or Gated
    DeltaNet, whose ``attention`` is None, or both side by side on the same normalised input, their outputs added:
    Falcon-H1), a channel mixer (``mlp``, ``moe`` over it; a Mamba block has neither) and norms. ``moe`` is None for
    a dense layer. In an encoder-decoder model the encoder's blocks have ``stack`` "encoder" and the decoder's have
    cross-attention over the encoder output."""

    attention: Attention | None
    mlp: MLP | None
    moe: MoE | None = None
    name: str | None = None
    stack: str = "decoder"
    cross_attention: bool = False
    mixer: Mixer | None = None
    # width of the per-layer input (Gemma 4's PLE): a gate d -> w, a projection w -> d and a norm of d in the layer
    per_layer_input: int = 0


@record
class LayerGroup:
    """Identical layers of a model: the layer, its name and the (0-based) positions it holds."""

    name: str
    layer: Layer
    indices: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.indices)


# a learned table of the patch grid (CLIP, SigLIP), 2-D RoPE (Qwen2.5-VL), or a learned table of position_rows
# positions bilinearly interpolated to each image's grid beside 2-D RoPE (Qwen3.5)
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
    d_embed: int | None = None  # width of the token embedding and LM head, projected to/from d_model (OPT-350m)
    position_offset: int = 0  # extra rows of a learned position table (OPT's 2)
    vision: VisionTower | None = None  # a vision-language model's image encoder and projector
    input_vocab_size: int | None = None  # token embedding rows past the LM head's (Mllama: vocab_size + 8)
    per_layer_vocab: int = 0  # rows of the per-layer input embedding, n_layers x per_layer_input wide (Gemma 4)

    @cached_property
    def groups(self) -> tuple[LayerGroup, ...]:
        """Identical layers gathered together, in order of first appearance (computed once per model)."""
        return group_layers(self.layers, LayerGroup)

    @property
    def embed_width(self) -> int:
        """Width of the token embedding and of the LM head's input: d_embed, or d_model without a projection."""
        return self.d_embed or self.d_model

    @property
    def projected(self) -> bool:
        """The embedding is d_embed wide and linears project it in to d_model and back out (OPT's project_in/out)."""
        return self.embed_width != self.d_model

    @property
    def position_rows(self) -> int:
        """Rows of a learned position table: the context and any offset (OPT's 2 unused rows)."""
        return self.context_length + self.position_offset

    @property
    def is_moe(self) -> bool:
        return any(group.layer.moe is not None for group in self.groups)

    @property
    def is_recurrent(self) -> bool:
        """Some layer mixes tokens with a recurrent mixer (Mamba, short conv, Gated DeltaNet), instead of attention or
        beside it."""
        return any(group.layer.mixer is not None for group in self.groups)

    @property
    def mixer_names(self) -> str:
        """The recurrent mixers' kinds in words, in order of first appearance ("Mamba", "short conv, ...")."""
        return ", ".join(dict.fromkeys(MIXER_NAMES[g.layer.mixer.kind] for g in self.groups if g.layer.mixer))

    @property
    def is_encoder_decoder(self) -> bool:
        return any(group.layer.stack == "encoder" for group in self.groups)

    @property
    def cross_attends_images(self) -> bool:
        """Some layer attends to the images' tokens (Mllama): images are then not part of the text sequence."""
        return any(group.layer.attention and group.layer.attention.to_images for group in self.groups)

    @property
    def input_vocab(self) -> int:
        """Rows of the token embedding: input_vocab_size where the spec sets it, else vocab_size."""
        return self.input_vocab_size or self.vocab_size
