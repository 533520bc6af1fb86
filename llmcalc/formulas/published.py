"""Check computed figures against the figures published for each model."""

from __future__ import annotations

from typing import Callable

from ..model import ModelSpec, PublishedFigure
from ..records import record
from .params import count_params

# How to compute each figure a spec may publish (spec.FIGURES names the same keys).
FIGURE_FUNCTIONS: dict[str, Callable[[ModelSpec], int]] = {
    "params_total": lambda m: count_params(m).total,
    "params_active": lambda m: count_params(m).active,
    "params_active_no_input_embedding": lambda m: count_params(m, active_includes_input_embedding=False).active,
    "params_embedding": lambda m: count_params(m).embedding,
    "params_non_embedding": lambda m: count_params(m).non_embedding,
    "params_active_non_embedding": lambda m: count_params(m).active_non_embedding,
    "params_mtp": lambda m: count_params(m).optional_total,
    "params_with_mtp": lambda m: count_params(m).total_with_optional,
}


@record
class Check:
    """One published figure of one model, and what llmcalc computes for it."""

    model: str
    published: PublishedFigure
    computed: int
    rumour: bool = False

    @property
    def within(self) -> bool:
        return self.published.accepts(self.computed)

    @property
    def status(self) -> str:
        """pass / FAIL, 'known gap' for a figure whose disagreement the spec explains, 'rumour' for hearsay."""
        if self.rumour:
            return "rumour"
        if self.within:
            return "pass"
        return "known gap" if self.published.discrepancy else "FAIL"

    @property
    def ok(self) -> bool:
        return self.status != "FAIL"

    @property
    def error(self) -> float:
        """Relative difference, computed against published."""
        value = self.published.value
        return (self.computed - value) / value if value else float(self.computed != value)


def verify(models: list[ModelSpec]) -> list[Check]:
    """Every published figure of every model, checked."""
    checks = []
    for model in models:
        cache: dict[str, int] = {}
        for figure in model.published:
            if figure.figure not in cache:
                cache[figure.figure] = FIGURE_FUNCTIONS[figure.figure](model)
            checks.append(Check(model.name, figure, cache[figure.figure], rumour=model.rumour is not None))
    return checks


