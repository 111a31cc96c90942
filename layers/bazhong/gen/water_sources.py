"""饮用水水源保护区 (layer YYSYBHQ): the zones of river intakes near the county seats.

Each source is an intake on a river. Its 一级保护区 is the river from
1,000 m above the intake to 100 m below it, with 100 m of bank on each side;
its 二级保护区 the river from 2,000 m above the 一级 to 200 m below it, with
1,000 m of bank, less the 一级. These are sizes of the usual order for a
river intake, not taken from a standard. The intakes of the five seats lie
upstream of their urban boundaries, clear of every park; two are planted: the
平昌县 intake 900 m below 金宝工业园 (the park reaches into the 一级 and the
二级; the 二级 stops short of the agricultural parks upstream) and the 曾口镇
intake 2 km below 巴中曾口—金堂化工园区（曾口区块） (the park is in the 二级 only).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import substring

from geoplan.layers.bazhong.gen.planted import Plan
from geoplan.layers.bazhong.gen.shapes import CRS, named, sharing_area, stored_area

#: The sources: name, river, and the intake as metres along the river from its upstream end.
SOURCES = [
    ("巴州区南江河", "南江河", 89_000.0),
    ("恩阳区恩阳河", "恩阳河", 20_500.0),
    ("通江县通江河", "通江河", 54_000.0),
    ("南江县南江河", "南江河", 35_500.0),
]
#: The planted sources: name, river, the park, and the intake's metres below the
#: point of the river nearest the park.
PLANTED_SOURCES = [
    ("平昌县澌滩河", "澌滩河", "金宝工业园", 900.0),
    ("巴州区曾口镇巴河", "巴河", "巴中曾口—金堂化工园区（曾口区块）", 2_000.0),
]
#: Reach of each grade: metres above the intake, metres below it, bank width (m).
REACHES = {"一级保护区": (1_000.0, 100.0, 100.0), "二级保护区": (3_000.0, 300.0, 1_000.0)}


def water_sources(rivers: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The 一级 and 二级 zones of every source, in the order of :data:`SOURCES`, then the planted.

    Deterministic: no random draws, so the other layers do not move.
    """
    by_name = rivers.set_index("MC").geometry
    intakes = [(name, by_name[river], along) for name, river, along in SOURCES]
    for name, river, park, below in PLANTED_SOURCES:
        line = by_name[river]
        nearest = shapely.get_point(shapely.shortest_line(line, named(parks, park).geometry), 0)
        intakes.append((name, line, line.project(nearest) + below))
    rows = []
    for name, line, along in intakes:
        first = _zone(line, along, *REACHES["一级保护区"])
        second = shapely.difference(_zone(line, along, *REACHES["二级保护区"]), first)
        for grade, geom in (("一级保护区", first), ("二级保护区", second)):
            rows.append({"MC": f"{name}饮用水水源{grade}", "JB": grade, "geometry": geom})
    frame = gpd.GeoDataFrame(rows, crs=CRS)
    frame.insert(0, "BSM", [f"YYSYBHQ{i + 1:04d}" for i in range(len(frame))])
    frame["MJ"] = stored_area(frame.geometry.values)
    return frame


def _zone(
    river: shapely.Geometry, along: float, above: float, below: float, bank: float
) -> shapely.Geometry:
    """The river from ``above`` m upstream of ``along`` to ``below`` m downstream, ``bank`` m wide.

    ``along`` is in metres from the river's upstream end; the reach is taken
    on the part of the river (after clipping to the city) that holds it.
    """
    parts = shapely.get_parts(river)
    ends = np.cumsum([0.0, *shapely.length(parts)])
    k = int(np.searchsorted(ends, along, side="right")) - 1
    k = min(k, len(parts) - 1)
    start = along - ends[k]
    reach = substring(parts[k], start - above, start + below)
    return shapely.buffer(reach, bank, cap_style="flat")


def plant_water_source_cases(plan: Plan, water: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> None:
    """Record every park that shares area with a 一级 or a 二级 zone (all of them planted)."""
    cases = {
        "一级保护区": "parks_in_water_source_primary",
        "二级保护区": "parks_in_water_source_secondary",
    }
    for i, j, shared in sharing_area(parks.geometry.values, water.geometry.values):
        park, zone = parks.iloc[i], water.iloc[j]
        plan.plant(
            cases[zone["JB"]],
            "parks",
            park["BSM"],
            "water_source_protection",
            zone["BSM"],
            "conflict",
            f"{park['MC']} shares {shared / 1e4:.2f} ha with {zone['MC']}",
        )
