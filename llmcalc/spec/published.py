"""A spec's published figures (`published:`): what `llmcalc verify` holds each count to, with its tolerance rule."""

from __future__ import annotations

from ..model import PublishedFigure
from .node import REQUIRED, Node
from .schema import FIGURE_KEYS, FIGURES
from .values import kind as _kind
from .values import last_digit_unit
from .values import show as _show


def published_figures(root: Node) -> tuple[PublishedFigure, ...]:
    """The spec's `published` list: each figure, its value as published, its source and tolerance rule."""
    items = root.data.get("published")
    if items is None:
        return ()
    if not isinstance(items, list):
        raise root.error("published", f"must be a list of figures, got {_kind(items)}")
    figures = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise root.error("published", f"item {index} must be a mapping, got {_kind(raw)} {_show(raw)}")
        node = Node(raw, ("published", index), root.origin, root.fallback)
        node.check_keys(FIGURE_KEYS)
        figure = node.choice("figure", FIGURES)
        raw_value = node.get("value", REQUIRED)
        value = node.number("value", minimum=0)
        as_published = raw_value if isinstance(raw_value, str) else f"{raw_value:,}"
        rule, tolerance, unit = "relative", 0.0, 0.0
        raw_tolerance = raw.get("tolerance")
        if raw_tolerance in ("rounding", "truncation"):
            rule, unit = raw_tolerance, last_digit_unit(raw_value)
        elif isinstance(raw_tolerance, str):
            raise node.error("tolerance", f"{_show(raw_tolerance)} is not allowed; allowed: a fraction such as "
                             "0.01 (1%), rounding, or truncation")
        else:
            tolerance = node.number("tolerance", 0.0)
            if tolerance >= 1:
                raise node.error("tolerance", f"{tolerance} would accept anything; allowed: a fraction below 1, "
                                 "e.g. 0.01 for 1%")
        figures.append(PublishedFigure(
            figure=figure, value=value, as_published=as_published, source=node.string("source"),
            rule=rule, tolerance=tolerance, unit=unit,
            note=node.string("note", None), discrepancy=node.string("discrepancy", None),
        ))
    return tuple(figures)

