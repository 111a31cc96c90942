"""``report.json``: the report model as text for machines (pipelines gate on it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The JSON Schema (draft 2020-12) that ``report.json`` follows.
SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "report.schema.json"
#: Arrays written one element per line, without indentation inside: a city has
#: tens of thousands of findings and conflict rows, and indented key by key
#: they made the file twice as large and five times as slow to write.
ROW_ARRAYS = ("issues", "conflicts")
# One encoder for every row: json.dumps would build one per call.
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _dumps(value: Any, indent: int | None) -> str:
    separators = None if indent else (",", ":")
    return json.dumps(
        value, ensure_ascii=False, indent=indent, separators=separators, allow_nan=False
    )


def report_json(report: Mapping[str, Any]) -> str:
    """``report.json``'s text: UTF-8, Chinese kept as text, no NaN.

    Indented by two spaces, but each element of :data:`ROW_ARRAYS` is one
    compact line (``json.loads`` reads it the same).
    """
    parts = []
    for key, value in report.items():
        if key in ROW_ARRAYS and value:
            text = "[\n    " + ",\n    ".join(map(_ROW_ENCODER.encode, value)) + "\n  ]"
        else:  # a JSON string holds no raw line break: every one is indentation
            text = _dumps(value, 2).replace("\n", "\n  ")
        parts.append(f"  {_dumps(key, None)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"
