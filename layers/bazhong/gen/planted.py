"""The generated plan: its layers and the table of the cases planted in them."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

#: The rule of the national pack each planted case must trigger (or, for
#: ``sliver_seam``, must drop as a sliver); cases of the loader have none.
CASE_RULES = {
    "farmland_in_redline": "lines-redline-farmland",
    "farmland_in_ecological_space": "zones-farmland-in-agricultural",
    "urban_over_farmland": "lines-farmland-urban",
    "sliver_seam": "lines-farmland-urban",
    "chemical_park_near_river": "parks-chemical-river",
    "park_outside_urban": "parks-in-urban",
    "park_on_farmland": "parks-outside-farmland",
    "park_in_ecological_township": "function-ecological-industry",
    "park_in_reserve": "parks-outside-reserve",
    "reserve_outside_redline": "pa-reserve-in-redline",
    "protected_areas_overlap": "pa-no-overlap",
    "pa_core_farmland": "pa-core-farmland",
    "parks_in_water_source_primary": "parks-water-source",
    "parks_in_water_source_secondary": "parks-water-source-secondary",
    "tailings_near_river": "tailings-tributary",
}


@dataclass
class Plan:
    """The generated layers (by GeoPackage table name) and what was planted in them."""

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    planted: list[dict[str, str]] = field(default_factory=list)

    def plant(
        self,
        case: str,
        left: str,
        left_id: str,
        right: str,
        right_id: str,
        expected: str,
        note: str,
    ) -> None:
        """Record one planted case (a row of ``planted_conflicts.csv``), with its rule."""
        self.planted.append(
            {
                "case": case,
                "left_layer": left,
                "left_id": left_id,
                "right_layer": right,
                "right_id": right_id,
                "expected": expected,
                "rule": CASE_RULES.get(case, ""),
                "note": note,
            }
        )
