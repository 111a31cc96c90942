"""The report model: what a check found and used, as plain JSON-ready values.

:func:`report_model` builds it once from a :class:`analysis.check_result.CheckResult`
(``result.report`` keeps it); ``report.json`` is this model as text and
every other rendering reads it (a loaded ``report.json`` renders the same).
It is pure: the zonal statistics were computed by the check and the inputs
hashed by the loader as they were read, so nothing here reads a file.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.analysis.conflict_rows import CONFLICT_COLUMNS
from geoplan.analysis.engine import RuleResult
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.inventory import inventory
from geoplan.layers.loader import LoadedProject
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES

if TYPE_CHECKING:
    from geoplan.analysis.check_result import CheckResult

#: Bumped when a field changes meaning or disappears (adding fields keeps it).
SCHEMA_VERSION = 1


def tool_version() -> str:
    """The installed geoplan version."""
    try:
        return version("geoplan")
    except PackageNotFoundError:  # running from a source tree without install
        return "unknown"


def _areas(area_m2: float) -> dict[str, float]:
    """An area (m²) in m², 亩 and 公顷, rounded as ``report.json`` holds them."""
    return {
        "area_m2": round(float(area_m2), 2),
        "area_mu": round(float(m2_to_mu(area_m2)), 2),
        "area_ha": round(float(m2_to_ha(area_m2)), 4),
    }


def _group(conflicts: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    if len(conflicts) == 0:
        return []
    grouped = conflicts.groupby(keys, sort=True, dropna=False)
    table = grouped.agg(conflicts=("conflict_id", "size"), area_m2=("area_m2", "sum"))
    rows = []
    for key, row in table.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "conflicts": int(row["conflicts"]),
                **_areas(row["area_m2"]),
            }
        )
    return rows


def rule_rows(results: list[RuleResult]) -> list[dict[str, Any]]:
    """One row per rule: its definition, how it went, its totals (m², 亩, 公顷) and slivers."""
    rows = []
    for r in results:
        rule = r.rule
        rows.append(
            {
                "rule_id": rule.id,
                "pack": rule.pack,
                "title": rule.title,
                "title_en": rule.title_en,
                "relation": rule.relation,
                "severity": rule.severity,
                "left": rule.left.describe() if rule.left else None,
                "right": rule.right.describe() if rule.right else None,
                "layers": [s.describe() for s in rule.layers],
                "region": rule.region.describe() if rule.region else None,
                "distance_m": rule.params.get("distance_m"),
                "raster": rule.params.get("raster"),
                "measure": rule.params.get("measure"),
                "threshold": rule.params.get("threshold"),
                "min_area_m2": rule.min_area_m2,
                "citation": rule.citation.as_dict(),
                "remedy": rule.remedy.as_dict() if rule.remedy else None,
                "note": rule.note,
                "status": r.status,
                "skipped_reason": r.reason or None,
                "conflicts": r.conflicts,
                **_areas(r.area_m2),
                "slivers": r.slivers.count,
                "sliver_area_m2": round(r.slivers.area_m2, 2),
                "seconds": round(r.seconds, 3),
            }
        )
    return rows


def summary(result: CheckResult) -> dict[str, Any]:
    """Counts and areas by rule, severity, county and township, and the target table."""
    conflicts = pd.DataFrame(result.conflicts.drop(columns="geometry"))
    by_severity = []
    for severity in SEVERITIES:
        part = conflicts[conflicts["severity"] == severity] if len(conflicts) else conflicts
        by_severity.append(
            {
                "severity": severity,
                "title": SEVERITY_TITLES[severity],
                "conflicts": len(part),
                **_areas(part["area_m2"].sum() if len(part) else 0.0),
            }
        )
    return {
        "conflicts": len(conflicts),
        **_areas(conflicts["area_m2"].sum() if len(conflicts) else 0.0),
        "rules_evaluated": sum(r.status == "evaluated" for r in result.evaluation.results),
        "rules_skipped": sum(r.status == "skipped" for r in result.evaluation.results),
        "by_severity": by_severity,
        "by_rule": rule_rows(result.evaluation.results),
        "by_county": _group(conflicts, ["county", "severity"]),
        "by_township": _group(conflicts, ["county", "township", "function_type", "severity"]),
        "targets": [row.as_dict() for row in result.targets],
        "terrain_by_township": _terrain_rows(result.terrain),
    }


def _terrain_rows(terrain: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Elevations (m) and slopes (°) to two decimals, the steep share to four; NaN → None."""
    if terrain is None:
        return []
    rounded = terrain.round(
        {
            c: 4 if c == "slope_share_above_25" else 2
            for c in terrain.columns
            if c.startswith(("elevation", "slope"))
        }
    )
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in rounded.to_dict("records")
    ]


def conflict_records(conflicts: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The conflict rows without geometry, JSON-ready (NaN → None, areas rounded)."""
    table = pd.DataFrame(conflicts.drop(columns="geometry"))[list(CONFLICT_COLUMNS)]
    table = table.round({"area_m2": 2, "area_mu": 2, "area_ha": 4, "distance_m": 2})
    table = table.astype(object).where(table.notna(), None)
    return table.to_dict(orient="records")


def inputs(loaded: LoadedProject) -> dict[str, Any]:
    """What the run read: the project file and layer sources with their SHA-256, the inventory."""
    project = loaded.project
    digests = {layer.spec.path: layer.sha256 for layer in loaded.layers.values()}
    return {
        "project_file": str(project.path),
        "project_sha256": loaded.project_sha256,
        "working_crs": loaded.crs.to_string(),
        "files": [{"path": str(path), "sha256": digests[path]} for path in sorted(digests)],
        "layers": inventory(loaded),
    }


def report_model(result: CheckResult) -> dict[str, Any]:
    """The whole report as plain JSON-ready values, in a stable order (``report.json``)."""
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
