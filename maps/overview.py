"""A static overview figure of the plan and its conflicts, for printed reports.

Drawn with :func:`rasterio.features.rasterize` in the working CRS (no
plotting library): townships by function type, 永久基本农田, 生态保护红线,
protected areas, 城镇开发边界, parks (chemical parks in magenta), rivers,
county outlines, and the conflicts on top in their
severity colours, widened to a few pixels so that small ones stay visible at
city scale. The palette is :mod:`maps.style`'s, the same as the map's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.transform import Affine

from geoplan.geo.crs import require_projected
from geoplan.layers.region import region_bounds
from geoplan.layers.vocabulary import SEVERITY_TITLES
from geoplan.maps.style import (
    BACKGROUND,
    CHEMICAL_PARK_STYLE,
    FUNCTION_TYPE_STYLES,
    SEVERITY_STYLES,
    kind_style,
)


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


class _Canvas:
    def __init__(self, bounds: tuple[float, float, float, float], width: int):
        minx, miny, maxx, maxy = bounds
        self.pixel = (maxx - minx) / width
        self.shape = (math.ceil((maxy - miny) / self.pixel), width)
        self.transform = Affine(self.pixel, 0.0, minx, 0.0, -self.pixel, maxy)
        self.image = np.empty((*self.shape, 3), float)
        self.image[:] = _rgb(BACKGROUND)

    def fill(self, geoms: Iterable, color: str, alpha: float = 1.0) -> None:
        geoms = [g for g in geoms if g is not None and not g.is_empty]
        if not geoms:
            return
        mask = rasterize(
            ((g, 1) for g in geoms), out_shape=self.shape, transform=self.transform, dtype="uint8"
        ).astype(bool)
        self.image[mask] = (1 - alpha) * self.image[mask] + alpha * _rgb(color)

    def stroke(self, geoms: Iterable, color: str, width_px: float, alpha: float = 1.0) -> None:
        lines = shapely.boundary(np.asarray([g for g in geoms if g is not None], dtype=object))
        self.line(lines, color, width_px, alpha)

    def line(self, geoms: Iterable, color: str, width_px: float, alpha: float = 1.0) -> None:
        geoms = np.asarray([g for g in geoms if g is not None], dtype=object)
        if len(geoms):
            self.fill(shapely.buffer(geoms, width_px * self.pixel / 2), color, alpha)


def overview_image(
    layers: Mapping[str, gpd.GeoDataFrame],
    conflicts: gpd.GeoDataFrame | None,
    *,
    width: int = 1400,
    severities: Iterable[str] = ("notice", "restricted", "prohibited"),
) -> np.ndarray:
    """Draw the overview figure.

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        Loaded layers by kind, in the working (projected) CRS.
    conflicts : geopandas.GeoDataFrame, optional
        Conflicts with a ``severity`` column, in the same CRS.
    width : int
        Image width (pixels); the height follows the extent.
    severities : iterable of str
        Drawing order of the severities, least severe first.

    Returns
    -------
    numpy.ndarray
        ``uint8`` RGB image, shape (height, width, 3).
    """
    crs = require_projected(next(iter(layers.values())).crs, "overview figure")
    minx, miny, maxx, maxy = region_bounds(layers)
    pad = 0.02 * max(maxx - minx, maxy - miny)
    canvas = _Canvas((minx - pad, miny - pad, maxx + pad, maxy + pad), width)

    def geoms(kind: str) -> np.ndarray:
        frame = layers.get(kind)
        return frame.to_crs(crs).geometry.values if frame is not None else np.array([])

    if "townships" in layers:
        towns = layers["townships"]
        for function_type, style in FUNCTION_TYPE_STYLES.items():
            chosen = towns[towns["function_type"] == function_type].geometry.values
            canvas.fill(chosen, style.fill, 0.45)
        canvas.stroke(towns.geometry.values, "#9e9e9e", 0.8)
    for kind, alpha in (("permanent_farmland", 0.75), ("ecological_redline", 0.55)):
        style = kind_style(kind)
        canvas.fill(geoms(kind), style.fill, alpha)
    for kind in ("protected_areas", "urban_boundary"):
        style = kind_style(kind)
        canvas.stroke(geoms(kind), style.color, 1.5 if kind == "protected_areas" else 2.0)
    if "parks" in layers:
        parks = layers["parks"]
        chemical = parks["chemical"].fillna(False).astype(bool) if "chemical" in parks else False
        canvas.fill(parks[~chemical].geometry.values, kind_style("parks").fill, 0.9)
        canvas.fill(parks[chemical].geometry.values, CHEMICAL_PARK_STYLE.fill, 0.9)
    canvas.line(geoms("rivers"), kind_style("rivers").color, 1.5, 0.9)
    canvas.stroke(geoms("counties"), kind_style("counties").color, 2.2)
    if conflicts is not None and len(conflicts):
        for severity in severities:
            chosen = conflicts[conflicts["severity"] == severity].to_crs(crs).geometry.values
            style = SEVERITY_STYLES[severity]
            # Widened by two pixels so that a 200 m² piece shows at city scale.
            canvas.fill(shapely.buffer(chosen, 2 * canvas.pixel), style.color, 1.0)
            canvas.fill(chosen, style.fill, 1.0)
    return np.clip(np.rint(canvas.image), 0, 255).astype(np.uint8)


def overview_legend(layers: Mapping[str, gpd.GeoDataFrame]) -> list[tuple[str, str]]:
    """Label and colour of what :func:`overview_image` draws for these layers."""
    items = []
    if "townships" in layers:
        items += [(f"乡镇：{name}", style.fill) for name, style in FUNCTION_TYPE_STYLES.items()]
    for kind, label in (
        ("permanent_farmland", "永久基本农田"),
        ("ecological_redline", "生态保护红线"),
        ("protected_areas", "自然保护地（边界）"),
        ("urban_boundary", "城镇开发边界"),
        ("parks", "产业园区"),
        ("rivers", "河流"),
        ("counties", "县界"),
    ):
        if kind in layers:
            style = kind_style(kind)
            fill = kind in ("permanent_farmland", "ecological_redline", "parks")
            items.append((label, style.fill if fill else style.color))
    if "parks" in layers:
        items.append(("化工园区", CHEMICAL_PARK_STYLE.fill))
    items += [
        (f"冲突：{title}", SEVERITY_STYLES[severity].color)
        for severity, title in SEVERITY_TITLES.items()
    ]
    return items
