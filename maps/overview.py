"""A static overview figure of the plan and its conflicts, for printed reports.

Drawn with matplotlib's Agg canvas (no pyplot, no global backend) in the
working CRS: townships by function type, 永久基本农田, 生态保护红线,
protected areas, 城镇开发边界, parks (chemical parks in magenta), rivers,
county outlines, and the conflicts on top in their severity colours, widened
by two pixels so that small ones stay visible at city scale. The palette is
:mod:`maps.style`'s, the same as the map's.

At city scale (300,000 farmland patches) the figure must cost seconds, not
tens of them: every layer is first simplified to half a pixel
(:func:`shapely.simplify`, vectorised, only geometries of many vertices; a
patch that would vanish keeps its shape), then turned into *one* compound
path with numpy (rings as sub-paths, exteriors counter-clockwise and holes
clockwise, so the non-zero fill leaves holes open), and each layer is one
patch: no Python loop over features.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path

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

_DPI = 100  # pixels per inch of the canvas; widths below are in pixels
_POLYGONAL = (3, 6)  # shapely type ids of Polygon, MultiPolygon
_LINEAR = (1, 2)  # LineString, LinearRing
_SIMPLE = 32  # vertices of a geometry drawn as it is


def _simplified(geoms: Iterable, tolerance: float) -> np.ndarray:
    """Non-empty ``geoms`` simplified to ``tolerance`` (m); one that would collapse is kept.

    Only geometries of more than :data:`_SIMPLE` vertices are simplified: the
    small ones (most farmland patches) cost more to simplify than to draw.
    """
    geoms = np.asarray(geoms if hasattr(geoms, "__len__") else list(geoms), dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    many = shapely.get_num_coordinates(geoms) > _SIMPLE
    if tolerance > 0 and many.any():
        simple = shapely.simplify(geoms[many], tolerance, preserve_topology=False)
        collapsed = shapely.is_empty(simple)
        simple[collapsed] = geoms[many][collapsed]
        geoms = geoms.copy()
        geoms[many] = simple
    return geoms


def _singles(geoms: np.ndarray, multi: int) -> np.ndarray:
    """``geoms`` with the multi-part ones (type id ``multi``) exploded."""
    split = shapely.get_type_id(geoms) == multi
    if not split.any():
        return geoms
    return np.concatenate([geoms[~split], shapely.get_parts(geoms[split])])


def _compound(coords: np.ndarray, counts: np.ndarray, closed: bool) -> Path | None:
    """One path of many rings (``closed``) or lines, each ``counts`` vertices of ``coords``."""
    if not len(counts):
        return None
    ends = np.cumsum(counts)
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    codes[ends - counts] = Path.MOVETO
    if closed:
        codes[ends - 1] = Path.CLOSEPOLY
    return Path(coords, codes)


def _oriented(coords: np.ndarray, counts: np.ndarray, exterior: np.ndarray) -> np.ndarray:
    """Ring vertices with exteriors counter-clockwise and holes clockwise (non-zero fill).

    The signed area of every ring by the shoelace formula on vertices taken
    relative to the ring's first one, and the rings of the wrong sense
    reversed, in numpy over all rings at once.
    """
    ends = np.cumsum(counts)
    starts = ends - counts
    ring = np.repeat(np.arange(len(counts)), counts)
    local = coords - coords[starts][ring]
    x, y = local[:, 0], local[:, 1]
    cross = np.zeros(len(coords))
    cross[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
    cross[ends - 1] = 0.0  # the step from a ring's last vertex to the next ring's first
    area2 = np.add.reduceat(cross, starts)
    flip = np.where(exterior, area2 < 0, area2 > 0)
    index = np.arange(len(coords))
    index = np.where(flip[ring], starts[ring] + ends[ring] - 1 - index, index)
    return coords[index]


def polygon_path(geoms: Iterable, tolerance: float = 0.0) -> Path | None:
    """The polygons of ``geoms`` as one compound path, holes open under the non-zero rule.

    Parameters
    ----------
    geoms : iterable of shapely geometries
        Anything else than (multi)polygons is left out.
    tolerance : float
        Simplification tolerance (m, in the geometries' units); 0: none.

    Returns
    -------
    matplotlib.path.Path or None
        None when there is no polygon.
    """
    geoms = _simplified(geoms, tolerance)
    polygons = _singles(geoms[np.isin(shapely.get_type_id(geoms), _POLYGONAL)], 6)
    rings, owner = shapely.get_rings(polygons, return_index=True)
    if not len(rings):
        return None
    exterior = np.r_[True, owner[1:] != owner[:-1]]  # each polygon's first ring
    counts = shapely.get_num_coordinates(rings)
    coords = _oriented(shapely.get_coordinates(rings), counts, exterior)
    return _compound(coords, counts, closed=True)


def line_path(geoms: Iterable, tolerance: float = 0.0) -> Path | None:
    """The lines of ``geoms`` (polygons: their outlines) as one compound path."""
    geoms = _simplified(geoms, tolerance)
    polygonal = np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    geoms = np.where(polygonal, shapely.boundary(geoms), geoms)
    parts = _singles(_singles(geoms, 5), 7)  # MultiLineString, GeometryCollection
    parts = parts[np.isin(shapely.get_type_id(parts), _LINEAR)]
    coords = shapely.get_coordinates(parts)
    return _compound(coords, shapely.get_num_coordinates(parts), closed=False)


class _Canvas:
    """An Agg canvas ``width`` pixels wide over ``bounds`` (m), square pixels."""

    def __init__(self, bounds: tuple[float, float, float, float], width: int):
        minx, miny, maxx, maxy = bounds
        self.pixel = (maxx - minx) / width
        height = math.ceil((maxy - miny) / self.pixel)
        self.tolerance = self.pixel / 2
        self.figure = Figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI)
        self.figure.patch.set_facecolor(BACKGROUND)
        self.axes = self.figure.add_axes((0, 0, 1, 1))
        self.axes.set_axis_off()
        self.axes.set_xlim(minx, minx + width * self.pixel)
        self.axes.set_ylim(maxy - height * self.pixel, maxy)

    def _add(self, path: Path | None, **style) -> None:
        if path is not None:  # add_artist: add_patch walks every vertex in Python for limits
            self.axes.add_artist(PathPatch(path, **style))

    def fill(self, geoms: Iterable, color: str, alpha: float = 1.0) -> None:
        path = polygon_path(geoms, self.tolerance)
        self._add(path, facecolor=color, edgecolor="none", alpha=alpha, linewidth=0)

    def stroke(self, geoms: Iterable, color: str, width_px: float, alpha: float = 1.0) -> None:
        """Outlines of polygons, and lines, ``width_px`` wide."""
        self._add(
            line_path(geoms, self.tolerance),
            facecolor="none",
            edgecolor=color,
            alpha=alpha,
            linewidth=width_px * 72 / _DPI,
            capstyle="round",
            joinstyle="round",
        )

    def fill_outlined(self, geoms: Iterable, fill: str, edge: str, edge_px: float) -> None:
        """Polygons filled, widened by ``edge_px`` in ``edge``: they show however small they are.

        The widened shape is drawn under the fill, so the edges between
        touching polygons (pieces of one conflict cut by townships) stay hidden.
        """
        path = polygon_path(geoms, self.tolerance)
        width = 2 * edge_px * 72 / _DPI  # a stroke is centred on the outline
        self._add(path, facecolor=edge, edgecolor=edge, linewidth=width, joinstyle="round")
        self._add(path, facecolor=fill, edgecolor="none", linewidth=0)

    def image(self) -> np.ndarray:
        canvas = FigureCanvasAgg(self.figure)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


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
        towns = layers["townships"].to_crs(crs)
        for function_type, style in FUNCTION_TYPE_STYLES.items():
            chosen = towns[towns["function_type"] == function_type].geometry.values
            canvas.fill(chosen, style.fill, 0.45)
        canvas.stroke(towns.geometry.values, "#9e9e9e", 0.8)
    for kind, alpha in (("permanent_farmland", 0.75), ("ecological_redline", 0.55)):
        canvas.fill(geoms(kind), kind_style(kind).fill, alpha)
    for kind in ("protected_areas", "urban_boundary"):
        canvas.stroke(geoms(kind), kind_style(kind).color, 1.5 if kind == "protected_areas" else 2)
    if "parks" in layers:
        parks = layers["parks"].to_crs(crs)
        chemical = parks["chemical"].fillna(False).astype(bool) if "chemical" in parks else False
        canvas.fill(parks[~chemical].geometry.values, kind_style("parks").fill, 0.9)
        canvas.fill(parks[chemical].geometry.values, CHEMICAL_PARK_STYLE.fill, 0.9)
    canvas.stroke(geoms("rivers"), kind_style("rivers").color, 1.5, 0.9)
    canvas.stroke(geoms("counties"), kind_style("counties").color, 2.2)
    if conflicts is not None and len(conflicts):
        conflicts = conflicts.to_crs(crs)
        for severity in severities:
            chosen = conflicts[conflicts["severity"] == severity].geometry.values
            style = SEVERITY_STYLES[severity]
            # Widened by two pixels so that a 200 m² piece shows at city scale.
            canvas.fill_outlined(chosen, style.fill, style.color, 2.0)
    return canvas.image()


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
