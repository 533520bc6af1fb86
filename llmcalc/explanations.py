"""`explain(models)`: what differs between models' architectures, aspect by aspect, in words (written once per aspect
and kind, with the paper that introduced it), and what each difference costs in these models (parameters, KV cache
bytes per token, FLOPs), computed by the formulas. With one model: its design, aspect by aspect.

An aspect differs in kind (architecture: RoPE against learned positions) or only in size (scale: 12 layers against
48); a family across scale (`explain gpt1 gpt2-xl gpt3-175b`) is told apart that way.

May import: llmcalc.errors, llmcalc.units, llmcalc.records, llmcalc.model, llmcalc.api, llmcalc.formulas.
"""

from __future__ import annotations

from dataclasses import field
from typing import Callable

from .api import model_of
from .units import decimal_bytes, human
from .errors import LlmcalcError
from .model import MIXER_NAMES, ModelSpec
from .records import record

KINDS = {  # (aspect, kind) -> (what it is, its source)
    ("position", "learned"): ("a trained vector per position, added to the token embedding; it ends at the context "
                              "it was trained for", "Radford et al. 2018 (GPT)"),
    ("position", "sinusoidal"): ("fixed sines and cosines of the position added to the embedding",
                                 "Vaswani et al. 2017, arXiv:1706.03762"),
    ("position", "rope"): ("queries and keys rotated by an angle proportional to the position, so scores depend on "
                           "the distance between tokens; no parameters", "Su et al. 2021 (RoFormer), arXiv:2104.09864"),
    ("position", "alibi"): ("a fixed penalty on attention scores, linear in the distance; no parameters",
                            "Press et al. 2021 (ALiBi), arXiv:2108.12409"),
    ("position", "relative"): ("a learned bias on the scores per distance bucket and head",
                               "Raffel et al. 2020 (T5), arXiv:1910.10683"),
    ("position", "none"): ("no position signal besides the causal mask", "Kazemnejad et al. 2023, arXiv:2305.19466"),
    ("norm", "layernorm"): ("subtracts the mean and divides by the standard deviation, then scales (and shifts) each "
                            "channel", "Ba et al. 2016, arXiv:1607.06450"),
    ("norm", "rmsnorm"): ("divides by the root mean square only and scales; no mean, no bias: cheaper, as good in "
                          "practice", "Zhang and Sennrich 2019, arXiv:1910.07467"),
    ("placement", "pre"): ("each sub-layer's input is normalised and the residual stream is not: deep stacks train "
                           "stably", "Xiong et al. 2020, arXiv:2002.04745 (GPT-2 moved to it)"),
    ("placement", "post"): ("normalised after the residual add, as the original Transformer",
                            "Vaswani et al. 2017, arXiv:1706.03762"),
    ("placement", "sandwich"): ("each sub-layer's input and its output are normalised (four norms per layer)",
                                "Ding et al. 2021 (CogView), arXiv:2105.13290; Gemma 2"),
    ("placement", "parallel"): ("attention and MLP read the same (pre-normalised) input and both outputs are added to "
                                "the residual stream at once: the same matmuls, but the two can run side by side, and "
                                "one norm may serve both", "Wang and Komatsuzaki 2021 (GPT-J); Chowdhery et al. 2022 "
                                "(PaLM), arXiv:2204.02311"),
    ("attention", "MHA"): ("every query head has its own key and value head", "Vaswani et al. 2017, arXiv:1706.03762"),
    ("attention", "GQA"): ("groups of query heads share a key/value head: the KV cache shrinks by heads / KV heads at "
                           "nearly MHA quality", "Ainslie et al. 2023, arXiv:2305.13245"),
    ("attention", "MQA"): ("all query heads share one key/value head", "Shazeer 2019, arXiv:1911.02150"),
    ("attention", "MLA"): ("keys and values are compressed into one latent vector per token, which is what is "
                           "cached, and decompressed per head", "DeepSeek-AI 2024 (DeepSeek-V2), arXiv:2405.04434"),
    ("attention", "Mamba"): ("in place of attention: a selective state-space scan mixes the tokens, keeping a constant "
                             "state per sequence (no KV cache that grows with the context)",
                             "Gu and Dao 2023, arXiv:2312.00752"),
    ("attention", "Mamba-2"): ("in place of attention, or beside it on the same input (Falcon-H1): Mamba-2's "
                               "state-space scan, with heads and a scalar decay per head, computed in chunks; a "
                               "constant state per sequence", "Dao and Gu 2024, arXiv:2405.21060"),
    ("attention", "short conv"): ("no attention in these layers: a gated depthwise convolution over the last few tokens "
                                  "mixes them (LFM2's short conv); a constant state of a few inputs per channel",
                                  "Liquid AI 2025 (LFM2: transformers lfm2/modeling_lfm2.py); Poli et al. 2023 (Hyena), "
                                  "arXiv:2302.10866"),
    ("attention", "Gated DeltaNet"): ("no attention in these layers: linear attention whose state is updated by the "
                                      "gated delta rule, computed in chunks; a constant state per sequence",
                                      "Yang et al. 2024 (Gated DeltaNet), arXiv:2412.06464"),
    ("attention", "lightning attention"): ("no softmax in these layers: linear attention with a fixed decay per head, "
                                           "computed in blocks; a constant state per sequence",
                                           "Qin et al. 2024 (Lightning Attention-2), arXiv:2401.04658; MiniMax 2025, "
                                           "arXiv:2501.08313"),
    ("mlp", "none"): ("no MLP: the layer is a norm, the mixer and the residual", "Gu and Dao 2023, arXiv:2312.00752"),
    ("mlp", "gated"): ("a gated linear unit: the activation of one projection multiplies another, and a third "
                       "projects back (three matrices, usually d_ff about 8/3 d to keep the size)",
                       "Shazeer 2020, arXiv:2002.05202"),
    ("mlp", "plain"): ("two matrices with an activation between them (d_ff usually 4 d)",
                       "Vaswani et al. 2017; GELU: Hendrycks and Gimpel 2016, arXiv:1606.08415"),
    ("experts", "dense"): ("every token goes through the one MLP", "Vaswani et al. 2017, arXiv:1706.03762"),
    ("experts", "moe"): ("a router sends each token to its top-k of n expert MLPs: parameters grow with n, the "
                         "compute per token with k", "Shazeer et al. 2017, arXiv:1701.06538; Fedus et al. 2021 "
                         "(Switch), arXiv:2101.03961"),
    ("biases", "yes"): ("linear layers add a learned bias vector", "Vaswani et al. 2017, arXiv:1706.03762"),
    ("biases", "none"): ("no biases in the linear layers: fewer parameters and steadier training",
                         "Chowdhery et al. 2022 (PaLM), arXiv:2204.02311"),
    ("tied", "yes"): ("the output layer reuses the input embedding matrix", "Press and Wolf 2017, arXiv:1608.05859"),
    ("tied", "no"): ("the output layer has its own V x d matrix", "Press and Wolf 2017, arXiv:1608.05859"),
    ("local", "none"): ("every layer attends to the whole context", "Vaswani et al. 2017, arXiv:1706.03762"),
    ("local", "window"): ("some layers attend only to the last W tokens (or their own chunk), and cache no more: the "
                          "KV cache stops growing there", "Beltagy et al. 2020, arXiv:2004.05150; Jiang et al. 2023 "
                          "(Mistral 7B), arXiv:2310.06825"),
    ("qk_norm", "none"): ("queries and keys enter the dot product as projected", "Vaswani et al. 2017"),
    ("qk_norm", "yes"): ("queries and keys are normalised before the dot product, which bounds the attention logits",
                         "Dehghani et al. 2023 (ViT-22B), arXiv:2302.05442"),
    ("vocabulary", "size"): ("a larger vocabulary needs fewer tokens for the same text but costs V x d per embedding "
                             "matrix and LM-head FLOPs per token", "Sennrich et al. 2016 (BPE), arXiv:1508.07909"),
    ("context", "size"): ("the longest sequence trained for; one sequence's KV cache grows linearly with it",
                          "Vaswani et al. 2017, arXiv:1706.03762"),
    ("vision", "tower"): ("a vision encoder (a ViT) turns each image into patch tokens, a projector maps them to the "
                          "language model's width, and they take their place in its sequence",
                          "Dosovitskiy et al. 2021 (ViT), arXiv:2010.11929; Liu et al. 2023 (LLaVA), arXiv:2304.08485"),
    ("vision", "cross-attention"): ("a vision encoder (a ViT) turns each image into patch tokens, a projector maps "
                                    "them to the language model's width, and interleaved gated cross-attention layers "
                                    "attend to them: they do not join the text sequence",
                                    "Alayrac et al. 2022 (Flamingo), arXiv:2204.14198; Llama Team 2024 (The Llama 3 "
                                    "Herd of Models, sec. 7), arXiv:2407.21783"),
    ("vision", "none"): ("text in, text out: no image encoder", "Vaswani et al. 2017, arXiv:1706.03762"),
    ("scale", "size"): ("width, depth and heads: parameters grow about as 12 x layers x d^2 (Kaplan et al. 2020 sec. "
                        "2.1)", "Kaplan et al. 2020, arXiv:2001.08361"),
}


@record
class Difference:
    """One aspect across the models: each model's value, the kind each is of, and what it costs each model."""

    aspect: str
    values: tuple[str, ...]
    kinds: tuple[str, ...]
    consequence: str                   # what is measured
    figures: tuple[float, ...]         # that quantity, per model
    unit: str = "parameters"
    label: str = ""
    words: tuple[tuple[str, str, str], ...] = ()  # (kind, what it is, source) of each kind, in order
    notes: tuple[str, ...] = ()        # per model: what its choice changes against the plain alternative ('' none)

    @property
    def effects(self) -> tuple[str, ...]:
        """Per model: which way its figure moves memory and speed against the first model's ('' when equal)."""
        first = self.figures[0]
        return tuple("" if v == first else effect(self.consequence, self.unit, v - first) for v in self.figures)

    @property
    def in_kind(self) -> bool:
        """An architectural difference (not only one of size)."""
        return len(set(self.kinds)) > 1

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@record
class Explanation:
    models: tuple[ModelSpec, ...]
    aspects: tuple[Difference, ...] = field(repr=False)

    @property
    def differences(self) -> tuple[Difference, ...]:
        return tuple(a for a in self.aspects if a.differs)


def _layers(model: ModelSpec):
    return [g.layer for g in model.groups]


def _rows(params, test: Callable[[str], bool]) -> int:
    """The language model's parameters whose component passes `test` (a vision tower's and projector's apart)."""
    return sum(r.total for r in params.rows if test(r.component) and r.group not in ("vision", "projector"))


def _vision(model: ModelSpec, params) -> tuple:
    """The vision aspect: the tower's size, how an image becomes tokens, and the tower's and projector's parameters."""
    from .formulas.vision import image_tokens

    tower = model.vision
    size = sum(r.total for r in params.rows if r.group in ("vision", "projector"))
    if tower is None:
        return "none", "none", "vision tower and projector parameters", 0, "parameters"
    tokens = ("no image (a pooling kernel of 0)" if tower.projector.pool == 0 else
              f"{image_tokens(tower):,} tokens per image" if tower.resize == "fixed" else
              f"up to {image_tokens(tower):,} tokens per image (its longest edge within {tower.image_size})"
              if tower.resize == "longest" else
              f"(h/{tower.patch_size} x w/{tower.patch_size})/{tower.projector.merge ** 2} tokens per image")
    layers = f"{tower.n_layers} + {tower.global_layers} global" if tower.global_layers else f"{tower.n_layers}"
    return (f"{layers} layers of width {tower.d_model:,}, {tokens}",
            "cross-attention" if model.cross_attends_images else "tower",
            "vision tower and projector parameters", size, "parameters")


def _indexer_words(att) -> str:
    """DeepSeek Sparse Attention's indexer, in words (DeepSeek-AI 2025, DeepSeek-V3.2-Exp; formulas/indexer.py)."""
    indexer = att.mla.indexer
    return (f", a DSA indexer ({indexer.n_heads} heads of {indexer.head_dim}) keeping each query's top "
            f"{indexer.topk:,} keys") if indexer else ""


def _notes(model: ModelSpec, params, kv_per_token: int) -> dict[str, str]:
    """What a model's choices change against the plain alternative, computed: GQA/MQA/MLA against MHA of its own
    heads, tied embeddings against an untied head, MoE's active parameters against its total."""
    out = {}
    att = next((g.layer.attention for g in model.groups if g.layer.attention), None)
    if model.is_recurrent:
        from .api import kv_cache

        state = kv_cache(model, 1).state_bytes_per_sequence
        out["attention"] = f"keeps a constant state of {state:,} B per sequence (bf16), whatever the context"
    elif att.mla:
        layers = sum(g.count for g in model.groups if g.layer.stack != "encoder")
        mha = att.n_heads * (att.qk_head_dim + att.v_head_dim) * 2 * layers  # bf16 K and V of every head
        out["attention"] = (f"caches {kv_per_token:,} B per token, {mha / kv_per_token:,.1f}x less than per-head K "
                            f"and V of its {att.n_heads} heads ({mha:,} B): less memory, faster decode")
    elif att.n_kv_heads < att.n_heads:
        factor = att.n_heads // att.n_kv_heads
        out["attention"] = (f"caches {factor}x less than MHA of its {att.n_heads} heads would ({kv_per_token * factor:,}"
                            f" B per token): less memory, faster decode")
    if model.tied_embeddings:
        out["tied"] = f"saves {model.vocab_size * model.embed_width:,} parameters (V x d) against an untied head"
    if params.active < params.total:
        out["experts"] = (f"{params.active:,} of {params.total:,} parameters active per token "
                          f"({params.active / params.total:.1%}): compute of a smaller model, memory of the whole")
    return out


def _aspects(model: ModelSpec, params, kv_per_token: int, kv_context: int, per_token: float) -> dict:
    """aspect -> (value shown, kind, consequence label, figure, unit) for one model."""
    layers = _layers(model)
    att = [layer.attention for layer in layers if layer.attention]
    mixers = [layer.mixer for layer in layers if layer.mixer]
    heads = "; ".join(dict.fromkeys([
        f"{a.n_heads} heads, latent {a.mla.kv_lora_rank} (MLA)" + _indexer_words(a) if a.mla else
        f"{a.n_heads} heads, {a.n_kv_heads} KV heads of {a.d_head} ({a.kind})" + _sharing(a) for a in att] + [
        _mixer_words(m) for m in mixers]))
    kinds = sorted({a.kind for a in att} | {MIXER_NAMES[m.kind] for m in mixers})
    mlps = [layer.mlp for layer in layers if layer.mlp]
    gated = any(m.gated for m in mlps)
    moe = [layer.moe for layer in layers if layer.moe]
    local = sorted({a.local_span for a in att if a.local_span})
    biases = any(a.bias_q or a.bias_k or a.bias_v or a.bias_o for a in att) or any(m.bias for m in mlps)
    qk = sorted({a.qk_norm for a in att if a.qk_norm})
    norms = _rows(params, lambda c: c.startswith("norm."))
    mlp_value = "; ".join(dict.fromkeys(f"{m.activation}, {m.n_matrices} matrices, d_ff {m.d_ff:,}" for m in mlps)) \
        or "none"
    placement = model.norm.placement
    if model.residual == "parallel":
        placement = f"{placement}, parallel attention and MLP" + (" (one shared norm)" if model.norm.shared else "")
    rotary = f" on {model.rotary_dim} dims of each head" if model.rotary_dim else ""
    return {
        "position": (model.position + rotary, model.position, "position parameters",
                     _rows(params, lambda c: c in ("embed.position", "embed.relative")), "parameters"),
        "norm": (f"{model.norm.kind}{' with bias' if model.norm.bias else ''}", model.norm.kind, "norm parameters",
                 norms, "parameters"),
        "placement": (placement, "parallel" if model.residual == "parallel" else model.norm.placement,
                      "norm parameters", norms, "parameters"),
        "attention": (heads, "/".join(kinds), "KV cache per token (bf16)", kv_per_token, "bytes"),
        "mlp": (mlp_value, (("gated" if gated else "plain") + ":" + "+".join(dict.fromkeys(m.activation for m in mlps)))
                if mlps else "none",
                "MLP and expert parameters",
                _rows(params, lambda c: c.startswith(("mlp.", "moe."))), "parameters"),
        "experts": ("; ".join(dict.fromkeys(f"{m.n_experts} experts, top-{m.top_k}" +
                                            (f" + {m.n_shared_experts} shared" if m.n_shared_experts else "")
                                            for m in moe)) if moe else "dense", "moe" if moe else "dense",
                    "active parameters per token", params.active, "parameters"),
        "biases": ("yes" if biases else "none", "yes" if biases else "none", "bias parameters",
                   _rows(params, lambda c: c.endswith(".bias")), "parameters"),
        "tied": ("yes" if model.tied_embeddings else "no", "yes" if model.tied_embeddings else "no",
                 "LM head parameters", _rows(params, lambda c: c == "lm_head"), "parameters"),
        "local": (", ".join(f"{s:,} tokens" for s in local) if local else "none", "window" if local else "none",
                  "KV cache at its context (bf16)", kv_context, "bytes"),
        "qk_norm": (", ".join(qk) if qk else "none", "yes" if qk else "none", "q/k norm parameters",
                    _rows(params, lambda c: c in ("attn.qk_norm", "xattn.qk_norm")), "parameters"),
        "vocabulary": (f"{model.vocab_size:,}" + (f", embedded {model.embed_width:,} wide and projected to the model's "
                                                  f"width and back" if model.projected else "")
                       + (f", a per-layer input embedding of {model.per_layer_vocab:,} rows" if model.per_layer_vocab
                          else ""), "size", "embedding parameters",
                       _rows(params, lambda c: c in ("embed.token", "lm_head", "embed.project_in",
                                                     "lm_head.project_out", "embed.per_layer")), "parameters"),
        "context": (f"{model.context_length:,}", "size", "KV cache at its context (bf16)",
                    kv_context, "bytes"),
        "scale": (f"{model.n_layers} layers of width {model.d_model:,}", "size", "forward FLOPs per token",
                  per_token, "FLOPs"),
        "vision": _vision(model, params),
    }


def _sharing(a) -> str:
    """Gemma 4's attention that projects fewer of K and V: K reused as V, or an earlier layer's K and V reused."""
    return ", K and V of an earlier layer (no cache)" if a.kv_shared else ", K reused as V" if a.k_eq_v else ""


def _mixer_words(m) -> str:
    """A recurrent mixer's kind and sizes, as the attention aspect shows it."""
    if m.kind == "short_conv":
        return f"short conv, {m.d_conv} taps"
    if m.kind == "lightning":
        return f"lightning attention, {m.n_heads} heads of {m.head_dim}"
    if m.kind == "gated_deltanet":
        return f"Gated DeltaNet, {m.n_value_heads} heads, state {m.key_head_dim} x {m.value_head_dim}"
    return f"{MIXER_NAMES[m.kind]}, d_inner {m.d_inner:,}, state {m.d_state}"


ASPECT_LABELS = {"position": "positions", "norm": "normalisation", "placement": "norm placement",
                 "attention": "attention and KV heads", "mlp": "MLP", "experts": "experts and routing",
                 "biases": "biases", "tied": "tied embeddings", "local": "sliding windows and chunks",
                 "qk_norm": "qk-norm", "vocabulary": "vocabulary", "context": "context length",
                 "scale": "depth and width", "vision": "images"}


def explain(models) -> Explanation:
    """The architecture of each model aspect by aspect, with what each aspect costs it (see the module docstring)."""
    from .api import count_flops, count_params, kv_cache

    specs = tuple(model_of(m) for m in models)
    if not specs:
        raise LlmcalcError("explain needs at least one model")
    per_model, notes = [], []
    for spec in specs:
        params = count_params(spec)
        per_token = kv_cache(spec, 1).bytes_per_token
        notes.append(_notes(spec, params, per_token))
        per_model.append(_aspects(spec, params, per_token, kv_cache(spec).bytes,
                                  count_flops(spec, spec.training.context or spec.context_length).per_token))
    aspects = []
    for name in ASPECT_LABELS if any(spec.vision for spec in specs) else tuple(ASPECT_LABELS)[:-1]:
        entries = [m[name] for m in per_model]
        kinds = tuple(e[1] for e in entries)
        words = tuple((k,) + kind_text(name, k) for k in dict.fromkeys(kinds) if kind_text(name, k)[0])
        aspects.append(Difference(name, tuple(e[0] for e in entries), kinds, entries[0][2],
                                  tuple(e[3] for e in entries), entries[0][4], ASPECT_LABELS[name], words,
                                  tuple(n.get(name, "") for n in notes)))
    return Explanation(specs, tuple(aspects))


def effect(quantity: str, unit: str, delta: float) -> str:
    """Which way a figure of `quantity` larger (delta > 0) or smaller than the first model's moves memory and speed:
    weights are held and, decode being memory-bound, read once per generated token (2 bytes each in bf16); the KV
    cache is held per token and read at every decode step; FLOPs set the time of prefill and training (kipply 2022,
    "Transformer Inference Arithmetic"; Pope et al. 2022, arXiv:2211.05102)."""
    word, pace, sign = ("more", "slower", "+") if delta > 0 else ("less", "faster", "-")
    size = abs(delta)
    if unit == "bytes":
        return f"{sign}{decimal_bytes(size)} in {quantity}: {word} memory per sequence, {pace} decode at long context"
    if unit == "FLOPs":
        return f"{sign}{human(size)} FLOPs per token: {pace} prefill and training on the same hardware"
    if quantity == "active parameters per token":
        return (f"{sign}{human(size)} active parameters: {word} compute per token ({pace} prefill and training) and "
                "weights read per decode step")
    return (f"{sign}{human(size)} parameters: {sign}{decimal_bytes(2 * size)} of bf16 weights, read every decode step "
            f"({pace} decode, memory-bound)")


def kind_text(aspect: str, kind: str) -> tuple[str, str]:
    """(what this kind of the aspect is, its source); a mixed kind ('GQA/MHA') takes its parts' words; a kind's
    detail after ':' (the MLP's activation) changes the kind, not its words."""
    parts = [KINDS.get((aspect, k.split(":")[0])) for k in kind.split("/")]
    if any(p is None for p in parts):
        return "", ""
    return "; ".join(p[0] for p in parts), "; ".join(dict.fromkeys(p[1] for p in parts))
