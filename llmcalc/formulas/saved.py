"""What the activation profiles share: the bytes of a saved element, and the records a profile fills in (a named
saved tensor, the stage that holds the most, the whole estimate)."""

from __future__ import annotations

from ..records import record

ACT = 2  # bytes of a 16-bit activation
STATS = 4  # bytes of an fp32 statistic (flash attention's log-sum-exp)
MASK = 1  # bytes of a dropout mask element
IDS = 8  # bytes of an int64 token id (or any int64 index)
FP32 = 4  # bytes of an fp32 element
INT32 = 4  # bytes of an int32 element


@record
class ActivationRow:
    """One saved tensor (or a set of them) of a layer group, or of the model around the layers."""

    component: str
    group: str | None      # the layer group, or None for the embedding and the output layer
    bytes_per_token: float  # on one GPU, per layer of the group, per token of one micro-batch
    note: str = ""


@record
class StagePeak:
    """The pipeline stage that holds the most, and what it holds."""

    stage: int
    in_flight: int           # micro-batches held at once
    layers: tuple[tuple[str, int], ...]  # (group, layers of it on this stage)
    bytes: float


@record
class Phases:
    """Per token of a micro-batch on one GPU (pipeline parallelism 1), what the activations hold at each moment of a
    training step (formulas/timeline.py walks them): the embedding's rows, held until the backward ends; each
    layer's resident tensors (its saved set, its input under full recomputation, nothing when offloaded to the
    host) and what its backward adds (the recomputed set, or the set brought back); the output layer's inputs; the
    loss's saved tensors."""

    first: float
    layers: tuple[float, ...]
    back: tuple[float, ...]
    head: float
    loss: float


@record
class Activations:
    """Saved activations per GPU on the stage that holds the most, with the rows they come from."""

    rows: tuple[ActivationRow, ...]
    tokens: int        # per micro-batch: seq x micro_batch
    peak: StagePeak
    settings: dict
    phases: Phases | None = None

    @property
    def bytes(self) -> float:
        return self.peak.bytes

    def group_bytes_per_token(self, group: str | None) -> float:
        return sum(r.bytes_per_token for r in self.rows if r.group == group)
