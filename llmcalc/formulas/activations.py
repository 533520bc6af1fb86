"""Training activations: the tensors each layer saves for backward, named, per layer group, from the layer stack.

The bookkeeping is Korthikanti et al. 2022 (sec. 4.1, Table 2), as Megatron-LM applies it in
megatron/training/theoretical_memory_usage.py, generalised from the GPT layer to the layer a spec describes: the
query, key and value widths of GQA and MLA (its latents kept replicated, its decompressed heads split by tensor
parallelism), gated MLPs (gate, up and their product), MoE (the router's probabilities and top_k copies of every
token through an expert of moe.d_ff), shared experts, and any number of norms. Activations are 16-bit; a 1-byte
dropout mask follows each dropout when `dropout` is on (GPT-2/3 and Korthikanti train with dropout; Llama and most
models since do not).

Attention: `eager` keeps the S x S softmax output of every head (Korthikanti's 2as^2b, 5as^2b with dropout);
`flash` and `sdpa` (PyTorch's fused kernels) keep only the output and its fp32 log-sum-exp per head and token
(Dao et al. 2022). Recomputation: `selective` recomputes the core attention (Korthikanti sec. 5: no scores, no
statistics kept); `full` keeps each layer's input and, while one layer is recomputed, that layer's whole set.

Tensor parallelism splits what is per head or per MLP column; the residual-stream tensors (norm inputs, dropout
masks) are split too only under sequence parallelism (Korthikanti Table 2). Pipeline parallelism under 1F1B: stage
i holds pp - i micro-batches in flight (assuming at least pp micro-batches per step, as Megatron's formula does),
the first stage also holds the token ids and the embedding's dropout mask, the last stage the final norm, the
output layer's input and the cross-entropy's fp32 softmax over the vocabulary (split by TP, as Megatron's
vocab-parallel cross-entropy does). The figure reported is the stage that holds the most.

DeepSeek-V3.2's lightning indexer (DSA, formulas/indexer.py) adds no saved tensors here: transformers runs it under
no_grad, and DeepSeek's training of it (a KL loss on a detached input: DeepSeek_V3_2.pdf, DeepSeek-V3.2-Exp) is not
modelled.

May import the model, records (a memo) and the parameter formulas only.
"""

from __future__ import annotations

from ..model import Layer, ModelSpec
from ..records import memo_by_identity
from . import hf_activations
from .params import layer_norm_names
from .recurrent import saved_rows as mixer_saved_rows
from .saved import ACT, IDS, MASK, STATS, Activations, ActivationRow, Phases, StagePeak

ATTENTION_IMPLS = ("flash", "sdpa", "eager")
RECOMPUTE = ("none", "selective", "full")
LOSSES = ("full", "chunked", "fused")
LOSS_COMPONENTS = ("lm_head.cross_entropy", "lm_head.softcap")  # freed once the output layer's backward starts
LOSS_CHUNKS = 8  # torchtune's CEWithChunkedOutputLoss (num_output_chunks) and the model's chunked output layer
FRAMEWORKS = ("megatron", "transformers")


def layer_rows(layer: Layer, group: str, norms: list[str], d_model: int, seq: int, tp: int, sp: bool,
               attention_impl: str, recompute: str, dropout: bool, parallel: bool = False) -> list[ActivationRow]:
    """What one layer saves per token on one GPU (Korthikanti sec. 4.1, generalised; see the module docstring).

    `parallel`: attention and MLP read the same layer input (GPT-J; gpt_neox/modeling_gpt_neox.py with
    use_parallel_residual, transformers 5.23.0), so their norms' input is one tensor, saved once; with one shared norm
    the MLP's input is the attention's input too (Korthikanti's accounting counts each tensor once)."""
    att, mlp, moe = layer.attention, layer.mlp, layer.moe
    stream = (1 / tp) if sp else 1.0  # residual-stream tensors: split only by sequence parallelism
    rows: list[ActivationRow] = []

    def add(component: str, value: float, note: str = "") -> None:
        if value:
            rows.append(ActivationRow(component, group, value, note))

    shared_input = parallel and len(norms) == 1  # one norm feeds attention and MLP
    for name in norms[:1] if parallel else norms:
        add(name, ACT * d_model * stream, "norm input (the layer input, read by both norms)"
            if parallel and not shared_input else "norm input")
    if layer.mixer is not None:  # a recurrent mixer, as the fused kernels save it, split by heads under TP
        for component, value, note in mixer_saved_rows(layer.mixer, d_model, seq):
            add(component, value * (stream if component.endswith(".input") else 1 / tp), note)
    if att is not None:
        attention_rows(att, add, d_model, seq, tp, stream, attention_impl, recompute, dropout)
    if mlp is None:
        return rows
    if not shared_input:
        add("mlp.input", ACT * d_model * stream, "input of the MLP or router (the norm output)")
    if moe is None:
        add("mlp.inner", ACT * (3 if mlp.gated else 2) * mlp.d_ff / tp,
            "gate, up and their product" if mlp.gated else "up output and activation output")
    else:
        add("moe.router", STATS * moe.n_experts, "fp32 routing probabilities")
        add("moe.tokens", ACT * moe.top_k * d_model, f"{moe.top_k} permuted copies of every token")
        add("moe.experts", ACT * moe.top_k * (3 if mlp.gated else 2) * moe.d_ff / tp,
            f"inner tensors of the {moe.top_k} experts each token visits")
        if moe.n_shared_experts:
            add("moe.shared", ACT * (3 if mlp.gated else 2) * moe.n_shared_experts * moe.d_ff_shared / tp,
                "inner tensors of the shared experts")
    if dropout:
        add("mlp.dropout_mask", MASK * d_model * stream)
    return rows


def attention_rows(att, add, d_model: int, seq: int, tp: int, stream: float, attention_impl: str, recompute: str,
                   dropout: bool) -> None:
    """The attention block's saved tensors (Korthikanti sec. 4.1, generalised), through `add`."""
    heads = att.n_heads / tp
    if att.mla:
        mla = att.mla
        add("attn.input", ACT * d_model * stream, "input of q_a / kv_a (the norm output)")
        if mla.q_lora_rank:
            add("attn.q_latent", 2 * ACT * mla.q_lora_rank, "q_a output and q_norm output (replicated)")
        add("attn.kv_latent", ACT * (mla.kv_lora_rank + mla.qk_rope_head_dim) + ACT * mla.kv_lora_rank,
            "kv_a output (latent + rope key) and kv_norm output (replicated)")
        add("attn.q", ACT * heads * att.qk_head_dim)
        add("attn.k", ACT * heads * att.qk_head_dim, "decompressed per head")
        add("attn.v", ACT * heads * att.v_head_dim, "decompressed per head")
    else:
        kv_heads = max(att.n_kv_heads / tp, 1)  # past n_kv_heads ranks, K/V heads are replicated
        add("attn.input", ACT * d_model * stream, "input of the q/k/v projections (the norm output)")
        add("attn.q", ACT * heads * att.qk_head_dim)
        add("attn.k", ACT * kv_heads * att.qk_head_dim)
        add("attn.v", ACT * kv_heads * att.v_head_dim)
    add("attn.output", ACT * heads * att.v_head_dim, "input of the o projection (also what flash attention keeps)")
    if att.output_gate:  # Qwen3-Next: o's input is attention output x sigmoid(gate), so both factors are kept too
        add("attn.gate", 2 * ACT * heads * att.v_head_dim, "sigmoid(gate) and the attention output before it")
    if recompute == "none":
        if attention_impl == "eager":
            # every key of the sequence: an eager softmax masks a window, it does not cut it
            add("attn.scores", (ACT + (MASK + ACT if dropout else 0)) * heads * seq, "softmax output"
                + (", its dropout mask and output" if dropout else "") + " over every key")
        else:
            add("attn.softmax_stats", STATS * heads, "fp32 log-sum-exp per head")
    if dropout:
        add("attn.dropout_mask", MASK * d_model * stream)


def loss_rows(model: ModelSpec, loss: str, tp: int, stream: float) -> list[ActivationRow]:
    """The cross-entropy's tensors on the last stage. `full`: the fp32 softmax over the vocabulary (Megatron-LM's
    vocab-parallel cross-entropy, split by TP; an fp32 log-softmax in PyTorch). `chunked`: torchtune's compiled
    CEWithChunkedOutputLoss (torchtune/modules/loss/ce_chunked_output_loss.py): the output layer writes bf16 logits
    in LOSS_CHUNKS chunks, which the loss keeps; compiled, its kernels upcast each chunk to fp32 in registers (no
    fp32 copy is written) and the backward's chunk gradient is not counted (within 2% of torchtune's measured peaks,
    tests/test_optimizers.py). `fused`: a fused linear cross-entropy (Liger, Megatron's loss fusion) keeps no
    logits, only the input's gradient."""
    vocab = model.vocab_size / tp
    if loss == "fused":
        return [ActivationRow("lm_head.cross_entropy", None, ACT * model.d_model * stream,
                              "fused linear cross-entropy: the input's gradient, no logits kept (last stage)")]
    if loss == "chunked":
        return [ActivationRow("lm_head.cross_entropy", None, ACT * vocab,
                              f"bf16 logits in {LOSS_CHUNKS} chunks, kept by the chunked cross-entropy (last stage)")]
    return [ActivationRow("lm_head.cross_entropy", None, STATS * vocab, "fp32 softmax over the vocabulary (last stage)")]


def stage_layers(n_layers: int, pp: int) -> list[range]:
    """The layers of each pipeline stage: contiguous, the first stages taking one more where pp does not divide."""
    size, extra = divmod(n_layers, pp)
    out, start = [], 0
    for stage in range(pp):
        end = start + size + (1 if stage < extra else 0)
        out.append(range(start, end))
        start = end
    return out


@memo_by_identity
def stage_groups(model: ModelSpec, pp: int) -> list[dict[str, int]]:
    """Per stage, the layers of each layer group it holds (remembered: a plan search asks again and again)."""
    group_of = layer_groups(model)
    stages = []
    for layers in stage_layers(model.n_layers, pp):
        counts: dict[str, int] = {}
        for index in layers:
            counts[group_of[index]] = counts.get(group_of[index], 0) + 1
        stages.append(counts)
    return stages


@memo_by_identity
def layer_groups(model: ModelSpec) -> tuple[str, ...]:
    """The group of each layer, by index."""
    group_of = {index: g.name for g in model.groups for index in g.indices}
    return tuple(group_of[index] for index in range(model.n_layers))


@memo_by_identity
def training_activations(model: ModelSpec, seq: int, micro_batch: int = 1, tp: int = 1, pp: int = 1,
                         sequence_parallel: bool = False, recompute: str = "none", attention_impl: str = "flash",
                         dropout: bool = False, framework: str = "megatron", virtual_stages: int = 1,
                         loss: str = "full", offload: bool = False, cp: int = 1) -> Activations:
    """Saved activations per GPU of the stage that holds the most (see the module docstring for every term).
    `framework` "transformers" counts what Hugging Face's modeling code saves instead (hf_activations; one GPU's
    layers, no tensor or sequence parallelism, no dropout, no recomputation or gradient checkpointing as
    recompute "full", which counts what the forward holds: see hf_activations; api checks these)."""
    tokens = seq * micro_batch // cp  # each context-parallel rank holds 1/cp of every sequence
    sp = sequence_parallel
    stream = (1 / tp) if sp else 1.0
    rows: list[ActivationRow] = []
    per_group: dict[str, float] = {}
    # under full recomputation the rows are the working set of the one layer being recomputed: all it saves
    saved = "none" if recompute == "full" else recompute
    code = hf_activations.code_of(model) if framework == "transformers" else None
    for group in model.groups:
        if code is not None and recompute == "full":
            group_rows = [hf_activations.checkpointed_row(group.name, model.d_model)]
        elif code is not None:
            group_rows = hf_activations.layer_rows(model, group, seq, attention_impl, micro_batch, code)
        else:
            norms = layer_norm_names(group.layer, model.norm)
            group_rows = layer_rows(group.layer, group.name, norms, model.d_model, seq, tp, sp, attention_impl,
                                    saved, dropout, model.residual == "parallel")
        rows += group_rows
        per_group[group.name] = sum(r.bytes_per_token for r in group_rows)
    if code is not None:
        first_rows, head = hf_activations.model_rows(model, seq, micro_batch, code, recompute == "full",
                                                     attention_impl)
    else:
        first_rows = [ActivationRow("embed.token_ids", None, IDS, "int64 token ids (first stage)")]
        if dropout:
            first_rows.append(ActivationRow("embed.dropout_mask", None, MASK * model.d_model * stream, "first stage"))
        if model.embedding_norm:  # BLOOM's word_embeddings_layernorm keeps its input
            first_rows.append(ActivationRow("embed.norm", None, ACT * model.d_model * stream,
                                            "the embedding norm's input (first stage)"))
        head = [ActivationRow("norm.final", None, ACT * model.d_model * stream, "final norm input (last stage)"),
                ActivationRow("lm_head.input", None, ACT * model.d_model * stream, "output layer input (last stage)"),
                *loss_rows(model, loss, tp, stream)]
    rows += first_rows + head
    # each MTP module: one more block like the last and its own cross-entropy (last stage); transformers runs none
    if model.mtp_modules and code is None:
        last_group = next(g.name for g in model.groups if model.n_layers - 1 in g.indices)
        mtp = model.mtp_modules * (per_group[last_group] + 2 * ACT * model.d_model * stream
                                   + STATS * model.vocab_size / tp)
        head.append(ActivationRow("mtp.modules", None, mtp, f"{model.mtp_modules} multi-token prediction module(s): "
                                  "a block, its two norm inputs and its cross-entropy (last stage)"))
        rows.append(head[-1])
    first = sum(r.bytes_per_token for r in first_rows)
    last = sum(r.bytes_per_token for r in head)
    checkpoint = ACT * model.d_model * stream if recompute == "full" and code is None else 0.0
    # per layer of a group: what stays on the GPU until its backward, and what its backward adds (recomputed, or
    # brought back from the host)
    resident = {name: 0.0 if offload else checkpoint or value for name, value in per_group.items()}
    back = {name: (value if checkpoint or offload else 0.0) + (checkpoint if offload else 0.0)
            for name, value in per_group.items()}
    loss_saved = sum(r.bytes_per_token for r in head if r.component in LOSS_COMPONENTS)
    phases = None
    if pp == 1:  # the timeline (timeline.py) walks one stage's layers
        groups = layer_groups(model)
        phases = Phases(0.0 if offload else first, tuple(resident[g] for g in groups), tuple(back[g] for g in groups),
                        last - loss_saved, loss_saved)
    peak = None
    for stage, counts in enumerate(stage_groups(model, pp)):
        in_flight = pp - stage
        # each layer's input (full recomputation) or saved set, and the most one layer's backward adds
        held = in_flight * sum(resident[name] * n for name, n in counts.items()) + max(back[name] for name in counts)
        held += in_flight * (0.0 if offload else first) if stage == 0 else 0
        if stage == 0 and virtual_stages > 1:
            # the interleaved schedule's first stage holds more micro-batches' chunks in flight: Megatron-LM's
            # 1 + (p - 1) / (p v) (theoretical_memory_usage.py, after Narayanan et al. 2021 sec. 2.2)
            held *= 1 + (pp - 1) / (pp * virtual_stages)
        held += last if stage == pp - 1 else 0
        total = held * tokens
        if peak is None or total > peak.bytes:
            peak = StagePeak(stage, in_flight, tuple(counts.items()), total)
    settings = {"framework": framework, "attention_impl": attention_impl, "recompute": recompute, "dropout": dropout,
                "tp": tp, "pp": pp, "virtual_stages": virtual_stages, "loss": loss, "offload": offload, "cp": cp,
                "sequence_parallel": sp, "context": seq, "batch": micro_batch}
    return Activations(tuple(rows), tokens, peak, settings, phases)
