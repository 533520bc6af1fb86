"""Reading a config.json: one JSON object of at most spec.MAX_SPEC_BYTES, no key given twice, and the model's name
from where the file lies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...errors import SpecError
from ...spec import read_text
from .config import kind as _kind


def read_config(path: Path) -> dict:
    """Read config.json: a JSON object of at most spec.MAX_SPEC_BYTES, no key given twice."""
    source = str(path)
    text = read_text(path, "a config.json")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise SpecError(source, None, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except _DuplicateKey as exc:
        raise SpecError(source, str(exc), "key given twice in one JSON object") from None
    except ValueError as exc:  # an integer past Python's 4,300-digit limit
        raise SpecError(source, None, f"not valid JSON for llmcalc: {' '.join(str(exc).split()[:8])}") from None
    except RecursionError:
        raise SpecError(source, None, "not valid JSON for llmcalc: nesting too deep") from None
    if not isinstance(data, dict):
        raise SpecError(source, None, f"a config.json must be a JSON object of keys to values, got {_kind(data)}")
    return data


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def model_name(path: Path) -> str:
    """The config's parent folder when the file is called config.json (a checkpoint folder), else its stem."""
    if path.name == "config.json":
        return path.parent.name or path.resolve().parent.name or "config"
    return path.stem
