"""Roofline speed of serving: the time of a prefill and of one decode step, per layer group, from the FLOPs each
group does and the bytes it moves, on a GPU of a given peak FLOP/s and memory bandwidth (Williams, Waterman and
Patterson 2009, "Roofline"; for transformer inference as in kipply's "Transformer Inference Arithmetic" 2022 and
LLM-Viewer, Yuan et al. 2024).

A layer group takes max(FLOPs / (peak x compute efficiency), bytes / (bandwidth x memory efficiency)); the phase is
the sum over groups (each group's layers run one after the other) plus the model-level rows (embedding lookup,
final norm, LM head). Bytes moved:
- weights, at their storage format, read once per step; the token embedding only at the rows looked up. A MoE
  layer reads the experts the step's tokens touch: of n experts with top-k over T tokens, n (1 - (1 - k/n)^T)
  distinct ones are expected; shared experts and dense layers always.
- the KV cache: decode reads every cached token of each layer (sliding windows and chunks hold fewer; MLA its
  latent; a DSA layer under the top-k convention the latents of its top-k keys and its indexer's key of every
  token) and writes one token per sequence; prefill writes the prompt's. A recurrent layer (Mamba) holds a
  constant state per sequence instead (formulas.kv): decode reads and rewrites it, prefill writes it once.
- activations: each live tensor of a layer (formulas.serving's count) written once and read once, in 16 bits
  (an estimate; small beside the weights at decode, beside the FLOPs at prefill).
Tensor parallelism divides FLOPs, weights and (up to the KV heads) the KV cache by t and adds two all-reduces of
the hidden state per layer (after attention and after the MLP, Megatron's layout: Shoeybi et al. 2019), each a
ring taking 2 (t - 1) / t x message / link bandwidth (Patarasuk and Yuan 2009). Expert parallelism over e GPUs
(attention data-parallel: each GPU a batch of its own) reads on each GPU its share of the experts the whole
replica's tokens touch, n (1 - (1 - k/n)^(T e)) / e, and adds per MoE layer two all-to-alls (dispatch and combine)
of the top-k copies of its tokens' hidden states, (e - 1) / e of them to other GPUs (DeepSeek-V3 sec. 3.4). Efficiencies are 1.0 by default:
the results are then bounds, the fastest the hardware allows.
"""

from __future__ import annotations

from dataclasses import field, replace

from ..model import ModelSpec
from ..records import record
from .dtypes import DTYPE_BITS
from .flops import count_flops
from .indexer import indexer_cache_elements, sparse_span
from .kv import kv_cache
from .memory import per_param_bytes
from .params import ParamCount
from .mixer_tp import state_per_rank
from .serving import _live_elements
from .stages import stage_groups

ACTIVATION_BYTES = 2  # bf16/fp16 activations


@record
class Roof:
    """The hardware a phase runs on: peak FLOP/s and memory bytes/s of one GPU (already times their
    efficiencies), the link's bytes/s each way, and the tensor-parallel degree."""

    flops: float
    bandwidth: float
    link: float | None = None
    tp: int = 1
    ep: int = 1                  # expert-parallel GPUs, attention data-parallel over them (tp 1)
    fabric: float | None = None  # bytes/s each way of the expert-parallel all-to-alls


@record
class SpeedRow:
    """One layer group (or the model-level rows, group None) in one phase, per GPU."""

    group: str | None
    n_layers: int
    flops: float
    weight_bytes: float
    kv_bytes: float
    activation_bytes: float
    comm_seconds: float
    roof: Roof = field(repr=False)

    @property
    def bytes(self) -> float:
        return self.weight_bytes + self.kv_bytes + self.activation_bytes

    @property
    def intensity(self) -> float:
        """FLOPs per byte moved."""
        return self.flops / self.bytes if self.bytes else float("inf")

    @property
    def compute_seconds(self) -> float:
        return self.flops / self.roof.flops

    @property
    def memory_seconds(self) -> float:
        return self.bytes / self.roof.bandwidth

    @property
    def bound(self) -> str:
        return "compute" if self.compute_seconds >= self.memory_seconds else "memory"

    @property
    def seconds(self) -> float:
        return max(self.compute_seconds, self.memory_seconds) + self.comm_seconds


@record
class Phase:
    """A prefill of `tokens` tokens per sequence, or one decode step at position `context`, of `batch` sequences."""

    name: str
    batch: int
    tokens: int
    context: int
    rows: tuple[SpeedRow, ...]
    # pipeline parallelism (layout_phase): the rows are one micro-batch's pass; each stage's share of it, the
    # micro-batches of the step and the seconds of one send between stages
    stages: tuple[float, ...] = ()
    micro_batches: int = 1
    send_seconds: float = 0.0

    @property
    def flops(self) -> float:
        return sum(r.flops for r in self.rows)

    @property
    def bytes(self) -> float:
        return sum(r.bytes for r in self.rows)

    @property
    def comm_seconds(self) -> float:
        return sum(r.comm_seconds for r in self.rows)

    @property
    def seconds(self) -> float:
        if self.stages:
            return pipelined_seconds(list(self.stages), self.micro_batches, self.send_seconds)
        return sum(r.seconds for r in self.rows)

    @property
    def bound(self) -> str:
        """What bounds most of the phase's time: compute, memory (or communication)."""
        compute = sum(r.seconds - r.comm_seconds for r in self.rows if r.bound == "compute")
        memory = sum(r.seconds - r.comm_seconds for r in self.rows if r.bound == "memory")
        if self.comm_seconds > max(compute, memory):
            return "communication"
        return "compute" if compute >= memory else "memory"


def distinct_experts(n_experts: int, top_k: int, tokens: int) -> float:
    """Expected distinct experts that `tokens` tokens route to, each to top_k of n uniformly: n (1 - (1 - k/n)^T)."""
    return n_experts * (1 - (1 - top_k / n_experts) ** tokens)


def _ring_all_reduce(message: float, tp: int, link: float | None) -> float:
    if tp == 1:
        return 0.0
    return 2 * (tp - 1) / tp * message / link


def phase(model: ModelSpec, params: ParamCount, batch: int, tokens: int, context: int, decode: bool, dtype: str,
          kv_dtype: str, roof: Roof, attention: str = "causal", mla_cache: str = "latent",
          sparse: str = "topk") -> Phase:
    """The prefill of `tokens` tokens (decode False; `context` is then the prompt) or one decode step at position
    `context` (tokens 1), of `batch` sequences, per GPU of `roof`. Under `sparse` "topk" a DSA layer's decode step
    reads the latents of its top-k keys only, and its indexer's keys of every token (formulas/indexer.py)."""
    tp = roof.tp
    flops = count_flops(model, context, batch, attention, decode, sparse=sparse)
    per_param = per_param_bytes(params, dtype)
    step = batch * (1 if decode else tokens)  # tokens in the step
    cache = kv_cache(model, context, 1, kv_dtype, mla_cache)
    kv_bits = DTYPE_BITS[kv_dtype]
    kv_of = {g.name.removesuffix(" (cross)"): g for g in cache.groups}
    rows = []
    for group in model.groups:
        layer = group.layer
        weights = 0.0
        for row in params.rows:
            if row.group != group.name:
                continue
            size = row.total * per_param(row.component)
            if row.component == "moe.experts" and layer.moe:  # with EP: the GPU's share of the replica's touched ones
                n = layer.moe.n_experts
                size *= distinct_experts(n, layer.moe.top_k, step * roof.ep) / (n * roof.ep)
            weights += size
        kv = 0.0
        if group.name in kv_of:
            g = kv_of[group.name]
            att = layer.attention
            if g.elements_per_token:
                shards = 1 if att.mla and mla_cache == "latent" else min(tp, att.n_kv_heads)
                per_token = g.elements_per_token * kv_bits / 8 * g.n_layers / shards
                written = batch * (1 if decode else tokens) if g.per_token else 0  # image K/V: written with the images
                read = batch * g.cached_tokens if decode else 0
                kv = per_token * (written + read)
                topk = sparse_span(att, sparse) if decode else None
                if topk and g.cached_tokens > topk:  # DSA: the latents of the keys the indexer dropped stay unread
                    unread = (g.elements_per_token - indexer_cache_elements(att)) / g.elements_per_token
                    kv -= per_token * unread * batch * (g.cached_tokens - topk)
            # a recurrent mixer's state: a decode step reads and rewrites it, a prefill writes the final one
            if layer.mixer is not None:  # one rank's share of it (mixer_tp.py)
                kv += state_per_rank(layer.mixer, tp) * kv_bits / 8 * g.n_layers * batch * (2 if decode else 1)
        activations = 2 * step * _live_elements(layer, model.d_model) * ACTIVATION_BYTES * group.count / tp
        message = step * model.d_model * ACTIVATION_BYTES
        # an all-reduce after each row-parallel block: the attention or mixer, and the MLP
        blocks = (1 if layer.attention or layer.mixer else 0) + (1 if layer.mlp else 0)
        comm = blocks * group.count * _ring_all_reduce(message, tp, roof.link)
        if layer.moe and roof.ep > 1:  # dispatch and combine: top_k copies of each token, (ep - 1) / ep of them away
            copies = message * layer.moe.top_k * (roof.ep - 1) / roof.ep
            comm += 2 * group.count * copies / roof.fabric
        group_flops = sum(r.total for r in flops.group_rows(group.name))
        rows.append(SpeedRow(group.name, group.count, group_flops / tp, weights / tp, kv, activations, comm, roof))
    weights = 0.0
    for row in params.rows:
        if row.group is not None:
            continue
        if row.component in ("embed.token", "embed.position", "embed.per_layer"):  # a lookup reads the step's rows
            width = {"embed.token": model.embed_width, "embed.position": model.d_model}.get(
                row.component, row.total // max(model.per_layer_vocab, 1))  # the per-layer table: n_layers x width
            weights += step * width * per_param(row.component)
        else:
            weights += row.total * per_param(row.component)
    if model.tied_embeddings:  # the LM head reads the embedding matrix whole
        weights += model.vocab_size * model.embed_width * per_param("lm_head")
    head_flops = sum(r.total for r in flops.group_rows(None))
    rows.append(SpeedRow(None, 1, head_flops / tp, weights / tp, 0.0, 0.0, 0.0, roof))
    return Phase("decode" if decode else "prefill", batch, 1 if decode else tokens, context, tuple(rows))


def stage_seconds(model: ModelSpec, step: Phase, pp: int) -> list[float]:
    """Each pipeline stage's share of a phase (formulas.stages' split): a group's rows scale with the layers the
    stage holds; the model-level row (embedding lookup, final norm, LM head) counts on the last stage, where the
    head, most of it, sits."""
    size = {g.name: g.count for g in model.groups}
    out = [sum(r.seconds * counts.get(r.group, 0) / size[r.group] for r in step.rows if r.group is not None)
           for counts in stage_groups(model, pp)]
    out[-1] += sum(r.seconds for r in step.rows if r.group is None)
    return out


def pipelined_seconds(stages: list[float], micro_batches: int, send: float) -> float:
    """One pass of `micro_batches` micro-batches through the stages, each stage taking them in turn (GPipe's
    schedule, Huang et al. 2019; vLLM's pipeline-parallel virtual engines): the longer of one micro-batch's
    traversal (every stage, and a send of `send` seconds between each two) and the busiest stage's work on all of
    them."""
    return max(sum(stages) + (len(stages) - 1) * send, micro_batches * max(stages))


def layout_phase(model: ModelSpec, params: ParamCount, batch: int, tokens: int, context: int, decode: bool,
                 dtype: str, kv_dtype: str, roof: Roof, mla_cache: str = "latent", pp: int = 1,
                 between: float | None = None, sparse: str = "topk") -> Phase:
    """A phase of `batch` sequences on a replica laid out over roof.ep expert-parallel GPUs (each with its share of
    the sequences, attention data-parallel) or over `pp` pipeline stages (the batch in min(pp, batch)
    micro-batches, each stage taking them in turn, a micro-batch's hidden state, a 1/tp share per rank, sent
    between stages over `between` bytes/s): pipelined_seconds of the stages' shares, as plan --mode serve times it."""
    if roof.ep > 1:
        per_gpu = phase(model, params, -(-batch // roof.ep), tokens, context, decode, dtype, kv_dtype, roof,
                        mla_cache=mla_cache, sparse=sparse)
        return replace(per_gpu, batch=batch)
    if pp == 1:
        return phase(model, params, batch, tokens, context, decode, dtype, kv_dtype, roof, mla_cache=mla_cache,
                     sparse=sparse)
    micro = min(pp, batch)
    step = -(-batch // micro)
    one = phase(model, params, step, tokens, context, decode, dtype, kv_dtype, roof, mla_cache=mla_cache, sparse=sparse)
    send = step * (1 if decode else tokens) * model.d_model * ACTIVATION_BYTES / roof.tp / between
    return replace(one, batch=batch, stages=tuple(stage_seconds(model, one, pp)), micro_batches=micro,
                   send_seconds=send)


def crossover_batch(model: ModelSpec, params: ParamCount, context: int, dtype: str, kv_dtype: str, roof: Roof,
                    mla_cache: str = "latent", limit: int = 1 << 20, sparse: str = "topk") -> int | None:
    """The smallest batch at which one decode step at `context` is compute-bound as a whole (its FLOPs take longer
    than its bytes), or None if it stays memory-bound up to `limit` (the KV cache read grows with the batch as
    fast as the FLOPs do)."""
    def compute_bound(b: int) -> bool:
        step = phase(model, params, b, 1, context, True, dtype, kv_dtype, roof, mla_cache=mla_cache, sparse=sparse)
        return sum(r.compute_seconds for r in step.rows) >= sum(r.memory_seconds for r in step.rows)

    if not compute_bound(limit):
        return None
    low, high = 0, 1
    while not compute_bound(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if compute_bound(middle) else (middle, high)
    return high


@record
class SpeedReport:
    """Prefill of the prompt and one decode step after it, per GPU, and the batch where decode turns compute-bound."""

    model: ModelSpec
    prefill: Phase
    decode: Phase
    crossover: int | None
    settings: dict = field(repr=False)
    by_batch: tuple[Phase, ...] = ()  # the decode step at other batches (powers of two), for the curve

    @property
    def time_to_first_token(self) -> float:
        return self.prefill.seconds

    @property
    def time_per_output_token(self) -> float:
        return self.decode.seconds

    @property
    def tokens_per_second(self) -> float:
        """Decode tokens per second of one sequence."""
        return 1 / self.decode.seconds

    @property
    def aggregate_tokens_per_second(self) -> float:
        """Decode tokens per second of the whole batch."""
        return self.decode.batch / self.decode.seconds


def speed(model: ModelSpec, params: ParamCount, batch: int, prompt: int, context: int, dtype: str, kv_dtype: str,
          roof: Roof, mla_cache: str = "latent", settings: dict | None = None, pp: int = 1,
          between: float | None = None, sparse: str = "topk") -> SpeedReport:
    """The prefill of `prompt` tokens and one decode step at position `context`, of `batch` sequences; and the
    decode step at batches 1, 2, 4, ... up to 1,024 (and at `batch`); over roof.ep expert-parallel GPUs or `pp`
    pipeline stages (layout_phase). The crossover is per GPU's batch times roof.ep (a replica's batch)."""
    batches = sorted({2**i for i in range(11)} | {batch})
    curve = tuple(layout_phase(model, params, b, 1, context, True, dtype, kv_dtype, roof, mla_cache, pp, between,
                               sparse) for b in batches)
    crossover = crossover_batch(model, params, context, dtype, kv_dtype, roof, mla_cache, sparse=sparse)
    return SpeedReport(model, layout_phase(model, params, batch, prompt, prompt, False, dtype, kv_dtype, roof,
                                           mla_cache, pp, between, sparse), curve[batches.index(batch)],
                       crossover * roof.ep if crossover else None, settings or {}, curve)
