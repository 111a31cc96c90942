"""Terrain, zonal statistics and raster rules against known answers."""

from __future__ import annotations

import math
import subprocess

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from pyproj import Geod
from rasterio.transform import Affine
from rasterio.warp import Resampling, calculate_default_transform, reproject

from engine_cases import EPSG, X0, Y0, box, geod_area, write_project
from geoplan.analysis.cli import cli
from geoplan.geo.terrain import RasterError, blocks, open_info
from geoplan.geo.zonal import zonal_stats
from geoplan.layers.bazhong import PROJECT_FILE

DEM = PROJECT_FILE.parent / "data" / "dem.tif"
TAN30 = math.tan(math.radians(30))


def _write(path, values, crs, transform, nodata=-9999.0):
    with rasterio.open(
        path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
        dtype=values.dtype, crs=crs, transform=transform, nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(values, 1)
    return path


def _measure(path, measure, block_rows=512):
    return np.vstack([v for _, v in blocks(open_info(path), measure, block_rows=block_rows)])


def test_plane_tilted_30_degrees_in_a_projected_crs(tmp_path):
    x = np.arange(60) * 10.0
    z = np.tile(x * TAN30, (40, 1))  # rises to the east
    path = _write(tmp_path / "plane.tif", z, EPSG, Affine(10, 0, X0, 0, -10, Y0))
    slope, aspect = _measure(path, "slope", 7), _measure(path, "aspect", 7)
    assert np.isnan(slope[0]).all() and np.isnan(slope[:, -1]).all()  # the outer ring
    assert np.abs(slope[1:-1, 1:-1] - 30).max() < 1e-9
    assert np.abs(aspect[1:-1, 1:-1] - 270).max() < 1e-9  # faces west


def test_plane_tilted_30_degrees_in_a_geographic_crs(tmp_path):
    res = 1 / 3600  # one arc-second, ≈ 31 m north-south
    lat_top, rows, cols = 32.0, 50, 30
    lats = lat_top - (np.arange(rows) + 0.5) * res
    north = Geod(ellps="GRS80").inv(
        np.full(rows, 106.5), lats, np.full(rows, 106.5), np.full(rows, lat_top)
    )[2]
    z = np.tile(((north.max() - north) * TAN30)[:, None], (1, cols))  # rises to the north
    path = _write(tmp_path / "geo.tif", z, "EPSG:4490", Affine(res, 0, 106.5, 0, -res, lat_top))
    slope, aspect = _measure(path, "slope"), _measure(path, "aspect")
    assert np.abs(slope[1:-1, 1:-1] - 30).max() < 0.01
    assert np.abs(aspect[1:-1, 1:-1] - 180).max() < 0.01  # faces south


def test_slope_agrees_with_gdaldem_and_does_not_depend_on_the_block_size(tmp_path):
    subprocess.run(["gdaldem", "slope", str(DEM), str(tmp_path / "slope.tif"), "-q"], check=True)
    with rasterio.open(tmp_path / "slope.tif") as src:
        theirs = src.read(1, masked=True).filled(np.nan)
    ours = _measure(DEM, "slope", block_rows=37)
    both = ~np.isnan(theirs) & ~np.isnan(ours)
    assert both.sum() > 0.9 * ours.size
    assert np.abs(ours[both] - theirs[both]).max() < 1e-3
    assert np.array_equal(ours, _measure(DEM, "slope", block_rows=100_000), equal_nan=True)


def test_nodata_cells_are_ignored(tmp_path):
    z = np.tile(np.arange(20) * 10.0 * TAN30, (20, 1))
    z[10, 10] = -9999
    path = _write(tmp_path / "hole.tif", z, EPSG, Affine(10, 0, X0, 0, -10, Y0))
    slope = _measure(path, "slope")
    assert np.isnan(slope[9:12, 9:12]).all()  # the hole and its neighbours
    assert np.abs(slope[5, 5] - 30) < 1e-9


def test_zonal_statistics_weight_partial_cells_by_their_covered_fraction(tmp_path):
    values = np.arange(16, dtype="float64").reshape(4, 4)
    values[0, 0] = -9999  # nodata: left out, weight and all
    path = _write(tmp_path / "z.tif", values, EPSG, Affine(10, 0, X0, 0, -10, Y0 + 40))
    zone = shapely.box(X0 + 5, Y0 + 15, X0 + 25, Y0 + 40)  # half, whole, half columns
    got = zonal_stats(
        open_info(path),
        gpd.GeoDataFrame(geometry=[zone], crs=EPSG),
        stats=("mean", "min", "max", "count"),
        threshold=5,
    ).iloc[0]
    weights = np.array([[0.5, 1, 0.5, 0], [0.5, 1, 0.5, 0], [0.25, 0.5, 0.25, 0], [0, 0, 0, 0]])
    weights[0, 0] = 0
    assert got["mean"] == pytest.approx((values * weights).sum() / weights.sum())
    assert got["min"] == 1 and got["max"] == 10 and got["count"] == pytest.approx(4.5)
    assert got["share_above"] == pytest.approx(weights[values > 5].sum() / weights.sum())


def test_a_raster_in_another_crs_gives_the_same_zonal_answer(tmp_path):
    towns = gpd.read_file(PROJECT_FILE.parent / "data" / "bazhong.gpkg", layer="XZQ_XZ").iloc[:12]
    with rasterio.open(DEM) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:4490", src.width, src.height, *src.bounds
        )
        warped = np.full((height, width), -9999.0)
        reproject(
            src.read(1).astype("float64"), warped, src_transform=src.transform, src_crs=src.crs,
            dst_transform=transform, dst_crs="EPSG:4490", src_nodata=src.nodata,
            dst_nodata=-9999.0, resampling=Resampling.bilinear,
        )  # fmt: skip
    geographic = _write(tmp_path / "dem4490.tif", warped, "EPSG:4490", transform)
    here = zonal_stats(open_info(DEM), towns, stats=("mean",))["mean"]
    there = zonal_stats(open_info(geographic), towns.to_crs(3857), stats=("mean",))["mean"]
    assert np.abs(here - there).max() < 0.01 * here.mean()


def _steep_project(tmp_path, dem_crs: str | None = EPSG):
    # Flat west of X0 + 1000 m, rising at 30° east of it.
    x = X0 - 500 + (np.arange(300) + 0.5) * 10.0
    z = np.tile(np.where(x > X0 + 1000, (x - X0 - 1000) * TAN30, 0.0), (200, 1))
    _write(tmp_path / "dem.tif", z, dem_crs, Affine(10, 0, X0 - 500, 0, -10, Y0 + 1500))
    project = write_project(tmp_path, {"urban_boundary": [box(0, 0, 2000, 1000)]})
    project.write_text(
        project.read_text(encoding="utf-8") + '\n[rasters.dem]\npath = "dem.tif"\n',
        encoding="utf-8",
    )
    return project


def test_urban_boundary_on_steep_slopes_is_a_conflict_with_its_area(tmp_path):
    project = _steep_project(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.output  # the rule is a notice
    conflicts = gpd.read_file(out / "conflicts.gpkg", layer="conflicts")
    steep = conflicts[conflicts["rule_id"] == "terrain-urban-steep"]
    assert len(steep) == 1 and steep["detail"].iloc[0] == "exceeds"
    assert steep["right_name"].iloc[0] == "坡度大于25度"
    # The steep half of the boundary; Horn's 3×3 window blurs the kink by a cell.
    expected = geod_area(box(1000, 0, 2000, 1000))
    assert steep["area_m2"].iloc[0] == pytest.approx(expected, rel=0.015)


def test_a_dem_without_crs_or_outside_the_region_is_a_clear_error(tmp_path):
    project = _steep_project(tmp_path, dem_crs=None)
    result = CliRunner().invoke(cli, ["check", str(project), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "dem.tif" in result.output and "no CRS" in result.output
    assert not (tmp_path / "o").exists() or list((tmp_path / "o").iterdir()) == []

    far = tmp_path / "far"
    far.mkdir()
    project = _steep_project(far)
    _write(far / "dem.tif", np.zeros((5, 5)), EPSG, Affine(10, 0, X0 + 90_000, 0, -10, Y0))
    result = CliRunner().invoke(cli, ["check", str(project), "--out", str(far / "o")])
    assert result.exit_code == 2 and "does not overlap" in result.output

    (far / "dem.tif").write_bytes(b"not a raster")
    result = CliRunner().invoke(cli, ["check", str(project), "--out", str(far / "o")])
    assert result.exit_code == 2 and "cannot be read as a raster" in result.output
    with pytest.raises(RasterError):
        open_info(far / "dem.tif")


def test_conflict_density_sums_to_the_conflicts_area_by_severity(demo_out):
    conflicts = gpd.read_file(demo_out / "conflicts.gpkg", layer="conflicts")
    with rasterio.open(demo_out / "conflict_density.tif") as src:
        assert src.crs.to_epsg() == 4545 and src.res == (1000.0, 1000.0)
        bands = {d.split()[0]: src.read(i + 1) for i, d in enumerate(src.descriptions)}
        t = src.transform
    assert set(bands) == {"prohibited", "restricted", "notice"}
    for severity, values in bands.items():
        chosen = conflicts[conflicts["severity"] == severity].geometry.values
        # Rows of one severity may overlap (two rules, two pairs): areas add up.
        assert values.sum() == pytest.approx(shapely.area(chosen).sum(), rel=1e-4)
        rows, cols = np.nonzero(values)
        cells = shapely.box(t.c + cols * 1000, t.f - (rows + 1) * 1000,
                            t.c + (cols + 1) * 1000, t.f - rows * 1000)  # fmt: skip
        hit = shapely.STRtree(chosen).query(cells, predicate="intersects")[0]
        assert set(hit.tolist()) == set(range(len(cells)))  # every painted cell has a conflict


def test_township_terrain_matches_a_supersampled_coverage_computation(demo_out):
    import json

    from rasterio.features import rasterize

    report = json.loads((demo_out / "report.json").read_text(encoding="utf-8"))
    rows = {(r["county"], r["township"]): r for r in report["summary"]["terrain_by_township"]}
    assert len(rows) == 139
    towns = gpd.read_file(PROJECT_FILE.parent / "data" / "bazhong.gpkg", layer="XZQ_XZ")
    with rasterio.open(DEM) as src:
        z = src.read(1).astype(float)
        z[z == src.nodata] = np.nan
        t = src.transform
    k = 10  # each cell split into 10 × 10 to measure the covered fraction
    fine = Affine(t.a / k, 0, t.c, 0, t.e / k, t.f)
    for _, town in towns.iloc[::23].iterrows():
        inside = rasterize([town.geometry], out_shape=(z.shape[0] * k, z.shape[1] * k),
                           transform=fine, dtype="uint8")  # fmt: skip
        fraction = inside.reshape(z.shape[0], k, z.shape[1], k).mean(axis=(1, 3))
        use = (fraction > 0) & ~np.isnan(z)
        expected = (z[use] * fraction[use]).sum() / fraction[use].sum()
        got = rows[(town["XZQMC"], town["XZMC"])]
        assert got["elevation_mean"] == pytest.approx(expected, abs=0.5)
        assert got["elevation_min"] == np.nanmin(np.where(use, z, np.nan))
        assert 0 <= got["slope_share_above_25"] <= 1 and got["slope_mean"] > 0


def test_zonal_command_prints_statistics_per_feature(tmp_path):
    import json

    project = _steep_project(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["zonal", str(project), "--layer", "urban_boundary", "--measure", "slope",
         "--threshold", "25", "--stats", "mean,max", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["id"] == "1" and row["max"] == pytest.approx(30, abs=1e-6)
    assert row["share_above"] == pytest.approx(0.5, abs=0.01)  # the steep half
    missing = CliRunner().invoke(cli, ["zonal", str(project), "--raster", "nope"])
    assert missing.exit_code == 2 and "[rasters.nope]" in missing.output


def test_a_run_derives_the_slope_once_and_finds_the_same_cells(tmp_path):
    from geoplan.geo.terrain import DerivedRasters, above_threshold

    info = open_info(DEM)
    derived = DerivedRasters(tmp_path)
    first, again = derived.get(info, "slope"), derived.get(info, "slope")
    assert first.path == again.path and len(list(tmp_path.iterdir())) == 1
    assert derived.get(info, "elevation") is info
    t = info.transform
    bounds = (t.c + 20_000, t.f - 60_000, t.c + 60_000, t.f - 20_000)
    direct = shapely.union_all(above_threshold(info, "slope", 20, bounds))
    cached = shapely.union_all(above_threshold(first, "elevation", 20, bounds))
    assert direct.area > 0
    assert shapely.symmetric_difference(direct, cached).area <= 1e-6 * direct.area


def test_a_nodata_value_given_in_the_project_overrides_the_file(tmp_path):
    values = np.array([[1.0, 2.0], [-1.0, 4.0]])  # the file says no nodata; -1 means none here
    path = _write(tmp_path / "o.tif", values, EPSG, Affine(10, 0, X0, 0, -10, Y0 + 20), None)
    zone = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 20, Y0 + 20)], crs=EPSG)
    assert not open_info(path).nodata_overridden
    assert zonal_stats(open_info(path), zone, stats=("mean",))["mean"].iloc[0] == 1.5
    given = open_info(path, nodata=-1.0)
    assert given.nodata_overridden
    assert zonal_stats(given, zone, stats=("mean",))["mean"].iloc[0] == pytest.approx(7 / 3)
