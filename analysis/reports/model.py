"""The report model: what a check found and used, as plain JSON-ready values.

:func:`report_model` builds it once from a :class:`analysis.check_result.CheckResult`
(``result.report`` keeps it); ``report.json`` is this model as text and
every other rendering reads it (a loaded ``report.json`` renders the same).
Its ``conflicts`` are :class:`.conflict_records.ConflictRecords`, rows made
as they are read.
It is pure but for one thing: the zonal statistics were computed by the
check, and the only files it reads are the inputs it hashes for
``provenance`` and ``inputs`` (once each, :func:`geo.checksum.file_sha256`).
It computes from the conflicts' geometries the land of each summary group
(:mod:`.land`), the 问题清单 (:mod:`.issues`) and the verdict (:mod:`.verdict`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoplan.analysis.engine import RuleResult
from geoplan.analysis.land_classes import land_class_summary
from geoplan.analysis.provenance import provenance
from geoplan.analysis.reports.conflict_records import ConflictRecords
from geoplan.analysis.reports.issues import issues, severity_sorted
from geoplan.analysis.reports.land import LandIndex, grouped_land, land_areas
from geoplan.analysis.reports.verdict import rule_status, verdict
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.inventory import inventory
from geoplan.layers.loader import LoadedProject
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES, kind_title

if TYPE_CHECKING:
    from geoplan.analysis.check_result import CheckResult

#: Bumped when a field changes meaning or disappears (adding fields keeps it).
SCHEMA_VERSION = 2
#: The control lines (三条控制线) whose occupation ``summary.by_control_line`` reports.
CONTROL_LINES = ("ecological_redline", "permanent_farmland", "urban_boundary")


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


def _group(conflicts: pd.DataFrame, index: LandIndex, keys: list[str]) -> list[dict]:
    """Rows of ``keys`` with conflicts, summed and land areas, in severity order."""
    if len(conflicts) == 0:
        return []
    groups, _, land_m2 = grouped_land(conflicts, index, keys)
    rows = [
        {
            **{k: row[k] for k in keys},
            "conflicts": int(row["conflicts"]),
            **_areas(row["area_m2"]),
            **land_areas(land_m2[i]),
        }
        for i, row in enumerate(groups.to_dict("records"))
    ]
    return severity_sorted(rows) if "severity" in keys else rows


def rule_rows(results: list[RuleResult], land_m2: dict[str, float]) -> list[dict[str, Any]]:
    """One row per rule: its definition, status, totals (m², 亩, 公顷), land area and slivers.

    ``land_m2`` is the land area (m²) of each rule with conflicts, by rule id.
    The rows are in severity order, then land area.
    """
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
                **rule_status(r.status == "evaluated", r.conflicts, r.reason_zh, r.reason),
                "conflicts": r.conflicts,
                **_areas(r.area_m2),
                **land_areas(land_m2.get(rule.id, 0.0)),
                "slivers": r.slivers.count,
                "sliver_area_m2": round(r.slivers.area_m2, 2),
                "seconds": round(r.seconds, 3),
            }
        )
    return severity_sorted(rows)


def control_line_rows(
    conflicts: pd.DataFrame, index: LandIndex, layers: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Occupation of each control line: the conflicts whose ground lies in that line.

    A conflict's geometry lies in its left feature (the part of it that
    breaks the rule) and, for an overlap, in its right feature too; the
    piece of a park outside the urban boundary does not occupy the boundary.

    ``share_pct`` is the land area as a share of the line's whole area (per
    cent, from the inventory), None without the layer's area. Rows are in
    land-area order.
    """
    area_km2 = {layer["kind"]: layer["area_km2"] for layer in layers}
    rows = []
    for kind in CONTROL_LINES:
        if len(conflicts) == 0:
            break
        overlap = conflicts["detail"] == "overlap"
        touches = (
            (conflicts["left_kind"] == kind) | ((conflicts["right_kind"] == kind) & overlap)
        ).to_numpy()
        if not touches.any():
            continue
        land_m2 = index.land_of(touches)
        whole = area_km2.get(kind)
        rows.append(
            {
                "control_line": kind,
                "title": kind_title(kind),
                "conflicts": int(touches.sum()),
                **_areas(conflicts["area_m2"].to_numpy()[touches].sum()),
                **land_areas(land_m2),
                "share_pct": round(100 * land_m2 / (whole * 1e6), 4) if whole else None,
            }
        )
    return sorted(rows, key=lambda r: -r["land_area_m2"])


def summary(result: CheckResult, layers: list[dict[str, Any]], index: LandIndex) -> dict[str, Any]:
    """Counts, summed and land areas by severity, rule, county, township and control line.

    Parameters
    ----------
    result : CheckResult
    layers : list of dict
        The inventory (``inputs.layers``), for the control lines' whole areas.
    index : LandIndex
        Which of ``result.conflicts`` share area (their land is measured by it).
    """
    conflicts = pd.DataFrame(result.conflicts.drop(columns="geometry")).reset_index(drop=True)
    by_severity_land = {r["severity"]: r for r in _group(conflicts, index, ["severity"])}
    by_severity = []
    for severity in SEVERITIES:
        row = by_severity_land.get(severity, {"conflicts": 0, **_areas(0.0), **land_areas(0.0)})
        by_severity.append({"severity": severity, "title": SEVERITY_TITLES[severity], **row})
    by_rule_land = {r["rule_id"]: r["land_area_m2"] for r in _group(conflicts, index, ["rule_id"])}
    land_m2 = index.land_of(np.ones(len(conflicts), dtype=bool))
    return {
        "conflicts": len(conflicts),
        **_areas(conflicts["area_m2"].sum() if len(conflicts) else 0.0),
        **land_areas(land_m2),
        "rules_evaluated": sum(r.status == "evaluated" for r in result.evaluation.results),
        "rules_skipped": sum(r.status == "skipped" for r in result.evaluation.results),
        "by_severity": by_severity,
        "by_rule": rule_rows(result.evaluation.results, by_rule_land),
        "by_county": _group(conflicts, index, ["county", "severity"]),
        "by_township": _group(
            conflicts, index, ["county", "township", "function_type", "severity"]
        ),
        "by_control_line": control_line_rows(conflicts, index, layers),
        "targets": [row.as_dict() for row in result.targets],
        "terrain_by_township": _terrain_rows(result.terrain),
        **land_class_summary(result.land_classes),
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


def inputs(loaded: LoadedProject) -> dict[str, Any]:
    """What the run read: the project file and layer sources with their SHA-256, the inventory."""
    project = loaded.project
    digests = {layer.spec.input_name: layer.sha256 for layer in loaded.layers.values()}
    return {
        "project_file": str(project.path),
        "project_sha256": loaded.project_sha256,
        "working_crs": loaded.crs.to_string(),
        "files": [{"path": path, "sha256": digests[path]} for path in sorted(digests)],
        "layers": inventory(loaded),
    }


def _partitions(conflicts: pd.DataFrame) -> list[np.ndarray]:
    """The rows by township, then by township and severity (:class:`.land.LandIndex` ``parts``).

    Pieces are cut by township, so most ground is unioned per township and
    severity once, and the county, the severity and the whole check union
    those unions.
    """
    if len(conflicts) == 0:
        return []
    township = conflicts["county"].astype(str) + "|" + conflicts["township"].astype(str)
    severity = township + "|" + conflicts["severity"].astype(str)
    return [pd.factorize(township)[0], pd.factorize(severity)[0]]


def report_model(result: CheckResult) -> dict[str, Any]:
    """The whole report as plain JSON-ready values, in a stable order (``report.json``)."""
    project = result.loaded.project
    read = inputs(result.loaded)
    conflicts = result.conflicts.reset_index(drop=True)
    index = LandIndex(
        conflicts.geometry.to_numpy(),
        conflicts["area_m2"].to_numpy(),
        result.evaluation.crs,
        _partitions(conflicts),
    )
    totals = summary(result, read["layers"], index)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "geoplan", "version": tool_version()},
        "run": {"started": result.started.isoformat(timespec="seconds")},
        "project": {"name": project.name, "file": str(project.path)},
        "rule_packs": list(result.packs),
        "verdict": verdict(totals, result.fail_on),
        "inputs": read,
        "provenance": provenance(result, verdict(totals, result.fail_on), tool_version()),
        "summary": totals,
        "issues": issues(conflicts, totals["by_rule"], index),
        "conflicts": ConflictRecords.of(result.conflicts),
    }
