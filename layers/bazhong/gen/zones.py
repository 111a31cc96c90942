"""The three zones (三区, layer SQ) and the ecological red line (layer STBHHX)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geoplan.geo.repair import family_part
from geoplan.layers.bazhong.gen.facts import ECOLOGICAL_SHARE, REDLINE_KM2
from geoplan.layers.bazhong.gen.protected import LANTING
from geoplan.layers.bazhong.gen.shapes import CRS, area, calibrate, first_ring, named, stored_area


def north_of(city: shapely.Geometry, offset: float, rng_state: int) -> shapely.Geometry:
    """The part of the city north of a wavy east-west line (at ``offset`` m north of the centre)."""
    rng = np.random.default_rng(rng_state)
    x0, y0, x1, y1 = city.bounds
    xs = np.linspace(x0 - 1_000, x1 + 1_000, 400)
    t = np.linspace(0, 1, xs.size)
    wave = sum(
        rng.normal(0, 9_000 / k) * np.sin(np.pi * k * t + rng.uniform(0, 6.28))
        for k in (1, 2, 5, 11, 23)
    )
    # the line falls towards the south-east, as the mountains do
    ys = (y0 + y1) / 2 + offset + wave - 20_000 * (t - 0.5)
    ring = [*zip(xs, ys, strict=True), (x1 + 1_000, y1 + 1_000), (x0 - 1_000, y1 + 1_000)]
    return shapely.intersection(shapely.Polygon(ring), city)


def zones_and_redline(
    city: shapely.Geometry, urban: shapely.Geometry, protected: gpd.GeoDataFrame, state: int
) -> tuple[shapely.Geometry, shapely.Geometry, shapely.Geometry, shapely.Geometry]:
    """生态空间 (50.30 %), 农业空间 (rest), and the red line (1,673.0 km²) inside 生态空间.

    生态空间 is the mountainous north plus every protected area, less the
    urban boundary. The red line is the protected areas plus the high
    north, inside 生态空间, less a lobe of 大小兰沟 (planted: a reserve
    partly outside the red line).

    Returns
    -------
    ecological, agricultural, redline, lobe : shapely.Geometry
        ``lobe`` is the part of 大小兰沟 left out of the red line.
    """
    city_m2 = area(city)
    protected_union = shapely.union_all(protected.geometry.values)
    ecological = calibrate(
        lambda off: shapely.difference(
            shapely.union_all([north_of(city, -off, state), protected_union]), urban
        ),
        ECOLOGICAL_SHARE * city_m2,
        -60_000,
        60_000,
        rel=2e-4,
    )
    agricultural = shapely.difference(shapely.difference(city, ecological), urban)
    lanting = named(protected, LANTING)["geometry"]
    lx, ly = shapely.get_coordinates(first_ring(lanting))[0]
    lobe = shapely.intersection(lanting, shapely.Point(lx, ly).buffer(1_500))
    redline = calibrate(
        lambda off: shapely.difference(
            shapely.intersection(
                shapely.union_all([north_of(city, -off, state + 1), protected_union]), ecological
            ),
            lobe,
        ),
        REDLINE_KM2 * 1e6,
        -80_000,
        80_000,
        rel=2e-4,
    )
    return ecological, agricultural, redline, lobe


def zone_layer(
    urban: shapely.Geometry, agricultural: shapely.Geometry, ecological: shapely.Geometry
) -> gpd.GeoDataFrame:
    """The three zones, 城镇空间 being the urban boundary; they tile the city."""
    zones = gpd.GeoDataFrame(
        {
            "BSM": ["SQ0001", "SQ0002", "SQ0003"],
            "KJLX": ["城镇空间", "农业空间", "生态空间"],
        },
        geometry=[urban, agricultural, ecological],
        crs=CRS,
    )
    zones["MJ"] = stored_area(zones.geometry.values)
    return zones


def redline_layer(redline: shapely.Geometry, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The red line cut into one feature per county, on the centimetre grid."""
    # on the centimetre grid the file is written on: cutting along the county
    # outlines leaves slivers that rounding alone would collapse into invalid
    # rings, and line fragments where the red line follows an outline
    by_county = [
        (
            c.XZQMC,
            family_part(
                shapely.set_precision(shapely.intersection(redline, c.geometry), 0.01), "polygon"
            ),
        )
        for c in counties.itertuples()
    ]
    red = gpd.GeoDataFrame(
        {
            "BSM": [f"STBHHX{i + 1:04d}" for i in range(len(by_county))],
            "HXMC": [f"{c}生态保护红线" for c, _ in by_county],
        },
        geometry=[g for _, g in by_county],
        crs=CRS,
    )
    red["MJ"] = stored_area(red.geometry.values)
    return red
