"""Write 界址点坐标 text files (the format is described in :mod:`geo.boundary_points`).

Any polygon — a proposed site, a conflict found by a check — is written as a
parcel: its outer rings and holes as rings of increasing 圈号, each closed by
repeating its first point (J1 … J1), X the northing and Y the easting with
the zone number in front, 地块面积 the plane area of the zone in 公顷 (as
勘测定界 computes it from the coordinates). GBK, CRLF line ends.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

from geoplan.geo.boundary_points import HEADER_KEYS, PARCEL_FIELDS, BoundaryPointsError


def _zone_of(crs: CRS) -> tuple[int, bool]:
    """(zone, prefixed) of a CGCS2000 3° Gauss-Krüger CRS."""
    epsg = crs.to_epsg() or 0
    for first, prefixed in ((4513, True), (4534, False)):
        if first <= epsg < first + 21:
            return 25 + epsg - first, prefixed
    raise BoundaryPointsError(f"a 界址点坐标 file is written in a CGCS2000 3° zone, not {crs.name}")


def boundary_points_text(
    parcels: list[tuple[shapely.Geometry, dict[str, str]]],
    crs: CRS,
    *,
    precision_m: float = 0.001,
    header: dict[str, str] | None = None,
) -> str:
    """The text of a 界址点坐标 file for polygons (CRLF line ends; encode as GBK).

    Parameters
    ----------
    parcels : list of (geometry, attributes)
        Polygons or multipolygons in ``crs``, with :data:`PARCEL_FIELDS`
        values (地块编号, 地块名称, 地块用途 …; 界址点数, 地块面积 and 图形属性
        are computed).
    crs : pyproj.CRS
        A CGCS2000 3° Gauss-Krüger zone; Y is written with the zone number.
    precision_m : float, default 0.001
        精度, and the coordinates' rounding (m).
    header : dict, optional
        ``[属性描述]`` values to set (数据产生单位 …).

    Returns
    -------
    str
    """
    zone, prefixed = _zone_of(crs)
    decimals = max(0, round(-np.log10(precision_m)))
    values = {
        "坐标系": "2000国家大地坐标系",
        "几度分带": "3",
        "投影类型": "高斯克吕格",
        "计量单位": "米",
        "带号": str(zone),
        "精度": f"{precision_m:g}",
        "转换参数": ",,,,,,",
        **(header or {}),
    }
    lines = ["[属性描述]", *(f"{k}={values.get(k, '')}" for k in HEADER_KEYS), "[地块坐标]"]
    offset = 0.0 if prefixed else zone * 1_000_000.0
    for geometry, attributes in parcels:
        points: list[str] = []
        number = 0
        for ring_no, ring in enumerate(_rings_of(geometry), start=1):
            coords = np.asarray(ring.coords)[:-1]
            first = number + 1
            for x, y in coords:
                number += 1
                points.append(f"J{number},{ring_no},{y:.{decimals}f},{x + offset:.{decimals}f}")
            x, y = coords[0]
            points.append(f"J{first},{ring_no},{y:.{decimals}f},{x + offset:.{decimals}f}")
        fields = {**attributes, "界址点数": str(len(points)), "图形属性": "面"}
        fields["地块面积"] = f"{geometry.area / 10_000.0:.4f}"
        row = [_field_text(fields.get(name, "")) for name in PARCEL_FIELDS]
        lines.append(",".join([*row, "", "@"]))
        lines.extend(points)
    return "\r\n".join(lines) + "\r\n"


def _field_text(value: str) -> str:
    """A value as a field: commas, ``@`` and line breaks would break the line apart."""
    return re.sub(r"[,@\s]+", " ", str(value)).strip()


def _rings_of(geometry: shapely.Geometry) -> list:
    """Each part's outer ring, then its holes: 圈号 1, 2, … in this order."""
    polygons = getattr(geometry, "geoms", [geometry])
    rings = []
    for polygon in polygons:
        polygon = shapely.orient_polygons(polygon)
        rings.extend([polygon.exterior, *polygon.interiors])
    return rings


def write_boundary_points(
    path: str | os.PathLike,
    parcels: list[tuple[shapely.Geometry, dict[str, str]]],
    crs: CRS,
    **options,
) -> None:
    """Write a 界址点坐标 file in GBK (see :func:`boundary_points_text` for the arguments).

    Raises
    ------
    BoundaryPointsError
        A value that GBK cannot encode (named).
    """
    text = boundary_points_text(parcels, crs, **options)
    try:
        data = text.encode("gbk")
    except UnicodeEncodeError as exc:
        raise BoundaryPointsError(
            f"{path}: {text[exc.start : exc.end]!r} cannot be written in GBK"
        ) from None
    Path(path).write_bytes(data)
