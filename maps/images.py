"""Raster overlays for the map: conflict density and hillshade as inlined PNG images.

Leaflet stretches an image linearly between two corners in Web Mercator, so
the values are first warped to EPSG:3857 (rasterio), then coloured and
encoded as a PNG with transparency, and put into the page as a ``data:``
URI. With a GCJ-02 basemap the image's corners are shifted by the GCJ-02
offset (uniform within a few tens of metres across a city).

The hillshade is warped with area-weighted averaging (bilinear sampling of
a texture finer than the image's cells beats against them as stripes) and
cleared outside the region's outline.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from rasterio.features import geometry_mask
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from geoplan.geo.raster import png_bytes
from geoplan.maps.gcj02 import wgs84_to_gcj02
from geoplan.maps.style import Style

_WEB_MERCATOR = "EPSG:3857"
#: Density colours, low to high (ColorBrewer YlOrRd).
DENSITY_RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: The density values (m² of conflict per km²) the ramp's colours stand for (log scale).
DENSITY_STOPS_M2_PER_KM2 = (100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0)
#: Opacity of the density overlay: the plan stays readable under it.
DENSITY_OPACITY = 0.6


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
    legend : tuple of (str, Style, bool)
        Legend rows (label, style, line) shown while the image is on the map.
    legend_heading : str
    """

    name: str
    url: str
    bounds: list[list[float]]
    opacity: float = 1.0
    show: bool = True
    legend: tuple[tuple[str, Style, bool], ...] = ()
    legend_heading: str = ""


def _to_web_mercator(
    values: np.ndarray, transform, crs: CRS, max_px: int, resampling=Resampling.bilinear
):
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
        resampling=resampling,
    )
    west, south, east, north = transform_bounds(
        _WEB_MERCATOR,
        "EPSG:4326",
        dst_transform.c,
        dst_transform.f + h * dst_transform.e,
        dst_transform.c + w * dst_transform.a,
        dst_transform.f,
    )
    return out, [[south, west], [north, east]], dst_transform


def _ramp(t: np.ndarray, colors: tuple[str, ...]) -> np.ndarray:
    stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colors], dtype=float)
    position = np.clip(t, 0, 1) * (len(colors) - 1)
    low = np.floor(position).astype(int).clip(0, len(colors) - 2)
    frac = (position - low)[..., None]
    return stops[low] * (1 - frac) + stops[low + 1] * frac


def _layer(rgba: np.ndarray, bounds, name: str, opacity: float, show: bool, gcj02: bool, **legend):
    if gcj02:
        lats = np.array([bounds[0][0], bounds[1][0]])
        lons = np.array([bounds[0][1], bounds[1][1]])
        lon, lat = wgs84_to_gcj02(lons, lats)
        bounds = [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]
    url = "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode("ascii")
    return ImageLayer(name, url, bounds, opacity, show, **legend)


def density_layer(
    values: np.ndarray, transform, crs: CRS, *, name: str, gcj02: bool = False, max_px: int = 1024
) -> ImageLayer:
    """Conflict density as a coloured, log-scaled, half-transparent overlay, off at first.

    ``values`` are m² of conflict per 1 km² cell (``conflict_density.tif``,
    the bands summed): m² per km². The colours run from
    :data:`DENSITY_STOPS_M2_PER_KM2` [0] to [-1] on a log scale; empty
    cells are clear.
    """
    warped, bounds, _ = _to_web_mercator(values, transform, crs, max_px)
    density = np.nan_to_num(warped, nan=0.0)
    low, high = np.log10(DENSITY_STOPS_M2_PER_KM2[0]), np.log10(DENSITY_STOPS_M2_PER_KM2[-1])
    t = (np.log10(np.maximum(density, 1e-9)) - low) / (high - low)
    rgba = np.zeros((*density.shape, 4), dtype=np.uint8)
    rgba[..., :3] = np.rint(_ramp(t, DENSITY_RAMP))
    rgba[..., 3] = np.where(density > 1.0, 255, 0)
    legend = tuple(
        (f"{stop:,.0f} m²/km²", Style(color, color, 0, DENSITY_OPACITY), False)
        for stop, color in zip(DENSITY_STOPS_M2_PER_KM2, DENSITY_RAMP, strict=True)
    )
    heading = "冲突密度（每平方公里内冲突面积，平方米；重叠的冲突各自计入）"
    return _layer(
        rgba,
        bounds,
        name,
        DENSITY_OPACITY,
        False,
        gcj02,
        legend=legend,
        legend_heading=heading,
    )


def region_outline(frames: Mapping[str, gpd.GeoDataFrame], crs: CRS) -> shapely.Geometry | None:
    """The region's outline in ``crs``: its counties', else its townships' (None without either)."""
    for kind in ("counties", "townships"):
        frame = frames.get(kind)
        if frame is not None and len(frame):
            return shapely.union_all(frame.to_crs(crs).geometry.values)
    return None


def hillshade_layer(
    shade: np.ndarray,
    transform,
    crs: CRS,
    *,
    name: str,
    region: shapely.Geometry | None = None,
    gcj02: bool = False,
    max_px: int = 1000,
) -> ImageLayer:
    """A hillshade (0–1) as a grey, half-transparent overlay; off when the map opens.

    Parameters
    ----------
    region : shapely.Geometry, optional
        Outline (in ``crs``) outside which the image is clear.
    """
    warped, bounds, mercator = _to_web_mercator(
        shade, transform, crs, max_px, resampling=Resampling.average
    )
    clear = np.isnan(warped)
    if region is not None and not region.is_empty:
        to_mercator = Transformer.from_crs(crs, _WEB_MERCATOR, always_xy=True)
        outline = shapely.transform(
            region, lambda x, y: to_mercator.transform(x, y), interleaved=False
        )
        clear |= geometry_mask([outline], out_shape=warped.shape, transform=mercator)
    grey = np.rint(np.nan_to_num(warped, nan=1.0) * 255).astype(np.uint8)
    rgba = np.stack([grey, grey, grey, np.where(clear, 0, 150).astype(np.uint8)], -1)
    return _layer(rgba, bounds, name, 1.0, False, gcj02)
