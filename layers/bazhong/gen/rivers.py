"""The main rivers (layer HL), flowing south to the 渠江."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geoplan.layers.bazhong.gen.shapes import CRS, wiggly_line

#: Courses (CGCS2000 lon, lat in degrees), upstream first.
RIVERS = {
    "南江河": [(106.84, 32.72), (106.86, 32.50), (106.83, 32.35), (106.80, 32.10), (106.75, 31.86)],
    "巴河": [
        (106.75, 31.86),
        (106.86, 31.74),
        (106.98, 31.64),
        (107.10, 31.56),
        (107.22, 31.40),
        (107.30, 31.26),
    ],
    "通江河": [(107.30, 32.53), (107.28, 32.30), (107.24, 31.91), (107.15, 31.72), (107.10, 31.56)],
    "小通江河": [(107.02, 32.50), (107.06, 32.25), (107.15, 32.05), (107.22, 31.98)],
    "恩阳河": [(106.37, 31.95), (106.50, 31.85), (106.63, 31.79), (106.78, 31.77), (106.86, 31.74)],
    "澌滩河": [(107.57, 31.80), (107.42, 31.66), (107.25, 31.55), (107.16, 31.48)],
    "神潭河": [(106.46, 32.45), (106.62, 32.38), (106.78, 32.30), (106.81, 32.22)],
    "明江": [(107.05, 32.55), (106.98, 32.42), (106.88, 32.30)],
}


def rivers(rng: np.random.Generator, city: shapely.Geometry) -> gpd.GeoDataFrame:
    """The main rivers as meandering lines through their courses, clipped to the city."""
    names = list(RIVERS)
    lines = [shapely.intersection(wiggly_line(rng, RIVERS[n]), city) for n in names]
    return gpd.GeoDataFrame(
        {"BSM": [f"HL{i + 1:04d}" for i in range(len(names))], "MC": names},
        geometry=lines,
        crs=CRS,
    )
