"""A command's JSON document (built by its presentation module) as text: indented, keys in the order built."""

from __future__ import annotations

import json
from typing import Any


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)
