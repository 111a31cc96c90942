"""``must_tile``: layers cover a region once; breaches are gaps, double cover and spill outside."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geoplan.analysis.breaches import Breaches, concat
from geoplan.analysis.overlay import intersect_pairs, outside
from geoplan.analysis.pieces import Indexed
from geoplan.analysis.relations import Relation, Sides
from geoplan.analysis.rules import Rule


def breaches(rule: Rule, sides: Sides) -> Breaches:
    """Where the ``layers`` leave the ``region`` uncovered, cover it twice, or spill out.

    For example the three zones over the counties.
    """
    layers, region = sides.layers, sides.region
    frame = gpd.GeoDataFrame(
        pd.concat([s.frame for s in layers], ignore_index=True), crs=region.frame.crs
    )
    cover = Indexed.concat([s.geoms for s in layers])
    li, ri, twice = intersect_pairs(cover, cover, same=True)
    double = Breaches.of(frame, frame, li, ri, twice, "double_cover")
    gi, gaps = outside(region.geoms, cover)
    gap = Breaches.of(region.frame, None, gi, None, gaps, "gap")
    oi, spill = outside(cover, region.geoms)
    out = Breaches.of(frame, None, oi, None, spill, "outside_region")
    return concat([double, gap, out])


RELATION = Relation(
    name="must_tile",
    title="应无缝覆盖",
    sides=("layers", "region"),
    breaches=breaches,
)
