"""The results of a parameter count: a row per component and layer group, and the totals, sums of the rows."""

from __future__ import annotations

from typing import NamedTuple

from ..model import ModelSpec
from ..records import record


class ParamRow(NamedTuple):
    """One component of one layer group (or of the whole model, when ``group`` is None); immutable, and a named
    tuple rather than a frozen dataclass because a count builds dozens of them (2.5x cheaper to make)."""

    component: str
    group: str | None
    n_layers: int
    per_layer: int
    active_per_layer: int
    embedding: str | None = None  # "input" (token/position embedding), "output" (LM head) or None
    note: str | None = None

    @property
    def total(self) -> int:
        return self.per_layer * self.n_layers

    @property
    def active(self) -> int:
        return self.active_per_layer * self.n_layers


ACTIVE_CONVENTIONS = {
    True: "active = every parameter a token touches, both embedding matrices included (Mixtral's 12.9B convention)",
    False: "active = every parameter a token touches except the input embedding (gpt-oss model card convention)",
}

# Gemma 4's per-layer input embedding (formulas/per_layer.py): which embedding counts as what, said with the above
PER_LAYER_CONVENTION = ("; the per-layer input embedding (embed.per_layer) counts as an input embedding, its "
                        "projections and the layers' per-layer gates as active non-embedding parameters")
# a vision-language model's image side, said with the above
VISION_CONVENTION = "; the vision tower and projector run once per image, not per token: in the total, not active"


@record
class ParamCount:
    """The parameter breakdown of a model: rows, and totals that are sums of the rows."""

    model: ModelSpec
    rows: tuple[ParamRow, ...]
    active_includes_input_embedding: bool = True
    buffers: tuple[ParamRow, ...] = ()   # stored, not trained: DeepSeek-V3's routing bias; not in any total
    optional: tuple[ParamRow, ...] = ()  # parts a checkpoint may add: multi-token prediction modules

    @property
    def buffer_total(self) -> int:
        return sum(row.total for row in self.buffers)

    @property
    def optional_total(self) -> int:
        """Parameters of the optional parts (shown apart, never in ``total``)."""
        return sum(row.total for row in self.optional)

    @property
    def total_with_optional(self) -> int:
        """The main model and its optional parts (DeepSeek-V3's 671B + MTP)."""
        return self.total + self.optional_total

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)

    @property
    def embedding(self) -> int:
        """Token embedding + learned position embedding + an untied LM head."""
        return sum(row.total for row in self.rows if row.embedding)

    @property
    def non_embedding(self) -> int:
        return self.total - self.embedding

    @property
    def active(self) -> int:
        """Parameters used for one token: routed experts count top_k of n_experts."""
        return sum(row.active for row in self.rows if not self._left_out_of_active(row))

    @property
    def active_non_embedding(self) -> int:
        """Active parameters without the token embedding, position embedding and LM head (Qwen-MoE's 2.0B)."""
        return sum(row.active for row in self.rows if not row.embedding)

    def _left_out_of_active(self, row: ParamRow) -> bool:
        if self.active_includes_input_embedding or row.embedding != "input":
            return False
        # A tied token embedding is also the output projection, which every token uses.
        return not (row.component == "embed.token" and self.model.tied_embeddings)

    @property
    def convention(self) -> str:
        ple = any(row.component == "embed.per_layer" for row in self.rows)
        vision = any(row.group in ("vision", "projector") for row in self.rows)
        return (ACTIVE_CONVENTIONS[self.active_includes_input_embedding] + (PER_LAYER_CONVENTION if ple else "")
                + (VISION_CONVENTION if vision else ""))

    def group_rows(self, group: str | None) -> tuple[ParamRow, ...]:
        return tuple(row for row in self.rows if row.group == group)


