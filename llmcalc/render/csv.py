"""A command's CSV records (built by its presentation module) as text: a header and one line per record, exact
numbers (no units, no thousands separators), so a spreadsheet can sum and plot them."""

from __future__ import annotations

import csv
import io
from typing import Any


def to_csv(fields: list[str], records: list[dict[str, Any]]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return text.getvalue()
