"""城镇开发边界 (layer CZKFBJ): the central city, the county seats and 12 central towns."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geoplan.layers.bazhong.gen.facts import CENTRAL_URBAN_KM2, SEATS, URBAN_KM2
from geoplan.layers.bazhong.gen.shapes import CRS, gk, sized_blob, stored_area

#: Shares of the central city (中心城区) by district.
CENTRAL = {"巴州区": 0.68, "恩阳区": 0.32}
#: The other county seats, each with this share of what the central city leaves.
SEAT_SHARE = 0.18


def urban_boundary(rng: np.random.Generator, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One blob per centre, each scaled to its share of the plan's 160.6 km².

    The central city (巴州 + 恩阳 seats) has 71.8 km², each other county seat
    18 % of the rest, and 12 central towns of 城镇化地区 share what is left.
    """
    pieces = _centres(rng, townships)
    geoms = [
        sized_blob(
            rng, x, y, km2 * 1e6, lo=100, vertices=120, roughness=0.3, stretch=rng.uniform(0.8, 1.5)
        )
        for _, (x, y), km2 in pieces
    ]
    urban = gpd.GeoDataFrame(
        {
            "BSM": [f"CZKFBJ{i + 1:04d}" for i in range(len(pieces))],
            "MC": [name for name, _, _ in pieces],
        },
        geometry=geoms,
        crs=CRS,
    )
    urban["MJ"] = stored_area(urban.geometry.values)
    return urban


def _centres(
    rng: np.random.Generator, townships: gpd.GeoDataFrame
) -> list[tuple[str, tuple[float, float], float]]:
    """(name, centre (m), area in km²) of each urban piece, the central city first."""
    pieces = [
        (f"{county}中心城区", gk(*SEATS[county]), CENTRAL_URBAN_KM2 * share)
        for county, share in CENTRAL.items()
    ]
    others = URBAN_KM2 - CENTRAL_URBAN_KM2
    for county in ("通江县", "南江县", "平昌县"):
        pieces.append((f"{county}县城", gk(*SEATS[county]), others * SEAT_SHARE))
    towns = townships[(townships["ZTGNQ"] == "城镇化地区") & (townships["XZMC"].str.endswith("镇"))]
    towns = towns.iloc[rng.choice(len(towns), 12, replace=False)].sort_values("XZQDM")
    rest = others * (1 - 3 * SEAT_SHARE) / len(towns)
    for town in towns.itertuples():
        p = shapely.point_on_surface(town.geometry)
        pieces.append((f"{town.XZQMC}{town.XZMC}镇区", (p.x, p.y), rest))
    return pieces
