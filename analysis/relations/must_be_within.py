"""``must_be_within``: A must lie inside B; each breach is A − ∪B."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geoplan.analysis.breaches import Breaches
from geoplan.analysis.overlay import outside
from geoplan.analysis.relations import Relation, Sides
from geoplan.analysis.rules import Rule
from geoplan.layers.catalog import KINDS


def breaches(rule: Rule, sides: Sides) -> Breaches:
    """The part of each left feature outside every right one.

    No single right feature is to blame, so every row points at one
    pseudo-feature standing for the right side as a whole: its kind and
    title, no id.
    """
    left = sides.left
    li, rest = outside(left.geoms, sides.right.geoms)
    kind = rule.right.kind
    whole = gpd.GeoDataFrame(
        {"layer_kind": [kind], "id": [""], "name": [KINDS[kind].title], "source_fid": [""]},
        geometry=[None],
        crs=left.frame.crs,
    )
    return Breaches.of(left.frame, whole, li, np.zeros(li.size), rest, "outside")


RELATION = Relation(
    name="must_be_within",
    title="应位于范围内",
    sides=("left", "right"),
    breaches=breaches,
    site_sides=("left",),
)
