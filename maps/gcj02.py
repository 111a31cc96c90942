"""WGS 84 → GCJ-02, the obfuscated datum of Chinese web maps (高德/AMap, Tencent).

Tiles of such maps are drawn in GCJ-02; data in WGS 84 (or CGCS2000, which
agrees with it to centimetres) sits several hundred metres off on them —
440–510 m to the north-west across Bazhong. When the map uses such a basemap
its overlays are shifted with :func:`wgs84_to_gcj02`; the analysis data
never is.

The formula is the widely published one (the same constants and series as
``eviltransform`` and ``coordtransform``); outside China it is the identity.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike

_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid (m)
_EE = 0.00669342162296594323  # its first eccentricity squared


def _shift_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    out += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return out


def _shift_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    out += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return out


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Where the GCJ-02 shift applies (the usual bounding box of China)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Shift WGS 84 longitudes and latitudes (degrees) into GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        Degrees, WGS 84 (or CGCS2000).

    Returns
    -------
    lon, lat : numpy.ndarray
        Degrees, GCJ-02; unchanged outside China.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410244, 39.916404)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = lon - 105.0, lat - 35.0
    rad = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad) ** 2
    dlat = _shift_lat(x, y) * 180.0 / ((_A * (1.0 - _EE)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = _shift_lon(x, y) * 180.0 / (_A / np.sqrt(magic) * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def geometries_to_gcj02(geometries: ArrayLike) -> np.ndarray:
    """Shift geometries in WGS 84 longitude/latitude into GCJ-02, vertex by vertex."""

    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geometries, dtype=object), shift)
