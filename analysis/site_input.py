"""The proposed site as it arrives: WKT, a vector file, a 界址点坐标 file, a point table, DXF.

:func:`read_site` takes any of them and returns the site's polygons in the
project's working CRS, one row per parcel, with ``name`` and ``parcel_no``
(地块编号, where the input has one). The formats are read in ``geo/``:
:mod:`geo.boundary_points` (界址点坐标 text, several parcels, holes by 圈号),
:mod:`geo.point_tables` (CSV/XLSX of points), :mod:`geo.cad_read` (closed
polylines of a DXF) and :mod:`geo.vector_read` (GeoPackage, Shapefile, KML,
KMZ, GeoJSON …).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geoplan.geo.boundary_points import Parcel, looks_like_boundary_points, read_boundary_points
from geoplan.geo.cad_read import read_dxf_polygons
from geoplan.geo.crs import classify_crs, resolve_source_crs, to_crs
from geoplan.geo.errors import GeometryError
from geoplan.geo.point_tables import SUFFIXES as TABLE_SUFFIXES
from geoplan.geo.point_tables import read_point_table
from geoplan.geo.repair import repair_geometries
from geoplan.geo.vector_read import read_vector

#: Geometry types a site given as WKT may have.
SITE_TYPES = ("Polygon", "MultiPolygon")
#: Name fields of a vector site file, compared upper-case.
NAME_FIELDS = ("NAME", "MC", "名称", "XMMC", "DKMC", "地块名称")


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
        A 界址点坐标 ``.txt``, a point table (``.csv``, ``.xlsx``), a ``.dxf``
        drawing, or any vector file geoplan reads (``.kmz`` too).
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
        One row per parcel (site polygon), repaired, with ``name`` and
        ``parcel_no`` (empty where the input has none).

    Raises
    ------
    GeometryError
        The input holds no polygon, or a coordinate that is NaN or infinite.
    geo.boundary_points.BoundaryPointsError
        A 界址点坐标 file or point table that cannot be read (file and line named).
    """
    if geometry is not None:
        source = "--wkt"
        geoms = np.array([geometry], dtype=object)
        frame = gpd.GeoDataFrame({"name": ["site"]}, geometry=geoms, crs=None)
    else:
        source = str(path)
        frame = _read_file(Path(path), crs)
    frame["parcel_no"] = frame["parcel_no"] if "parcel_no" in frame else ""
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
        frame.loc[repaired.keep, ["name", "parcel_no"]].reset_index(drop=True),
        geometry=repaired.geometries,
        crs=site_crs,
    )
    if len(frame) == 0 or shapely.area(frame.geometry.values).sum() == 0:
        raise GeometryError(f"{source}: no polygon (a site must have an area)")
    return frame.to_crs(working_crs)


def _parcels_frame(parcels: list[Parcel], crs: Any, stem: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": [p.attributes.get("地块名称") or p.name or stem for p in parcels],
            "parcel_no": [p.attributes.get("地块编号", "") for p in parcels],
        },
        geometry=[p.geometry for p in parcels],
        crs=crs,
    )


def _read_file(path: Path, crs: str | None) -> gpd.GeoDataFrame:
    """A site file of any format, in its own CRS, with ``name``."""
    suffix = path.suffix.lower()
    if suffix == ".txt" or (path.is_file() and looks_like_boundary_points(path)):
        read = read_boundary_points(path)
        return _parcels_frame(read.parcels, read.crs, path.stem)
    if suffix in TABLE_SUFFIXES:
        kind = classify_crs(crs) if crs else None
        zone = str(kind.zone) if kind is not None and kind.zone else ""
        table_crs, parcels = read_point_table(path, zone=zone)
        return _parcels_frame(parcels, table_crs, path.stem)
    frame = read_dxf_polygons(path) if suffix == ".dxf" else read_vector(path).frame
    if "name" not in frame:
        names = [c for c in frame.columns if str(c).upper() in NAME_FIELDS]
        frame["name"] = frame[names[0]].fillna("").astype(str) if names else path.stem
    return frame
