"""Refresh the command outputs shown in README.md: every ```text block that opens with `$ llmcalc ...`
is re-run (at 110 columns) and its output replaced, and the table of supported model_types between its markers is
generated again from the importers' registry (each type's default config mapped as `llmcalc` maps it). Run after
changing output; `--check` only reports (exit 1) what is out of date (tests/test_readme.py does the same)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```text\n\$ (llmcalc [^\n]*)\n.*?```", re.S)
TABLE = re.compile(r"(<!-- model_types:start -->\n).*?(<!-- model_types:end -->)", re.S)
# keys a default config lacks that transformers cannot build without (the importers refuse them)
NEEDED = {"deepseek_v2": {"num_experts_per_tok": 6}, "hunyuan_v1_dense": {"head_dim": 128},
          "hunyuan_v1_moe": {"head_dim": 128},
          # Llama4VisionConfig()'s widths do not chain (the import then counts the text model): Llama 4 Scout's do
          "llama4": {"vision_config": {"hidden_size": 1408, "image_size": 336, "vision_output_dim": 4096}}}


def run(command: str) -> str:
    env = {**os.environ, "COLUMNS": "110"}
    args = [sys.executable, "-m", "llmcalc.cli", *shlex.split(command)[1:]]
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    text = done.stdout + done.stderr
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def refreshed(text: str) -> str:
    """The README text with every command block's output re-run and the model_type table generated again."""
    text = TABLE.sub(lambda m: m.group(1) + model_type_table() + m.group(2), text)
    return BLOCK.sub(lambda m: f"```text\n$ {m.group(1)}\n{run(m.group(1))}\n```", text)


def _layers(model) -> str:
    """The kinds of layer a model stacks, in words, in order of first appearance."""
    from llmcalc.model import MIXER_NAMES

    kinds = []
    for group in model.groups:
        layer, att = group.layer, group.layer.attention
        token = ("MLA" if att.mla else "cross-attention to the images" if att.to_images else "attention") if att else ""
        token += " (DSA indexer)" if att and att.mla and att.mla.indexer else ""
        if layer.mixer:
            name = MIXER_NAMES[layer.mixer.kind]
            token = f"attention beside {name}" if att else name
        channel = ("experts" + (" + shared" if layer.moe.n_shared_experts else "")) if layer.moe else \
            "MLP" if layer.mlp else ""
        kinds.append(" + ".join(part for part in (token, channel) if part))
    text = "; ".join(dict.fromkeys(kinds))
    text += "; per-layer inputs" if model.per_layer_vocab else ""
    return text + ("; parallel blocks" if model.residual == "parallel" else "")


def model_type_table() -> str:
    """A markdown row per supported model_type: the layers its default config stacks and what the count covers."""
    import json
    import tempfile
    import warnings

    import llmcalc
    from llmcalc.importers import hf
    from llmcalc.importers.hf.registry import TYPES

    rows = ["| model_type | layers (of its default config) | counted |", "|---|---|---|"]
    with tempfile.TemporaryDirectory() as folder:
        for name in hf.SUPPORTED:
            config = {"model_type": name, **NEEDED.get(name, {})}
            if name == "lfm2_moe":  # Lfm2MoeConfig has no default layer_types
                n = TYPES[name].defaults["num_hidden_layers"]
                config["layer_types"] = ["conv", "full_attention"] * (n // 2) + ["conv"] * (n % 2)
            path = Path(folder) / name / "config.json"
            path.parent.mkdir()
            path.write_text(json.dumps(config))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = llmcalc.load(str(path))
            towers = "vision and audio towers" if name == "gemma4" else "vision tower"
            counted = "text model and vision tower, projector" if model.vision else \
                f"text model (its {towers} not counted)" if TYPES[name].text_model else "text model"
            if model.mtp_modules:
                counted += f"; {model.mtp_modules} MTP module(s) apart"
            rows.append(f"| `{name}` | {_layers(model)} | {counted} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    text = README.read_text()
    new = refreshed(text)
    if "--check" in sys.argv[1:]:
        stale = [m.group(1) for m, n in zip(BLOCK.finditer(text), BLOCK.finditer(new)) if m.group(0) != n.group(0)]
        for command in stale:
            print(f"README.md: the output of `{command}` is out of date", file=sys.stderr)
        old_table, new_table = TABLE.search(text), TABLE.search(new)
        if old_table is None or old_table.group(0) != new_table.group(0):
            stale.append("table")
            print("README.md: the table of supported model_types is missing or out of date", file=sys.stderr)
        sys.exit(1 if stale else 0)
    README.write_text(new)


if __name__ == "__main__":
    main()
