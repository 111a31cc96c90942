"""``report.json``: the check result for machines (pipelines gate on it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from analysis.results import CheckResult, conflict_records, inputs, summary, tool_version

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


def write_report_json(result: CheckResult, path: str | os.PathLike) -> Path:
    """Write ``report.json`` (UTF-8, Chinese kept as text, indented).

    Parameters
    ----------
    result : CheckResult
    path : str or os.PathLike
        Where to write; the caller takes care of atomicity.
    """
    path = Path(path)
    path.write_text(
        json.dumps(report_data(result), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    return path
