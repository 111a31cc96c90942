"""``must_keep_distance``: A stays ``distance_m`` from B; each breach is A ∩ buffer(B).

A pair exactly ``distance_m`` apart keeps its distance.
"""

from __future__ import annotations

from geoplan.analysis.breaches import Breaches
from geoplan.analysis.overlay import near_pairs
from geoplan.analysis.relations import Param, Relation, Sides
from geoplan.analysis.rules import Rule


def breaches(rule: Rule, sides: Sides) -> Breaches:
    """The part of each left feature within ``distance_m`` metres of a right one."""
    left, right = sides.left, sides.right
    li, ri, near, gap = near_pairs(left.geoms, right.geoms, rule.params["distance_m"])
    return Breaches.of(left.frame, right.frame, li, ri, near, "within_distance", gap)


RELATION = Relation(
    name="must_keep_distance",
    title="应保持距离",
    sides=("left", "right"),
    breaches=breaches,
    params=(Param("distance_m", float, "metres", "> 0", 1000, lambda value: value > 0),),
    site_sides=("left", "right"),
    reach="distance_m",
)
