"""Raster overlays for the map: conflict density and hillshade as inlined PNG images.

Leaflet stretches an image linearly between two corners in Web Mercator, so
the values are first warped to EPSG:3857 (rasterio), then coloured and
encoded as a PNG with transparency, and put into the page as a ``data:``
URI. With a GCJ-02 basemap the image's corners are shifted by the GCJ-02
offset (uniform within a few tens of metres across a city).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
from pyproj import CRS
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from geoplan.geo.raster import png_bytes
from geoplan.maps.gcj02 import wgs84_to_gcj02

_WEB_MERCATOR = "EPSG:3857"
#: Density colours, low to high (ColorBrewer YlOrRd).
DENSITY_RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


@dataclass(frozen=True)
class ImageLayer:
    """An image overlay.

    Attributes
    ----------
    name : str
        Name in the layer control.
    url : str
        ``data:image/png;base64,…``.
    bounds : list of list of float
        ``[[south, west], [north, east]]`` (degrees).
    opacity : float
    show : bool
        Visible when the map opens.
    """

    name: str
    url: str
    bounds: list[list[float]]
    opacity: float = 1.0
    show: bool = True


def _to_web_mercator(values: np.ndarray, transform, crs: CRS, max_px: int):
    height, width = values.shape
    left = transform.c
    top = transform.f
    right, bottom = left + width * transform.a, top + height * transform.e
    dst_transform, w, h = calculate_default_transform(
        crs, _WEB_MERCATOR, width, height, left, bottom, right, top
    )
    scale = max(1.0, max(w, h) / max_px)
    w, h = max(1, round(w / scale)), max(1, round(h / scale))
    dst_transform, w, h = calculate_default_transform(
        crs, _WEB_MERCATOR, width, height, left, bottom, right, top, dst_width=w, dst_height=h
    )
    out = np.full((h, w), np.nan)
    reproject(
        values.astype("float64"),
        out,
        src_transform=transform,
        src_crs=crs,
        dst_transform=dst_transform,
        dst_crs=_WEB_MERCATOR,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    west, south, east, north = transform_bounds(
        _WEB_MERCATOR,
        "EPSG:4326",
        dst_transform.c,
        dst_transform.f + h * dst_transform.e,
        dst_transform.c + w * dst_transform.a,
        dst_transform.f,
    )
    return out, [[south, west], [north, east]]


def _ramp(t: np.ndarray, colors: tuple[str, ...]) -> np.ndarray:
    stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colors], dtype=float)
    position = np.clip(t, 0, 1) * (len(colors) - 1)
    low = np.floor(position).astype(int).clip(0, len(colors) - 2)
    frac = (position - low)[..., None]
    return stops[low] * (1 - frac) + stops[low + 1] * frac


def _layer(rgba: np.ndarray, bounds, name: str, opacity: float, show: bool, gcj02: bool):
    if gcj02:
        lats = np.array([bounds[0][0], bounds[1][0]])
        lons = np.array([bounds[0][1], bounds[1][1]])
        lon, lat = wgs84_to_gcj02(lons, lats)
        bounds = [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]
    url = "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode("ascii")
    return ImageLayer(name, url, bounds, opacity, show)


def density_layer(
    values: np.ndarray, transform, crs: CRS, *, name: str, gcj02: bool = False, max_px: int = 1024
) -> ImageLayer:
    """Conflict area per cell (m² per km²) as a coloured, log-scaled overlay; empty cells clear."""
    warped, bounds = _to_web_mercator(values, transform, crs, max_px)
    share = np.nan_to_num(warped, nan=0.0) / 1e6  # of the cell's km²
    t = np.log10(np.maximum(share, 1e-6) * 1e4) / 4  # 0.01 % → 0, 100 % → 1
    rgba = np.zeros((*share.shape, 4), dtype=np.uint8)
    rgba[..., :3] = np.rint(_ramp(t, DENSITY_RAMP))
    rgba[..., 3] = np.where(share > 1e-6, 215, 0)
    return _layer(rgba, bounds, name, 1.0, True, gcj02)


def hillshade_layer(
    shade: np.ndarray, transform, crs: CRS, *, name: str, gcj02: bool = False, max_px: int = 1000
) -> ImageLayer:
    """A hillshade (0–1) as a grey, half-transparent overlay; off when the map opens."""
    warped, bounds = _to_web_mercator(shade, transform, crs, max_px)
    grey = np.rint(np.nan_to_num(warped, nan=1.0) * 255).astype(np.uint8)
    rgba = np.stack([grey, grey, grey, np.where(np.isnan(warped), 0, 150).astype(np.uint8)], -1)
    return _layer(rgba, bounds, name, 1.0, False, gcj02)
