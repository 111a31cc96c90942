"""The site memo's map: the site and what lies around it, as a static PNG.

Drawn with matplotlib's Agg canvas (no pyplot) in the working CRS, in the
palette of :mod:`maps.style`: the layers within the window around the site
(filled or outlined by kind), rivers, the conflict pieces in their severity
colours, the site outlined in red, and a dashed line to the nearest feature
of each measured distance with its length. The window is the site padded by
the larger of 500 m and the measured distances (capped at 5 km).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geoplan.analysis.site import SiteResult
from geoplan.maps.style import SEVERITY_STYLES, kind_style

#: Drawing order: fills first, outlines after.
_FILLED = (
    "zone_agricultural",
    "cultivated_land",
    "permanent_farmland",
    "ecological_redline",
    "water_source_protection",
    "tailings",
    "construction",
)
_OUTLINED = ("townships", "protected_areas", "urban_boundary", "parks")
_MAX_PAD_M = 5000.0
_MIN_PAD_M = 500.0


def _polygons(ax, geoms: np.ndarray, *, face: str, edge: str, alpha: float, width: float) -> None:
    for geom in geoms:
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type != "Polygon" or part.is_empty:
                continue
            for ring in (part.exterior, *part.interiors):
                xy = np.asarray(ring.coords)
                ax.fill(
                    xy[:, 0], xy[:, 1], facecolor=face, edgecolor=edge, alpha=alpha, linewidth=width
                )


def _lines(ax, geoms: np.ndarray, color: str, width: float) -> None:
    for geom in geoms:
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type == "LineString":
                xy = np.asarray(part.coords)
                ax.plot(xy[:, 0], xy[:, 1], color=color, linewidth=width)


def site_map_png(result: SiteResult, model: Mapping[str, Any], *, width_px: int = 1200) -> bytes:
    """The map as PNG bytes.

    Parameters
    ----------
    result : SiteResult
    model : mapping
        :func:`analysis.site_review.site_model` (for the distances).
    width_px : int

    Returns
    -------
    bytes
    """
    site = shapely.union_all(result.site.geometry.values)
    reach = max([_MIN_PAD_M, *(d["distance_m"] + 200 for d in model["distances"])])
    pad = min(reach, _MAX_PAD_M)
    x0, y0, x1, y1 = site.bounds
    window = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    figure = Figure(figsize=(width_px / 100, width_px / 100), dpi=100)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    layers = result.loaded.layers

    def near(kind: str) -> np.ndarray:
        frame = layers[kind].frame
        hits = frame.sindex.query(window, predicate="intersects")
        return shapely.intersection(frame.geometry.values[np.sort(hits)], window)

    for kind in _FILLED:
        if kind in layers and kind != result.kind:
            style = kind_style(kind)
            _polygons(
                ax,
                near(kind),
                face=style.fill or style.color,
                edge=style.color,
                alpha=0.55,
                width=0.3,
            )
    for kind in _OUTLINED:
        if kind in layers and kind != result.kind:
            style = kind_style(kind)
            _polygons(ax, near(kind), face="none", edge=style.color, alpha=0.9, width=1.2)
    if "rivers" in layers:
        _lines(ax, near("rivers"), kind_style("rivers").color, 2.0)
    conflicts = result.evaluation.conflicts
    for severity in ("notice", "restricted", "prohibited"):
        chosen = conflicts[conflicts["severity"] == severity].geometry.values
        style = SEVERITY_STYLES[severity]
        _polygons(ax, chosen, face=style.fill, edge=style.color, alpha=0.8, width=0.8)
    _polygons(ax, np.array([site]), face="none", edge="#d50000", alpha=1.0, width=2.5)
    for distance in model["distances"]:
        frame = layers[distance["kind"]].frame
        target = frame[frame["id"] == distance["id"]].geometry.values
        if len(target) == 0:
            continue
        a, b = shapely.shortest_line(site, target[0]).coords
        ax.plot([a[0], b[0]], [a[1], b[1]], color="#000", linestyle="--", linewidth=1.2)
        ax.annotate(
            f"{distance['distance_m']:.1f} m",
            ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2),
            fontsize=12,
            color="#000",
            backgroundcolor="#ffffffcc",
        )
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    out = io.BytesIO()
    FigureCanvasAgg(figure).print_png(out)
    return out.getvalue()
