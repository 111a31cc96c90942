"""The parks of ``facts/parks.csv`` (产业园区, layer CYYQ) and the cases planted with them.

Industrial parks sit inside their county seat's urban boundary, except the
planted ones: 巴中曾口—金堂化工园区（曾口区块） beside 巴河 (within 1 km),
金宝工业园 outside the urban boundary on farmland, 东榆工业园 in a township
typed 重点生态功能区, 春在食品医药工业园 partly inside 五台山猕猴自然保护区.
Agricultural parks lie in 农业空间.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.layers.bazhong.gen.facts import FACTS, SEATS
from geoplan.layers.bazhong.gen.planted import Plan
from geoplan.layers.bazhong.gen.shapes import (
    CRS,
    first_ring,
    gk,
    named,
    random_points,
    sized_blob,
    square,
    stored_area,
)

AGRICULTURAL = "现代农业园区"
#: Sizes (km²) of the 现代农业园区 by county, unless named in ``_agricultural_km2``.
AGRICULTURAL_KM2 = {"南江县": 27, "巴州区": 25, "通江县": 15, "恩阳区": 12}
RESERVE = "四川五台山猕猴自然保护区"


def parks(
    rng: np.random.Generator,
    urban: gpd.GeoDataFrame,
    agricultural: shapely.Geometry,
    townships: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
    protected: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The parks, sized and placed, and the planted placements (park name → placement).

    Industrial clusters average 1.17 km², agricultural parks have their
    stated sizes; a park with no county is put in 巴州区.
    """
    table = pd.read_csv(FACTS / "parks.csv", dtype=str).fillna("")
    table["county"] = table["county"].replace("", "巴州区")
    industrial = table["kind"] != AGRICULTURAL
    sizes = rng.uniform(0.4, 2.2, int(industrial.sum()))
    sizes *= 1.17 / sizes.mean()
    size_of = dict(zip(table.index[industrial], sizes, strict=True))
    seat_blob = {c: urban.loc[urban["MC"].str.startswith(c)].geometry.iloc[0] for c in SEATS}
    county_geom = counties.set_index("XZQMC").geometry
    river_by = rivers.set_index("MC").geometry
    planted = {}
    rows = []
    for i, park in table.iterrows():
        name, county = park["name"], park["county"]
        if park["kind"] == AGRICULTURAL:
            zone = shapely.intersection(agricultural, county_geom[county])
            p, km2, where = _near_seat(zone, county), _agricultural_km2(name, county), None
        else:
            p, where = _industrial_site(
                rng, name, county, seat_blob[county], river_by, townships, protected
            )
            km2 = size_of[i]
        geom = sized_blob(rng, p.x, p.y, km2 * 1e6, lo=10, vertices=60, roughness=0.15)
        if where is not None:
            planted[name] = where
        elif park["kind"] != AGRICULTURAL:
            geom = shapely.intersection(geom, seat_blob[county].buffer(-5))
        rows.append(_row(i, park, geom))
    frame = gpd.GeoDataFrame(rows, crs=CRS)
    frame["MJ"] = stored_area(frame.geometry.values)
    return frame, planted


def _row(i: int, park: pd.Series, geom: shapely.Geometry) -> dict:
    """The layer's row of the ``i``-th park of the table."""
    return {
        "BSM": f"CYYQ{i + 1:04d}",
        "MC": park["name"],
        "LX": park["kind"],
        "JB": park["level"],
        "SFHG": "是" if park["chemical"] == "True" else "否",
        "XZQMC": park["county"],
        "geometry": shapely.make_valid(geom),
    }


def _agricultural_km2(name: str, county: str) -> float:
    """Size (km²) of a 现代农业园区: the 青花椒 and 茶叶 parks are larger."""
    return 42 if "青花椒" in name else 45 if "茶叶" in name else AGRICULTURAL_KM2[county]


def _near_seat(zone: shapely.Geometry, county: str) -> shapely.Point:
    """A point of ``zone`` within 25 km of the county seat, or anywhere in it if none is."""
    near = shapely.intersection(zone, square(*gk(*SEATS[county]), 25_000))
    return shapely.point_on_surface(zone if near.is_empty else near)


def _industrial_site(
    rng: np.random.Generator,
    name: str,
    county: str,
    seat_blob: shapely.Geometry,
    river_by: pd.Series,
    townships: gpd.GeoDataFrame,
    protected: gpd.GeoDataFrame,
) -> tuple[shapely.Point, str | None]:
    """Where an industrial park goes, and its planted placement (None: inside the seat)."""
    if name.startswith("巴中曾口—金堂化工园区（曾口区块）"):
        p0 = shapely.line_interpolate_point(river_by["巴河"], 0.35, normalized=True)
        return shapely.Point(p0.x + 1_400, p0.y - 300), "river"
    if name == "金宝工业园":
        return shapely.Point(seat_blob.centroid.x + 9_000, seat_blob.centroid.y - 4_000), "outside"
    if name.startswith("东榆工业园"):
        eco_town = townships[
            (townships["XZQMC"] == county) & (townships["ZTGNQ"] == "重点生态功能区")
        ]
        seat = shapely.Point(*gk(*SEATS[county]))
        nearest = eco_town.geometry.distance(seat).sort_values().index[0]
        return shapely.point_on_surface(eco_town.geometry[nearest]), "ecological_township"
    if name == "春在食品医药工业园":
        edge = shapely.get_coordinates(first_ring(named(protected, RESERVE)["geometry"]))
        return shapely.Point(*edge[len(edge) // 2]), "reserve"
    inner = shapely.buffer(seat_blob, -1_200)
    inner = seat_blob if inner.is_empty else inner
    return shapely.Point(*random_points(rng, inner, 1)[0]), None


def plant_park_cases(
    plan: Plan, park: gpd.GeoDataFrame, placements: dict[str, str], protected: gpd.GeoDataFrame
) -> None:
    """Record the cases each planted placement makes (park name → placement, from :func:`parks`)."""
    outside_urban = (
        "park_outside_urban",
        "urban_boundary",
        "",
        "industrial park outside the urban boundary",
    )
    cases = {
        "river": [("chemical_park_near_river", "rivers", "HL0002", "化工园区 within 1 km of 巴河")],
        "outside": [
            outside_urban,
            ("park_on_farmland", "permanent_farmland", "", "industrial park over farmland patches"),
        ],
        "ecological_township": [
            (
                "park_in_ecological_township",
                "townships",
                "",
                "industrial park in a township typed 重点生态功能区",
            ),
            outside_urban,
        ],
        "reserve": [
            (
                "park_in_reserve",
                "protected_areas",
                named(protected, RESERVE)["BSM"],
                "industrial park partly inside a 自然保护区",
            )
        ],
    }
    for name, where in placements.items():
        bsm = named(park, name)["BSM"]
        for case, right, right_id, note in cases[where]:
            plan.plant(case, "parks", bsm, right, right_id, "conflict", note)
