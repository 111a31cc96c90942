"""The generated plan: its layers and the table of the cases planted in them."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd


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
        """Record one planted case (a row of ``planted_conflicts.csv``)."""
        self.planted.append(
            {
                "case": case,
                "left_layer": left,
                "left_id": left_id,
                "right_layer": right,
                "right_id": right_id,
                "expected": expected,
                "note": note,
            }
        )
