"""A city-scale synthetic plan for benchmarks, generated with vectorised shapely.

About 110 km × 110 km in EPSG:4545 (the size of 巴中市): five counties and
139 townships (Voronoi cells), three zones whose shared boundaries have
thousands of vertices, a red line of a dozen 12,000-vertex polygons and 3,000 small ones, ≥ 300,000
farmland patches (a few percent reaching into the red line, some crossing
the edge of 农业空间), 160 km² of urban boundary, 13 protected areas, 25
parks and 20 rivers. Written once to a cache folder outside git.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

CRS = "EPSG:4545"
X0, Y0, SIZE = 330_000.0, 3_480_000.0, 110_000.0
DEFAULT_CACHE = Path.home() / ".cache" / "geoplan" / "bench"


def _wiggly_circle(rng, x, y, r, vertices, roughness=0.25):
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    noise = np.zeros(vertices)
    for k in (3, 7, 17, 41, 97, 211):
        noise += rng.normal(0, roughness / np.sqrt(k)) * np.sin(k * angles + rng.uniform(0, 6.3))
    radius = r * (1 + noise)
    ring = np.column_stack([x + radius * np.cos(angles), y + radius * np.sin(angles)])
    return shapely.make_valid(shapely.Polygon(ring)).buffer(0)


def _wiggly_line(rng, y_mean, vertices, amplitude):
    xs = np.linspace(X0 - 1000, X0 + SIZE + 1000, vertices)
    ys = y_mean + np.cumsum(rng.normal(0, amplitude / np.sqrt(vertices) * 4, vertices))
    ys -= np.linspace(0, ys[-1] - y_mean, vertices)
    return np.column_stack([xs, ys])


def _voronoi(rng, n, region):
    pts = shapely.points(rng.uniform(X0, X0 + SIZE, n), rng.uniform(Y0, Y0 + SIZE, n))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=region))
    return shapely.intersection(cells, region)


def generate(n_patches: int, seed: int = 7) -> dict[str, gpd.GeoDataFrame]:
    """Generate every layer; ``n_patches`` farmland patches (approximately)."""
    rng = np.random.default_rng(seed)
    region = shapely.box(X0, Y0, X0 + SIZE, Y0 + SIZE)
    counties = _voronoi(rng, 5, region)
    townships = _voronoi(rng, 139, region)
    county_of = shapely.STRtree(counties).query(shapely.point_on_surface(townships), "within")
    county_idx = np.zeros(townships.size, dtype=int)
    county_idx[county_of[0]] = county_of[1]

    # ecological space north of a wiggly line, agricultural south; urban blobs on top
    north = _wiggly_line(rng, Y0 + 0.55 * SIZE, 6000, 8000)
    eco = shapely.Polygon(
        [*north, (X0 + SIZE + 1000, Y0 + SIZE + 1000), (X0 - 1000, Y0 + SIZE + 1000)]
    ).intersection(region)
    urban = shapely.union_all(
        [
            _wiggly_circle(rng, x, y, r, 800, 0.2)
            for x, y, r in zip(
                rng.uniform(X0 + 10_000, X0 + SIZE - 10_000, 30),
                rng.uniform(Y0 + 5_000, Y0 + 0.5 * SIZE, 30),
                rng.uniform(800, 2_500, 30),
                strict=True,
            )
        ]
    )
    agri = region.difference(eco).difference(urban)
    eco = eco.difference(urban)

    # red line: a dozen large wiggly polygons of 12,000 vertices and 3,000
    # small ones (60-300 vertices), mostly in ecological space, as delivered
    red_parts = [
        _wiggly_circle(rng, x, y, r, 12_000, 0.3)
        for x, y, r in zip(
            rng.uniform(X0 + 10_000, X0 + SIZE - 10_000, 12),
            rng.uniform(Y0 + 0.5 * SIZE, Y0 + SIZE - 8_000, 12),
            rng.uniform(3_000, 7_000, 12),
            strict=True,
        )
    ]
    red_parts += [
        _wiggly_circle(rng, x, y, r, int(n), 0.2)
        for x, y, r, n in zip(
            rng.uniform(X0, X0 + SIZE, 3_000),
            rng.uniform(Y0 + 0.45 * SIZE, Y0 + SIZE, 3_000),
            rng.uniform(100, 600, 3_000),
            rng.integers(60, 300, 3_000),
            strict=True,
        )
    ]
    red = shapely.intersection(np.array(red_parts, dtype=object), region)

    # farmland: jittered grid of quadrilaterals kept where agricultural (and a bit beyond)
    spacing = 0.97 * np.sqrt(shapely.area(agri) / n_patches)
    gx, gy = np.meshgrid(np.arange(X0, X0 + SIZE, spacing), np.arange(Y0, Y0 + SIZE, spacing))
    cx = gx.ravel() + rng.uniform(0, spacing * 0.2, gx.size)
    cy = gy.ravel() + rng.uniform(0, spacing * 0.2, gy.size)
    near_agri = shapely.buffer(agri, spacing * 0.3)
    shapely.prepare(near_agri)
    keep = shapely.contains_xy(near_agri, cx, cy)
    # ~3 % of patches planted under the red line
    red_union = shapely.union_all(red)
    shapely.prepare(red_union)
    in_red = shapely.contains_xy(red_union, cx, cy) & (rng.random(cx.size) < 0.04)
    keep |= in_red
    cx, cy = cx[keep], cy[keep]
    w = spacing * rng.uniform(0.55, 0.8, cx.size)
    h = spacing * rng.uniform(0.55, 0.8, cx.size)
    skew = spacing * rng.uniform(-0.1, 0.1, cx.size)
    ring = np.stack(
        [
            np.column_stack([cx, cy]),
            np.column_stack([cx + w, cy + skew]),
            np.column_stack([cx + w + skew, cy + h]),
            np.column_stack([cx + skew, cy + h + skew]),
            np.column_stack([cx, cy]),
        ],
        axis=1,
    )
    farmland = shapely.polygons(ring)

    protected = [
        _wiggly_circle(rng, x, y, r, 3_000, 0.25)
        for x, y, r in zip(
            rng.uniform(X0 + 10_000, X0 + SIZE - 10_000, 13),
            rng.uniform(Y0 + 0.55 * SIZE, Y0 + SIZE - 5_000, 13),
            rng.uniform(1_500, 6_000, 13),
            strict=True,
        )
    ]
    parks = shapely.buffer(
        shapely.points(
            rng.uniform(X0 + 10_000, X0 + SIZE - 10_000, 25),
            rng.uniform(Y0 + 5_000, Y0 + 0.6 * SIZE, 25),
        ),
        rng.uniform(400, 900, 25),
    )
    rivers = [
        shapely.LineString(_wiggly_line(rng, y, 1500, 6000))
        for y in rng.uniform(Y0 + 5_000, Y0 + SIZE - 5_000, 20)
    ]

    def frame(geoms, **columns):
        geoms = np.asarray(geoms, dtype=object)
        data = {"BSM": [f"{i + 1:07d}" for i in range(geoms.size)], **columns}
        return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)

    zones = frame([urban, agri, eco], KJLX=["城镇空间", "农业空间", "生态空间"])
    return {
        "counties": frame(counties, XZQMC=[f"县{i + 1}" for i in range(counties.size)]),
        "townships": frame(
            townships,
            XZMC=[f"乡镇{i + 1}" for i in range(townships.size)],
            XZQMC=[f"县{i + 1}" for i in county_idx],
            ZTGNQ=rng.choice(["城镇化地区", "农产品主产区", "重点生态功能区"], townships.size),
        ),
        "zones": zones,
        "ecological_redline": frame(red, HXMC=[f"红线{i + 1}" for i in range(red.size)]),
        "permanent_farmland": frame(farmland, DLBM="0101"),
        "urban_boundary": frame(shapely.get_parts(urban)),
        "protected_areas": frame(
            protected,
            MC=[f"保护地{i + 1}" for i in range(13)],
            LX=["自然保护区"] * 5 + ["自然公园"] * 8,
        ),
        "parks": frame(
            parks,
            MC=[f"园区{i + 1}" for i in range(25)],
            LX=["工业园区"] * 20 + ["化工园区"] * 5,
        ),
        "rivers": frame(rivers, MC=[f"河{i + 1}" for i in range(20)]),
    }


PROJECT = """[project]
name = "benchmark city"
working_crs = "EPSG:4545"

[layers.counties]
path = "city.gpkg"
layer = "counties"

[layers.townships]
path = "city.gpkg"
layer = "townships"

[layers.zone_urban]
path = "city.gpkg"
layer = "zones"
where = "KJLX = '城镇空间'"

[layers.zone_agricultural]
path = "city.gpkg"
layer = "zones"
where = "KJLX = '农业空间'"

[layers.zone_ecological]
path = "city.gpkg"
layer = "zones"
where = "KJLX = '生态空间'"

[layers.ecological_redline]
path = "city.gpkg"
layer = "ecological_redline"

[layers.permanent_farmland]
path = "city.gpkg"
layer = "permanent_farmland"

[layers.urban_boundary]
path = "city.gpkg"
layer = "urban_boundary"

[layers.protected_areas]
path = "city.gpkg"
layer = "protected_areas"

[layers.parks]
path = "city.gpkg"
layer = "parks"

[layers.rivers]
path = "city.gpkg"
layer = "rivers"

[rules]
packs = ["national"]
"""


def ensure_city(n_patches: int, cache: Path = DEFAULT_CACHE) -> Path:
    """The project file of the cached synthetic city, generating it when missing."""
    folder = cache / f"city-{n_patches}"
    project = folder / "project.toml"
    if project.exists():
        return project
    start = time.perf_counter()
    layers = generate(n_patches)
    staging = folder.with_name(folder.name + ".partial")
    staging.mkdir(parents=True, exist_ok=True)
    for name, layer in layers.items():
        layer.to_file(staging / "city.gpkg", layer=name, driver="GPKG")
    (staging / "project.toml").write_text(PROJECT, encoding="utf-8")
    staging.rename(folder)
    print(
        f"generated {len(layers['permanent_farmland']):,} farmland patches in "
        f"{time.perf_counter() - start:.1f} s → {folder}"
    )
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=300_000)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    print(ensure_city(args.patches, args.cache))


if __name__ == "__main__":
    main()
