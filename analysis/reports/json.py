"""``report.json``: the report model as text for machines (pipelines gate on it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The JSON Schema (draft 2020-12) that ``report.json`` follows.
SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "report.schema.json"


def report_json(report: Mapping[str, Any]) -> str:
    """``report.json``'s text: UTF-8, Chinese kept as text, indented, no NaN."""
    return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
