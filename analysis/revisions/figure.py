"""The diff's map: new, resolved and changed findings over the county boundaries, as SVG.

A static vector figure embedded in ``diff.html``: it needs no script, no
tiles and no network, prints as drawn, and zooms without blurring in any
browser. Geometries are simplified to a quarter of a drawing unit and
findings below a few units get a marker so a small finding stays visible.
Only numbers and escaped text reach the SVG.
"""

from __future__ import annotations

from html import escape

import geopandas as gpd
import numpy as np
import shapely

#: Fill of each class of change (unchanged findings are drawn faintly).
CHANGE_COLOURS = {
    "new": "#d7191c",
    "changed": "#fdae61",
    "resolved": "#1a9641",
    "unchanged": "#bbbbbb",
}
_WIDTH = 900.0
_MARKER_BELOW = 4.0


def _path(geom, x0: float, y1: float, scale: float) -> str:
    parts = []
    polygons = getattr(geom, "geoms", [geom])
    for polygon in polygons:
        rings = [polygon.exterior, *polygon.interiors] if polygon.geom_type == "Polygon" else []
        for ring in rings:
            xy = np.asarray(ring.coords)[:, :2]
            px = (xy[:, 0] - x0) * scale
            py = (y1 - xy[:, 1]) * scale
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
            parts.append(f"M{points}Z")
    return "".join(parts)


def diff_figure(findings: gpd.GeoDataFrame, counties: gpd.GeoDataFrame | None) -> str:
    """An inline ``<svg>`` of the findings coloured by their change.

    Parameters
    ----------
    findings : geopandas.GeoDataFrame
        :func:`analysis.revisions.findings.compare_findings` output.
    counties : geopandas.GeoDataFrame, optional
        County boundaries (with ``name``) in the same CRS, drawn underneath.
    """
    frames = [f for f in (counties, findings) if f is not None and len(f)]
    if not frames:
        return ""
    x0, y0, x1, y1 = np.array([f.total_bounds for f in frames]).T
    x0, y0, x1, y1 = x0.min(), y0.min(), x1.max(), y1.max()
    scale = _WIDTH / max(x1 - x0, y1 - y0, 1.0)
    height = (y1 - y0) * scale
    tolerance = 0.25 / scale
    out = [
        f'<svg class="diff-map" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="-5 -5 {_WIDTH + 10:.0f} {height + 10:.0f}" role="img">'
    ]
    if counties is not None:
        for geom, name in zip(
            shapely.simplify(counties.geometry.to_numpy(), tolerance), counties["name"], strict=True
        ):
            out.append(
                f'<path d="{_path(geom, x0, y1, scale)}" fill="#f4f4f4" stroke="#666" '
                f'stroke-width="0.8"><title>{escape(str(name))}</title></path>'
            )
    for change in ("unchanged", "resolved", "changed", "new"):
        part = findings[findings["change"] == change]
        colour = CHANGE_COLOURS[change]
        simple = shapely.simplify(part.geometry.to_numpy(), tolerance)
        for geom, row in zip(simple, part.itertuples(), strict=True):
            ident = row.new_conflict_id or row.old_conflict_id
            label = escape(f"{ident} {row.rule_title}")
            minx, miny, maxx, maxy = geom.bounds
            if max(maxx - minx, maxy - miny) * scale < _MARKER_BELOW and change != "unchanged":
                c = shapely.centroid(geom)
                out.append(
                    f'<circle cx="{(c.x - x0) * scale:.1f}" cy="{(y1 - c.y) * scale:.1f}" r="4" '
                    f'fill="{colour}" stroke="#222" stroke-width="0.6"><title>{label}</title>'
                    "</circle>"
                )
            else:
                out.append(
                    f'<path d="{_path(geom, x0, y1, scale)}" fill="{colour}" '
                    f'fill-opacity="0.8" stroke="{colour}" stroke-width="0.5">'
                    f"<title>{label}</title></path>"
                )
    out.append("</svg>")
    return "".join(out)
