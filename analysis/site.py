"""Site check: one proposed site against every layer and rule of a project.

The site stands in for a layer kind (an industrial park by default): every
rule that has that kind on a side its relation lets a site stand in for
(``site_sides`` of the entry in :mod:`analysis.relations`: the left side,
or either side of an overlap or distance rule) is evaluated with the site
in place of the layer. The
other layers are cut down to the site's neighbourhood first (their spatial
index), so the answer comes in well under a second once the project is
loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.analysis.engine import Evaluation, evaluate
from geoplan.analysis.overlay import intersect_pairs
from geoplan.analysis.prepare import prepare_inputs
from geoplan.analysis.relations import registry
from geoplan.analysis.rules import Rule
from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.crs import resolve_source_crs, to_crs
from geoplan.geo.errors import GeometryError
from geoplan.geo.repair import repair_geometries
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.geo.vector_read import read_vector
from geoplan.layers.catalog import get_kind
from geoplan.layers.errors import ProjectError
from geoplan.layers.field_mapping import convert_field
from geoplan.layers.loader import LoadedLayer, LoadedProject
from geoplan.layers.project_types import LayerSpec

#: Standard fields a site gets when it stands in for a park and none are given.
PARK_DEFAULTS = {"kind": "工业园区", "chemical": "否"}
#: Geometry types a site given as WKT may have.
SITE_TYPES = ("Polygon", "MultiPolygon")


def _require_finite(coords: np.ndarray, source: str) -> None:
    if not np.isfinite(coords).all():
        raise GeometryError(f"{source}: coordinates that are not finite numbers (NaN or infinity)")


def parse_wkt(text: str) -> shapely.Geometry:
    """A site given as WKT: one non-empty polygon or multipolygon with finite coordinates.

    Parameters
    ----------
    text : str
        WKT, e.g. ``"POLYGON ((380000 3530000, 381000 3530000, …))"``.

    Returns
    -------
    shapely.Geometry

    Raises
    ------
    GeometryError
        Not WKT, not a polygon, empty, or a coordinate NaN or infinite;
        the message starts with ``--wkt``.
    """
    try:
        with np.errstate(invalid="ignore"):  # NaN coordinates: refused below, not warned
            geom = shapely.from_wkt(text)
    except shapely.errors.GEOSException as exc:
        raise GeometryError(f"--wkt: not valid WKT ({exc})") from None
    if geom.geom_type not in SITE_TYPES:
        raise GeometryError(
            f"--wkt: no polygon (a {geom.geom_type}); a site is a POLYGON or MULTIPOLYGON"
        )
    if geom.is_empty:
        raise GeometryError("--wkt: no polygon (an empty one); a site must have an area")
    _require_finite(shapely.get_coordinates(geom), "--wkt")
    return geom


def read_site(
    path: str | os.PathLike | None,
    geometry: shapely.Geometry | None,
    crs: str | None,
    working_crs: Any,
) -> gpd.GeoDataFrame:
    """Read the proposed site: a polygon file, or a geometry given as WKT.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Any vector file geoplan reads.
    geometry : shapely.Geometry, optional
        The site from :func:`parse_wkt`, instead of a file.
    crs : str, optional
        CRS of the coordinates when the file has none or for WKT (default:
        detected from the coordinates: longitude/latitude, or zone-prefixed
        Gauss-Krüger).
    working_crs : pyproj.CRS
        The project's working CRS; the site is returned in it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site polygon, repaired, with ``name`` when the file has one.

    Raises
    ------
    GeometryError
        The input holds no polygon, or a coordinate that is NaN or infinite.
    """
    if geometry is not None:
        source = "--wkt"
        geoms = np.array([geometry], dtype=object)
        frame = gpd.GeoDataFrame({"name": ["site"]}, geometry=geoms, crs=None)
    else:
        source = str(path)
        frame = read_vector(path).frame
        if "name" not in frame:
            names = [c for c in frame.columns if c.upper() in ("MC", "NAME", "名称", "XMMC")]
            frame["name"] = frame[names[0]].astype(str) if names else Path(path).stem
    declared = to_crs(crs) if crs else frame.crs
    coords = shapely.get_coordinates(frame.geometry.values)
    if coords.size == 0:
        raise GeometryError(f"{source}: no geometry")
    _require_finite(coords, source)
    site_crs, _ = resolve_source_crs(declared, coords[:, 0], coords[:, 1], source=source)
    repaired = repair_geometries(
        frame.geometry.values, family="polygon", source=source, feature_ids=frame.index
    )
    frame = gpd.GeoDataFrame(
        frame.loc[repaired.keep, ["name"]].reset_index(drop=True),
        geometry=repaired.geometries,
        crs=site_crs,
    )
    if len(frame) == 0 or shapely.area(frame.geometry.values).sum() == 0:
        raise GeometryError(f"{source}: no polygon (a site must have an area)")
    return frame.to_crs(working_crs)


def site_layer(
    site: gpd.GeoDataFrame, kind_name: str, values: dict[str, str], crs: Any
) -> LoadedLayer:
    """The site as a loaded layer of ``kind_name``, with its standard fields set."""
    kind = get_kind(kind_name)
    spec = LayerSpec(kind=kind_name, path=Path("site"))
    data = pd.DataFrame({"id": [f"site-{i + 1}" for i in range(len(site))]})
    data["name"] = site["name"].astype(str).to_numpy()
    fields = {f.name: f for f in kind.all_fields}
    for name, value in values.items():
        if name not in fields:
            raise ProjectError(
                f"--set {name}: {kind_name} has no field {name!r}; its fields are: "
                f"{', '.join(sorted(fields))}"
            )
        data[name] = convert_field(pd.Series([value] * len(site)), fields[name], spec)
    data["area_m2"] = ellipsoidal_area(site.geometry.values, crs)
    data["source_fid"] = np.arange(len(site))
    frame = gpd.GeoDataFrame(data, geometry=site.geometry.values, crs=crs)
    return LoadedLayer(spec=spec, kind=kind, frame=frame, driver="site", source_crs=crs)


def site_rules(rules: list[Rule], kind: str) -> list[Rule]:
    """The rules a site of ``kind`` can break: those with ``kind`` on a side it may stand in for."""
    return [
        rule
        for rule in rules
        if any(s.kind == kind for s in rule.sides_named(registry()[rule.relation].site_sides))
    ]


def site_margin(rules: list[Rule]) -> float:
    """How far (m) around the site the rules look: the largest reach, plus a metre."""
    reaches = [rule.params[reach] for rule in rules if (reach := registry()[rule.relation].reach)]
    return max([0.0, *reaches]) + 1.0


def neighbourhood(loaded: LoadedProject, site: gpd.GeoDataFrame, margin: float) -> LoadedProject:
    """The project cut down to the features within ``margin`` metres of the site's extent."""
    x0, y0, x1, y1 = site.total_bounds
    window = shapely.box(x0 - margin, y0 - margin, x1 + margin, y1 + margin)
    layers = {}
    for kind, layer in loaded.layers.items():
        hits = np.sort(layer.frame.sindex.query(window, predicate="intersects"))
        layers[kind] = replace(layer, frame=layer.frame.iloc[hits].reset_index(drop=True))
    return replace(loaded, layers=layers)


@dataclass
class SiteResult:
    """What a site check found.

    Attributes
    ----------
    site : geopandas.GeoDataFrame
        The site, in the working CRS, with ``area_m2``.
    kind : str
        The layer kind it stood in for.
    touches : pandas.DataFrame
        Every feature of every layer the site shares area with: ``kind``,
        ``id``, ``name``, ``area_m2`` of the shared part, and for townships
        ``county`` and ``function_type``.
    evaluation : Evaluation
        The rules evaluated with the site in place of its kind.
    """

    site: gpd.GeoDataFrame
    kind: str
    touches: pd.DataFrame
    evaluation: Evaluation

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        area = float(self.site["area_m2"].sum())
        conflicts = pd.DataFrame(self.evaluation.conflicts.drop(columns="geometry"))
        return {
            "site": {
                "as_kind": self.kind,
                "features": len(self.site),
                "area_m2": round(area, 2),
                "area_mu": round(float(m2_to_mu(area)), 2),
                "area_ha": round(float(m2_to_ha(area)), 4),
            },
            "touches": self.touches.round({"area_m2": 2, "area_mu": 2}).to_dict(orient="records"),
            "rules": [
                {
                    "rule_id": r.rule.id,
                    "title": r.rule.title,
                    "severity": r.rule.severity,
                    "status": r.status,
                    "reason": r.reason or None,
                    "conflicts": r.conflicts,
                    "area_m2": round(r.area_m2, 2),
                }
                for r in self.evaluation.results
            ],
            "conflicts": conflicts.round({"area_m2": 2, "area_mu": 2, "area_ha": 4})
            .astype(object)
            .where(conflicts.notna(), None)
            .to_dict(orient="records"),
        }


def touches(loaded: LoadedProject, site: gpd.GeoDataFrame, skip: str) -> pd.DataFrame:
    """Every polygon feature of every layer (but ``skip``) that shares area with the site."""
    rows = []
    site_geoms = site.geometry.values
    for kind, layer in loaded.layers.items():
        if kind == skip or layer.kind.family != "polygon" or len(layer.frame) == 0:
            continue
        frame = layer.frame
        _, fi, shared = intersect_pairs(site_geoms, frame.geometry.values)
        if fi.size == 0:
            continue
        part = frame.iloc[fi]
        area = ellipsoidal_area(shared, loaded.crs)
        rows.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "title": layer.kind.title,
                    "id": part["id"].astype(str).to_numpy(),
                    "name": part["name"].astype(str).to_numpy() if "name" in part else "",
                    "county": part["county"].fillna("").to_numpy() if "county" in part else "",
                    "function_type": part["function_type"].fillna("").to_numpy()
                    if "function_type" in part
                    else "",
                    "area_m2": area,
                    "area_mu": m2_to_mu(area),
                }
            )
        )
    columns = ["kind", "title", "id", "name", "county", "function_type", "area_m2", "area_mu"]
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.concat(rows, ignore_index=True)
    out = out.groupby(["kind", "title", "id", "name", "county", "function_type"], sort=False)
    return out[["area_m2", "area_mu"]].sum().reset_index()[columns]


def check_site(
    loaded: LoadedProject,
    site: gpd.GeoDataFrame,
    rules: list[Rule],
    *,
    kind: str = "parks",
    values: dict[str, str] | None = None,
) -> SiteResult:
    """Check a proposed site against a loaded project.

    Parameters
    ----------
    loaded : LoadedProject
    site : geopandas.GeoDataFrame
        From :func:`read_site`, in the working CRS.
    rules : list of Rule
    kind : str, default "parks"
        The layer kind the site stands in for.
    values : dict of str to str, optional
        Standard fields of the site (for ``parks`` the defaults are
        :data:`PARK_DEFAULTS`).

    Returns
    -------
    SiteResult
    """
    values = {**(PARK_DEFAULTS if kind == "parks" else {}), **(values or {})}
    chosen = site_rules(rules, kind)
    near = neighbourhood(loaded, site, site_margin(chosen))
    layer = site_layer(site, kind, values, loaded.crs)
    near.layers[kind] = layer
    evaluation = evaluate(near, chosen, prepared=prepare_inputs(near, chosen))
    return SiteResult(
        site=layer.frame,
        kind=kind,
        touches=touches(near, layer.frame, kind),
        evaluation=evaluation,
    )
