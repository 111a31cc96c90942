"""The extent of the region a project covers, and the layers that lie far from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from pyproj import CRS


def region_bounds(
    frames: Mapping[str, gpd.GeoDataFrame], crs: CRS | str | None = None
) -> tuple[float, float, float, float]:
    """The region's extent: its counties' when loaded, else every non-empty layer's.

    Parameters
    ----------
    frames : mapping of str to geopandas.GeoDataFrame
        Layers by kind, in one CRS.
    crs : pyproj.CRS or str, optional
        CRS to give the extent in (default: the layers' own).

    Returns
    -------
    (minx, miny, maxx, maxy) : tuple of float
        In the units of ``crs``.

    Raises
    ------
    ValueError
        No layer has a feature.
    """
    chosen = [frames["counties"]] if len(frames.get("counties", ())) else list(frames.values())
    chosen = [frame if crs is None else frame.to_crs(crs) for frame in chosen if len(frame)]
    if not chosen:
        raise ValueError("no layer has a feature to take an extent from")
    boxes = np.array([frame.total_bounds for frame in chosen])
    return (
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    )


#: A layer whose extent lies further than this from the region's (km) is
#: taken to be read in the wrong CRS. A city is at most a few hundred
#: kilometres across and its layers overlap it, while a wrong CRS moves a
#: layer by thousands of kilometres (a Gauss-Krüger zone read as UTM 33N
#: lands in Africa, one read as another zone moves ~280 km per zone).
FAR_KM = 100.0
_KM_PER_DEGREE = 111.32

LonLatBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Misplaced:
    """A layer far from the region of the others.

    Attributes
    ----------
    kind : str
        The layer.
    box : tuple of float
        Its extent (lon_min, lat_min, lon_max, lat_max), degrees.
    region_of : str
        What the region was taken from: ``"counties"`` or ``"the other layers"``.
    region : tuple of float
        The region's extent, degrees.
    distance_km : float
        Approximate gap between the two extents (km; inf when the layer's
        coordinates do not transform to longitude/latitude).
    """

    kind: str
    box: LonLatBox
    region_of: str
    region: LonLatBox
    distance_km: float


def box_distance_km(a: LonLatBox, b: LonLatBox) -> float:
    """Approximate shortest distance between two longitude/latitude boxes.

    The gaps in longitude and latitude are converted at 111.32 km per degree,
    longitude scaled by the cosine of the mean latitude — within a few per
    cent at these distances, which is all a threshold needs.

    Returns
    -------
    float
        Kilometres; 0 when the boxes touch or overlap, inf when either is not finite.
    """
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    gap_lon = max(0.0, a[0] - b[2], b[0] - a[2])
    gap_lat = max(0.0, a[1] - b[3], b[1] - a[3])
    cos_lat = np.cos(np.radians((a[1] + a[3] + b[1] + b[3]) / 4.0))
    return float(np.hypot(gap_lon * cos_lat, gap_lat) * _KM_PER_DEGREE)


def _union(boxes: list[LonLatBox]) -> LonLatBox:
    finite = np.array([b for b in boxes if np.all(np.isfinite(b))]).reshape(-1, 4)
    if not finite.size:
        return (np.nan, np.nan, np.nan, np.nan)
    mins, maxs = finite[:, :2].min(axis=0), finite[:, 2:].max(axis=0)
    return (float(mins[0]), float(mins[1]), float(maxs[0]), float(maxs[1]))


def misplaced_layers(boxes: Mapping[str, LonLatBox], far_km: float = FAR_KM) -> list[Misplaced]:
    """Layers lying more than ``far_km`` from the region of the others.

    As in :func:`region_bounds`, the region is the counties layer's when the
    project has one, else the other layers': a layer is misplaced when its
    extent is more than ``far_km`` from the counties', or — without counties
    — from every other layer's. The counties layer itself is misplaced when
    it is that far from every other layer and there are at least two others
    (which then agree on where the region is).

    Parameters
    ----------
    boxes : mapping of str to tuple of float
        Each non-empty layer's extent in longitude/latitude (degrees), by kind.
    far_km : float, default :data:`FAR_KM`
        Threshold distance (km).

    Returns
    -------
    list of Misplaced
        In the order of ``boxes``.
    """
    kinds = list(boxes)
    if len(kinds) < 2:
        return []

    def far_from_all(kind: str, others: list[str]) -> bool:
        return all(box_distance_km(boxes[kind], boxes[o]) > far_km for o in others)

    def misplaced(kind: str, region_of: str, region: LonLatBox) -> Misplaced:
        return Misplaced(kind, boxes[kind], region_of, region, box_distance_km(boxes[kind], region))

    others = [k for k in kinds if k != "counties"]
    if "counties" in boxes:
        if len(others) >= 2 and far_from_all("counties", others):
            region = _union([boxes[k] for k in others])
            return [misplaced("counties", "the other layers", region)]
        region = boxes["counties"]
        return [
            misplaced(k, "counties", region)
            for k in others
            if box_distance_km(boxes[k], region) > far_km
        ]
    out = []
    for kind in kinds:
        rest = [k for k in kinds if k != kind]
        if far_from_all(kind, rest):
            out.append(misplaced(kind, "the other layers", _union([boxes[k] for k in rest])))
    return out
