"""``must_not_overlap``: A and B may not share area; each breach is A ∩ B."""

from __future__ import annotations

from geoplan.analysis.breaches import Breaches, shared_area
from geoplan.analysis.relations import Relation, Sides
from geoplan.analysis.rules import Rule


def breaches(rule: Rule, sides: Sides) -> Breaches:
    """The area each left and right feature share."""
    return shared_area(sides.left, sides.right, "overlap")


RELATION = Relation(
    name="must_not_overlap",
    title="不得重叠",
    sides=("left", "right"),
    breaches=breaches,
    site_sides=("left", "right"),
)
