"""What a checkpoint header says, format-neutral: each tensor's logical parameters (the elements the model computes
with, as transformers counts the dequantized model), its bytes on disk, its dtype or quant type, and its component.

Roles: "weight" (parameters), "scale" (bytes only: FP8 block scales `*_scale_inv`/`weight_scale`, MXFP4 `*_scales`),
"buffer" (stored but not trained: DeepSeek-V3's routing bias, as transformers registers it; not a parameter).
"""

from __future__ import annotations

from ..records import record
from .names import ORDER

OTHER = "other"


@record
class Tensor:
    """One tensor of the header: `params` logical elements (0 for a scale), `nbytes` on disk."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    params: int
    nbytes: int
    component: str  # llmcalc's component, or "other"
    layer: int | None
    role: str = "weight"
    file: str = ""


@record
class ComponentRow:
    """The tensors of one component (over all layers, or of the model) summed."""

    component: str
    layers: tuple[int, ...]
    tensors: int
    params: int
    nbytes: int
    dtypes: tuple[str, ...]
    role: str


@record
class DtypeRow:
    dtype: str
    tensors: int
    params: int
    nbytes: int


@record
class Checkpoint:
    """The tensors of a checkpoint (one file, or the shards of an index), in header order."""

    path: str
    format: str  # "safetensors" or "gguf"
    files: tuple[str, ...]
    file_bytes: int
    tensors: tuple[Tensor, ...]
    metadata: tuple[tuple[str, str], ...] = ()  # a few header fields worth showing (GGUF architecture, name)
    packing: tuple[str, ...] = ()  # packed formats found: "fp8 block scales", "mxfp4", "gguf quant types"

    @property
    def params(self) -> int:
        """Logical parameters: every weight tensor's elements (an unrecognised tensor too); no scale, no buffer."""
        return sum(t.params for t in self.tensors if t.role == "weight")

    @property
    def gguf_part(self) -> str | None:
        """Which file of llama.cpp's pair this is: "mmproj" (general.architecture "clip": the vision tower and
        projector that convert_hf_to_gguf.py --mmproj writes), "text" (another GGUF holding no vision tensor: the
        language model), None for safetensors (a checkpoint of the whole model)."""
        if self.format != "gguf":
            return None
        if dict(self.metadata).get("general.architecture") == "clip":
            return "mmproj"
        vision = any(t.component.startswith(("vision.", "projector.")) for t in self.tensors)
        return None if vision else "text"

    @property
    def buffer_values(self) -> int:
        return sum(t.params for t in self.tensors if t.role == "buffer")

    @property
    def nbytes(self) -> int:
        """Bytes of tensor data (every tensor: weights, scales, buffers)."""
        return sum(t.nbytes for t in self.tensors)

    @property
    def other(self) -> tuple[Tensor, ...]:
        return tuple(t for t in self.tensors if t.component == OTHER and t.role != "scale")

    def by_dtype(self) -> list[DtypeRow]:
        """Bytes on disk per dtype or quant type, largest first."""
        rows: dict[str, list[int]] = {}
        for t in self.tensors:
            row = rows.setdefault(t.dtype, [0, 0, 0])
            row[0] += 1
            row[1] += t.params
            row[2] += t.nbytes
        return sorted((DtypeRow(d, *v) for d, v in rows.items()), key=lambda r: (-r.nbytes, r.dtype))

    def components(self) -> list[ComponentRow]:
        """One row per (component, role): model-level embeddings first, layer components, the rest, then "other";
        the layer indices each one appears in."""
        gathered: dict[tuple[str, str], list] = {}
        for t in self.tensors:
            row = gathered.setdefault((t.component, t.role), [set(), 0, 0, 0, set()])
            if t.layer is not None:
                row[0].add(t.layer)
            row[1] += 1
            row[2] += t.params
            row[3] += t.nbytes
            row[4].add(t.dtype)
        rows = [ComponentRow(c, tuple(sorted(v[0])), v[1], v[2], v[3], tuple(sorted(v[4])), role)
                for (c, role), v in gathered.items()]

        def order(row: ComponentRow) -> tuple:
            place = (0 if row.component.startswith("embed.") else 3 if row.component == OTHER
                     else 1 if row.layers else 2)
            rank = ORDER.index(row.component) if row.component in ORDER else len(ORDER)
            return place, rank, {"weight": 0, "buffer": 1, "scale": 2}[row.role]

        return sorted(rows, key=order)

    def layer_sums(self) -> dict[tuple[str, int | None], int]:
        """Parameters (and buffer values) per (component, layer): what `check` compares. Scales and rotary tables
        (buffers that are no component) are left out, and so is a tensor of no elements (Granite-MoE-Hybrid saves its
        shared_mlp as (0, d) tensors when shared_intermediate_size is 0): it holds nothing."""
        out: dict[tuple[str, int | None], int] = {}
        for t in self.tensors:
            if t.role != "scale" and not (t.role == "buffer" and t.component == OTHER) and 0 not in t.shape:
                out[(t.component, t.layer)] = out.get((t.component, t.layer), 0) + t.params
        return out
