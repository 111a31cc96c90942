"""耕地 (layer GD) and 永久基本农田 (layer YJJBNT), with the cases planted in the farmland.

Both are fields wholly inside 农业空间; the farmland is a subset of the
耕地 patches plus planted patches over the red line, the urban boundary and
a 核心保护区.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.geo.area import ellipsoidal_area
from geoplan.layers.bazhong.gen.facts import CULTIVATED_KM2, FARMLAND_KM2
from geoplan.layers.bazhong.gen.planted import Plan
from geoplan.layers.bazhong.gen.shapes import (
    CRS,
    calibrate,
    sharing_area,
    square,
    stored_area,
)

#: The layer each planted patch case is against.
PATCH_CASE_LAYER = {
    "farmland_in_redline": "ecological_redline",
    "urban_over_farmland": "urban_boundary",
    "sliver_seam": "urban_boundary",
}
LAND_CLASS_NAMES = {"0101": "水田", "0102": "水浇地", "0103": "旱地"}
#: The reserve in whose 核心保护区 a farmland patch is planted (长江保护法 第六十一条).
CORE_FARMLAND_RESERVE = "四川光雾山自然保护区"


def farmland_and_cultivated(
    rng: np.random.Generator,
    plan: Plan,
    agricultural: shapely.Geometry,
    redline: shapely.Geometry,
    urban: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """永久基本农田 (2,187.13 km²) and 耕地 (2,523.6 km²); records the farmland's planted cases.

    Returns
    -------
    farmland, cultivated : geopandas.GeoDataFrame
    """
    fields = patches(rng, agricultural, CULTIVATED_KM2 * 1e6)
    field_area = ellipsoidal_area(fields, CRS)
    order = rng.permutation(fields.size)
    planted = planted_patches(redline, urban)
    planted_geoms = np.array([g for g, _, _ in planted], dtype=object)
    planted_m2 = float(ellipsoidal_area(planted_geoms, CRS).sum())
    cumulative = np.cumsum(field_area[order])
    n_farm = int(np.searchsorted(cumulative, FARMLAND_KM2 * 1e6 - planted_m2)) + 1
    farm_idx = np.sort(order[:n_farm])
    field_class = land_classes(rng, fields.size)
    farm = gpd.GeoDataFrame(
        {
            "BSM": [f"YJJBNT{i + 1:06d}" for i in range(farm_idx.size + planted_geoms.size)],
            "DLBM": np.concatenate([field_class[farm_idx], land_classes(rng, len(planted))]),
        },
        geometry=np.concatenate([fields[farm_idx], planted_geoms]),
        crs=CRS,
    )
    farm["MJ"] = stored_area(farm.geometry.values)
    _record_patches(plan, farm, farm_idx.size, planted)
    _misstate_areas(rng, plan, farm, farm_idx.size)
    _cross_rings(rng, plan, farm, farm_idx.size)
    return farm, _cultivated_layer(fields, field_class, field_area)


def patches(
    rng: np.random.Generator, agricultural: shapely.Geometry, target_m2: float
) -> np.ndarray:
    """Field-sized quadrilaterals wholly inside 农业空间 totalling ``target_m2``.

    A jittered grid of skewed quadrilaterals; those that leave 农业空间 are
    dropped, and the size is bisected until the total is on target.
    """
    x0, y0, x1, y1 = agricultural.bounds
    spacing = 480.0
    gx, gy = np.meshgrid(np.arange(x0, x1, spacing), np.arange(y0, y1, spacing))
    cx = gx.ravel() + rng.uniform(0, 0.3 * spacing, gx.size)
    cy = gy.ravel() + rng.uniform(0, 0.3 * spacing, gy.size)
    shapely.prepare(agricultural)
    keep = shapely.contains_xy(agricultural, cx, cy) & (rng.random(cx.size) < 0.97)
    cx, cy = cx[keep], cy[keep]
    w = rng.uniform(0.5, 1.0, cx.size)
    h = rng.uniform(0.5, 1.0, cx.size)
    skew = rng.uniform(-0.12, 0.12, (cx.size, 4))

    def make(size: float) -> np.ndarray:
        dx, dy = size * w, size * h
        ring = np.stack(
            [
                np.column_stack([cx + skew[:, 0] * size, cy]),
                np.column_stack([cx + dx, cy + skew[:, 1] * size]),
                np.column_stack([cx + dx + skew[:, 2] * size, cy + dy]),
                np.column_stack([cx, cy + dy + skew[:, 3] * size]),
                np.column_stack([cx + skew[:, 0] * size, cy]),
            ],
            axis=1,
        ).round(2)
        quads = shapely.polygons(ring)
        return quads[shapely.contains(agricultural, quads)]

    return calibrate(
        make,
        target_m2,
        100,
        spacing * 0.95,
        measure=lambda q: float(ellipsoidal_area(q, CRS).sum()),
        rel=2e-4,
    )


def land_classes(rng: np.random.Generator, n: int) -> np.ndarray:
    """地类编码 of ``n`` 耕地 patches: 0101 水田, 0102 水浇地, 0103 旱地."""
    return rng.choice(["0101", "0102", "0103"], n, p=[0.55, 0.05, 0.40])


def planted_patches(
    redline: shapely.Geometry, urban: gpd.GeoDataFrame
) -> list[tuple[shapely.Geometry, str, str]]:
    """The planted farmland patches as (geometry, case, note).

    Squares on the outline of the six largest parts of the red line (partly
    inside) and inside the two largest (wholly inside), inside the first two
    urban blobs, and 1 m strips over the third (slivers).
    """
    planted: list[tuple[shapely.Geometry, str, str]] = []
    red_parts = shapely.get_parts(redline)
    big = red_parts[np.argsort(-shapely.area(red_parts))[:6]]
    for k, part in enumerate(big):
        for t in (0.2, 0.55):
            p = shapely.line_interpolate_point(part.exterior, t, normalized=True)
            note = f"partly inside the red line (part {k + 1})"
            planted.append((square(p.x, p.y, 90), "farmland_in_redline", note))
        if k < 2:
            q = shapely.point_on_surface(part)
            planted.append(
                (square(q.x, q.y, 70), "farmland_in_redline", "wholly inside the red line")
            )
    for blob_ in urban.geometry.values[:2]:
        q = shapely.point_on_surface(shapely.buffer(blob_, -400))
        note = "farmland inside the urban boundary"
        planted.append((square(q.x, q.y, 80), "urban_over_farmland", note))
    seam_blob = urban.geometry.values[2]
    for t in (0.1, 0.4, 0.7):
        p = shapely.line_interpolate_point(seam_blob.exterior, t, normalized=True)
        seam = shapely.difference(square(p.x, p.y, 60), shapely.buffer(seam_blob, -1.0))
        note = "overlaps the urban boundary by a 1 m strip (a sliver)"
        planted.append((seam, "sliver_seam", note))
    return planted


def plant_core_farmland(
    rng: np.random.Generator, plan: Plan, farm: gpd.GeoDataFrame, protected: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """``farm`` with one more patch, inside a 核心保护区, and the cases of the 核心保护区 recorded.

    A 140 m square well inside the 核心保护区 of :data:`CORE_FARMLAND_RESERVE`
    (so also in the red line and outside 农业空间), appended after every other
    patch with its 地类编码 drawn from ``rng``, a stream of its own, so that the
    other patches keep their shapes and numbers. Every patch that shares area
    with a 核心保护区 is recorded: the new one, and one planted wholly inside
    the red line that the zones put in a core.

    Parameters
    ----------
    protected : geopandas.GeoDataFrame
        The zoned protected areas (GNFQ set).
    """
    cores = protected.loc[protected["GNFQ"] == "核心保护区"].reset_index(drop=True)
    core = cores.loc[cores["MC"] == CORE_FARMLAND_RESERVE].geometry.iloc[0]
    q = shapely.point_on_surface(shapely.buffer(core, -300))
    bsm = f"YJJBNT{len(farm) + 1:06d}"
    patch = gpd.GeoDataFrame(
        {"BSM": [bsm], "DLBM": land_classes(rng, 1)}, geometry=[square(q.x, q.y, 70)], crs=CRS
    )
    patch["MJ"] = stored_area(patch.geometry.values)
    for case, right, note in (
        ("farmland_in_redline", "ecological_redline", "inside a 核心保护区, so in the red line"),
        ("farmland_in_ecological_space", "zone_agricultural", "a farmland patch outside 农业空间"),
    ):
        plan.plant(case, "permanent_farmland", bsm, right, "", "conflict", note)
    farm = pd.concat([farm, patch], ignore_index=True)
    for i, j, shared in sharing_area(farm.geometry.values, cores.geometry.values):
        plan.plant(
            "pa_core_farmland",
            "permanent_farmland",
            farm["BSM"].iloc[i],
            "protected_areas",
            cores["BSM"].iloc[j],
            "conflict",
            f"{shared:.0f} m² in the 核心保护区 of {cores['MC'].iloc[j]}",
        )
    return farm


def _record_patches(
    plan: Plan,
    farm: gpd.GeoDataFrame,
    first: int,
    planted: list[tuple[shapely.Geometry, str, str]],
) -> None:
    """Record the planted patches, rows ``first`` on of ``farm``."""
    for j, (_, case, note) in enumerate(planted):
        bsm = farm["BSM"].iloc[first + j]
        expected = "sliver" if case == "sliver_seam" else "conflict"
        plan.plant(case, "permanent_farmland", bsm, PATCH_CASE_LAYER[case], "", expected, note)
        if case == "farmland_in_redline":
            plan.plant(
                "farmland_in_ecological_space",
                "permanent_farmland",
                bsm,
                "zone_agricultural",
                "",
                "conflict",
                "a farmland patch outside 农业空间",
            )


def _misstate_areas(rng: np.random.Generator, plan: Plan, farm: gpd.GeoDataFrame, n: int) -> None:
    """Store MJ 10 % too high on 12 of the first ``n`` patches, and record them."""
    off = np.sort(rng.choice(n, 12, replace=False))
    farm.loc[off, "MJ"] = (farm.loc[off, "MJ"] * 1.1).round(2)
    for i in off:
        plan.plant(
            "stored_area_off",
            "permanent_farmland",
            farm["BSM"].iloc[i],
            "",
            "",
            "stored area >1 % off",
            "MJ is 10 % above the ellipsoidal area",
        )


def _cross_rings(rng: np.random.Generator, plan: Plan, farm: gpd.GeoDataFrame, n: int) -> None:
    """Make 3 of the first ``n`` patches self-crossing (bow-ties), and record them."""
    for i in np.sort(rng.choice(n, 3, replace=False)):
        c = shapely.get_coordinates(farm.geometry.iloc[i])
        farm.loc[i, "geometry"] = shapely.Polygon([c[0], c[2], c[1], c[3], c[0]])
        plan.plant(
            "repairable_geometry",
            "permanent_farmland",
            farm["BSM"].iloc[i],
            "",
            "",
            "repaired",
            "a self-crossing (bow-tie) ring",
        )


def _cultivated_layer(
    fields: np.ndarray, field_class: np.ndarray, field_area: np.ndarray
) -> gpd.GeoDataFrame:
    """耕地: every field with its 地类编码, 地类名称 and ellipsoidal area (m²)."""
    cultivated = gpd.GeoDataFrame(
        {
            "BSM": [f"GD{i + 1:06d}" for i in range(fields.size)],
            "DLBM": field_class,
        },
        geometry=fields,
        crs=CRS,
    )
    cultivated["DLMC"] = cultivated["DLBM"].map(LAND_CLASS_NAMES)
    cultivated["TBMJ"] = field_area.round(2)
    return cultivated
