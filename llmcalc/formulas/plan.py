"""A training plan's step time, analytically, and the search over plans (TP x CP x PP x DP x EP x ZeRO x
recomputation x micro-batch) that keeps those whose memory fits and ranks them by step time.

Step time of one global batch on N GPUs, nothing overlapped (a conservative bound; Megatron overlaps some of it):
- compute: the step's hardware FLOPs (model FLOPs, 3 x forward, plus what recomputation runs again) over
  N x peak x efficiency, times the 1F1B pipeline's (1 + (p - 1) / m) for m micro-batches per step (Narayanan et
  al. 2021, sec. 2.2: the bubble is (p - 1) / m of the ideal time).
- tensor parallelism: per layer and micro-batch, 2 all-reduces of the micro-batch's hidden state forward and 2
  backward (Megatron: Shoeybi et al. 2019; with sequence parallelism the same volume as reduce-scatter +
  all-gather, Korthikanti et al. 2022), 2 more forward with full recomputation; a ring takes 2 (t - 1) / t of the
  message over the node's links (TP stays within a node).
- data parallelism: the gradients (bf16) of a GPU's share of the weights all-reduced once per step over the
  network, 2 (d - 1) / d of them; ZeRO-3 gathers the weights again forward and backward (1.5 x the volume, Rajbhandari
  et al. 2020 sec. 7); the expert weights over the expert-data-parallel ranks d / ep.
- expert parallelism: per MoE layer and micro-batch, 2 all-to-alls forward and 2 backward of the top-k token copies'
  hidden states, (e - 1) / e of them crossing GPUs.
- pipeline: each micro-batch's activation sent to the next stage forward and its gradient back, a 1/t share
  per TP rank over the network.
- context parallelism (c ranks, each holding 1/c of every sequence; every per-token volume above shrinks by c, and
  the gradients are reduced over d x c ranks): per attention layer and micro-batch, ring attention passes each
  rank's K and V chunk to the c - 1 others forward and K, V and their gradients backward (Transformer Engine's
  AttnFuncWithCPAndKVP2P, as Megatron-LM runs it), 3 (c - 1) chunks, within a node while t x c fits in one;
  a sliding window's layers are counted as if they exchanged every chunk.
"""

from __future__ import annotations

from typing import Callable, Iterator

from ..model import ModelSpec
from ..records import record
from .fit import powers_of_two
from .flops import count_flops

GRAD_BYTES = 2
ACTIVATION_BYTES = 2


@record
class Cluster:
    """N GPUs of `peak` FLOP/s (times the compute efficiency), `gpus_per_node` to a node joined by links of `link`
    bytes/s each way, nodes by a network of `network` bytes/s per GPU each way, `memory` bytes each."""

    n_gpus: int
    peak: float
    memory: float
    link: float
    network: float
    gpus_per_node: int = 8


@record
class Plan:
    tp: int
    pp: int
    dp: int
    ep: int
    zero: int
    recompute: str
    micro_batch: int
    memory_per_gpu: float
    compute_seconds: float
    bubble_seconds: float
    tp_seconds: float
    dp_seconds: float
    ep_seconds: float
    pp_seconds: float
    model_flops: float
    cp: int = 1
    cp_seconds: float = 0.0

    @property
    def step_seconds(self) -> float:
        return (self.compute_seconds + self.bubble_seconds + self.tp_seconds + self.dp_seconds + self.ep_seconds
                + self.pp_seconds + self.cp_seconds)


def ring(message: float, ranks: int, bandwidth: float) -> float:
    """A ring all-reduce of `message` bytes over `ranks` (Patarasuk and Yuan 2009): 2 (r - 1) / r x message / bw."""
    return 0.0 if ranks == 1 else 2 * (ranks - 1) / ranks * message / bandwidth


@record
class Work:
    """What a step of the model does, independent of the plan: FLOPs per token, the weights, per-layer sizes."""

    model: ModelSpec
    seq: int
    global_batch: int
    forward_per_token: float   # matmul FLOPs of the forward pass per token
    core_per_token: float      # of which the core attention (recomputed by selective recomputation)
    dense_params: int          # parameters outside the routed experts
    expert_params: int
    moe_layers: int
    top_k: int
    kv_layers: tuple[tuple[int, int, int], ...] = ()  # (layers, K/V heads, K + V head widths) of each attention group

    @property
    def tokens(self) -> int:
        return self.seq * self.global_batch


def work(model: ModelSpec, params, seq: int, global_batch: int) -> Work:
    forward = count_flops(model, seq, 1, include_other=False)
    core = sum(r.matmul for r in forward.rows if r.component in ("attn.scores", "attn.values"))
    experts = sum(r.total for r in params.rows if r.component == "moe.experts")
    moe = [g for g in model.groups if g.layer.moe]
    kv = tuple((g.count, *kv_heads(g.layer.attention)) for g in model.groups if g.layer.attention)
    return Work(model, seq, global_batch, forward.matmul / forward.tokens, core / forward.tokens,
                params.total - experts, experts, sum(g.count for g in moe),
                max((g.layer.moe.top_k for g in moe), default=0), kv)


def kv_heads(att) -> tuple[int, int]:
    """(heads, K + V width per head) that ring attention passes around: MLA's decompressed heads, else the KV heads."""
    if att.mla:
        return att.n_heads, att.qk_head_dim + att.v_head_dim
    return att.n_kv_heads, att.qk_head_dim + att.v_head_dim


def step_time(w: Work, cluster: Cluster, tp: int, pp: int, dp: int, ep: int, zero: int, recompute: str,
              micro_batch: int, memory: float, cp: int = 1) -> Plan:
    """The plan's step time on `cluster` (see the module docstring); `memory` is its bytes per GPU."""
    model = w.model
    micro_batches = w.global_batch // (dp * micro_batch)
    extra = {"none": 0.0, "selective": w.core_per_token, "full": w.forward_per_token}[recompute]
    model_flops = 3 * w.forward_per_token * w.tokens
    compute = (model_flops + extra * w.tokens) / (cluster.n_gpus * cluster.peak)
    bubble = compute * (pp - 1) / micro_batches
    local = micro_batch * w.seq // cp  # tokens of a micro-batch on one rank
    hidden = local * model.d_model * ACTIVATION_BYTES
    layers_per_stage = model.n_layers / pp
    reduces = 4 + (2 if recompute == "full" else 0)
    tp_time = micro_batches * layers_per_stage * reduces * ring(hidden, tp, cluster.link)
    network = cluster.link if tp * cp * pp * dp <= cluster.gpus_per_node else cluster.network
    dense = w.dense_params / (tp * pp) * GRAD_BYTES
    expert = w.expert_params / (tp * pp * ep) * GRAD_BYTES
    factor = 1.5 if zero == 3 else 1.0
    dp_time = factor * (ring(dense, dp * cp, network) + ring(expert, max(dp * cp // ep, 1), network))
    ep_time = 0.0
    if ep > 1:
        copies = local * w.top_k * model.d_model * ACTIVATION_BYTES / tp
        ep_bandwidth = cluster.link if ep * tp <= cluster.gpus_per_node else cluster.network
        ep_time = micro_batches * (w.moe_layers / pp) * 4 * copies * (ep - 1) / ep / ep_bandwidth
    # each stage sends a micro-batch's activation on and its gradient back (split over TP: Narayanan et al. 2021's
    # scatter/gather optimisation), over the network between nodes
    pp_time = 0.0 if pp == 1 else 2 * micro_batches * hidden / tp / cluster.network
    cp_time = 0.0
    if cp > 1:
        chunk = sum(n * max(heads / tp, 1) * width for n, heads, width in w.kv_layers) * local * ACTIVATION_BYTES
        cp_bandwidth = cluster.link if tp * cp <= cluster.gpus_per_node else cluster.network
        cp_time = micro_batches / pp * 3 * (cp - 1) * chunk / cp_bandwidth
    return Plan(tp, pp, dp, ep, zero, recompute, micro_batch, memory, compute, bubble, tp_time, dp_time, ep_time,
                pp_time, model_flops, cp, cp_time)


def powers_of_two_dividing(n: int, limit: int) -> list[int]:
    return [p for p in powers_of_two(min(n, limit)) if n % p == 0]


def candidates(model: ModelSpec, n_gpus: int, global_batch: int, gpus_per_node: int = 8,
               zeros: tuple[int, ...] = (0, 1, 2, 3), recomputes: tuple[str, ...] = ("none", "selective", "full"),
               max_micro_batch: int = 16, seq: int = 0,
               cp: int | None = None) -> Iterator[tuple[int, int, int, int, int, str, int, int]]:
    """Every layout Megatron-LM can run: TP a power of two dividing the heads (and KV heads), within a node; CP a
    power of two with 2 x CP dividing the sequence `seq` (attention-only models; 1 when seq is 0); PP dividing the
    layers; DP the rest, dividing the global batch; EP a divisor of the experts and of DP x CP; micro-batches powers
    of two dividing the batch per DP rank. `cp` fixes the context-parallel degree instead of searching it."""
    groups = [g.layer for g in model.groups]
    # TP divides the attention heads (and a recurrent mixer's: estimate_memory refuses what checks.tp_problem does)
    heads = min((layer.attention.n_heads for layer in groups if layer.attention), default=1 << 20)
    experts = min((layer.moe.n_experts for layer in groups if layer.moe), default=1)
    for tp in powers_of_two_dividing(heads, min(gpus_per_node, n_gpus)):
        if n_gpus % tp:
            continue
        cps = [1] if model.is_recurrent or not seq else \
            [c for c in powers_of_two_dividing(n_gpus // tp, n_gpus // tp) if seq % (2 * c) == 0 or c == 1]
        if cp is not None:
            cps = [cp] if (n_gpus // tp) % cp == 0 and (cp == 1 or cp in cps) else []
        for c in cps:
            for pp in range(1, min(model.n_layers, n_gpus // (tp * c)) + 1):
                if (n_gpus // (tp * c)) % pp or model.n_layers % pp:
                    continue
                dp = n_gpus // (tp * c * pp)
                if global_batch % dp:
                    continue
                for ep in [e for e in range(1, experts + 1) if experts % e == 0 and dp * c % e == 0]:
                    for micro_batch in powers_of_two_dividing(global_batch // dp, max_micro_batch):
                        for zero in zeros:
                            for recompute in recomputes:
                                yield tp, pp, dp, ep, zero, recompute, micro_batch, c


def search(w: Work, cluster: Cluster, memory_of: Callable[..., float], **limits) -> tuple[int, list[Plan]]:
    """(plans evaluated, the plans that fit, fastest first)."""
    evaluated, fitting = 0, []
    for tp, pp, dp, ep, zero, recompute, micro_batch, cp in candidates(w.model, cluster.n_gpus, w.global_batch,
                                                                       cluster.gpus_per_node, seq=w.seq, **limits):
        evaluated += 1
        memory = memory_of(tp, pp, dp, ep, zero, recompute, micro_batch, cp)
        if memory <= cluster.memory:
            fitting.append(step_time(w, cluster, tp, pp, dp, ep, zero, recompute, micro_batch, memory, cp))
    fitting.sort(key=lambda p: (p.step_seconds, p.memory_per_gpu))
    return evaluated, fitting


@record
class ServePlan:
    """One serving layout: `replicas` copies of the model, each over `tp` tensor-parallel x `pp` pipeline-stage GPUs,
    each serving `batch` of the sequences at once; its memory per GPU and its roofline times."""

    tp: int
    replicas: int
    batch: int
    memory_per_gpu: float
    prefill_seconds: float    # time to first token of one prompt
    decode_seconds: float     # one decode step of the replica's batch: the time per output token
    tokens_per_second: float  # decode tokens/s of all the sequences served
    pp: int = 1
    ep: int = 1               # expert-parallel GPUs of a replica (attention data-parallel over them; tp and pp 1)


SERVE_RANKS = {"throughput": lambda p: (-p.tokens_per_second, p.decode_seconds, p.pp, p.ep),
               "latency": lambda p: (p.decode_seconds, p.prefill_seconds, p.pp, p.ep)}


def serve_layouts(n_gpus: int, gpus_per_node: int, concurrency: int,
                  n_layers: int) -> Iterator[tuple[int, int, int, int]]:
    """(tp, pp, replicas, batch per replica): tensor parallelism within a node over a divisor of n_gpus, pipeline
    stages over a divisor of the rest (at most one per layer), the other GPUs as replicas, the sequences spread over
    them (the fullest replica's batch)."""
    for tp in range(1, min(n_gpus, gpus_per_node) + 1):
        if n_gpus % tp:
            continue
        for pp in range(1, min(n_gpus // tp, n_layers) + 1):
            if (n_gpus // tp) % pp == 0:
                replicas = n_gpus // (tp * pp)
                yield tp, pp, replicas, -(-concurrency // replicas)


def expert_layouts(n_gpus: int, n_experts: int, concurrency: int) -> Iterator[tuple[int, int, int]]:
    """(ep, replicas, batch per replica): expert parallelism over a divisor of the experts that divides n_gpus, the
    other GPUs as replicas (a replica may span nodes: its all-to-alls then cross the network)."""
    for ep in range(2, min(n_gpus, n_experts) + 1):
        if n_gpus % ep == 0 and n_experts % ep == 0:
            replicas = n_gpus // ep
            yield ep, replicas, -(-concurrency // replicas)
