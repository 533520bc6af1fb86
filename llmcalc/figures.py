"""A figure published for a model (a parameter count in a paper or a model card), its source and the tolerance a
computed figure must meet: what a spec's `published` list holds and `verify` checks.

May import: llmcalc.records.
"""

from __future__ import annotations

from .records import record

TOLERANCE_RULES = ("relative", "rounding", "truncation")


@record
class PublishedFigure:
    """A figure published for a model, the source it comes from and how close we must come to it.

    ``rule`` says how ``as_published`` was written: ``relative`` (within ``tolerance`` x value; 0 means
    exact), ``rounding`` (rounded to its last printed digit, worth ``unit``) or ``truncation`` (cut
    after its last printed digit). ``discrepancy`` explains a figure known not to match.
    """

    figure: str
    value: float
    as_published: str
    source: str
    rule: str = "relative"
    tolerance: float = 0.0
    unit: float = 0.0
    note: str | None = None
    discrepancy: str | None = None

    def accepts(self, computed: float) -> bool:
        if self.rule == "rounding":
            return abs(computed - self.value) <= self.unit / 2
        if self.rule == "truncation":
            return self.value <= computed < self.value + self.unit
        return abs(computed - self.value) <= self.tolerance * self.value

    @property
    def relative_tolerance(self) -> float:
        """The tolerance as a fraction of the published value, whatever the rule."""
        if self.rule == "rounding":
            return self.unit / 2 / self.value if self.value else 0.0
        if self.rule == "truncation":
            return self.unit / self.value if self.value else 0.0
        return self.tolerance
