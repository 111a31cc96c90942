"""``report.json``: the check result for machines (pipelines gate on it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from geoplan.analysis.results import CheckResult, conflict_records, inputs, summary, tool_version

#: Bumped when a field changes meaning or disappears (adding fields keeps it).
SCHEMA_VERSION = 1
#: The JSON Schema (draft 2020-12) that ``report.json`` follows.
SCHEMA_PATH = Path(__file__).parent / "schemas" / "report.schema.json"


def report_data(result: CheckResult) -> dict[str, Any]:
    """The whole report as plain JSON-ready values, in a stable order."""
    project = result.loaded.project
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "geoplan", "version": tool_version()},
        "run": {"started": result.started.isoformat(timespec="seconds")},
        "project": {"name": project.name, "file": str(project.path)},
        "rule_packs": list(result.packs),
        "inputs": inputs(result.loaded),
        "summary": summary(result),
        "conflicts": conflict_records(result.conflicts),
    }


def report_json(report: dict[str, Any]) -> str:
    """``report.json``'s text: UTF-8, Chinese kept as text, indented, no NaN."""
    return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
