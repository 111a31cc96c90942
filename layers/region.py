"""The extent of the region a project covers."""

from __future__ import annotations

from collections.abc import Mapping

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
