"""Generate the plan layers of the embedded 巴中市 dataset.

Real: the city and county boundaries (``layers/bazhong/boundaries``).
Generated, calibrated to the published plan figures (``layers/bazhong/facts``):
139 townships, the three zones, the three control lines, 耕地, the 13
protected areas, the parks, the rivers and a DEM. Not survey data.

The generator plants the conflicts real plans have and records them in a
table; everything else is built to be consistent (the zones tile the city,
each line lies in its zone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.area import ellipsoidal_area
from geo.repair import family_part
from layers.bazhong.gen.shapes import CRS, area, blob, calibrate, gk, scale_about, wiggly_line

HERE = Path(__file__).resolve().parents[1]
FACTS = HERE / "facts"
BOUNDARIES = HERE / "boundaries"
SEED = 20_351_231

COUNTY_CODES = {
    "巴州区": "511902",
    "恩阳区": "511903",
    "通江县": "511921",
    "南江县": "511922",
    "平昌县": "511923",
}
SEATS = {
    "巴州区": (106.75, 31.86),
    "恩阳区": (106.63, 31.79),
    "通江县": (107.24, 31.91),
    "南江县": (106.83, 32.35),
    "平昌县": (107.10, 31.56),
}
#: Targets (km²) from facts/plan_targets.csv (巴中市国土空间总体规划).
SHARES = {"城镇空间": 0.0131, "农业空间": 0.4839, "生态空间": 0.5030}
REDLINE_KM2 = 1673.0
FARMLAND_KM2 = 2187.13 * 1.0005  # a hair above the plan figure (a ">=" target)
CULTIVATED_KM2 = 2523.6 * 1.0005
URBAN_KM2 = 160.6 * 0.999  # a hair below the plan figure (a "<=" target)
CENTRAL_URBAN_KM2 = 71.8 * 0.998

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
#: Main rivers (lon, lat courses), flowing south to the 渠江.
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


@dataclass
class Plan:
    """The generated layers and what was planted in them."""

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    planted: list[dict[str, str]] = field(default_factory=list)

    def plant(
        self,
        case: str,
        left: str,
        left_id: str,
        right: str,
        right_id: str,
        expected: str,
        note: str,
    ) -> None:
        """Record one planted case."""
        self.planted.append(
            {
                "case": case,
                "left_layer": left,
                "left_id": left_id,
                "right_layer": right,
                "right_id": right_id,
                "expected": expected,
                "note": note,
            }
        )


def read_boundaries() -> tuple[shapely.Geometry, gpd.GeoDataFrame]:
    """The real city outline and the five counties, in EPSG:4545."""
    city = gpd.read_file(BOUNDARIES / "511900.geojson").to_crs(CRS).geometry.iloc[0]
    rows = []
    for name, code in COUNTY_CODES.items():
        geom = gpd.read_file(BOUNDARIES / f"{code}.geojson").to_crs(CRS).geometry.iloc[0]
        rows.append({"XZQDM": code, "XZQMC": name, "geometry": shapely.make_valid(geom)})
    counties = gpd.GeoDataFrame(rows, crs=CRS)
    return shapely.make_valid(city), counties


def _random_points(rng: np.random.Generator, polygon: shapely.Geometry, n: int) -> np.ndarray:
    x0, y0, x1, y1 = polygon.bounds
    shapely.prepare(polygon)
    out = np.empty((0, 2))
    while len(out) < n:
        xy = rng.uniform([x0, y0], [x1, y1], size=(4 * n, 2))
        out = np.vstack([out, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return out[:n]


def _cells(seeds: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Voronoi cells of ``seeds`` (in their order) clipped to ``region``."""
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    return shapely.intersection(shapely.get_parts(cells), region)


def townships(rng: np.random.Generator, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """139 townships: clipped Voronoi cells of seeds, typed as the roster says.

    In each county the seeds nearest the seat get the 城镇化地区 townships
    (the seat township first), the northernmost of the rest the
    重点生态功能区 ones, the others the 农产品主产区 ones.
    """
    roster = pd.read_csv(FACTS / "townships.csv", dtype=str)
    frames = []
    for county in counties.itertuples():
        rows = roster[roster["county"] == county.XZQMC].reset_index(drop=True)
        seat = np.array(gk(*SEATS[county.XZQMC]))
        seeds = _random_points(rng, county.geometry, len(rows) - 1)
        seeds = np.vstack([seat, seeds])
        for _ in range(3):  # Lloyd-like relaxation evens the sizes out
            cells = _cells(seeds, county.geometry)
            seeds = shapely.get_coordinates(shapely.point_on_surface(cells))
            seeds[0] = seat
        cells = _cells(seeds, county.geometry)

        urban = rows.index[rows["function_type"] == "城镇化地区"].tolist()
        urban.sort(key=lambda i: (rows.loc[i, "kind"] != "街道", i))
        ecological = rows.index[rows["function_type"] == "重点生态功能区"].tolist()
        agricultural = rows.index[rows["function_type"] == "农产品主产区"].tolist()
        by_distance = np.argsort(np.hypot(*(seeds - seat).T), kind="stable")
        assignment = {}
        taken = list(by_distance[: len(urban)])
        assignment.update(dict(zip(taken, urban, strict=True)))
        rest = [i for i in range(len(seeds)) if i not in set(taken)]
        rest.sort(key=lambda i: -seeds[i, 1])
        assignment.update(dict(zip(rest[: len(ecological)], ecological, strict=True)))
        assignment.update(dict(zip(rest[len(ecological) :], agricultural, strict=True)))
        seq = [assignment[i] for i in range(len(seeds))]
        part = rows.loc[seq].reset_index(drop=True)
        frames.append(
            gpd.GeoDataFrame(
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
        )
    out = pd.concat(frames, ignore_index=True).sort_values("XZQDM").reset_index(drop=True)
    return gpd.GeoDataFrame(out, crs=CRS)


def rivers(rng: np.random.Generator, city: shapely.Geometry) -> gpd.GeoDataFrame:
    """The main rivers as lines, clipped to the city."""
    names = list(RIVERS)
    lines = [shapely.intersection(wiggly_line(rng, RIVERS[n]), city) for n in names]
    return gpd.GeoDataFrame(
        {"BSM": [f"HL{i + 1:04d}" for i in range(len(names))], "MC": names},
        geometry=lines,
        crs=CRS,
    )


def urban_boundary(
    rng: np.random.Generator, townships_: gpd.GeoDataFrame, river_lines: shapely.Geometry
) -> gpd.GeoDataFrame:
    """城镇开发边界: the central city (巴州 + 恩阳 seats), the other county seats, central towns.

    Each group is scaled to its share of the plan's 160.6 km² (central city
    71.8 km²); the county seats and towns are carved by their rivers.
    """
    pieces: list[tuple[str, shapely.Geometry, float]] = []
    central = {"巴州区": 0.68, "恩阳区": 0.32}
    for county, share in central.items():
        pieces.append((f"{county}中心城区", gk(*SEATS[county]), CENTRAL_URBAN_KM2 * share))
    others = URBAN_KM2 - CENTRAL_URBAN_KM2
    for county in ("通江县", "南江县", "平昌县"):
        pieces.append((f"{county}县城", gk(*SEATS[county]), others * 0.18))
    towns = townships_[
        (townships_["ZTGNQ"] == "城镇化地区") & (townships_["XZMC"].str.endswith("镇"))
    ]
    towns = towns.iloc[rng.choice(len(towns), 12, replace=False)].sort_values("XZQDM")
    rest = others * (1 - 3 * 0.18) / len(towns)
    for town in towns.itertuples():
        p = shapely.point_on_surface(town.geometry)
        pieces.append((f"{town.XZQMC}{town.XZMC}镇区", (p.x, p.y), rest))
    geoms, names = [], []
    for name, (x, y), km2 in pieces:
        shape = blob(rng, x, y, 1.0, vertices=120, roughness=0.3, stretch=rng.uniform(0.8, 1.5))
        origin = shapely.Point(x, y)
        geoms.append(
            calibrate(lambda f, s=shape, o=origin: scale_about(s, f, o), km2 * 1e6, 100, 20_000)
        )
        names.append(name)
    return gpd.GeoDataFrame(
        {
            "BSM": [f"CZKFBJ{i + 1:04d}" for i in range(len(names))],
            "MC": names,
        },
        geometry=geoms,
        crs=CRS,
    )


def protected_areas(
    rng: np.random.Generator, counties: gpd.GeoDataFrame, river: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The 13 protected areas, each within 0.05 % of its published area.

    Each is a blob (two for 光雾山—诺水河) at its place, clipped to its
    counties; the two river reserves (诺水河珍稀水生动物, 驷马河湿地) follow
    their rivers. They overlap where the real ones do (the 风景名胜区 over the
    reserves and forest parks of the north).
    """
    table = pd.read_csv(FACTS / "protected_areas.csv")
    by_name = counties.set_index("XZQMC").geometry
    rivers_by_name = river.set_index("MC").geometry
    rows = []
    for item in table.itertuples():
        within = shapely.union_all([by_name[c] for c in item.counties.split(";")])
        target = item.area_km2 * 1e6
        if item.name.endswith("珍稀水生动物国家级自然保护区") or "湿地公园" in item.name:
            river_name = "通江河" if "诺水河" in item.name else "巴河"
            x, y = gk(*PROTECTED_PLACES[item.name][0])
            reach = shapely.intersection(
                rivers_by_name[river_name], shapely.Point(x, y).buffer(12_000)
            )
            geom = calibrate(
                lambda w, r=reach, z=within: shapely.intersection(r.buffer(w), z), target, 5, 3_000
            )
        else:
            shapes = [
                (blob(rng, *gk(lon, lat), 1.0, vertices=220, roughness=0.3), gk(lon, lat))
                for lon, lat in PROTECTED_PLACES[item.name]
            ]

            def make(f, shapes=shapes, z=within):
                scaled = [scale_about(s, f, shapely.Point(*c)) for s, c in shapes]
                return shapely.intersection(shapely.union_all(scaled), z)

            geom = calibrate(make, target, 100, 40_000)
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
    return gpd.GeoDataFrame(rows, crs=CRS)


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
    parks_union = shapely.union_all(protected.geometry.values)
    ecological = calibrate(
        lambda off: shapely.difference(
            shapely.union_all([north_of(city, -off, state), parks_union]), urban
        ),
        SHARES["生态空间"] * city_m2,
        -60_000,
        60_000,
        rel=2e-4,
    )
    agricultural = shapely.difference(shapely.difference(city, ecological), urban)
    lanting = protected.loc[protected["MC"] == "四川大小兰沟自然保护区"].geometry.iloc[0]
    lx, ly = shapely.get_coordinates(
        lanting.exterior if lanting.geom_type == "Polygon" else lanting.geoms[0].exterior
    )[0]
    lobe = shapely.intersection(lanting, shapely.Point(lx, ly).buffer(1_500))
    redline = calibrate(
        lambda off: shapely.difference(
            shapely.intersection(
                shapely.union_all([north_of(city, -off, state + 1), parks_union]), ecological
            ),
            lobe,
        ),
        REDLINE_KM2 * 1e6,
        -80_000,
        80_000,
        rel=2e-4,
    )
    return ecological, agricultural, redline, lobe


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


def _square(x: float, y: float, half: float) -> shapely.Polygon:
    return shapely.box(x - half, y - half, x + half, y + half)


def parks(
    rng: np.random.Generator,
    urban: gpd.GeoDataFrame,
    agricultural: shapely.Geometry,
    townships_: gpd.GeoDataFrame,
    rivers_: gpd.GeoDataFrame,
    protected: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The parks of facts/parks.csv, sized and placed; returns them and the planted placements.

    Industrial parks sit inside their county seat's urban boundary, except
    the planted ones: 巴中曾口—金堂化工园区（曾口区块） beside 巴河 (within
    1 km), 金宝工业园 outside the urban boundary on farmland, 东榆工业园 in a
    township typed 重点生态功能区, 春在食品医药工业园 partly inside
    五台山猕猴自然保护区. Agricultural parks lie in 农业空间.
    """
    table = pd.read_csv(FACTS / "parks.csv", dtype=str).fillna("")
    table["county"] = table["county"].replace("", "巴州区")
    industrial = table["kind"] != "现代农业园区"
    sizes = rng.uniform(0.4, 2.2, int(industrial.sum()))
    sizes *= 1.17 / sizes.mean()
    size_of = dict(zip(table.index[industrial], sizes, strict=True))
    agri_km2 = {"南江县": 27, "巴州区": 25, "通江县": 15, "恩阳区": 12}
    seat_blob = {c: urban.loc[urban["MC"].str.startswith(c)].geometry.iloc[0] for c in SEATS}
    river_by = rivers_.set_index("MC").geometry
    planted = {}
    rows = []
    for i, park in table.iterrows():
        name, county = park["name"], park["county"]
        if park["kind"] == "现代农业园区":
            km2 = 42 if "青花椒" in name else 45 if "茶叶" in name else agri_km2[county]
            zone = shapely.intersection(agricultural, counties.set_index("XZQMC").geometry[county])
            near_seat = shapely.intersection(zone, _square(*gk(*SEATS[county]), 25_000))
            p = shapely.point_on_surface(zone if near_seat.is_empty else near_seat)
            where = None
        elif name.startswith("巴中曾口—金堂化工园区（曾口区块）"):
            river = river_by["巴河"]
            p0 = shapely.line_interpolate_point(river, 0.35, normalized=True)
            p = shapely.Point(p0.x + 1_400, p0.y - 300)
            km2, where = size_of[i], "river"
        elif name == "金宝工业园":
            blob_ = seat_blob[county]
            p = shapely.Point(blob_.centroid.x + 9_000, blob_.centroid.y - 4_000)
            km2, where = size_of[i], "outside"
        elif name.startswith("东榆工业园"):
            eco_town = townships_[
                (townships_["XZQMC"] == county) & (townships_["ZTGNQ"] == "重点生态功能区")
            ]
            seat = shapely.Point(*gk(*SEATS[county]))
            nearest = eco_town.geometry.distance(seat).sort_values().index[0]
            p = shapely.point_on_surface(eco_town.geometry[nearest])
            km2, where = size_of[i], "ecological_township"
        elif name == "春在食品医药工业园":
            reserve = protected.loc[protected["MC"] == "四川五台山猕猴自然保护区"].geometry.iloc[0]
            edge = shapely.get_coordinates(
                reserve.exterior if reserve.geom_type == "Polygon" else reserve.geoms[0].exterior
            )
            sx, sy = edge[len(edge) // 2]
            p = shapely.Point(sx, sy)
            km2, where = size_of[i], "reserve"
        else:
            blob_ = seat_blob[county]
            inner = shapely.buffer(blob_, -1_200)
            inner = blob_ if inner.is_empty else inner
            p = shapely.Point(*_random_points(rng, inner, 1)[0])
            km2, where = size_of[i], None
        shape = blob(rng, p.x, p.y, 1.0, vertices=60, roughness=0.15)
        geom = calibrate(lambda f, s=shape, o=p: scale_about(s, f, o), km2 * 1e6, 10, 20_000)
        if where is None and park["kind"] != "现代农业园区":
            geom = shapely.intersection(geom, seat_blob[county].buffer(-5))
        if where is not None:
            planted[name] = where
        rows.append(
            {
                "BSM": f"CYYQ{i + 1:04d}",
                "MC": name,
                "LX": park["kind"],
                "JB": park["level"],
                "SFHG": "是" if park["chemical"] == "True" else "否",
                "XZQMC": county,
                "geometry": shapely.make_valid(geom),
            }
        )
    return gpd.GeoDataFrame(rows, crs=CRS), planted


def dem(city: shapely.Geometry, river_lines: np.ndarray, state: int, cell: float = 100.0):
    """A generated DEM (m): about 300 m in the south, up to about 2,500 m in the north.

    Returns
    -------
    elevation : numpy.ndarray of int16
        Rows north to south; -9999 outside the city's bounding box margin never occurs.
    transform : tuple
        (west, north, cell) for the GeoTIFF.
    """
    rng = np.random.default_rng(state)
    x0, y0, x1, y1 = city.bounds
    x0, y0 = np.floor(x0 / cell) * cell - cell * 10, np.floor(y0 / cell) * cell - cell * 10
    x1, y1 = np.ceil(x1 / cell) * cell + cell * 10, np.ceil(y1 / cell) * cell + cell * 10
    xs = np.arange(x0 + cell / 2, x1, cell)
    ys = np.arange(y1 - cell / 2, y0, -cell)
    gx, gy = np.meshgrid(xs, ys)
    north = np.clip((gy - y0) / (y1 - y0), 0, 1)
    base = 300 + 1_900 * north**2.2
    relief = np.zeros_like(gx)
    for wavelength, amplitude in ((30_000, 180), (9_000, 140), (3_000, 90), (1_200, 40)):
        ax, ay = rng.uniform(0, 6.28, 2)
        theta = rng.uniform(0, np.pi)
        u = gx * np.cos(theta) + gy * np.sin(theta)
        v = -gx * np.sin(theta) + gy * np.cos(theta)
        relief += (
            amplitude
            * np.sin(2 * np.pi * u / wavelength + ax)
            * np.cos(2 * np.pi * v / wavelength + ay)
        )
    elevation = base + relief * (0.4 + 1.6 * north)
    # rivers cut valleys: distance on a coarse grid, interpolated
    coarse = 1_000.0
    cxs = np.arange(x0, x1 + coarse, coarse)
    cys = np.arange(y1, y0 - coarse, -coarse)
    cgx, cgy = np.meshgrid(cxs, cys)
    lines = shapely.union_all(river_lines)
    distance = shapely.distance(shapely.points(cgx.ravel(), cgy.ravel()), lines).reshape(cgx.shape)
    fi = (gy[:, 0][:, None] - y1) / -coarse
    fj = (gx[0, :][None, :] - x0) / coarse
    i0 = np.clip(np.floor(fi).astype(int), 0, cgx.shape[0] - 2)
    j0 = np.clip(np.floor(fj).astype(int), 0, cgx.shape[1] - 2)
    ti, tj = fi - i0, fj - j0
    d = (
        distance[i0, j0] * (1 - ti) * (1 - tj)
        + distance[i0 + 1, j0] * ti * (1 - tj)
        + distance[i0, j0 + 1] * (1 - ti) * tj
        + distance[i0 + 1, j0 + 1] * ti * tj
    )
    elevation -= (250 + 500 * north) * np.exp(-((d / 2_500) ** 2))
    elevation = np.clip(elevation, 250, 2_600)
    return np.round(elevation).astype("int16"), (x0, y1, cell)


def build(seed: int = SEED) -> tuple[Plan, np.ndarray, tuple]:
    """Generate every layer, the planted-conflict table and the DEM."""
    rng = np.random.default_rng(seed)
    plan = Plan()
    city, counties = read_boundaries()
    counties.insert(0, "BSM", [f"XZQ{i + 1:04d}" for i in range(len(counties))])
    counties.insert(1, "YSDM", "1000600100")
    town = townships(rng, counties)
    town.insert(0, "BSM", [f"XZQ{i + 101:04d}" for i in range(len(town))])
    town.insert(1, "YSDM", "1000600100")
    river = rivers(rng, city)
    urban = urban_boundary(rng, town, shapely.union_all(river.geometry.values))
    urban_union = shapely.union_all(urban.geometry.values)
    protected = protected_areas(rng, counties, river)
    ecological, agricultural, redline, lobe = zones_and_redline(city, urban_union, protected, seed)

    # 耕地 and 永久基本农田: fields wholly in 农业空间; farmland a subset of the fields
    fields = patches(rng, agricultural, CULTIVATED_KM2 * 1e6)
    field_area = ellipsoidal_area(fields, CRS)
    order = rng.permutation(fields.size)
    cumulative = np.cumsum(field_area[order])
    planted_farm: list[tuple[shapely.Geometry, str, str]] = []
    red_parts = shapely.get_parts(redline)
    big = red_parts[np.argsort(-shapely.area(red_parts))[:6]]
    for k, part in enumerate(big):
        ring = part.exterior
        for t in (0.2, 0.55):
            p = shapely.line_interpolate_point(ring, t, normalized=True)
            planted_farm.append(
                (
                    _square(p.x, p.y, 90),
                    "farmland_in_redline",
                    f"partly inside the red line (part {k + 1})",
                )
            )
        if k < 2:
            q = shapely.point_on_surface(part)
            planted_farm.append(
                (_square(q.x, q.y, 70), "farmland_in_redline", "wholly inside the red line")
            )
    for blob_ in urban.geometry.values[:2]:
        q = shapely.point_on_surface(shapely.buffer(blob_, -400))
        planted_farm.append(
            (_square(q.x, q.y, 80), "urban_over_farmland", "farmland inside the urban boundary")
        )
    seam_blob = urban.geometry.values[2]
    for t in (0.1, 0.4, 0.7):
        p = shapely.line_interpolate_point(seam_blob.exterior, t, normalized=True)
        seam = shapely.difference(_square(p.x, p.y, 60), shapely.buffer(seam_blob, -1.0))
        planted_farm.append(
            (seam, "sliver_seam", "overlaps the urban boundary by a 1 m strip (a sliver)")
        )
    planted_area = float(
        ellipsoidal_area(np.array([g for g, _, _ in planted_farm], dtype=object), CRS).sum()
    )
    n_farm = int(np.searchsorted(cumulative, FARMLAND_KM2 * 1e6 - planted_area)) + 1
    farm_idx = np.sort(order[:n_farm])
    farmland_geoms = np.concatenate(
        [fields[farm_idx], np.array([g for g, _, _ in planted_farm], dtype=object)]
    )
    n = farmland_geoms.size
    field_class = land_classes(rng, fields.size)
    farm = gpd.GeoDataFrame(
        {
            "BSM": [f"YJJBNT{i + 1:06d}" for i in range(n)],
            "DLBM": np.concatenate([field_class[farm_idx], land_classes(rng, len(planted_farm))]),
        },
        geometry=farmland_geoms,
        crs=CRS,
    )
    farm["MJ"] = ellipsoidal_area(farm.geometry.values, CRS).round(2)
    for j, (_, case, note) in enumerate(planted_farm):
        bsm = farm["BSM"].iloc[fields[farm_idx].size + j]
        right = {
            "farmland_in_redline": "ecological_redline",
            "urban_over_farmland": "urban_boundary",
            "sliver_seam": "urban_boundary",
        }[case]
        expected = "sliver" if case == "sliver_seam" else "conflict"
        plan.plant(case, "permanent_farmland", bsm, right, "", expected, note)
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
    off = rng.choice(fields[farm_idx].size, 12, replace=False)
    farm.loc[np.sort(off), "MJ"] = (farm.loc[np.sort(off), "MJ"] * 1.1).round(2)
    for i in np.sort(off):
        plan.plant(
            "stored_area_off",
            "permanent_farmland",
            farm["BSM"].iloc[i],
            "",
            "",
            "stored area >1 % off",
            "MJ is 10 % above the ellipsoidal area",
        )
    bowtie = np.sort(rng.choice(fields[farm_idx].size, 3, replace=False))
    for i in bowtie:
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

    cultivated = gpd.GeoDataFrame(
        {
            "BSM": [f"GD{i + 1:06d}" for i in range(fields.size)],
            "DLBM": field_class,
        },
        geometry=fields,
        crs=CRS,
    )
    cultivated["DLMC"] = cultivated["DLBM"].map({"0101": "水田", "0102": "水浇地", "0103": "旱地"})
    cultivated["TBMJ"] = field_area.round(2)

    park, park_plants = parks(rng, urban, agricultural, town, river, protected, counties)
    reserve = protected.loc[protected["MC"] == "四川五台山猕猴自然保护区", "BSM"].iloc[0]
    outside_urban = (
        "park_outside_urban",
        "urban_boundary",
        "",
        "industrial park outside the urban boundary",
    )
    park_cases = {
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
                reserve,
                "industrial park partly inside a 自然保护区",
            )
        ],
    }
    for name, where in park_plants.items():
        bsm = park.loc[park["MC"] == name, "BSM"].iloc[0]
        for case, right, right_id, note in park_cases[where]:
            plan.plant(case, "parks", bsm, right, right_id, "conflict", note)
    lanting = protected.loc[protected["MC"] == "四川大小兰沟自然保护区", "BSM"].iloc[0]
    plan.plant(
        "reserve_outside_redline",
        "protected_areas",
        lanting,
        "ecological_redline",
        "",
        "conflict",
        f"a lobe of {area(lobe) / 1e6:.2f} km² left out of the red line",
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

    # on the centimetre grid the file is written on: cutting along the county
    # outlines leaves slivers that rounding alone would collapse into invalid
    # rings, and line fragments where the red line follows an outline
    red_by_county = [
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
            "BSM": [f"STBHHX{i + 1:04d}" for i in range(len(red_by_county))],
            "HXMC": [f"{c}生态保护红线" for c, _ in red_by_county],
        },
        geometry=[g for _, g in red_by_county],
        crs=CRS,
    )
    zones = gpd.GeoDataFrame(
        {
            "BSM": ["SQ0001", "SQ0002", "SQ0003"],
            "KJLX": ["城镇空间", "农业空间", "生态空间"],
        },
        geometry=[urban_union, agricultural, ecological],
        crs=CRS,
    )
    for frame, column in (
        (red, "MJ"),
        (zones, "MJ"),
        (urban, "MJ"),
        (protected, "MJ"),
        (park, "MJ"),
    ):
        frame[column] = ellipsoidal_area(frame.geometry.values, CRS).round(2)
    plan.layers = {
        "XZQ_XJ": counties,
        "XZQ_XZ": town,
        "SQ": zones,
        "STBHHX": red,
        "YJJBNT": farm,
        "GD": cultivated,
        "CZKFBJ": urban,
        "ZRBHD": protected,
        "CYYQ": park,
        "HL": river,
    }
    elevation, transform = dem(city, river.geometry.values, seed + 7)
    return plan, elevation, transform
