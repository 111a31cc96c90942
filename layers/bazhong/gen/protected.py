"""The 13 protected areas (自然保护地, layer ZRBHD), their 功能分区 and the cases planted there."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.layers.bazhong.gen.facts import FACTS
from geoplan.layers.bazhong.gen.planted import Plan
from geoplan.layers.bazhong.gen.shapes import (
    CRS,
    area,
    blob,
    calibrate,
    gk,
    scale_about,
    stored_area,
)

#: Rough centres (lon, lat) of the protected areas, after the plan's maps.
PROTECTED_PLACES = {
    "四川光雾山自然保护区": [(106.80, 32.62)],
    "四川米仓山国家级森林公园": [(106.62, 32.57)],
    "四川大小兰沟自然保护区": [(106.98, 32.52)],
    "神门风景名胜区": [(106.56, 32.40)],
    "四川诺水河自然保护区": [(107.30, 32.42)],
    "四川诺水河珍稀水生动物国家级自然保护区": [(107.30, 32.42)],
    "四川五台山猕猴自然保护区": [(107.52, 32.12)],
    "四川空山国家级森林公园": [(107.10, 32.35)],
    "光雾山—诺水河国家级风景名胜区": [(106.74, 32.60), (107.28, 32.45)],
    "四川天马山国家级森林公园": [(106.86, 31.93)],
    "四川镇龙山国家级森林公园": [(107.30, 31.72)],
    "四川平昌驷马河国家湿地公园": [(107.02, 31.63)],
    "四川省章怀山森林公园": [(106.52, 31.84)],
}
#: The areas that follow a river, and the river.
RIVER_RESERVES = {
    "四川诺水河珍稀水生动物国家级自然保护区": "通江河",
    "四川平昌驷马河国家湿地公园": "巴河",
}
#: The reserve a lobe of which is left out of the red line (planted).
LANTING = "四川大小兰沟自然保护区"
#: Share of a zoned 自然保护区's area in its 核心保护区 (an inner core; the rest is
#: 一般控制区); at 0.45 the core of 大小兰沟 stays clear of the lobe left out of the red line.
CORE_SHARE = 0.45
#: The reserve left without a 功能分区 (GNFQ null): the case of the zone-unknown rules.
UNZONED = "四川五台山猕猴自然保护区"
#: Smallest area (m²) of a piece of 大小兰沟 in the lobe for it to be recorded as planted.
LOBE_PIECE_M2 = 10_000


def protected_areas(
    rng: np.random.Generator, counties: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The 13 protected areas, each within 0.05 % of its published area.

    Each is a blob (two for 光雾山—诺水河) at its place, clipped to its
    counties; the two river reserves (诺水河珍稀水生动物, 驷马河湿地) follow
    their rivers. They overlap where the real ones do (the 风景名胜区 over the
    reserves and forest parks of the north).
    """
    table = pd.read_csv(FACTS / "protected_areas.csv")
    by_name = counties.set_index("XZQMC").geometry
    rivers_by_name = rivers.set_index("MC").geometry
    rows = []
    for item in table.itertuples():
        within = shapely.union_all([by_name[c] for c in item.counties.split(";")])
        target = item.area_km2 * 1e6
        places = PROTECTED_PLACES[item.name]
        if item.name in RIVER_RESERVES:
            geom = _along(rivers_by_name[RIVER_RESERVES[item.name]], places[0], within, target)
        else:
            geom = _blobs(rng, places, within, target)
        reserve = item.category == "自然保护区"
        rows.append(
            {
                "BSM": f"ZRBHD{item.seq:04d}",
                "MC": item.name,
                "LX": item.category,
                "ZLX": item.subtype,
                "JB": item.level,
                "GNFQ": "核心保护区" if reserve else "一般控制区",
                "geometry": shapely.make_valid(geom),
            }
        )
    protected = gpd.GeoDataFrame(rows, crs=CRS)
    protected["MJ"] = stored_area(protected.geometry.values)
    return protected


def zone_protected_areas(protected: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The protected areas with their 功能分区 (GNFQ): one feature per area and zone.

    Each 自然保护区 but :data:`UNZONED` is cut into an inner 核心保护区 of
    :data:`CORE_SHARE` of its area, which keeps the area's BSM, and the
    一般控制区 remainder, which gets the next free BSM and follows the 13
    areas. Both pieces come from the one outline and the one inset of it, so
    they share their seam vertex for vertex and tile the outline exactly. The
    自然公园 are 一般控制区 whole; :data:`UNZONED` has no zone.
    """
    zoned = protected.copy()
    zoned.loc[zoned["MC"] == UNZONED, "GNFQ"] = None
    split = zoned.index[(zoned["LX"] == "自然保护区") & (zoned["MC"] != UNZONED)]
    remainders = []
    for k, i in enumerate(split, start=len(zoned) + 1):
        outline = zoned.geometry[i]
        core, rest = calibrate(
            lambda inset, g=outline: _core_and_rest(g, inset),
            CORE_SHARE * area(outline),
            -20_000,
            0,
            measure=lambda pieces: area(pieces[0]),
        )
        zoned.loc[i, "geometry"] = core
        remainders.append(
            {
                **zoned.loc[i].to_dict(),
                "BSM": f"ZRBHD{k:04d}",
                "GNFQ": "一般控制区",
                "geometry": rest,
            }
        )
    zoned = pd.concat([zoned, gpd.GeoDataFrame(remainders, crs=CRS)], ignore_index=True)
    zoned["MJ"] = stored_area(zoned.geometry.values)
    return zoned


def _core_and_rest(
    outline: shapely.Geometry, inset: float
) -> tuple[shapely.Geometry, shapely.Geometry]:
    """``outline`` within ``-inset`` m of its edge (the core) and the rest of it."""
    inner = shapely.buffer(outline, inset)
    return shapely.intersection(outline, inner), shapely.difference(outline, inner)


def _along(
    river: shapely.Geometry,
    place: tuple[float, float],
    within: shapely.Geometry,
    target_m2: float,
) -> shapely.Geometry:
    """A buffer of the reach of ``river`` within 12 km of ``place`` (lon, lat), of ``target_m2``."""
    reach = shapely.intersection(river, shapely.Point(*gk(*place)).buffer(12_000))
    return calibrate(lambda w: shapely.intersection(reach.buffer(w), within), target_m2, 5, 3_000)


def _blobs(
    rng: np.random.Generator,
    places: list[tuple[float, float]],
    within: shapely.Geometry,
    target_m2: float,
) -> shapely.Geometry:
    """The union of one blob per place (lon, lat), scaled together to ``target_m2`` (m²)."""
    shapes = [
        (blob(rng, *gk(lon, lat), 1.0, vertices=220, roughness=0.3), gk(lon, lat))
        for lon, lat in places
    ]

    def make(f: float) -> shapely.Geometry:
        scaled = [scale_about(s, f, shapely.Point(*c)) for s, c in shapes]
        return shapely.intersection(shapely.union_all(scaled), within)

    return calibrate(make, target_m2, 100, 40_000)


def plant_protected_cases(plan: Plan, protected: gpd.GeoDataFrame, lobe: shapely.Geometry) -> None:
    """Record the pieces of 大小兰沟 in the lobe outside the red line, and every overlapping pair.

    ``protected`` is the zoned layer (:func:`zone_protected_areas`).
    """
    for piece in protected.loc[protected["MC"] == LANTING].itertuples():
        left_out = area(shapely.intersection(piece.geometry, lobe))
        if left_out > LOBE_PIECE_M2:
            plan.plant(
                "reserve_outside_redline",
                "protected_areas",
                piece.BSM,
                "ecological_redline",
                "",
                "conflict",
                f"{left_out / 1e6:.2f} km² of its {piece.GNFQ} in a lobe of "
                f"{area(lobe) / 1e6:.2f} km² left out of the red line",
            )
    geoms = protected.geometry.values
    a, b = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    for i, j in zip(a, b, strict=True):
        if i < j:
            plan.plant(
                "protected_areas_overlap",
                "protected_areas",
                protected["BSM"].iloc[i],
                "protected_areas",
                protected["BSM"].iloc[j],
                "conflict",
                f"{protected['MC'].iloc[i]} × {protected['MC'].iloc[j]}",
            )
