"""Administrative layers: the real city and counties, and the 139 generated townships."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.layers.bazhong.gen.facts import FACTS, SEATS
from geoplan.layers.bazhong.gen.shapes import CRS, gk, random_points

BOUNDARIES = Path(__file__).resolve().parents[1] / "boundaries"
COUNTY_CODES = {
    "巴州区": "511902",
    "恩阳区": "511903",
    "通江县": "511921",
    "南江县": "511922",
    "平昌县": "511923",
}
#: 要素代码 of 行政区 in the 国土调查 database.
ADMIN_YSDM = "1000600100"


def read_boundaries() -> tuple[shapely.Geometry, gpd.GeoDataFrame]:
    """The real city outline and the five counties (layer XZQ_XJ), in EPSG:4545."""
    city = gpd.read_file(BOUNDARIES / "511900.geojson").to_crs(CRS).geometry.iloc[0]
    rows = []
    for name, code in COUNTY_CODES.items():
        geom = gpd.read_file(BOUNDARIES / f"{code}.geojson").to_crs(CRS).geometry.iloc[0]
        rows.append({"XZQDM": code, "XZQMC": name, "geometry": shapely.make_valid(geom)})
    counties = gpd.GeoDataFrame(rows, crs=CRS)
    counties.insert(0, "BSM", [f"XZQ{i + 1:04d}" for i in range(len(counties))])
    counties.insert(1, "YSDM", ADMIN_YSDM)
    return shapely.make_valid(city), counties


def townships(rng: np.random.Generator, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """139 townships (layer XZQ_XZ): clipped Voronoi cells of seeds, typed as the roster says.

    In each county the seeds nearest the seat get the 城镇化地区 townships
    (the seat township first), the northernmost of the rest the
    重点生态功能区 ones, the others the 农产品主产区 ones.
    """
    roster = pd.read_csv(FACTS / "townships.csv", dtype=str)
    frames = [
        _county_townships(
            rng, county, roster[roster["county"] == county.XZQMC].reset_index(drop=True)
        )
        for county in counties.itertuples()
    ]
    out = pd.concat(frames, ignore_index=True).sort_values("XZQDM").reset_index(drop=True)
    town = gpd.GeoDataFrame(out, crs=CRS)
    town.insert(0, "BSM", [f"XZQ{i + 101:04d}" for i in range(len(town))])
    town.insert(1, "YSDM", ADMIN_YSDM)
    return town


def _county_townships(
    rng: np.random.Generator, county: tuple, rows: pd.DataFrame
) -> gpd.GeoDataFrame:
    """The townships of one county (a row of the counties layer) from its roster ``rows``."""
    seat = np.array(gk(*SEATS[county.XZQMC]))
    seeds, cells = _relaxed_cells(rng, county.geometry, seat, len(rows))
    seq = _assign(rows, seeds, seat)
    part = rows.loc[seq].reset_index(drop=True)
    return gpd.GeoDataFrame(
        {
            "XZQDM": [f"{county.XZQDM}{i + 1:03d}000" for i in seq],
            "XZMC": part["township"],
            "XZQMC": part["county"],
            "ZTGNQ": part["function_type"],
            "NYZYFJ": np.where(part["energy_rich"] == "True", "是", "否"),
            "LSWHFJ": np.where(part["heritage_rich"] == "True", "是", "否"),
        },
        geometry=cells,
        crs=CRS,
    )


def _relaxed_cells(
    rng: np.random.Generator, region: shapely.Geometry, seat: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeds in ``region`` (the seat first) and their cells, evened out by relaxation."""
    seeds = np.vstack([seat, random_points(rng, region, n - 1)])
    for _ in range(3):  # Lloyd-like relaxation evens the sizes out
        cells = _cells(seeds, region)
        seeds = shapely.get_coordinates(shapely.point_on_surface(cells))
        seeds[0] = seat
    return seeds, _cells(seeds, region)


def _cells(seeds: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Voronoi cells of ``seeds`` (in their order) clipped to ``region``."""
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    return shapely.intersection(shapely.get_parts(cells), region)


def _assign(rows: pd.DataFrame, seeds: np.ndarray, seat: np.ndarray) -> list[int]:
    """The roster row of each seed, by the function types' placement rule."""
    urban = rows.index[rows["function_type"] == "城镇化地区"].tolist()
    urban.sort(key=lambda i: (rows.loc[i, "kind"] != "街道", i))
    ecological = rows.index[rows["function_type"] == "重点生态功能区"].tolist()
    agricultural = rows.index[rows["function_type"] == "农产品主产区"].tolist()
    by_distance = np.argsort(np.hypot(*(seeds - seat).T), kind="stable")
    taken = list(by_distance[: len(urban)])
    assignment = dict(zip(taken, urban, strict=True))
    rest = [i for i in range(len(seeds)) if i not in set(taken)]
    rest.sort(key=lambda i: -seeds[i, 1])
    assignment.update(dict(zip(rest[: len(ecological)], ecological, strict=True)))
    assignment.update(dict(zip(rest[len(ecological) :], agricultural, strict=True)))
    return [assignment[i] for i in range(len(seeds))]
