"""A merged spec mapping in, a validated ModelSpec out: the only place where values are checked. After `build`,
every value is sane, so the formulas never re-check; each error names the file that set the key, the key and
what is allowed."""

from __future__ import annotations

import dataclasses

from ..model import (
    ACTIVATIONS,
    ATTENTION_SOURCES,
    NORM_KINDS,
    NORM_PLACEMENTS,
    POSITIONS,
    QK_NORMS,
    RESIDUALS,
    WEIGHT_STORAGE,
    MLP,
    Attention,
    Layer,
    ModelSpec,
    MoE,
    Norm,
    Training,
)
from .mixer import build_mixer
from .mla import build_mla
from .published import published_figures
from .node import Node
from .schema import (
    ATTENTION_BIAS_KEYS,
    ATTENTION_KEYS,
    ENCODER_KEYS,
    MAX_LAYERS,
    LAYER_GROUP_KEYS,
    LAYER_PATTERN_KEYS,
    LAYER_REPEAT_KEYS,
    MLA_ATTENTION_KEYS,
    MLP_KEYS,
    MOE_KEYS,
    PER_LAYER_INPUT_KEYS,
    MTP_KEYS,
    NORM_KEYS,
    OVERRIDE_SOURCE,
    TOP_KEYS,
    TRAINING_KEYS,
)
from .values import dotted as _dotted
from .vision import read_vision
from .values import kind as _kind
from .values import divisor_hint
from .values import show as _show


def build(name: str, source: str, data: dict, origin: dict) -> ModelSpec:
    """The ModelSpec of a merged spec mapping: `name` is the model's, `source` the file (or config.json) it came
    from, `origin` maps key paths to the file or --set that gave them (at least {(): source})."""
    return _Builder(name, source, data, origin).build()


class _Builder:
    """Turns a merged spec mapping into a ModelSpec, checking every value on the way."""

    def __init__(self, name: str, source: str, data: dict, origin: dict):
        self.name = name
        self.root = Node(data, (), origin, source)
        self.source = source

    def build(self) -> ModelSpec:
        root = self.root
        root.check_keys(TOP_KEYS)
        d_model = root.integer("d_model")
        n_layers = root.integer("n_layers")
        if n_layers > MAX_LAYERS:
            raise root.error("n_layers", f"{n_layers:,} layers; a spec may have at most {MAX_LAYERS:,} (each layer is "
                             "built and grouped one by one)")
        norm = self._norm(root.mapping("norm"))
        layers = self._layers(root, d_model, n_layers)
        encoder = root.mapping("encoder", required=False)
        if encoder:
            layers = self._encoder_layers(root, encoder, d_model) + tuple(
                dataclasses.replace(layer, cross_attention=True) for layer in layers)
        position = root.choice("position", POSITIONS)
        buckets = 0
        if position == "relative":
            buckets = root.integer("relative_attention_buckets", 32)
        elif root.has("relative_attention_buckets"):
            raise root.error("relative_attention_buckets", "only used with position: relative (T5); allowed: "
                             "remove it, or set position: relative")
        residual = self._residual(root, norm, layers)
        offset = root.integer("position_offset", 0, minimum=0)
        if offset and position != "learned":
            raise root.error("position_offset", f"extra rows of a learned position table; position is {position}, "
                             "which has none; allowed: remove it, or set position: learned", also=(("position",),))
        rotary_dim = self._rotary_dim(root, position, layers)
        training = root.mapping("training", required=False)
        vision = root.mapping("vision", required=False)
        mtp = root.mapping("mtp", required=False)
        if mtp:
            mtp.check_keys(MTP_KEYS)
        self._check_image_layers(root, layers, bool(vision), bool(encoder))
        if layers[0].attention and layers[0].attention.kv_shared:
            raise root.error("attention.kv_shared", "the first layer has no earlier layer whose K and V it could "
                             "reuse; allowed: kv_shared in a later layer group")
        per_layer = root.mapping("per_layer_input", required=False)
        if per_layer:  # Gemma 4's per-layer input embedding: a table of vocab_size rows, n_layers x width wide
            per_layer.check_keys(PER_LAYER_INPUT_KEYS)
            layers = tuple(dataclasses.replace(layer, per_layer_input=per_layer.integer("width")) for layer in layers)
        input_vocab = root.integer("input_vocab_size", None)
        if input_vocab is not None and root.boolean("tied_embeddings", False) and input_vocab != root.integer(
                "vocab_size"):
            raise root.error("input_vocab_size", "a tied LM head is the token embedding itself, so their rows are "
                             "one count; allowed: vocab_size, or tied_embeddings: false", also=("tied_embeddings",))
        return ModelSpec(
            name=self.name,
            display_name=root.string("display_name", self.name),
            family=root.string("family", "custom"),
            year=root.integer("year", None, minimum=1900),
            aliases=root.string_list("aliases"),
            sources=root.string_list("sources"),
            notes=root.string("notes", None),
            vocab_size=root.integer("vocab_size"),
            d_model=d_model,
            n_layers=len(layers),
            context_length=root.integer("context_length"),
            position=position,
            relative_buckets=buckets,
            tied_embeddings=root.boolean("tied_embeddings", False),
            norm=norm,
            layers=layers,
            training=self._training(training) if training else Training(),
            published=published_figures(root),
            origin=self.source,
            mtp_modules=mtp.integer("n_modules") if mtp else 0,
            rumour=root.string("rumour", None),
            weights_format=root.choice("weights_format", WEIGHT_STORAGE, None),
            residual=residual,
            rotary_dim=rotary_dim,
            lm_head_bias=root.boolean("lm_head_bias", False),
            embedding_norm=root.boolean("embedding_norm", False),
            d_embed=root.integer("d_embed", None),
            position_offset=offset,
            vision=read_vision(vision, d_model, self._attention, self._mlp, self._norm) if vision else None,
            input_vocab_size=input_vocab,
            per_layer_vocab=per_layer.integer("vocab_size") if per_layer else 0,
        )

    def _check_image_layers(self, root: Node, layers: tuple[Layer, ...], vision: bool, encoder: bool) -> None:
        """Layers attending to images need the images: a vision section, and no encoder (its cross-attention)."""
        if not any(layer.attention and layer.attention.to_images for layer in layers):
            return
        if not vision or encoder:
            raise root.error("attention", "a layer with source: images cross-attends to the vision tower's output; "
                             "allowed: with a vision section and no encoder, or source: self", also=("vision",))

    def _norm(self, node: Node) -> Norm:
        node.check_keys(NORM_KEYS)
        kind = node.choice("kind", NORM_KINDS)
        bias = node.boolean("bias", kind == "layernorm")
        if bias and kind == "rmsnorm":
            raise node.error("bias", "RMSNorm has no bias; allowed: false (or use kind: layernorm)")
        placement = node.choice("placement", NORM_PLACEMENTS, "pre")
        affine = node.boolean("affine", True)
        if bias and not affine:
            raise node.error("bias", "a norm without affine parameters has no bias; allowed: false")
        return Norm(kind, bias, placement, node.boolean("final", placement != "post"), node.boolean("shared", False),
                    affine)

    def _residual(self, root: Node, norm: Norm, layers: tuple[Layer, ...]) -> str:
        """sequential, or parallel: pre-norm decoder layers only (GPT-J, GPT-NeoX); norm.shared only with parallel."""
        residual = root.choice("residual", RESIDUALS, "sequential")
        if residual == "parallel":
            if norm.placement != "pre":
                raise root.error("residual", f"parallel attention and MLP read the layer's normalised input, so norm "
                                 f"placement {norm.placement} has no meaning here; allowed: norm.placement: pre",
                                 also=(("norm", "placement"),))
            if any(layer.mixer or layer.mlp is None for layer in layers):
                raise root.error("residual", "parallel blocks run attention beside an MLP; a layer here has a "
                                 "recurrent mixer or no MLP; allowed: sequential", also=(("mixer",),))
            if any(layer.cross_attention or layer.stack != "decoder" or layer.attention.to_images for layer in layers):
                raise root.error("residual", "parallel blocks are not supported in an encoder-decoder; allowed: "
                                 "sequential (or remove encoder)", also=(("encoder",),))
        elif norm.shared:
            raise root.mapping("norm").error("shared", "one norm shared by attention and MLP needs parallel blocks; "
                             "allowed: false, or residual: parallel", also=(("residual",),))
        return residual

    def _rotary_dim(self, root: Node, position: str, layers: tuple[Layer, ...]) -> int | None:
        """The leading dims of each head that RoPE rotates: position rope only, at most the smallest head."""
        if not root.has("rotary_dim"):
            return None
        if position != "rope":
            raise root.error("rotary_dim", f"partial rotary needs position: rope, not {position}; allowed: remove it, "
                             "or set position: rope", also=(("position",),))
        attention = [layer.attention for layer in layers if layer.attention]
        if any(att.mla for att in attention):
            raise root.error("rotary_dim", "MLA sets its RoPE part with mla.qk_rope_head_dim; allowed: remove it")
        rotary = root.integer("rotary_dim")
        if not attention:
            raise root.error("rotary_dim", "no layer has attention to rotate; allowed: remove it")
        smallest = min(att.d_head for att in attention)
        if rotary > smallest:
            raise root.error("rotary_dim", f"{rotary} is more than d_head={smallest}; allowed: 1 to {smallest} (the "
                             "leading dims of each head that are rotated)")
        return rotary

    def _attention(self, node: Node, d_model: int) -> Attention:
        node.check_keys(ATTENTION_KEYS)
        if node.has("mla"):
            return self._mla_attention(node)
        n_heads = node.integer("n_heads")
        n_kv_heads = node.integer("n_kv_heads", n_heads)
        if n_heads % n_kv_heads:
            raise node.error("n_kv_heads", f"{n_kv_heads} does not divide n_heads={n_heads}; "
                             f"allowed: a divisor of n_heads{divisor_hint(n_heads)}", also=("n_heads",))
        if node.has("d_head"):
            d_head = node.integer("d_head")
        elif d_model % n_heads:
            raise node.error("d_head", f"d_model={d_model} is not a multiple of n_heads={n_heads}, "
                             "so d_head cannot be taken as d_model / n_heads: set it", also=("n_heads", ("d_model",)))
        else:
            d_head = d_model // n_heads
        q = k = v = o = False
        bias = node.data.get("bias")
        if isinstance(bias, bool):
            q = k = v = o = bias
        elif bias is not None:
            sub = node.mapping("bias")
            sub.check_keys(ATTENTION_BIAS_KEYS)
            q, k, v, o = (sub.boolean(key, False) for key in ATTENTION_BIAS_KEYS)
        window = node.integer("sliding_window", None)
        chunk = node.integer("chunk_size", None)
        if window and chunk:
            raise node.error("chunk_size", "a layer has either a sliding window or chunked attention, not both; "
                             "allowed: one of sliding_window, chunk_size")
        source = node.choice("source", ATTENTION_SOURCES, "self")
        if source == "images" and (window or chunk):
            raise node.error("source", "cross-attention to the images sees every image token; allowed: remove "
                             "sliding_window and chunk_size, or source: self", also=("sliding_window", "chunk_size"))
        return Attention(n_heads, n_kv_heads, d_head, q, k, v, o, window, qk_norm=node.choice("qk_norm", QK_NORMS, None),
                         sinks=node.boolean("sinks", False), chunk_size=chunk, source=source,
                         output_gate=node.boolean("output_gate", False), kv_shared=node.boolean("kv_shared", False),
                         k_eq_v=node.boolean("k_eq_v", False))

    def _mla_attention(self, node: Node) -> Attention:
        """MLA: every head has its own K and V, decompressed from the latent, so n_kv_heads = n_heads."""
        for key in ATTENTION_KEYS:
            if node.has(key) and key not in MLA_ATTENTION_KEYS:
                raise node.error(key, "not used with mla (head sizes are mla.qk_nope_head_dim + qk_rope_head_dim "
                                 f"and mla.v_head_dim); allowed with mla: {', '.join(MLA_ATTENTION_KEYS)}")
        n_heads = node.integer("n_heads")
        mla = build_mla(node.mapping("mla"))
        return Attention(n_heads, n_heads, mla.qk_head_dim, sliding_window=node.integer("sliding_window", None),
                         mla=mla)

    def _mlp(self, node: Node) -> MLP:
        node.check_keys(MLP_KEYS)
        return MLP(node.choice("activation", ACTIVATIONS), node.integer("d_ff"), node.boolean("bias", False))

    def _moe(self, node: Node, mlp: MLP) -> MoE:
        node.check_keys(MOE_KEYS)
        n_experts = node.integer("n_experts")
        top_k = node.integer("top_k")
        if top_k > n_experts:
            raise node.error("top_k", f"{top_k} is more than n_experts={n_experts}; allowed: 1 to {n_experts}",
                             also=("n_experts",))
        d_ff = node.integer("d_ff", mlp.d_ff)
        n_shared = node.integer("n_shared_experts", 0, minimum=0)
        routing = node.get("routing_bias", False)
        if routing not in (True, False, "parameter"):
            raise node.error("routing_bias", f"must be true (a buffer), false or parameter (counted), got "
                             f"{_kind(routing)} {_show(routing)}")
        return MoE(
            n_experts=n_experts,
            top_k=top_k,
            d_ff=d_ff,
            n_shared_experts=n_shared,
            d_ff_shared=node.integer("d_ff_shared", d_ff) if n_shared else 0,
            shared_gate=node.boolean("shared_gate", False),
            router_bias=node.boolean("router_bias", False),
            routing_bias=bool(routing),
            routing_bias_parameter=routing == "parameter",
            expert_bias=node.boolean("expert_bias") if node.has("expert_bias") else None,
            router_scales=node.boolean("router_scales", False),
            norms=node.integer("norms", 0, minimum=0),
        )

    def _layer(self, node: Node, d_model: int, name: str | None, group: bool = True) -> Layer:
        """One layer from a node holding attention and / or mixer, mlp, moe (the top level or a merged override). A
        layer with both runs them side by side on the same normalised input and adds their outputs (Falcon-H1). A
        layer with a recurrent mixer alone may have no MLP (Mamba); one with attention has one, unless a layer
        `group` says `mlp: null`; a group's layer without attention or mixer says `attention: null` and has an MLP
        (Nemotron-H's blocks). The top level always holds a whole layer, so a null there is a missing key."""
        mixer_node = node.mapping("mixer", required=False)
        mixer = build_mixer(mixer_node, d_model) if mixer_node else None
        no_attention = group and _nulled(node, "attention")
        attention_node = node.mapping("attention", required=mixer is None and not no_attention)
        attention = self._attention(attention_node, d_model) if attention_node else None
        mlp_node = node.mapping("mlp", required=node.has("moe") or (
            attention is not None and not (group and _nulled(node, "mlp"))) or (attention is None and mixer is None))
        mlp = self._mlp(mlp_node) if mlp_node else None
        moe_node = node.mapping("moe", required=False)
        return Layer(attention, mlp, self._moe(moe_node, mlp) if moe_node else None, name, mixer=mixer)

    def _layers(self, root: Node, d_model: int, n_layers: int) -> tuple[Layer, ...]:
        default = self._layer(root, d_model, None, group=False)
        if not root.has("layers"):
            return (default,) * n_layers
        groups = root.data["layers"]
        if not isinstance(groups, list) or not groups:
            raise root.error("layers", f"must be a non-empty list of layer groups, got {_kind(groups)} {_show(groups)}")
        layers: list[Layer] = []
        for index, raw in enumerate(groups):
            if not isinstance(raw, dict):
                raise root.error("layers", f"item {index} must be a mapping, got {_kind(raw)} {_show(raw)}")
            group = Node(raw, root.path + ("layers", index), root.origin, root.fallback)
            if "pattern" in raw or "repeat" in raw:
                group.check_keys(LAYER_REPEAT_KEYS)
                repeat = group.integer("repeat")
                pattern = raw.get("pattern")
                if not isinstance(pattern, list) or not pattern:
                    raise group.error("pattern", f"must be a non-empty list of layers, got {_kind(pattern)}")
                cycle = []
                for position, item in enumerate(pattern):
                    if not isinstance(item, dict):
                        raise group.error("pattern", f"item {position} must be a mapping, got {_kind(item)}")
                    member = Node(item, group.path + ("pattern", position), root.origin, root.fallback)
                    member.check_keys(LAYER_PATTERN_KEYS)
                    cycle.append(self._override(root, member, d_model))
                layers.extend(cycle * repeat)
            else:
                group.check_keys(LAYER_GROUP_KEYS)
                layers.extend([self._override(root, group, d_model)] * group.integer("count"))
        if len(layers) != n_layers and root.origin.get(root.path + ("n_layers",)) == OVERRIDE_SOURCE:
            raise root.error("n_layers", f"{n_layers} does not match this spec's layer groups, which add up to "
                             f"{len(layers)}; allowed: change the groups with it (`llmcalc show` lists them), e.g. "
                             f"--set {_dotted(root.path + ('layers', len(groups) - 1))}."
                             f"{'repeat' if 'pattern' in groups[-1] else 'count'}=N")
        if len(layers) != n_layers:
            raise root.error("layers", f"the layer groups add up to {len(layers)} layers but n_layers is {n_layers}; "
                             "allowed: groups whose counts (count, or repeat x pattern length) sum to n_layers",
                             also=("n_layers",))
        return tuple(layers)

    def _encoder_layers(self, root: Node, encoder: Node, d_model: int) -> tuple[Layer, ...]:
        """The encoder stack: the top-level attention / mlp / moe, overridden by encoder.layers like the decoder's."""
        encoder.check_keys(ENCODER_KEYS)
        data = {key: root.data[key] for key in ("attention", "mlp", "moe") if key in root.data}
        if "layers" in encoder.data:
            data["layers"] = encoder.data["layers"]
        node = Node(data, ("encoder",), root.origin, root.fallback)
        layers = self._layers(node, d_model, encoder.integer("n_layers"))
        return tuple(dataclasses.replace(layer, stack="encoder") for layer in layers)

    def _override(self, root: Node, node: Node, d_model: int) -> Layer:
        """A layer whose attention / mlp / moe are the top-level ones with this node's keys laid over."""
        merged: dict = {}
        for section in ("attention", "mixer", "mlp", "moe"):
            if section in node.data and node.data[section] is None:
                merged[section] = None  # e.g. `moe: null` for a dense layer in a MoE model
                continue
            if section in node.data and not isinstance(node.data[section], dict):
                raise node.error(section, f"must be a mapping or null, got {_kind(node.data[section])}")
            base = root.data.get(section) if isinstance(root.data.get(section), dict) else None
            if base is None and section in node.data:
                merged[section] = dict(node.data[section])
            elif base is not None:
                merged[section] = {**base, **node.data.get(section, {})}
        name = node.string("name", None)
        return self._layer(Node(merged, node.path, root.origin, root.fallback), d_model, name)

    def _training(self, node: Node) -> Training:
        node.check_keys(TRAINING_KEYS)
        return Training(tokens=node.number("tokens", None), context=node.integer("context", None))


def _nulled(node: Node, key: str) -> bool:
    """The node sets `key: null` (a layer without that part), not merely leaves it out."""
    return key in node.data and node.data[key] is None
