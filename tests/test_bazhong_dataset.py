"""The embedded Bazhong dataset: counts and areas against the plan facts, the planted
conflicts, and the engine on it — areas checked with pyproj.Geod, independently of geo.area."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Geod

from geoplan.analysis.run import check_project
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.bazhong.gen.__main__ import DATA, OUTPUTS, write
from geoplan.layers.catalog import KINDS
from geoplan.layers.project import read_project

GPKG = DATA / "bazhong.gpkg"
FACTS = PROJECT_FILE.parent / "facts"
_GEOD = Geod(ellps="GRS80")


def geod_km2(geoms) -> np.ndarray:
    """Ellipsoidal areas (km²) with pyproj.Geod, in EPSG:4490 after orienting rings."""
    lonlat = gpd.GeoSeries(list(geoms), crs=4545).to_crs(4490).values
    dense = shapely.orient_polygons(shapely.segmentize(lonlat, 0.005))
    return np.array([abs(_GEOD.geometry_area_perimeter(g)[0]) for g in dense]) / 1e6


def layer(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(GPKG, layer=name)


@pytest.fixture(scope="module")
def result():
    return check_project(read_project(PROJECT_FILE))


def test_counts_match_the_roster_and_the_plan():
    towns = layer("XZQ_XZ")
    assert len(layer("XZQ_XJ")) == 5
    assert len(towns) == 139
    assert towns["ZTGNQ"].value_counts().to_dict() == {
        "农产品主产区": 59,
        "城镇化地区": 45,
        "重点生态功能区": 35,
    }
    roster = pd.read_csv(FACTS / "townships.csv")
    assert sorted(zip(towns["XZQMC"], towns["XZMC"], strict=True)) == sorted(
        zip(roster["county"], roster["township"], strict=True)
    )
    assert {("恩阳区", "兴隆镇"), ("通江县", "兴隆镇")} <= set(
        zip(towns["XZQMC"], towns["XZMC"], strict=True)
    )
    assert len(layer("YJJBNT")) >= 20_000
    assert sorted(layer("CYYQ")["MC"]) == sorted(pd.read_csv(FACTS / "parks.csv")["name"])
    protected = layer("ZRBHD")
    assert protected["MC"].nunique() == 13
    assert len(protected) == 17  # four 自然保护区 in a 核心保护区 and a 一般控制区 each
    assert layer("YYSYBHQ")["JB"].value_counts().to_dict() == {"一级保护区": 6, "二级保护区": 6}
    assert len(layer("WKK")) == 5


def test_only_the_planted_rings_are_invalid():
    planted = pd.read_csv(DATA / "planted_conflicts.csv")
    bowties = set(planted.loc[planted["case"] == "repairable_geometry", "left_id"])
    for name in pyogrio.list_layers(GPKG)[:, 0]:
        frame = layer(name)
        invalid = set(frame.loc[~shapely.is_valid(frame.geometry.values), "BSM"])
        assert invalid == (bowties if name == "YJJBNT" else set()), name
        kinds = set(shapely.get_type_id(frame.geometry.values))
        assert kinds <= {1, 5} if name == "HL" else kinds <= {3, 6}, name


def test_farmland_patches_are_cultivated_patches_with_the_same_land_class():
    farm, cultivated = layer("YJJBNT"), layer("GD")
    same = farm.merge(
        cultivated.assign(wkb=shapely.to_wkb(cultivated.geometry.values))[["wkb", "DLBM"]],
        left_on=shapely.to_wkb(farm.geometry.values),
        right_on="wkb",
        suffixes=("", "_gd"),
    )
    planted = pd.read_csv(DATA / "planted_conflicts.csv")
    extras = planted["case"].isin(["farmland_in_redline", "urban_over_farmland", "sliver_seam"])
    bowties = planted["case"] == "repairable_geometry"
    assert len(same) == len(farm) - extras.sum() - bowties.sum()
    assert (same["DLBM"] == same["DLBM_gd"]).all()
    assert set(cultivated["DLBM"]) == {"0101", "0102", "0103"}


@pytest.mark.parametrize(
    ("name", "where", "target_km2"),
    [
        ("STBHHX", None, 1673.0),
        ("YJJBNT", None, 2187.13),
        ("GD", None, 2523.6),
        ("CZKFBJ", None, 160.6),
        ("SQ", "城镇空间", 0.0131),
        ("SQ", "农业空间", 0.4839),
        ("SQ", "生态空间", 0.5030),
    ],
)
def test_layer_totals_are_within_half_a_percent_of_the_plan(name, where, target_km2):
    frame = layer(name)
    geoms = shapely.make_valid(frame.geometry.values)
    if where:
        city = geod_km2(layer("XZQ_XJ").geometry.values).sum()
        share = geod_km2(geoms[frame["KJLX"] == where]).sum() / city
        assert share == pytest.approx(target_km2, abs=0.005)
    else:
        assert geod_km2(geoms).sum() == pytest.approx(target_km2, rel=0.005)


def test_protected_areas_match_the_table_within_one_percent():
    table = pd.read_csv(FACTS / "protected_areas.csv").set_index("name")
    frame = layer("ZRBHD")
    km2 = pd.Series(geod_km2(frame.geometry.values), index=frame["MC"]).groupby(level=0).sum()
    for name, row in table.iterrows():
        assert km2[name] == pytest.approx(row["area_km2"], rel=0.01), name
        assert set(frame.loc[frame["MC"] == name, "LX"]) == {row["category"]}


def test_the_zones_of_each_protected_area_tile_its_outline():
    frame = layer("ZRBHD")
    for name, pieces in frame.groupby("MC"):
        geoms = pieces.geometry.values
        outline_km2 = geod_km2([shapely.union_all(geoms)])[0]
        assert geod_km2(geoms).sum() == pytest.approx(outline_km2, rel=1e-6), name
        zones = set(pieces["GNFQ"].fillna(""))
        if (pieces["LX"] == "自然保护区").all() and len(pieces) == 2:
            assert zones == {"核心保护区", "一般控制区"}, name
        else:
            assert len(pieces) == 1 and zones <= {"一般控制区", ""}, name
    zone = next(f for f in KINDS["protected_areas"].all_fields if f.name == "zone")
    allowed = set(zone.allowed)
    assert set(frame["GNFQ"].dropna()) <= allowed
    unzoned = frame.loc[frame["GNFQ"].isna(), "MC"]
    assert list(unzoned) == ["四川五台山猕猴自然保护区"]


def test_townships_partition_their_counties_and_zones_tile_the_city():
    counties = layer("XZQ_XJ")
    towns = layer("XZQ_XZ")
    for county in counties.itertuples():
        cells = towns.loc[towns["XZQMC"] == county.XZQMC].geometry.values
        total = geod_km2(cells).sum()
        county_km2 = geod_km2([county.geometry])[0]
        assert total == pytest.approx(county_km2, rel=1e-4), county.XZQMC
        assert geod_km2([shapely.union_all(cells)])[0] == pytest.approx(county_km2, rel=1e-4)
    zones = layer("SQ").geometry.values
    city = shapely.union_all(counties.geometry.values)
    assert geod_km2(zones).sum() == pytest.approx(geod_km2([city])[0], rel=1e-4)


def test_every_planted_case_holds_geometrically():
    planted = pd.read_csv(DATA / "planted_conflicts.csv", dtype=str).fillna("")
    frames = {
        "permanent_farmland": layer("YJJBNT"),
        "parks": layer("CYYQ"),
        "protected_areas": layer("ZRBHD"),
        "tailings": layer("WKK"),
    }
    red = shapely.union_all(layer("STBHHX").geometry.values)
    urban = shapely.union_all(layer("CZKFBJ").geometry.values)
    river = layer("HL").set_index("BSM").geometry
    protected = frames["protected_areas"].set_index("BSM")
    water = layer("YYSYBHQ").set_index("BSM")
    grade = {
        "parks_in_water_source_primary": "一级保护区",
        "parks_in_water_source_secondary": "二级保护区",
    }
    for row in planted.itertuples():
        geom = shapely.make_valid(frames[row.left_layer].set_index("BSM").geometry[row.left_id])
        if row.case == "farmland_in_redline":
            assert geom.intersection(red).area > 0, row.left_id
        elif row.case == "urban_over_farmland":
            assert geom.intersection(urban).area == pytest.approx(geom.area)
        elif row.case == "sliver_seam":
            assert 0 < geom.intersection(urban).area < 200
        elif row.case == "chemical_park_near_river":
            assert geom.distance(river[row.right_id]) < 1000
        elif row.case == "park_outside_urban":
            assert geom.difference(urban).area > 0
        elif row.case == "reserve_outside_redline":
            assert geom.difference(red).area > 10_000
        elif row.case == "pa_core_farmland":
            assert protected.loc[row.right_id, "GNFQ"] == "核心保护区"
            assert geom.intersection(protected.geometry[row.right_id]).area > 0, row.left_id
        elif row.case in grade:
            assert water.loc[row.right_id, "JB"] == grade[row.case]
            assert geom.intersection(water.geometry[row.right_id]).area > 0, row.left_id
        elif row.case == "tailings_near_river":
            assert 0 < geom.distance(river[row.right_id]) < 1000
    assert {
        "farmland_in_redline",
        "urban_over_farmland",
        "park_in_reserve",
        "park_outside_urban",
        "chemical_park_near_river",
        "protected_areas_overlap",
        "sliver_seam",
        "reserve_outside_redline",
        "stored_area_off",
        "repairable_geometry",
        "pa_core_farmland",
        "parks_in_water_source_primary",
        "parks_in_water_source_secondary",
        "tailings_near_river",
    } <= set(planted["case"])


def test_only_the_planted_parks_share_area_with_a_water_source():
    parks, water = layer("CYYQ"), layer("YYSYBHQ")
    planted = pd.read_csv(DATA / "planted_conflicts.csv", dtype=str)
    cases = planted[planted["case"].str.startswith("parks_in_water_source")]
    shared = {
        (p.BSM, w.BSM)
        for p in parks.itertuples()
        for w in water.itertuples()
        if p.geometry.intersection(w.geometry).area > 0
    }
    assert shared == set(zip(cases["left_id"], cases["right_id"], strict=True))
    first = set(cases.loc[cases["case"] == "parks_in_water_source_primary", "left_id"])
    assert len(first) == 1 and len(set(cases["left_id"]) - first) == 1


def test_the_tailings_ponds_are_clear_of_everything_but_the_planted_one():
    ponds = layer("WKK").set_index("BSM")
    rivers = shapely.union_all(layer("HL").geometry.values)
    near = set(
        pd.read_csv(DATA / "planted_conflicts.csv").query("case == 'tailings_near_river'")[
            "left_id"
        ]
    )
    assert len(near) == 1
    others = [
        shapely.union_all(shapely.make_valid(layer(name).geometry.values))
        for name in ("STBHHX", "ZRBHD", "CZKFBJ", "CYYQ", "YYSYBHQ", "YJJBNT")
    ]
    for bsm, pond in ponds.geometry.items():
        assert (pond.distance(rivers) < 1000) == (bsm in near), bsm
        assert all(pond.distance(other) > 0 for other in others), bsm


def test_the_engine_finds_every_planted_conflict(result):
    planted = pd.read_csv(DATA / "planted_conflicts.csv", dtype=str).fillna("")
    found = result.conflicts
    rule_of = {
        "farmland_in_redline": "lines-redline-farmland",
        "farmland_in_ecological_space": "zones-farmland-in-agricultural",
        "urban_over_farmland": "lines-farmland-urban",
        "park_in_reserve": "parks-outside-reserve",
        "park_outside_urban": "parks-in-urban",
        "park_on_farmland": "parks-outside-farmland",
        "chemical_park_near_river": "parks-chemical-river",
        "park_in_ecological_township": "function-ecological-industry",
        "reserve_outside_redline": "pa-reserve-in-redline",
        "protected_areas_overlap": "pa-no-overlap",
    }
    evaluated = {r.rule.id for r in result.evaluation.results if r.status == "evaluated"}
    for row in planted.itertuples():
        assert row.rule == rule_of.get(row.case, row.rule), row.case
        if row.case in rule_of or (row.expected == "conflict" and row.rule in evaluated):
            rule = found[found["rule_id"] == row.rule]
            hits = rule[(rule["left_id"] == row.left_id) | (rule["right_id"] == row.left_id)]
            assert len(hits), (row.case, row.left_id)
    seams = planted.loc[planted["case"] == "sliver_seam", "left_id"]
    urban_farm = found[found["rule_id"] == "lines-farmland-urban"]
    assert not set(seams) & (set(urban_farm["right_id"]) | set(urban_farm["left_id"]))
    slivers = {r.rule.id: r.slivers.count for r in result.evaluation.results}
    assert slivers["lines-farmland-urban"] >= len(seams)


def test_rule_areas_equal_a_plain_geopandas_overlay(result):
    farmland = layer("YJJBNT")
    farmland = farmland.set_geometry(shapely.make_valid(farmland.geometry.values))
    red = layer("STBHHX")
    expected = gpd.overlay(farmland[["BSM", "geometry"]], red[["geometry"]], how="intersection")
    expected_km2 = geod_km2(expected.geometry.values).sum()
    got = result.conflicts.loc[result.conflicts["rule_id"] == "lines-redline-farmland", "area_m2"]
    assert got.sum() / 1e6 == pytest.approx(expected_km2, rel=1e-4)


def test_the_dem_is_high_in_the_north_and_low_in_the_south():
    with rasterio.open(DATA / "dem.tif") as src:
        assert src.crs.to_epsg() == 4545
        band = src.read(1)
        north, south = band[: band.shape[0] // 6], band[-band.shape[0] // 6 :]
    assert 2000 < north.max() <= 2600
    assert 250 <= south.min() < 450


def test_metadata_says_what_is_real_and_what_is_generated():
    assert (
        "not survey data"
        in pyogrio.read_info(GPKG, layer="YJJBNT")["layer_metadata"]["DESCRIPTION"]
    )
    assert (
        "Real boundary" in pyogrio.read_info(GPKG, layer="XZQ_XJ")["layer_metadata"]["DESCRIPTION"]
    )


@pytest.mark.slow
def test_rebuilding_gives_identical_files(tmp_path):
    write(tmp_path)
    for name in OUTPUTS:
        committed = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        rebuilt = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert committed == rebuilt, name
