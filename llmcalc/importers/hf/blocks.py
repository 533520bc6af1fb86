"""Building blocks the family mappings share: heads and head sizes, attention and MoE entries, per-layer
windows from layer_types, and the stacking of per-layer entries into a spec's top level and `layers:` groups."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...spec import MAX_LAYERS
from .config import Config, got

# HF activation names -> the spec's activation, for plain (two-matrix) and gated (three-matrix) MLPs.
PLAIN_ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh",
                     "gelu_fast": "gelu_tanh", "relu": "relu", "silu": "silu", "swish": "silu", "relu2": "relu2"}
GATED_ACTIVATIONS = {"silu": "swiglu", "swish": "swiglu", "gelu": "geglu", "gelu_new": "geglu",
                     "gelu_pytorch_tanh": "geglu", "gelu_fast": "geglu", "relu": "reglu"}
# transformers defaults shared by the Llama-like configuration classes (llama, mistral, mixtral, qwen*, phi3).
LLAMA_LIKE = {"tie_word_embeddings": False, "hidden_act": "silu", "head_dim": None}
MAX_PATTERN = 64  # the longest layer cycle written as one repeat group
# configuration_utils.remap_legacy_layer_types (_LEGACY_LAYER_TYPE_REMAP)
_LEGACY_LAYER_TYPES = {"attention": "full_attention", "mamba": "linear_attention"}


def read_heads(c: Config, d_model: int, heads_key: str = "num_attention_heads",
               kv_key: str | None = "num_key_value_heads",
               head_dim_key: str | None = "head_dim") -> tuple[int, int, int]:
    """(heads, kv heads, head size), kv heads defaulting to the heads and head size to d_model // heads."""
    n_heads = c.integer(heads_key)
    n_kv = c.integer(kv_key, derived=n_heads) if kv_key else n_heads
    if n_heads % n_kv:
        raise c.error(kv_key, f"{n_kv} does not divide {heads_key}={n_heads}; allowed: a divisor of {n_heads}")
    d_head = c.integer(head_dim_key, derived=d_model // n_heads) if head_dim_key else d_model // n_heads
    if d_head < 1:
        raise c.error(heads_key, f"{n_heads} heads leave hidden_size={d_model} no head size; set head_dim")
    return n_heads, n_kv, d_head


def attention_entry(n_heads: int, n_kv: int, d_head: int, bias: bool | dict = False, **extra: Any) -> dict:
    att = {"n_heads": n_heads, "n_kv_heads": n_kv, "d_head": d_head}
    if bias:
        att["bias"] = bias
    att.update({k: v for k, v in extra.items() if v is not None and v is not False})
    return att


def read_layer_types(c: Config, n_layers: int, default: list[str], allowed: tuple[str, ...],
                     key: str = "layer_types") -> list[str]:
    """The config's layer_types (legacy names remapped), or the model_type's default pattern; another list of one
    name per layer under `key` (DeepSeek-V3.2's mlp_layer_types)."""
    value = c.raw(key)
    if value is None:
        return default
    if not isinstance(value, list) or len(value) != n_layers or not all(isinstance(v, str) for v in value):
        raise c.error(key, f"must be a list of {n_layers} layer type names (one per layer), got {got(value)}")
    types = [_LEGACY_LAYER_TYPES.get(v, v) for v in value]
    for index, kind in enumerate(types):
        if kind not in allowed:
            raise c.error(key, f"item {index} {kind!r} is not supported for {c.model_type}; "
                               f"allowed: {', '.join(allowed)}")
    return types


def windows_of(c: Config, types: list[str], window: int | None, window_key: str = "sliding_window",
               kind: str = "sliding_attention") -> list[int | None]:
    """The window of each layer: `window` on layers of `kind`, none elsewhere."""
    if kind in types and window is None:
        off = " or use_sliding_window is false" if "use_sliding_window" in c.type.defaults else ""
        raise c.error(window_key, f"layer_types has {kind} layers but no window is in force ({window_key} is "
                                  f"null{off}); allowed: a window >= 1, or only full_attention layers")
    return [window if t == kind else None for t in types]


def moe_entry(n_experts: int, top_k: int, d_ff: int, c: Config, top_k_key: str, **extra: Any) -> dict:
    if top_k > n_experts:
        raise c.error(top_k_key, f"{top_k} is more than the {n_experts} experts; allowed: 1 to {n_experts}")
    moe = {"n_experts": n_experts, "top_k": top_k, "d_ff": d_ff}
    moe.update({k: v for k, v in extra.items() if v})
    return moe


def stack(spec: dict, attentions: list[dict], moes: list[dict | None]) -> None:
    """Put the commonest layer at the top level and the others in `layers:` groups (count or repeat/pattern)."""
    layers = [(_freeze(a), _freeze(m)) for a, m in zip(attentions, moes)]
    counts = Counter(layers)
    base = max(layers, key=lambda layer: (counts[layer], -layers.index(layer)))
    base_att, base_moe = attentions[layers.index(base)], moes[layers.index(base)]
    spec["attention"] = base_att
    if base_moe is not None:
        spec["moe"] = base_moe
    if len(counts) == 1:
        return
    overrides = [_override(a, m, base_att, base_moe) for a, m in zip(attentions, moes)]
    spec["layers"] = _groups(overrides)


def hybrid_stack(spec: dict, layers: list[dict], top: dict | None = None) -> None:
    """Layers that differ in their token mixer and channel mixer: each a mapping of `attention` or `mixer` (a
    recurrent one), `moe` (None for a dense layer) and, where layers differ in it, `mlp`. The commonest layer goes to
    the top level (the first of them on a tie, as in `stack`), the others into `layers:` groups that null what they do
    not have. A layer that sets `attention` or `mlp` to None has none, said as `null` in its group (Nemotron-H's blocks
    of attention alone or an MLP alone), where leaving a key out leaves it to the top level; the top level holds a
    whole layer (the commonest that needs no such null, else `top`, which every group then overrides)."""
    frozen = [_freeze(layer) for layer in layers]
    counts = Counter(frozen)
    whole = [i for i, layer in enumerate(layers) if not (_nulls(layer, "attention") or _nulls(layer, "mlp"))]
    if whole:
        base = layers[max(whole, key=lambda i: (counts[frozen[i]], -i))]
    else:
        base = dict(top or {})
    spec.update({key: value for key, value in base.items() if value is not None})
    if len(counts) == 1 and whole:
        return
    overrides = []
    for layer in layers:
        out: dict = {}
        for key in ("attention", "mixer", "mlp", "moe"):
            mine, theirs = layer.get(key), base.get(key)
            if mine != theirs:
                out[key] = mine if mine is None or theirs is None else _diff(mine, theirs)
        out.update({key: None for key in ("attention", "mlp") if _nulls(layer, key) and not _nulls(base, key)})
        overrides.append(out)
    spec["layers"] = _groups(overrides)


def _nulls(layer: dict, key: str) -> bool:
    """The layer has no `key` and says so; attention is said to be missing only where no mixer stands in for it."""
    return key in layer and layer[key] is None and not (key == "attention" and layer.get("mixer"))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _diff(layer: dict, base: dict) -> dict:
    out = {k: v for k, v in layer.items() if base.get(k) != v}
    out.update({k: None for k in base if k not in layer})  # null takes the key's default
    return out


def _override(att: dict, moe: dict | None, base_att: dict, base_moe: dict | None) -> dict:
    out: dict = {}
    if _diff(att, base_att):
        out["attention"] = _diff(att, base_att)
    if moe is None and base_moe is not None:
        out["moe"] = None
    elif moe is not None and base_moe is None:
        out["moe"] = moe
    elif moe is not None and _diff(moe, base_moe):
        out["moe"] = _diff(moe, base_moe)
    return out


def _groups(overrides: list[dict]) -> list[dict]:
    """Run-length and cycle encoding: at each position the (pattern, repeats) covering the most layers."""
    groups, i, n = [], 0, len(overrides)
    while i < n:
        best_period, best_repeat = 1, 1
        # patterns of real stacks are short (Gemma 3's 6, Llama 4's 4): a longer cycle is written as count groups,
        # which keeps this linear in the layers instead of quadratic
        for period in range(1, min((n - i) // 2, MAX_PATTERN) + 1):
            repeat = 1
            while overrides[i + repeat * period:i + (repeat + 1) * period] == overrides[i:i + period]:
                repeat += 1
            if repeat > 1 and period * repeat > best_period * best_repeat:
                best_period, best_repeat = period, repeat
            if best_period * best_repeat == n - i:  # the rest is covered: no longer period can do better
                break
        if best_period == 1:
            groups.append({"count": best_repeat, **overrides[i]})
        else:
            groups.append({"repeat": best_repeat, "pattern": [dict(o) for o in overrides[i:i + best_period]]})
        i += best_period * best_repeat
    return groups


def base_spec(c: Config, vocab: str, d_model: int, n_layers: int, context: str, position: str = "rope",
              tied: bool | None = None) -> dict:
    if n_layers > MAX_LAYERS:  # refused before the per-layer lists are built
        raise c.error("num_hidden_layers", f"{n_layers:,} layers; llmcalc takes at most {MAX_LAYERS:,}")
    return {
        "family": c.model_type,
        "vocab_size": c.integer(vocab),
        "d_model": d_model,
        "n_layers": n_layers,
        "context_length": c.integer(context),
        "position": position,
        "tied_embeddings": c.boolean("tie_word_embeddings") if tied is None else tied,
    }


def rmsnorm_gated_spec(c: Config, d_ff: int, activation: str | None = None) -> dict:
    """base_spec of hidden_size, num_hidden_layers and max_position_embeddings with RMSNorms and a gated MLP of d_ff
    (its activation from hidden_act unless given): the top level the hybrid recurrent families share."""
    spec = base_spec(c, "vocab_size", c.integer("hidden_size"), c.integer("num_hidden_layers"),
                     "max_position_embeddings")
    spec["norm"] = {"kind": "rmsnorm"}
    spec["mlp"] = {"activation": activation or c.choice("hidden_act", GATED_ACTIVATIONS), "d_ff": d_ff}
    return spec


def dense_stack(spec: dict, att: dict, n_layers: int) -> None:
    stack(spec, [att] * n_layers, [None] * n_layers)


def bias_entry(q: bool, k: bool, v: bool, o: bool) -> bool | dict:
    """The spec's attention `bias`: true (all four projections), false (none), or the ones that have one."""
    if q == k == v == o:
        return q
    return {name: True for name, on in zip("qkvo", (q, k, v, o)) if on}


def require_width(c: Config, n_heads: int, d_head: int, d_model: int, why: str) -> None:
    """Refuse a head_dim whose heads do not span hidden_size where the modeling file assumes they do."""
    if n_heads * d_head != d_model:
        raise c.error("head_dim", f"{n_heads} heads of {d_head} make {n_heads * d_head}, not hidden_size={d_model}, "
                                  f"which {why}; allowed: num_attention_heads x head_dim = hidden_size")


def head_width(c: Config, d_model: int, heads_key: str) -> int:
    """hidden_size // heads, refused where the heads do not divide it (GPT-NeoX's, GPT-J's and Falcon's attention
    refuse it too, transformers 5.23.0)."""
    n_heads = c.integer(heads_key)
    if d_model % n_heads:
        raise c.error(heads_key, f"{n_heads} does not divide the hidden size {d_model} (transformers refuses it); "
                                 f"allowed: a divisor of {d_model}")
    return d_model // n_heads


def partial_rotary(c: Config, spec: dict, d_head: int, key: str, fixed: float | None = None) -> None:
    """Partial RoPE: the int(d_head x fraction) leading dims of each head rotated (modeling_rope_utils.py: `dim =
    int(head_dim * partial_rotary_factor)`, transformers 5.23.0), the fraction from rope_scaling or rope_parameters
    where one sets partial_rotary_factor, else from `key` (or `fixed`, where the config class hardcodes it, as
    BambaConfig does); no dims rotated is no position signal at all."""
    fraction, where = None, key
    for name in ("rope_scaling", "rope_parameters"):
        rope = c.data.get(name)
        if isinstance(rope, dict) and rope.get("partial_rotary_factor") is not None:
            fraction, where = rope["partial_rotary_factor"], f"{name}.partial_rotary_factor"
            break
    if fraction is None:
        fraction = c.raw(key) if fixed is None else fixed
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
        raise c.error(where, f"must be a fraction from 0 to 1 (of each head's dims rotated), got {got(fraction)}")
    rotated = int(d_head * fraction)
    if rotated == 0:
        spec["position"] = "none"
    elif rotated < d_head:
        spec["rotary_dim"] = rotated


def parallel_layers(spec: dict, norm: dict, shared: bool) -> None:
    """Attention and MLP both read the layer input (x + attn(norm(x)) + mlp(norm(x))), through one norm or two."""
    spec["residual"] = "parallel"
    spec["norm"] = {**norm, "shared": True} if shared else dict(norm)
