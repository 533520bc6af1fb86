"""What every presentation module shares: a model's label (with its --set overrides), column names that stay apart,
layer-group headings, component labels and the units note."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..units import index_ranges
from .describe import COMPONENT_LABELS

if TYPE_CHECKING:
    from ..model import ModelSpec

UNITS_NOTE = "Exact counts; human units are decimal (1B = 10^9 parameters)."
# rich's own rule (rich.markup.escape): a '[' that opens something tag-like is escaped, with any backslashes before it;
# and, as rich's renderer also reads '\[' in plain text as '[', a backslash is added before any other '[' that follows
# backslashes (rich.markup.escape leaves those alone, so '\[' would show as '[')
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])|(\\+)\[")


def escape(text: str) -> str:
    """User text (a display name, a file name, an override) put into a cell: shown as typed, never read as markup."""
    return _TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\[", text)


def model_title(model: ModelSpec) -> str:
    """'Llama 3 8B (llama3-8b)' for a sheet's title, escaped."""
    return escape(f"{model.display_name} ({model.name})")


def overrides_json(model: ModelSpec) -> dict[str, Any]:
    """The --set overrides a model was loaded with, for a JSON document (nothing when there are none)."""
    return {"overrides": list(model.overrides)} if model.overrides else {}


def model_label(model: ModelSpec) -> str:
    """The model's name, with its --set overrides when it has any (two variants of one model stay apart)."""
    return f"{model.name} ({', '.join(model.overrides)})" if model.overrides else model.name


def unique(labels: list[str]) -> list[str]:
    """Column names that stay apart when a model is given twice: 'llama3-8b', 'llama3-8b #2'."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def group_heading(group) -> str:
    """'layers 0-11' for a uniform model; 'moe (layers 3-60)' when groups differ."""
    where = f"layers {index_ranges(group.indices)}"
    return where if group.name == "layers" else f"{group.name} [dim]({where})[/dim]"


def component_label(component: str) -> str:
    """A component's words; a vision tower's layer components ("vision.attn.q", Mllama's global layers'
    "vision.global.attn.q") as the language model's, marked."""
    if component not in COMPONENT_LABELS and component.startswith("vision."):
        inner = component[len("vision."):]
        marked = "vision global" if inner.startswith("global.") else "vision"
        inner = inner.removeprefix("global.")
        return f"{marked} {COMPONENT_LABELS[inner]}" if inner in COMPONENT_LABELS else component
    return COMPONENT_LABELS.get(component, component)


# A vision-language model's image side: its row groups and their headings, shown after the language model's layers.
TOWER_GROUPS = (("vision", "vision tower"), ("projector", "projector"))


def tower_layers(model: ModelSpec, group: str) -> str:
    """The layer count shown beside a tower group's heading (the projector has none)."""
    return str(model.vision.n_layers) if group == "vision" and model.vision else ""
