"""Packaging and documentation: the specs ship in the wheel, every spec key is documented."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from llmcalc import spec

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_spec(tmp_path):
    builders = pytest.importorskip("hatchling.builders.wheel")
    wheel = next(iter(builders.WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])))
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "llmcalc/specs/"
    shipped = {n[len(prefix):] for n in names if n.startswith(prefix) and n.endswith(".yaml")}
    in_repo = {p.relative_to(ROOT / "specs").as_posix() for p in (ROOT / "specs").rglob("*.yaml")}
    assert in_repo and shipped == in_repo and "hardware/gpus.yaml" in shipped
    assert "llmcalc/specs/README.md" in names
    code = {p.relative_to(ROOT).as_posix() for p in (ROOT / "llmcalc").rglob("*.py")}
    assert "llmcalc/cli/__init__.py" in code and code <= names  # every subpackage ships


def test_builtin_library_found():
    names = spec.builtin_names()
    assert len(names) >= 31 and "gpt2-small" in names


def test_every_spec_key_is_documented():
    readme = (ROOT / "specs" / "README.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", readme))
    keys = set(spec.TOP_KEYS + spec.ATTENTION_KEYS + spec.ATTENTION_BIAS_KEYS + spec.MLP_KEYS + spec.MOE_KEYS
               + spec.NORM_KEYS + spec.LAYER_GROUP_KEYS + spec.LAYER_REPEAT_KEYS + spec.TRAINING_KEYS
               + spec.FIGURE_KEYS + spec.FIGURES + spec.VISION_KEYS + spec.PROJECTOR_KEYS + spec.MIXER_KEYS
               + spec.MLA_KEYS + spec.INDEXER_KEYS)
    assert keys - documented == set()


def test_nothing_reads_the_shared_folder():
    for path in list((ROOT / "llmcalc").rglob("*.py")) + list((ROOT / "tests").rglob("*.py")):
        if path.name == "test_package.py":
            continue
        assert "shared/reference" not in path.read_text(), path
