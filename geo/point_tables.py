"""Point tables: a site's corner points as a CSV or XLSX sheet.

One row per point, with columns (names matched case-insensitively):

- 点号 (``点号``, ``界址点号``, ``JZDH``, ``ID``, ``点名``), optional;
- X, the northing (``X``, ``X坐标``, ``纵坐标``, ``北坐标``);
- Y, the easting (``Y``, ``Y坐标``, ``横坐标``, ``东坐标``), with or without the
  zone number in front;
- 圈号 (``圈号``, ``地块圈号``, ``ring``), optional: 1 for the outer ring, other
  numbers for holes or further parts, as in 界址点坐标 files;
- 地块 (``地块编号``, ``地块名称``, ``地块``, ``DKBH``, ``DKMC``, ``parcel``),
  optional: rows of one value form one parcel.

The conventions are those of :mod:`geo.boundary_points` (rings closed by
repeating the first point or not, X and Y swapped refused); the CRS comes
from the values and, when Y carries no zone number, from ``zone``. CSV is
read as UTF-8 when it decodes so, else as GB18030 (Excel's "CSV" in China).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS

from geoplan.geo.boundary_points import BoundaryPointsError, Parcel, assemble_parcel, point_rings
from geoplan.geo.survey_crs import SurveyCRSError, survey_crs

#: Accepted column names by role (compared after stripping, case-insensitively).
COLUMNS = {
    "point": ("点号", "界址点号", "jzdh", "id", "点名", "point"),
    "x": ("x", "x坐标", "纵坐标", "北坐标", "northing"),
    "y": ("y", "y坐标", "横坐标", "东坐标", "easting"),
    "ring": ("圈号", "地块圈号", "ring"),
    "parcel": ("地块编号", "地块名称", "地块", "dkbh", "dkmc", "parcel"),
}
#: File name endings read as point tables.
SUFFIXES = (".csv", ".xlsx")


class PointTableError(BoundaryPointsError):
    """A point table that cannot be read; the message names the file, row and column."""


def _read_frame(path: Path) -> pd.DataFrame:
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PointTableError(f"{source}: cannot be read ({exc.strerror})") from None
    try:
        if path.suffix.lower() == ".xlsx":
            return pd.read_excel(io.BytesIO(data), dtype=str, engine="openpyxl")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        return pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)
    except (ValueError, UnicodeDecodeError, KeyError, OSError) as exc:
        raise PointTableError(f"{source}: not a readable {path.suffix} table ({exc})") from None


def _column(frame: pd.DataFrame, role: str, source: str, required: bool) -> str | None:
    by_name = {str(c).strip().lower(): c for c in frame.columns}
    found = next((by_name[n] for n in COLUMNS[role] if n in by_name), None)
    if found is None and required:
        raise PointTableError(
            f"{source}: no {role.upper()} column; name it one of {', '.join(COLUMNS[role])} "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    return found


def _numbers(values: pd.Series, column: str, source: str) -> np.ndarray:
    out = pd.to_numeric(values.str.strip(), errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(out)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise PointTableError(
            f"{source}: row {row + 2}: column {column} {values.iloc[row]!r} is not a number"
        )
    return out


def read_point_table(path: str | os.PathLike, *, zone: str = "") -> tuple[CRS, list[Parcel]]:
    """Read a point table into parcels.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv`` or ``.xlsx`` file (its first sheet).
    zone : str, optional
        带号 when Y carries no zone number.

    Returns
    -------
    crs : pyproj.CRS
    parcels : list of Parcel
        One per 地块 value (one in all without that column), in the order
        they first appear; ``line`` is the sheet row of its first point.

    Raises
    ------
    PointTableError
        No X or Y column, a value that is no number, swapped X and Y, a ring
        of fewer than 3 points or rings that make no valid polygon.
    """
    path = Path(path)
    source = str(path)
    frame = _read_frame(path).dropna(how="all")
    if len(frame) == 0:
        raise PointTableError(f"{source}: no rows")
    x_col, y_col = (_column(frame, r, source, True) for r in ("x", "y"))
    x = _numbers(frame[x_col].fillna(""), x_col, source)
    y = _numbers(frame[y_col].fillna(""), y_col, source)
    try:
        crs = survey_crs(x, y, source=source, zone=zone)
    except SurveyCRSError as exc:
        raise PointTableError(str(exc)) from None
    ring_col = _column(frame, "ring", source, False)
    rings = _numbers(frame[ring_col].fillna(""), ring_col, source) if ring_col else np.ones(len(x))
    point_col = _column(frame, "point", source, False)
    names = frame[point_col].fillna("").astype(str) if point_col else pd.Series([""] * len(x))
    parcel_col = _column(frame, "parcel", source, False)
    keys = frame[parcel_col].fillna("").astype(str).str.strip() if parcel_col else None
    rows = np.arange(len(x)) + 2  # the header is row 1
    groups = (
        [np.arange(len(x))]
        if keys is None
        else [np.flatnonzero(keys.to_numpy() == key) for key in dict.fromkeys(keys)]
    )
    parcels = []
    for members in groups:
        points = [(names.iloc[i], int(rings[i]), x[i], y[i]) for i in members]
        line = int(rows[members[0]])
        geometry = assemble_parcel(point_rings(points, list(rows[members]), source), source, line)
        attributes = {"地块名称": keys.iloc[members[0]]} if keys is not None else {}
        parcels.append(Parcel(geometry, attributes, points, line))
    return crs, parcels
