"""A small map of each prohibited finding group (问题清单), for ``report.docx``.

Each map shows the group's conflict pieces in the prohibited colour, the two
features it lies between (in their layer colours), the townships in view by
function type with the finding's township outlined, and a scale bar —
drawn like the overview figure (:mod:`maps.overview`, palette
:mod:`maps.style`). The centre coordinates go into the document's caption.

Drawn with matplotlib's Agg canvas (no pyplot, no global backend): one
figure is reused, every geometry is clipped to the view window with
:func:`shapely.clip_by_rect` before it is turned into paths, and each layer is
one collection, so a map costs a few tens of milliseconds. At most
:data:`MAX_FINDING_MAPS` maps are drawn; the document says so and points to
``map.html`` for the rest.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.path import Path
from PIL import Image

from geoplan.maps.style import BACKGROUND, FUNCTION_TYPE_STYLES, SEVERITY_STYLES, kind_style

#: Maps drawn at most (the first groups of the 问题清单, the largest land area first).
MAX_FINDING_MAPS = 100
#: Image size: inches and dots per inch (650 × 488 pixels, 12 cm wide in the document).
FIGURE_INCHES = (5.0, 3.75)
DPI = 130
#: The view shows the finding with this share of its size around it, at least MIN_VIEW_M wide.
_PAD = 0.6
MIN_VIEW_M = 800.0
_SCALE_STEPS = (1, 2, 5)


def _clipped(geoms: Iterable, window: tuple[float, float, float, float]) -> np.ndarray:
    clipped = shapely.clip_by_rect(np.asarray(list(geoms), dtype=object), *window)
    return shapely.get_parts(clipped[~shapely.is_empty(clipped)])


def _paths(geoms: Iterable, window: tuple[float, float, float, float]) -> list[Path]:
    """Polygon paths (holes as sub-paths) of the polygons of ``geoms`` clipped to ``window``."""
    parts = _clipped(geoms, window)
    paths = []
    for polygon in parts[shapely.get_type_id(parts) == 3]:
        rings = [polygon.exterior, *polygon.interiors]
        vertices = np.concatenate([np.asarray(r.coords)[:, :2] for r in rings])
        codes = np.full(len(vertices), Path.LINETO, dtype=Path.code_type)
        start = 0
        for ring in rings:
            n = len(ring.coords)
            codes[start] = Path.MOVETO
            codes[start + n - 1] = Path.CLOSEPOLY
            start += n
        paths.append(Path(vertices, codes))
    return paths


def _lines(geoms: Iterable, window: tuple[float, float, float, float]) -> list[np.ndarray]:
    """Vertex arrays of the lines of ``geoms`` (polygons: their outlines) inside ``window``.

    Outlines are clipped as lines, so the window's edge is never drawn as one.
    """
    geoms = np.asarray(list(geoms), dtype=object)
    if not len(geoms):
        return []
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms = np.where(polygonal, shapely.boundary(geoms), geoms)
    parts = _clipped(geoms, window)
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2))]
    return [np.asarray(line.coords)[:, :2] for line in parts]


def _scale_length(view_width_m: float) -> float:
    """A round length (m) of about a quarter of the view: 1, 2 or 5 × 10ⁿ."""
    target = view_width_m / 4
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in _SCALE_STEPS if step * power <= target)


def _window(bounds: Sequence[float], aspect: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    width = max((maxx - minx) * (1 + 2 * _PAD), (maxy - miny) * (1 + 2 * _PAD) * aspect)
    width = max(width, MIN_VIEW_M)
    height = width / aspect
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


class _Townships:
    """The townships layer as arrays, with a spatial index."""

    def __init__(self, frame: gpd.GeoDataFrame):
        self.geoms = np.asarray(frame.geometry.values, dtype=object)
        self.types = frame["function_type"].astype(str).to_numpy()
        self.names = frame["name"].astype(str).to_numpy()
        self.tree = shapely.STRtree(self.geoms)


class _Painter:
    """One reused figure; :meth:`draw` puts a map on it and returns the PNG."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=FIGURE_INCHES, dpi=DPI, facecolor=BACKGROUND)
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0, 0, 1, 1))
        self.axes.set_axis_off()
        self.axes.set_aspect("equal")
        self.aspect = FIGURE_INCHES[0] / FIGURE_INCHES[1]

    def _fill(self, paths: list[Path], **style: Any) -> None:
        if paths:
            self.axes.add_collection(PathCollection(paths, linewidth=0, **style), autolim=False)

    def _stroke(self, lines: list[np.ndarray], **style: Any) -> None:
        if lines:
            self.axes.add_collection(LineCollection(lines, **style), autolim=False)

    def _scale_bar(self, window: tuple[float, float, float, float]) -> None:
        minx, miny, maxx, maxy = window
        length = _scale_length(maxx - minx)
        x0, y0 = minx + 0.04 * (maxx - minx), miny + 0.06 * (maxy - miny)
        tick = 0.015 * (maxy - miny)
        self.axes.plot(
            [x0, x0, x0 + length, x0 + length],
            [y0 + tick, y0, y0, y0 + tick],
            color="#222222",
            linewidth=1.6,
            solid_capstyle="butt",
        )
        label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        self.axes.text(x0 + length / 2, y0 + 2 * tick, label, ha="center", va="bottom", fontsize=8)

    def draw(
        self,
        finding: Sequence,
        sides: Sequence[tuple[str, Sequence]],
        townships: _Townships | None,
        own_townships: Sequence[str],
    ) -> bytes:
        """The PNG of one map.

        Parameters
        ----------
        finding : sequence of shapely geometries
            The group's conflict pieces (working CRS, metres).
        sides : sequence of (str, sequence of shapely geometries)
            Layer kind and geometries of each feature the finding lies between.
        townships : _Townships, optional
            The townships layer.
        own_townships : sequence of str
            Names of the townships the finding lies in (outlined).
        """
        union = shapely.union_all(np.asarray(finding, dtype=object))
        window = _window(union.bounds, self.aspect)
        if townships is not None:
            near = townships.tree.query(shapely.box(*window))
            geoms, types = townships.geoms[near], townships.types[near]
            for function_type, style in FUNCTION_TYPE_STYLES.items():
                chosen = geoms[types == function_type]
                self._fill(_paths(chosen, window), facecolor=style.fill, alpha=0.45)
            self._stroke(_lines(geoms, window), color="#9e9e9e", linewidth=0.6)
            own = geoms[np.isin(townships.names[near], list(own_townships))]
            self._stroke(_lines(own, window), color="#555555", linewidth=1.3, linestyle=(0, (4, 2)))
        styles = [kind_style(kind) for kind, _ in sides]
        for (_, geoms), style, alpha in zip(sides, styles, (0.55, 0.4), strict=False):
            if style.fill:
                self._fill(_paths(geoms, window), facecolor=style.fill, alpha=alpha)
        severity = SEVERITY_STYLES["prohibited"]
        halo = (window[2] - window[0]) / 250  # so that a 200 m² piece shows
        # widened from its outline simplified to a quarter pixel: the same
        # pixels, a tenth of the time for a finding of thousands of vertices
        pixel = (window[2] - window[0]) / (FIGURE_INCHES[0] * DPI)
        outline = shapely.simplify(union, pixel / 4)
        self._fill(
            _paths([shapely.buffer(outline, halo, quad_segs=4)], window),
            facecolor=severity.color,
            alpha=0.5,
        )
        self._fill(_paths([union], window), facecolor=severity.fill, alpha=0.8)
        for (_, geoms), style in zip(sides, styles, strict=True):
            width = 2.0 if style.fill is None or not shapely.area(geoms).any() else 1.0
            self._stroke(_lines(geoms, window), color=style.color, linewidth=width)
        self._stroke(_lines([union], window), color=severity.color, linewidth=1.2)
        self._scale_bar(window)
        axes = self.axes
        axes.set_xlim(window[0], window[2])
        axes.set_ylim(window[1], window[3])
        self.figure.canvas.draw()
        # RGB (the figure is opaque), zlib level 1: a third of the default's time.
        rgb = np.asarray(self.figure.canvas.buffer_rgba())[:, :, :3]
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1, dpi=(DPI, DPI))
        for artist in [*axes.collections, *axes.lines, *axes.texts]:
            artist.remove()
        return buffer.getvalue()


def _features(frame: gpd.GeoDataFrame | None, ids: set[str]) -> dict[str, list]:
    """Geometries of the features of ``frame`` whose id is in ``ids``, by id."""
    if frame is None or not ids:
        return {}
    chosen = frame[frame["id"].astype(str).isin(ids)]
    found: dict[str, list] = {}
    for ident, geom in zip(chosen["id"].astype(str), chosen.geometry.values, strict=True):
        found.setdefault(ident, []).append(geom)
    return found


def issue_ids(issues: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """By layer kind, the ids of the features the issue groups name on either side."""
    ids: dict[str, set[str]] = {}
    for issue in issues:
        for side in ("left", "right"):
            if issue[f"{side}_kind"]:
                ids.setdefault(issue[f"{side}_kind"], set()).add(str(issue[f"{side}_id"]))
    return ids


def mapped_issues(
    issues: Sequence[Mapping[str, Any]], limit: int = MAX_FINDING_MAPS
) -> list[Mapping[str, Any]]:
    """The issue groups :func:`finding_maps` draws: the first ``limit`` prohibited ones."""
    return [i for i in issues if i["severity"] == "prohibited"][:limit]


def finding_maps(
    frames: Mapping[str, gpd.GeoDataFrame],
    conflicts: gpd.GeoDataFrame,
    issues: Sequence[Mapping[str, Any]],
    *,
    limit: int = MAX_FINDING_MAPS,
) -> dict[str, bytes]:
    """The PNG map of each prohibited issue group, the first ``limit`` of them.

    Parameters
    ----------
    frames : mapping of str to geopandas.GeoDataFrame
        Loaded layers by kind (``id`` column), in the working CRS.
    conflicts : geopandas.GeoDataFrame
        The conflicts (``conflict_id``), in the same CRS.
    issues : sequence of mapping
        ``report["issues"]`` (number, issue_id, severity, conflict_ids, the
        sides' kinds and ids, townships), in their order.
    limit : int
        Maps drawn at most.

    Returns
    -------
    dict of str to bytes
        Issue id → PNG.
    """
    chosen = mapped_issues(issues, limit)
    if not chosen:
        return {}
    wanted = {c for issue in chosen for c in issue["conflict_ids"]}
    pieces = conflicts[conflicts["conflict_id"].isin(wanted)]
    by_conflict = dict(zip(pieces["conflict_id"], pieces.geometry.values, strict=True))
    features = {
        kind: _features(frames.get(kind), wanted) for kind, wanted in issue_ids(chosen).items()
    }
    painter = _Painter()
    towns = frames.get("townships")
    townships = _Townships(towns) if towns is not None and len(towns) else None
    maps = {}
    for issue in chosen:
        finding = [by_conflict[c] for c in issue["conflict_ids"] if c in by_conflict]
        if not finding:
            continue
        sides = [
            (kind, features[kind].get(str(issue[f"{side}_id"]), []))
            for side in ("left", "right")
            if (kind := issue[f"{side}_kind"])
        ]
        maps[issue["issue_id"]] = painter.draw(finding, sides, townships, issue["townships"])
    return maps
