"""The 田坎 deduction of the 耕地 patches (layer GD): 坡度级, KCDLBM, KCXS, KCMJ, TBDLMJ.

Each patch's slope is the DEM's slope (Horn's method, :func:`geo.terrain.horn`)
at the cell under its representative point, graded into the five 耕地坡度级
of the 土地调查 (GDPDJ 1: ≤ 2°, 2: 2–6°, 3: 6–15°, 4: 15–25°, 5: > 25°).
Its 扣除系数 KCXS (a fraction, as the 三调 DLTB holds it; deducted class
KCDLBM 1203 田坎) is read from :data:`TIANKAN_COEFFICIENTS` by class and
grade; KCMJ = TBMJ × KCXS and TBDLMJ = TBMJ − KCMJ, to 0.01 m².

The coefficients follow the rules the 二调/三调 规程 set for them, as a
course summary of the 规程 states them
(https://mip.book118.com/html/2017/0619/116587090.shtm): a patch of 2° or
less carries none (its 田坎 are mapped one by one); the coefficient grows with
the slope; 旱地 has a larger one than 水田. Sichuan's measured table (测算 by
the province, per zone, slope grade and 梯田/坡地) was not found in readable
sources, so the values are of the order such tables give for hill country,
not Sichuan's. Nothing is drawn at random, so the other layers are unchanged.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geoplan.geo.terrain import horn

#: Upper bounds (degrees) of 耕地坡度级 1–4; grade 5 is steeper than 25°.
SLOPE_GRADE_BOUNDS = (2.0, 6.0, 15.0, 25.0)
#: 扣除系数 (fraction) by 地类编码 and 耕地坡度级 1–5.
TIANKAN_COEFFICIENTS = {
    "0101": (0.0, 0.03, 0.07, 0.12, 0.16),  # 水田: level terraces, narrow bunds
    "0102": (0.0, 0.04, 0.09, 0.15, 0.20),  # 水浇地
    "0103": (0.0, 0.06, 0.13, 0.20, 0.26),  # 旱地: sloping plots, wide earth banks
}
#: 扣除地类编码 of the deduction (田坎).
TIANKAN = "1203"


def slope_grades(
    geoms: np.ndarray, elevation: np.ndarray, transform: tuple[float, float, float]
) -> np.ndarray:
    """耕地坡度级 (1–5, int) of each geometry from the DEM's slope under its representative point.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Polygons in the DEM's CRS.
    elevation : numpy.ndarray
        The DEM (rows north to south).
    transform : tuple of float
        (west, north, cell) in metres.
    """
    west, north, cell = transform
    z = np.pad(elevation.astype("float64"), 1, mode="edge")
    sizes = np.full(elevation.shape[0], cell)
    slope, _ = horn(z, sizes, sizes, with_aspect=False)
    points = shapely.point_on_surface(geoms)
    col = np.clip(((shapely.get_x(points) - west) // cell).astype(int), 0, slope.shape[1] - 1)
    row = np.clip(((north - shapely.get_y(points)) // cell).astype(int), 0, slope.shape[0] - 1)
    return np.searchsorted(SLOPE_GRADE_BOUNDS, slope[row, col], side="left") + 1


def with_deductions(
    cultivated: gpd.GeoDataFrame, elevation: np.ndarray, transform: tuple[float, float, float]
) -> gpd.GeoDataFrame:
    """GD with GDPDJ, KCDLBM, KCXS, KCMJ and TBDLMJ after TBMJ (m²)."""
    grade = slope_grades(cultivated.geometry.values, elevation, transform)
    table = np.array([TIANKAN_COEFFICIENTS[c] for c in cultivated["DLBM"]])
    coefficient = table[np.arange(len(cultivated)), grade - 1]
    out = cultivated.copy()
    out["GDPDJ"] = grade.astype(str)
    out["KCDLBM"] = np.where(coefficient > 0, TIANKAN, "")
    out["KCXS"] = coefficient.round(4)
    out["KCMJ"] = (out["TBMJ"] * out["KCXS"]).round(2)
    out["TBDLMJ"] = (out["TBMJ"] - out["KCMJ"]).round(2)
    return out[[*(c for c in out.columns if c != "geometry"), "geometry"]]
