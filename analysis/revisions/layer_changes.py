"""The layers of two checks compared feature by feature, and their area by county.

Features are matched by their standard ``id``, then by geometry
(:mod:`.matching`). A matched feature *changed* when its ground moved by
more than :data:`~.findings.GEOMETRY_TOLERANCE_M2` or one of the attributes
both versions carry differs. Areas are ellipsoidal (m²), per layer and per
county of the new check's ``counties`` layer, so that "the red line grew
12 公顷 in 南江县" is stated, not inferred.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoplan.analysis.revisions.findings import GEOMETRY_TOLERANCE_M2
from geoplan.analysis.revisions.matching import geometry_changed, match_rows
from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.geo.vector_read import list_layers, read_vector

#: Columns not compared: derived from the geometry or the row's place in the file, and the
#: id and its source field (a renumbered feature is matched by geometry, as ``match`` records).
_NOT_COMPARED = {"geometry", "source_fid", "area_m2", "area", "id"}
#: Tables in layers.gpkg that are not plan layers.
_NOT_LAYERS = {"layer_styles"}


def read_layers(path: Path | None, crs: CRS) -> dict[str, gpd.GeoDataFrame]:
    """The plan layers of a check's ``layers.gpkg`` in ``crs`` (none if the file is absent)."""
    if path is None:
        return {}
    frames = {}
    for name in list_layers(path):
        if name in _NOT_LAYERS:
            continue
        frame = read_vector(path, name).frame
        if frame.crs is not None and len(frame):
            frames[name] = frame.to_crs(crs)
    return frames


def _ids(frame: gpd.GeoDataFrame) -> np.ndarray:
    if "id" in frame.columns:
        return frame["id"].astype(str).to_numpy(dtype=object)
    return np.array([f"#{i}" for i in range(len(frame))], dtype=object)


def _id_sources(frame: pd.DataFrame) -> set[str]:
    """Source fields the ``id`` was read from (kept beside it with the same values)."""
    if "id" not in frame.columns:
        return set()
    ids = frame["id"].astype(str)
    return {c for c in frame.columns if c != "id" and (frame[c].astype(str) == ids).all()}


def _attributes_differ(old: pd.DataFrame, new: pd.DataFrame) -> np.ndarray:
    ignored = _NOT_COMPARED | _id_sources(old) | _id_sources(new)
    columns = sorted((set(old.columns) & set(new.columns)) - ignored)
    if not columns:
        return np.zeros(len(old), bool)
    a = pd.DataFrame(old[columns]).reset_index(drop=True)
    b = pd.DataFrame(new[columns]).reset_index(drop=True)
    same = (a == b) | (a.isna() & b.isna())
    return ~same.all(axis=1).to_numpy()


def _by_county(
    frame: gpd.GeoDataFrame, rows: np.ndarray, counties: gpd.GeoDataFrame | None
) -> pd.Series:
    """Ellipsoidal area (m²) of the features at ``rows`` in each county (by county name)."""
    if counties is None or len(rows) == 0 or not _polygonal(frame):
        return pd.Series(dtype=float)
    geoms = frame.geometry.to_numpy()[rows]
    shapes = counties.geometry.to_numpy()
    county_i, feature_i = shapely.STRtree(geoms).query(shapes)
    pieces = shapely.intersection(geoms[feature_i], shapes[county_i])
    names = counties["name"].astype(str).to_numpy()[county_i]
    return pd.Series(ellipsoidal_area(pieces, frame.crs)).groupby(names).sum()


def _polygonal(frame: gpd.GeoDataFrame) -> bool:
    return bool(frame.geom_type.isin(["Polygon", "MultiPolygon"]).all())


def _area(frame: gpd.GeoDataFrame) -> float:
    if len(frame) == 0 or not _polygonal(frame):
        return 0.0
    return float(np.nansum(ellipsoidal_area(frame.geometry.to_numpy(), frame.crs)))


def _areas(prefix: str, area_m2: float) -> dict[str, float]:
    return {
        f"{prefix}_m2": round(area_m2, 2),
        f"{prefix}_mu": round(float(m2_to_mu(area_m2)), 2),
        f"{prefix}_ha": round(float(m2_to_ha(area_m2)), 4),
    }


def compare_layer(
    name: str,
    old: gpd.GeoDataFrame | None,
    new: gpd.GeoDataFrame | None,
    counties: gpd.GeoDataFrame | None,
) -> tuple[dict, gpd.GeoDataFrame]:
    """Compare one layer of the two checks.

    Returns
    -------
    summary : dict
        ``layer``, ``added``, ``removed``, ``changed``, ``unchanged``,
        ``matched_by_geometry``, ``old_area_*``/``new_area_*``/``area_change_*``
        (m², 亩, 公顷; 0 for line layers) and ``by_county`` rows with the
        ``area_change_*`` in each county (of the features that differ).
    features : geopandas.GeoDataFrame
        The added, removed and changed features: ``layer``, ``change``,
        ``match``, ``old_id``, ``new_id`` and the geometry (the old one of
        a removed feature).
    """
    crs = (new if new is not None else old).crs
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs=crs)
    old = empty if old is None else old.reset_index(drop=True)
    new = empty if new is None else new.reset_index(drop=True)
    m = match_rows(_ids(old), _ids(new), old.geometry.to_numpy(), new.geometry.to_numpy())
    removed, added = m.unmatched(len(old), len(new))
    differs = geometry_changed(
        old.geometry.to_numpy()[m.old], new.geometry.to_numpy()[m.new], GEOMETRY_TOLERANCE_M2
    ) | _attributes_differ(old.iloc[m.old], new.iloc[m.new])
    rows = [
        (
            "added",
            None,
            np.full(len(added), None),
            _ids(new)[added],
            new.geometry.to_numpy()[added],
        ),
        (
            "removed",
            None,
            _ids(old)[removed],
            np.full(len(removed), None),
            old.geometry.to_numpy()[removed],
        ),
        (
            "changed",
            m.method[differs],
            _ids(old)[m.old[differs]],
            _ids(new)[m.new[differs]],
            new.geometry.to_numpy()[m.new[differs]],
        ),
    ]
    features = pd.concat(
        [
            pd.DataFrame(
                {
                    "layer": name,
                    "change": change,
                    "match": match,
                    "old_id": old_ids,
                    "new_id": new_ids,
                    "geometry": list(geoms),
                }
            )
            for change, match, old_ids, new_ids, geoms in rows
        ],
        ignore_index=True,
    )
    # unchanged features add the same area to both versions: only the others are cut by county
    gained = _by_county(new, np.concatenate([added, m.new[differs]]), counties)
    lost = _by_county(old, np.concatenate([removed, m.old[differs]]), counties)
    old_area, new_area = _area(old), _area(new)
    summary = {
        "layer": name,
        "added": len(added),
        "removed": len(removed),
        "changed": int(differs.sum()),
        "unchanged": int((~differs).sum()),
        "matched_by_geometry": int((m.method == "geometry").sum()),
        **_areas("old_area", old_area),
        **_areas("new_area", new_area),
        **_areas("area_change", new_area - old_area),
        "by_county": [
            {
                "county": county,
                **_areas("area_change", gained.get(county, 0.0) - lost.get(county, 0.0)),
            }
            for county in sorted(set(gained.index) | set(lost.index))
        ],
    }
    return summary, gpd.GeoDataFrame(features, geometry="geometry", crs=crs)


def compare_layers(
    old: dict[str, gpd.GeoDataFrame], new: dict[str, gpd.GeoDataFrame]
) -> tuple[list[dict], gpd.GeoDataFrame | None]:
    """:func:`compare_layer` for every layer either check has (counties of the new check)."""
    counties = new.get("counties", old.get("counties"))
    summaries, features = [], []
    for name in sorted(set(old) | set(new)):
        summary, changed = compare_layer(name, old.get(name), new.get(name), counties)
        summaries.append(summary)
        features.append(changed)
    if not features:
        return summaries, None
    return summaries, gpd.GeoDataFrame(pd.concat(features, ignore_index=True), crs=features[0].crs)
