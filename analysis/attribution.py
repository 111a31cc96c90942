"""Attribution: split each conflict by the township (or county) it lies in.

Every conflict is cut along township boundaries so that per-township totals
add up exactly to the conflict's area. A crumb (a piece under
:data:`CRUMB_M2`, the float noise of boundaries that coincide in the plan
but not to the last bit) joins the conflict's largest piece instead of
making a row of its own; a part outside every township keeps empty names.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.analysis.overlay import intersect_pairs, merge_pairs, outside
from geoplan.analysis.pieces import Indexed

#: Pieces smaller than this (m²) join the largest piece of their conflict.
CRUMB_M2 = 1.0

#: A geometry whose pieces inside the units fall short of its area by more
#: than this (m²) has its remainder outside every unit computed.
_UNCOVERED_M2 = 0.01


@dataclass(frozen=True)
class Units:
    """The areas conflicts are attributed to.

    Attributes
    ----------
    geoms : Indexed
        Their polygons in the working CRS, cut and indexed once.
    table : pandas.DataFrame
        ``county``, ``township``, ``function_type`` and ``code`` per unit,
        in the order of ``geoms``; empty strings where not known.
    """

    geoms: Indexed
    table: pd.DataFrame

    @classmethod
    def from_layers(
        cls, townships: gpd.GeoDataFrame | None, counties: gpd.GeoDataFrame | None
    ) -> Units | None:
        """Townships when loaded (with their county and function type), else counties."""
        if townships is not None and len(townships):
            frame = townships
            table = pd.DataFrame(
                {
                    "county": frame.get("county", pd.Series("", index=frame.index)),
                    "township": frame["name"],
                    "function_type": frame.get("function_type", pd.Series("", index=frame.index)),
                }
            )
        elif counties is not None and len(counties):
            frame = counties
            table = pd.DataFrame(
                {"county": frame["name"], "township": "", "function_type": ""}, index=frame.index
            )
        else:
            return None
        return cls(
            Indexed(frame.geometry.values),
            table.fillna("").astype(str).reset_index(drop=True),
        )


def split_by_unit(geoms: np.ndarray, units: Units) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut geometries along unit boundaries.

    Parameters
    ----------
    geoms : numpy.ndarray of polygons
    units : Units

    Returns
    -------
    row : numpy.ndarray of int
        Index into ``geoms`` of each piece, ascending.
    unit : numpy.ndarray of int
        Index into ``units`` (``-1``: outside every unit).
    pieces : numpy.ndarray of polygons
        Disjoint; per ``row`` they make up the whole geometry.
    """
    row, unit, inside = intersect_pairs(geoms, units.geoms)
    # only geometries not fully covered by the units need the (costly) remainder
    covered = np.bincount(row, weights=shapely.area(inside), minlength=geoms.size)
    short = np.flatnonzero(shapely.area(geoms) - covered > _UNCOVERED_M2)
    out_row, rest = outside(geoms[short], units.geoms)
    out_row = short[out_row]
    row = np.concatenate([row, out_row])
    unit = np.concatenate([unit, np.full(out_row.size, -1)])
    pieces = np.concatenate([inside, rest])
    area = shapely.area(pieces)
    # the largest piece of each row: last after sorting by (row, area)
    order = np.lexsort((area, row))
    last = np.r_[row[order][1:] != row[order][:-1], True]
    largest_unit = np.empty(geoms.size, dtype=np.int64)
    largest_unit[row[order][last]] = unit[order][last]
    crumb = area < CRUMB_M2
    unit = np.where(crumb, largest_unit[row], unit)
    return merge_pairs(row, unit, pieces)
