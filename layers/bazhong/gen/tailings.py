"""尾矿库 (layer WKK): tailings ponds in the mountains, one of them planted near a river.

Four ponds lie in 生态空间 clear of everything: outside the red line and the
protected areas, 2 km or more from the urban boundary, the parks and the
water sources, 1.5 km or more from every river. The fifth is planted with its
centre 400 to 700 m from a river: 巴中's rivers run to the 长江 through the 渠江 and the
嘉陵江, and are taken as its 重要支流, within 1 km of whose banks
《长江保护法》第二十六条第三款 bars new tailings ponds.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geoplan.layers.bazhong.gen.planted import Plan
from geoplan.layers.bazhong.gen.shapes import CRS, random_points, sized_blob, stored_area

#: Ponds placed clear of everything.
PONDS = 4
#: Sizes of the ponds (km²): drawn between these; the planted one has the first.
POND_KM2 = (0.1, 0.4)
#: Clearances (m): from every river, and from the urban boundary, parks and water sources.
RIVER_CLEARANCE = 1_500.0
CLEARANCE = 2_000.0
#: Distance band (m) of the planted pond's centre from a river.
NEAR_RIVER = (400.0, 700.0)


def tailings(
    rng: np.random.Generator,
    ecological: shapely.Geometry,
    avoid: shapely.Geometry,
    clear_of: shapely.Geometry,
    rivers: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """The ponds clear of everything, then the planted one near a river (the last row).

    Parameters
    ----------
    rng : numpy.random.Generator
        A stream of its own, so that the other layers do not move.
    ecological : shapely.Geometry
        生态空间.
    avoid : shapely.Geometry
        What no pond may touch (the red line and the protected areas).
    clear_of : shapely.Geometry
        What every pond stays :data:`CLEARANCE` from (the urban boundary, the
        parks and the water sources).
    rivers, townships : geopandas.GeoDataFrame
        The rivers, and the townships that name the ponds.
    """
    keep_out = shapely.union(avoid, shapely.buffer(clear_of, CLEARANCE))
    free = shapely.difference(ecological, keep_out)
    river_lines = shapely.union_all(rivers.geometry.values)
    far = shapely.difference(free, shapely.buffer(river_lines, RIVER_CLEARANCE))
    band = shapely.difference(
        shapely.intersection(free, shapely.buffer(river_lines, NEAR_RIVER[1])),
        shapely.buffer(river_lines, NEAR_RIVER[0]),
    )
    km2 = rng.uniform(*POND_KM2, PONDS + 1)
    geoms = [_pond(rng, far, a * 1e6) for a in km2[1:]]
    geoms.append(_pond(rng, band, POND_KM2[0] * 1e6, within=free))
    towns = townships.set_index(["XZQMC", "XZMC"]).geometry
    names = [
        "".join(towns.index[towns.intersects(shapely.point_on_surface(g))][0]) + "尾矿库"
        for g in geoms
    ]
    frame = gpd.GeoDataFrame(
        {"BSM": [f"WKK{i + 1:04d}" for i in range(len(geoms))], "MC": names},
        geometry=geoms,
        crs=CRS,
    )
    frame["MJ"] = stored_area(frame.geometry.values)
    return frame


def _pond(
    rng: np.random.Generator,
    region: shapely.Geometry,
    target_m2: float,
    *,
    within: shapely.Geometry | None = None,
) -> shapely.Geometry:
    """A pond of ``target_m2`` (m²) centred in ``region``, wholly in ``within`` (or ``region``)."""
    within = region if within is None else within
    shapely.prepare(within)
    while True:
        x, y = random_points(rng, region, 1)[0]
        pond = sized_blob(rng, x, y, target_m2, lo=10, vertices=40, roughness=0.15)
        if shapely.contains(within, pond):
            return pond


def plant_tailings_case(plan: Plan, ponds: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame) -> None:
    """Record the planted pond (the last row) and the river it is within 1 km of."""
    pond = ponds.iloc[-1]
    distances = rivers.geometry.distance(pond.geometry)
    river = rivers.loc[distances.idxmin()]
    plan.plant(
        "tailings_near_river",
        "tailings",
        pond["BSM"],
        "rivers",
        river["BSM"],
        "conflict",
        f"尾矿库 {distances.min():.0f} m from {river['MC']}",
    )
