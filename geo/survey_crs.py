"""The CRS of surveyed point coordinates, as Chinese survey files give them.

Survey files (界址点坐标 text, point tables) write X as the northing (纵坐标)
and Y as the easting (横坐标), Y with the zone number in front
(36 380 000.000) or not (380 000.000, the zone then stated as 带号), in a
datum named in words (2000国家大地坐标系, 1980西安坐标系, 1954北京坐标系), or
latitude/longitude in degrees. :func:`survey_crs` settles the CRS from those
words and the values, and refuses X and Y given the wrong way round — a
mistake that otherwise puts the site thousands of kilometres away.

EPSG codes (checked with pyproj): CGCS2000 3° zones 25–45 are EPSG:4513–4533
with the zone in the easting and 4534–4554 without; CGCS2000 6° zones 13–23
are 4491–4501 and 4502–4512; Xian 1980 3° 2349–2369 and 2370–2390; Beijing
1954 3° 2401–2421 and 2422–2442.
"""

from __future__ import annotations

import logging

import numpy as np
from pyproj import CRS

from geoplan.geo.crs import prefixed_zone_of_eastings
from geoplan.geo.errors import CRSError

logger = logging.getLogger(__name__)

#: Datums by a word of their name: (title, first EPSG of zone 25 prefixed, unprefixed).
DATUMS = {
    "2000": ("2000国家大地坐标系", 4513, 4534),
    "西安": ("1980西安坐标系", 2349, 2370),
    "北京": ("1954北京坐标系", 2401, 2422),
}
#: CGCS2000 6° zones 13–23: first EPSG prefixed, unprefixed.
_GK6_CGCS2000 = (4491, 4502)
#: Plausible northings in China (m) and eastings within a zone (m).
NORTHINGS = (1_500_000.0, 6_500_000.0)
EASTINGS = (100_000.0, 900_000.0)


class SurveyCRSError(CRSError):
    """The coordinates and their description settle no CRS (or X and Y are swapped)."""


def _in(values: np.ndarray, bounds: tuple[float, float]) -> bool:
    return bool(values.size) and bool(np.all((values >= bounds[0]) & (values <= bounds[1])))


def swapped(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether the X column holds eastings and the Y column northings (metres).

    Examples
    --------
    >>> swapped(np.array([36380000.0]), np.array([3530000.0]))
    True
    >>> swapped(np.array([3530000.0]), np.array([36380000.0]))
    False
    """
    x_is_easting = prefixed_zone_of_eastings(x) is not None or _in(x, EASTINGS)
    return x_is_easting and _in(y, NORTHINGS)


def _six_degree_zone(y: np.ndarray) -> int | None:
    """The 6° zone (13–23) carried in front of eastings, or None."""
    zones = np.floor(y / 1_000_000.0)
    zone = int(zones[0]) if zones.size else 0
    if 13 <= zone <= 23 and np.all(zones == zone) and _in(y - zone * 1e6, EASTINGS):
        return zone
    return None


def _degrees(x: np.ndarray, y: np.ndarray, source: str) -> CRS:
    if _in(x, (0, 56)) and _in(y, (70, 140)):
        return CRS.from_epsg(4490)
    if _in(y, (0, 56)) and _in(x, (70, 140)):
        raise SurveyCRSError(
            f"{source}: X and Y are swapped: X holds longitudes and Y latitudes; "
            "X is the latitude (north) and Y the longitude (east)"
        )
    raise SurveyCRSError(f"{source}: coordinates in degrees that are not in China")


def survey_crs(
    x: np.ndarray,
    y: np.ndarray,
    *,
    source: str,
    datum: str = "2000国家大地坐标系",
    band: str = "3",
    zone: str = "",
    unit: str = "米",
) -> CRS:
    """The CRS of survey coordinates: X northing, Y easting.

    Parameters
    ----------
    x, y : numpy.ndarray
        The X (northing) and Y (easting) columns as written.
    source : str
        The file, for messages.
    datum : str
        坐标系 in words; 2000, 西安 or 北京 in it.
    band : {"3", "6"}
        几度分带.
    zone : str
        带号, needed when Y carries no zone number.
    unit : {"米", "度"}
        计量单位.

    Returns
    -------
    pyproj.CRS
        The zone-prefixed CRS when Y carries the zone, else the central-meridian one.

    Raises
    ------
    SurveyCRSError
        X and Y swapped, values that are no northings/eastings, no zone, an
        unknown datum or zone.
    """
    if (unit or "米").startswith("度"):
        return _degrees(x, y, source)
    if unit not in ("", "米"):
        raise SurveyCRSError(f"{source}: 计量单位={unit}; geoplan reads 米 or 度")
    if swapped(x, y):
        raise SurveyCRSError(
            f"{source}: X and Y are swapped: X holds eastings ({x.min():.0f}…{x.max():.0f}) and "
            f"Y northings ({y.min():.0f}…{y.max():.0f}); X is the northing (纵坐标) and Y the "
            "easting (横坐标)"
        )
    band = (band or "3").strip().removesuffix("度").removesuffix("°")
    prefixed = prefixed_zone_of_eastings(y) if band != "6" else _six_degree_zone(y)
    if prefixed is None and not _in(y, EASTINGS):
        raise SurveyCRSError(
            f"{source}: Y {y.min():.3f}…{y.max():.3f} are not the eastings of one zone "
            "(with or without the zone number in front)"
        )
    if not _in(x, NORTHINGS):
        raise SurveyCRSError(
            f"{source}: X {x.min():.3f}…{x.max():.3f} are not northings in China (X is the 纵坐标)"
        )
    zone = zone.strip()
    if prefixed is not None and zone and zone != str(prefixed):
        logger.warning(
            "%s: 带号=%s but Y carries zone %d; zone %d used", source, zone, prefixed, prefixed
        )
    if prefixed is None and not zone.isdigit():
        raise SurveyCRSError(
            f"{source}: Y carries no zone number and 带号 is {zone or 'not given'}; give the zone"
        )
    number = prefixed if prefixed is not None else int(zone)
    found = next((v for k, v in DATUMS.items() if k in (datum or "2000")), None)
    if found is None:
        raise SurveyCRSError(f"{source}: 坐标系 {datum!r} is none of {', '.join(DATUMS)}")
    if band == "6":
        if found is not DATUMS["2000"] or not 13 <= number <= 23:
            raise SurveyCRSError(f"{source}: 6° zone {number} of {found[0]} is not supported")
        first = _GK6_CGCS2000[0 if prefixed is not None else 1]
        return CRS.from_epsg(first + number - 13)
    if band != "3" or not 25 <= number <= 45:
        raise SurveyCRSError(f"{source}: 几度分带={band}, 带号={number} is not a Chinese 3° zone")
    if found is not DATUMS["2000"]:
        logger.warning(
            "%s: %s is taken to CGCS2000 without transformation parameters (pyproj's "
            "ballpark); positions may be off by tens of metres",
            source,
            found[0],
        )
    first = found[1] if prefixed is not None else found[2]
    return CRS.from_epsg(first + number - 25)
