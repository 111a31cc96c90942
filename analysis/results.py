"""The result of a check: one data model every report renders.

:class:`CheckResult` holds what a run found and used; :func:`summary`
aggregates it (by rule, severity, county and township, with the target
table) and :func:`conflict_records` gives the conflict rows without
geometry. Renderers read these and compute nothing of their own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.analysis.engine import CONFLICT_COLUMNS, Evaluation, RuleResult
from geoplan.analysis.rules import Rule
from geoplan.analysis.targets import TargetRow
from geoplan.geo.terrain import DerivedRasters
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.geo.zonal import zonal_stats
from geoplan.layers.inventory import inventory
from geoplan.layers.loader import LoadedProject
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES


def tool_version() -> str:
    """The installed geoplan version."""
    try:
        return version("geoplan")
    except PackageNotFoundError:  # running from a source tree without install
        return "unknown"


@dataclass
class CheckResult:
    """Everything a check run produced.

    Attributes
    ----------
    loaded : LoadedProject
    packs : list of str
        The rule packs used (built-in names or files).
    rules : list of Rule
        The rules evaluated (after disabling and tolerance overrides).
    evaluation : Evaluation
    targets : list of TargetRow
    started : datetime
        When the run started (local time, with its offset).
    terrain : pandas.DataFrame, optional
        Per township: elevation and slope statistics from the project's DEM
        (:func:`terrain_by_township`).
    """

    loaded: LoadedProject
    packs: list[str]
    rules: list[Rule]
    evaluation: Evaluation
    targets: list[TargetRow]
    started: datetime
    terrain: pd.DataFrame | None = None

    @property
    def conflicts(self) -> gpd.GeoDataFrame:
        """The conflict rows."""
        return self.evaluation.conflicts


def _areas(area_m2: float) -> dict[str, float]:
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
    """One row per rule: its definition, how it went, its totals and slivers."""
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
                "distance_m": rule.distance_m,
                "raster": rule.raster,
                "measure": rule.measure,
                "threshold": rule.threshold,
                "min_area_m2": rule.min_area_m2,
                "citation": {
                    "document": rule.citation.document,
                    "issuer": rule.citation.issuer,
                    "number": rule.citation.number,
                    "date": rule.citation.date,
                    "article": rule.citation.article,
                    "quote": rule.citation.quote,
                    "basis": rule.citation.basis,
                    "text": rule.citation.short(),
                },
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


def terrain_by_township(
    loaded: LoadedProject, derived: DerivedRasters | None = None
) -> pd.DataFrame | None:
    """Elevation (m) and slope (°) statistics per township from the project's ``dem``.

    Cells are weighted by the fraction of them inside the township
    (:func:`geo.zonal.zonal_stats`). None when the project has no DEM or no
    townships.
    """
    dem = loaded.project.rasters.get("dem")
    if dem is None or "townships" not in loaded.layers:
        return None
    info = dem.info()
    towns = loaded.frame("townships")
    elevation = zonal_stats(info, towns, measure="elevation", stats=("mean", "min", "max"))
    slope = zonal_stats(
        info, towns, measure="slope", stats=("mean", "p50"), threshold=25, derived=derived
    )
    table = pd.DataFrame(
        {
            "county": towns["county"].astype(str).to_numpy(),
            "township": towns["name"].astype(str).to_numpy(),
            "function_type": towns["function_type"].astype(str).to_numpy(),
            "elevation_mean": elevation["mean"].to_numpy(),
            "elevation_min": elevation["min"].to_numpy(),
            "elevation_max": elevation["max"].to_numpy(),
            "slope_mean": slope["mean"].to_numpy(),
            "slope_p50": slope["p50"].to_numpy(),
            "slope_share_above_25": slope["share_above"].to_numpy(),
        }
    )
    return table.sort_values(["county", "township"]).reset_index(drop=True)


def conflict_records(conflicts: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The conflict rows without geometry, JSON-ready (NaN → None, areas rounded)."""
    table = pd.DataFrame(conflicts.drop(columns="geometry"))[list(CONFLICT_COLUMNS)]
    table = table.round({"area_m2": 2, "area_mu": 2, "area_ha": 4, "distance_m": 2})
    table = table.astype(object).where(table.notna(), None)
    return table.to_dict(orient="records")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def inputs(loaded: LoadedProject) -> dict[str, Any]:
    """What the run read: the project file, each layer's source with its hash, and the inventory."""
    project = loaded.project
    files = {spec.path for spec in project.layers.values()}
    return {
        "project_file": str(project.path),
        "project_sha256": _sha256(project.path),
        "working_crs": loaded.crs.to_string(),
        "files": [
            {"path": str(path), "sha256": _sha256(path) if path.exists() else None}
            for path in sorted(files)
        ],
        "layers": inventory(loaded),
    }
