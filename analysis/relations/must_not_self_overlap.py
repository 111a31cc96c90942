"""``must_not_self_overlap``: features of one layer may not overlap; a breach is their overlap."""

from __future__ import annotations

from geoplan.analysis.breaches import Breaches, shared_area
from geoplan.analysis.relations import Relation, Sides
from geoplan.analysis.rules import Rule


def breaches(rule: Rule, sides: Sides) -> Breaches:
    """The area shared by two features of the left layer, each pair once."""
    return shared_area(sides.left, sides.left, "overlap", same=True)


RELATION = Relation(
    name="must_not_self_overlap",
    title="不得自相重叠",
    sides=("left",),
    breaches=breaches,
    site_sides=("left",),
)
