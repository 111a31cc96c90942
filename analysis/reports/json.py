"""``report.json``: the report model as text for machines (pipelines gate on it)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from geoplan.analysis.reports.conflict_records import chunked

#: The JSON Schema (draft 2020-12) that ``report.json`` follows.
SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "report.schema.json"
#: Arrays written one element per line, without indentation inside: a city has
#: tens of thousands of findings and conflict rows, and indented key by key
#: they made the file twice as large and five times as slow to write.
ROW_ARRAYS = ("issues", "conflicts")
# One encoder for every row: json.dumps would build one per call.
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ROW_BREAK = ",\n    "


def _dumps(value: Any, indent: int | None) -> str:
    separators = None if indent else (",", ":")
    return json.dumps(
        value, ensure_ascii=False, indent=indent, separators=separators, allow_nan=False
    )


def write_report_json(report: Mapping[str, Any], file: TextIO) -> None:
    """Write ``report.json``'s text into ``file``: UTF-8, Chinese kept as text, no NaN.

    Indented by two spaces, but each element of :data:`ROW_ARRAYS` is one
    compact line (``json.loads`` reads it the same). The rows are written a
    chunk at a time: a province's conflicts never stand in memory as one text.
    """
    file.write("{\n")
    for n, (key, value) in enumerate(report.items()):
        file.write((",\n  " if n else "  ") + _dumps(key, None) + ": ")
        if key in ROW_ARRAYS and not len(value):
            file.write("[]")
        elif key in ROW_ARRAYS:
            file.write("[\n    ")
            for m, rows in enumerate(chunked(value)):
                lines = _ROW_BREAK.join(map(_ROW_ENCODER.encode, rows))
                file.write(_ROW_BREAK + lines if m else lines)
            file.write("\n  ]")
        else:  # a JSON string holds no raw line break: every one is indentation
            file.write(_dumps(value, 2).replace("\n", "\n  "))
    file.write("\n}\n")


def report_json(report: Mapping[str, Any]) -> str:
    """``report.json``'s text (:func:`write_report_json`)."""
    text = io.StringIO()
    write_report_json(report, text)
    return text.getvalue()
