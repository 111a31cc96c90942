"""Coordinate reference systems of Chinese planning data.

Recognises CGCS2000 geographic (EPSG:4490), the CGCS2000 3° Gauss-Krüger
zones with the central meridian only (EPSG:4534–4554) and with the zone
number prefixed to the easting (EPSG:4513–4533), and WGS 84; detects
zone-prefixed eastings when a ``.prj`` is missing or wrong; chooses one
projected working CRS for a dataset.

The EPSG definitions of these CRSs put northing first. Every transformer is
built with ``always_xy=True`` so that arrays are always (x=easting/longitude,
y=northing/latitude).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

from geoplan.geo.errors import CRSError

logger = logging.getLogger(__name__)

CGCS2000 = 4490
WGS84 = 4326
GK3_ZONES = range(25, 46)
_GK3_PREFIXED_FIRST = 4513  # zone 25, CM 75°E, easting prefixed with the zone
_GK3_CM_FIRST = 4534  # zone 25, CM 75°E, false easting 500 000 m

# Eastings of a 3° zone lie within ±1.5° of the central meridian (±170 km of the
# 500 km false easting at China's latitudes), but a dataset crossing a zone edge
# is often kept in one zone: accept up to ±400 km (±4° at 32°N).
_EASTING_MIN = 100_000.0
_EASTING_MAX = 900_000.0


@dataclass(frozen=True)
class CRSKind:
    """What a CRS is, in planning terms.

    Attributes
    ----------
    kind : str
        ``"cgcs2000"`` (geographic), ``"gk3"`` (3° zone, central meridian only),
        ``"gk3_prefixed"`` (3° zone, zone number in the easting), ``"wgs84"``,
        ``"other_projected"`` or ``"other_geographic"``.
    zone : int or None
        3° Gauss-Krüger zone number (central meridian = 3 × zone degrees east).
    epsg : int or None
        EPSG code, where the CRS has one.
    """

    kind: str
    zone: int | None
    epsg: int | None


def gk3_epsg(zone: int, *, prefixed: bool = False) -> int:
    """EPSG code of a CGCS2000 3° Gauss-Krüger zone.

    Parameters
    ----------
    zone : int
        Zone number, 25–45 (central meridian 75°E–135°E).
    prefixed : bool, default False
        True for the CRS whose eastings carry the zone number
        (e.g. 36 512 345.6 m), False for central meridian only (512 345.6 m).

    Returns
    -------
    int

    Examples
    --------
    >>> gk3_epsg(36)
    4545
    >>> gk3_epsg(35, prefixed=True)
    4523
    """
    if zone not in GK3_ZONES:
        raise CRSError(f"3-degree zone {zone} is outside China's zones 25-45")
    first = _GK3_PREFIXED_FIRST if prefixed else _GK3_CM_FIRST
    return first + zone - GK3_ZONES.start


def zone_of_longitude(lon: float) -> int:
    """3° Gauss-Krüger zone whose central meridian is nearest ``lon`` (degrees east)."""
    return int(np.floor(lon / 3.0 + 0.5))


def classify_crs(crs: CRS | str | int | None) -> CRSKind | None:
    """Tell which of the planning CRSs ``crs`` is.

    Parameters
    ----------
    crs : pyproj.CRS, str, int or None
        Anything :meth:`pyproj.CRS.from_user_input` accepts.

    Returns
    -------
    CRSKind or None
        None when ``crs`` is None.
    """
    if crs is None:
        return None
    crs = to_crs(crs)
    epsg = crs.to_epsg(min_confidence=70)
    if epsg == CGCS2000:
        return CRSKind("cgcs2000", None, epsg)
    if epsg == WGS84:
        return CRSKind("wgs84", None, epsg)
    if epsg is not None:
        offset = epsg - _GK3_PREFIXED_FIRST
        if 0 <= offset < len(GK3_ZONES):
            return CRSKind("gk3_prefixed", GK3_ZONES.start + offset, epsg)
        offset = epsg - _GK3_CM_FIRST
        if 0 <= offset < len(GK3_ZONES):
            return CRSKind("gk3", GK3_ZONES.start + offset, epsg)
    if crs.is_geographic:
        return CRSKind("other_geographic", None, epsg)
    return CRSKind("other_projected", None, epsg)


def to_crs(value: CRS | str | int) -> CRS:
    """Build a :class:`pyproj.CRS`, raising :class:`CRSError` with the input named."""
    if isinstance(value, CRS):
        return value
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises its own CRSError with a long message
        raise CRSError(f"not a coordinate reference system: {value!r} ({exc})") from None


def prefixed_zone_of_eastings(x: np.ndarray) -> int | None:
    """Zone number carried in 8-digit eastings, or None if they carry none.

    Parameters
    ----------
    x : numpy.ndarray
        Eastings in metres (NaN ignored).

    Returns
    -------
    int or None
        The zone when every easting is ``zone × 10⁶ + e`` with ``e`` a
        plausible in-zone easting and ``zone`` a Chinese 3° zone.
    """
    x = np.asarray(x, dtype="float64")
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None
    zones = np.floor(x / 1_000_000.0)
    zone = int(zones[0])
    if zone not in GK3_ZONES or not np.all(zones == zone):
        return None
    rest = x - zone * 1_000_000.0
    if np.all((rest >= _EASTING_MIN) & (rest <= _EASTING_MAX)):
        return zone
    return None


def _looks_geographic(x: np.ndarray, y: np.ndarray) -> bool:
    x = x[np.isfinite(x)]
    y = y[np.isfinite(y)]
    return bool(x.size) and bool(np.all((x >= 70) & (x <= 140)) and np.all((y >= 0) & (y <= 56)))


def resolve_source_crs(
    declared: CRS | None, x: np.ndarray, y: np.ndarray, *, source: str
) -> tuple[CRS, str | None]:
    """Decide the CRS of a layer from its declared CRS and its coordinates.

    A zone-prefixed easting (8 digits, starting with the zone number) wins
    over a missing or contradicting declaration, because it cannot be wrong
    about its own zone; a declaration that plainly does not fit the
    coordinates is refused rather than used.

    Parameters
    ----------
    declared : pyproj.CRS or None
        The CRS the file says it has (``.prj``, GeoPackage SRS …), or the one
        the project file gives.
    x, y : numpy.ndarray
        A sample of the layer's coordinates, in the file's units.
    source : str
        Name of the file and layer, used in messages.

    Returns
    -------
    crs : pyproj.CRS
        The CRS to read the coordinates in.
    note : str or None
        What was decided differently from ``declared``, for the repair log.

    Raises
    ------
    CRSError
        No CRS is declared and the coordinates fit no known CRS, or the
        declared CRS contradicts the coordinates in a way that cannot be
        resolved.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    zone = prefixed_zone_of_eastings(x)
    kind = classify_crs(declared)

    if zone is not None:
        detected = to_crs(gk3_epsg(zone, prefixed=True))
        if kind is None:
            return detected, f"no CRS given; zone-prefixed eastings say EPSG:{detected.to_epsg()}"
        if kind.kind == "gk3_prefixed" and kind.zone == zone:
            return declared, None
        return detected, (
            f"declared CRS {crs_name(declared)} does not fit the eastings, which carry zone "
            f"{zone}; using EPSG:{detected.to_epsg()}"
        )

    if kind is None:
        if _looks_geographic(x, y):
            return to_crs(CGCS2000), "no CRS given; longitude/latitude read as CGCS2000"
        raise CRSError(
            f"{source}: no CRS and the coordinates (x {_range(x)}, y {_range(y)}) fit no "
            "known zone; give the layer's crs in the project file"
        )
    if kind.kind == "gk3_prefixed":
        # Declared prefixed but the eastings are plain: same zone, central meridian only.
        if _in_plain_zone(x):
            fixed = to_crs(gk3_epsg(kind.zone))
            return fixed, (
                f"declared {crs_name(declared)} but eastings have no zone prefix; "
                f"using EPSG:{fixed.to_epsg()}"
            )
        raise CRSError(
            f"{source}: declared CRS {crs_name(declared)} does not fit eastings {_range(x)}"
        )
    if kind.kind == "gk3" and not _in_plain_zone(x):
        raise CRSError(
            f"{source}: declared CRS {crs_name(declared)} does not fit eastings {_range(x)}"
        )
    if declared.is_geographic and not _looks_geographic(x, y) and x.size:
        raise CRSError(
            f"{source}: declared geographic CRS {crs_name(declared)} but coordinates "
            f"(x {_range(x)}, y {_range(y)}) are not longitude/latitude"
        )
    return declared, None


def _in_plain_zone(x: np.ndarray) -> bool:
    x = x[np.isfinite(x)]
    return bool(np.all((x >= _EASTING_MIN) & (x <= _EASTING_MAX)))


def _range(a: np.ndarray) -> str:
    a = a[np.isfinite(a)]
    if a.size == 0:
        return "none"
    return f"{a.min():.6g}..{a.max():.6g}"


def crs_name(crs: CRS) -> str:
    """``EPSG:<code>`` when the CRS has one, else its quoted name, for messages."""
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else repr(crs.name)


def working_crs_for(lon_min: float, lon_max: float) -> CRS:
    """The CGCS2000 3° Gauss-Krüger zone (central meridian only) of a region's centre.

    Parameters
    ----------
    lon_min, lon_max : float
        The region's western and eastern bounds, degrees east.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> working_crs_for(106.3, 107.8).to_epsg()  # Bazhong
    4545
    """
    return to_crs(gk3_epsg(zone_of_longitude((lon_min + lon_max) / 2.0)))


@lru_cache(maxsize=64)
def _cached_transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS(src_wkt), CRS(dst_wkt), always_xy=True)


def transformer(src: CRS, dst: CRS) -> Transformer:
    """A cached :class:`pyproj.Transformer` from ``src`` to ``dst`` with ``always_xy=True``."""
    return _cached_transformer(to_crs(src).to_wkt(), to_crs(dst).to_wkt())


def require_projected(crs: CRS | None, what: str) -> CRS:
    """Refuse metric work in a geographic or missing CRS.

    Parameters
    ----------
    crs : pyproj.CRS or None
    what : str
        What the CRS belongs to, for the message.
    """
    if crs is None:
        raise CRSError(f"{what} has no CRS; metric work needs a projected CRS")
    crs = to_crs(crs)
    if not crs.is_projected:
        raise CRSError(
            f"{what} is in geographic CRS {crs_name(crs)}; metric work needs a projected CRS"
        )
    return crs
