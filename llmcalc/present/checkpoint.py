"""`llmcalc count CHECKPOINT` and `llmcalc check SPEC CHECKPOINT`: a checkpoint header's parameters per component,
its bytes on disk per dtype or quant type, and a spec's count held against it; as sheets, a JSON document and CSV
records. The checkpoint (llmcalc.checkpoints.Checkpoint) and the comparison (llmcalc.checkpoints.compare.Comparison)
are read through their attributes, duck-typed: this stage does not import the checkpoint readers."""

from __future__ import annotations

from typing import Any

from ..units import exact, human, index_ranges
from .common import UNITS_NOTE, component_label, escape, model_label, model_title
from .sheet import Block, Note, Sheet

ROLE_SUFFIX = {"weight": "", "scale": " (scales: bytes only)", "buffer": " (buffer, not a parameter)"}
STATUS_STYLE = {"equal": "green", "different": "bold red", "missing": "bold red", "extra": "yellow",
                "elsewhere": "cyan", "unused": "cyan"}
STATUSES = ("equal", "different", "missing", "extra", "elsewhere", "unused")
LISTED_OTHERS = 8


def size(n: int) -> str:
    """Bytes in the largest binary unit that keeps a whole part: 1,536 -> '1.50 KiB'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.2f} {unit}"
    return f"{n} B"


def _label(component: str, role: str) -> str:
    return ("other (names not recognised)" if component == "other" else component_label(component)) + ROLE_SUFFIX[role]


def checkpoint_table(ck) -> list[Block]:
    title = f"{escape(ck.path)}: {exact(ck.params)} parameters ({human(ck.params)})"
    table = Sheet(title, [("component", "left"), ("layers", "right"), ("tensors", "right"), ("params", "right"),
                          ("", "right"), ("bytes", "right"), ("dtype", "left")])
    rows = ck.components()
    for i, row in enumerate(rows):
        if i and (bool(rows[i - 1].layers) != bool(row.layers) or row.component == "other"):
            table.add_section()
        table.add_row(_label(row.component, row.role), index_ranges(row.layers), str(row.tensors), exact(row.params),
                      human(row.params), size(row.nbytes), ", ".join(row.dtypes))
    table.add_section()
    table.add_row("[bold]total[/bold]", "", str(len(ck.tensors)), exact(ck.params), human(ck.params),
                  size(ck.nbytes), "", style="bold")
    dtypes = Sheet("Bytes on disk by dtype", [("dtype", "left"), ("tensors", "right"), ("elements", "right"),
                                               ("bytes", "right"), ("", "right")])
    for row in ck.by_dtype():
        dtypes.add_row(row.dtype, str(row.tensors), exact(row.params), exact(row.nbytes), size(row.nbytes))
    dtypes.add_section()
    dtypes.add_row("[bold]tensor data[/bold]", str(len(ck.tensors)), "", exact(ck.nbytes), size(ck.nbytes),
                   style="bold")
    dtypes.add_row("file(s)", str(len(ck.files)), "", exact(ck.file_bytes), size(ck.file_bytes))
    notes = [UNITS_NOTE, f"{ck.format} header{'s' if len(ck.files) > 1 else ''} of {len(ck.files)} file(s); no "
             "tensor data read. Parameters are the logical (dequantized) elements of the weight tensors; "
             "'elements' are as stored."]
    notes += [f"{key}: {value}" for key, value in ck.metadata]
    if ck.packing:
        notes.append("Packed: " + "; ".join(ck.packing) + ".")
    others = ck.other
    if others:
        listed = ", ".join(t.name for t in others[:LISTED_OTHERS])
        more = f" and {len(others) - LISTED_OTHERS} more" if len(others) > LISTED_OTHERS else ""
        notes.append(f"Not recognised (counted as other): {listed}{more}.")
    if ck.buffer_values:
        notes.append(f"Not counted: {ck.buffer_values:,} buffer values (stored, not trained).")
    return [table, dtypes, Note("\n".join(notes))]


def checkpoint_json(ck) -> dict[str, Any]:
    return {
        "path": ck.path, "format": ck.format, "files": list(ck.files), "file_bytes": ck.file_bytes,
        "params": ck.params, "buffer_values": ck.buffer_values, "tensor_bytes": ck.nbytes,
        "metadata": dict(ck.metadata), "packing": list(ck.packing),
        "by_dtype": [{"dtype": r.dtype, "tensors": r.tensors, "elements": r.params, "bytes": r.nbytes}
                     for r in ck.by_dtype()],
        "components": [{"component": r.component, "role": r.role, "layers": list(r.layers), "tensors": r.tensors,
                        "params": r.params, "bytes": r.nbytes, "dtypes": list(r.dtypes)} for r in ck.components()],
        "tensors": [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "params": t.params,
                     "bytes": t.nbytes, "component": t.component, "layer": t.layer, "role": t.role}
                    for t in ck.tensors],
    }


CHECKPOINT_FIELDS = ["checkpoint", "component", "role", "layers", "n_layers", "tensors", "params", "bytes", "dtypes"]


def checkpoint_records(ck) -> list[dict[str, Any]]:
    return [{"checkpoint": ck.path, "component": r.component, "role": r.role, "layers": index_ranges(r.layers),
             "n_layers": len(r.layers), "tensors": r.tensors, "params": r.params, "bytes": r.nbytes,
             "dtypes": " ".join(r.dtypes)} for r in ck.components()]


def _where(match) -> str:
    if match.group is None:
        return "model"
    if match.group in ("", "layers"):
        return f"layers {index_ranges(match.layers)}"
    return f"{match.group} ({index_ranges(match.layers)})"


def check_table(comparison) -> list[Block]:
    ck, model = comparison.checkpoint, comparison.model
    title = f"{model_title(model)} against {escape(ck.path)}"
    table = Sheet(title, [("component", "left"), ("where", "left"), ("spec", "right"), ("checkpoint", "right"),
                          ("difference", "right"), ("result", "left")])
    previous = None
    for m in comparison.matches:
        if previous is not None and m.group != previous:
            table.add_section()
        previous = m.group
        style = STATUS_STYLE[m.status]
        result = f"[{style}]{m.status}[/{style}]" + (f" ({m.note})" if m.note else "")
        if m.status == "different" and m.checkpoint_per_layer is None and m.layers:
            result += " (the layers differ)"
        table.add_row(_label(m.component, "weight"), _where(m), exact(m.spec), exact(m.checkpoint),
                      f"{m.checkpoint - m.spec:+,}" if m.checkpoint != m.spec and m.status not in STATUSES[4:] else "",
                      result)
    table.add_section()
    table.add_row("[bold]total[/bold]", "", exact(sum(m.spec for m in comparison.matches)),
                  exact(sum(m.checkpoint for m in comparison.matches)), "", "", style="bold")
    counts = ", ".join(f"{comparison.counted(s)} {s}" for s in STATUSES[:4])
    counts += "".join(f", {n} {s}" for s in STATUSES[4:] if (n := comparison.counted(s)))
    verdict = "Every component equal." if comparison.ok else "The checkpoint does not hold what the spec says."
    if comparison.ok and comparison.counted("elsewhere"):
        verdict = ("Every component this file holds equal; the rest are in the other file of llama.cpp's pair (the "
                   "language model's GGUF and the mmproj GGUF of its vision tower and projector).")
    return [table, Note(f"{counts}. {verdict}", style="bold green" if comparison.ok else "bold red"),
            Note("Parameters per component and layer group; scales are bytes, not parameters, and are left out.")]


def check_json(comparison) -> dict[str, Any]:
    return {"model": model_label(comparison.model), "checkpoint": comparison.checkpoint.path, "ok": comparison.ok,
            "summary": {s: comparison.counted(s) for s in STATUSES},
            "results": [{"component": m.component, "group": m.group, "layers": list(m.layers), "spec": m.spec,
                         "checkpoint": m.checkpoint, "spec_per_layer": m.spec_per_layer,
                         "checkpoint_per_layer": m.checkpoint_per_layer, "status": m.status, "note": m.note}
                        for m in comparison.matches]}


CHECK_FIELDS = ["model", "checkpoint", "component", "group", "layers", "spec", "checkpoint_params", "status"]


def check_records(comparison) -> list[dict[str, Any]]:
    return [{"model": model_label(comparison.model), "checkpoint": comparison.checkpoint.path,
             "component": m.component, "group": "" if m.group is None else m.group or "outside",
             "layers": index_ranges(m.layers), "spec": m.spec, "checkpoint_params": m.checkpoint,
             "status": m.status} for m in comparison.matches]
