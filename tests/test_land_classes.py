"""Land classes taken (压占分析): the land-survey kind, the 扣除系数 check and the breakdown.

Expected areas are computed independently of geoplan: geopandas.overlay of
the conflict geometries with the land-survey polygons, areas by pyproj.Geod
(``engine_cases.geod_area``), net = gross × (1 − KCXS) from the source file.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.transform
import shapely

from engine_cases import EPSG, box, geod_area, rule, write_project
from geoplan.analysis.land_classes import land_class_summary
from geoplan.analysis.run import check_project
from geoplan.layers.bazhong.gen.__main__ import DATA
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project

#: GB/T 21010-2017, 表1 (written out here, independently of layers/land_classes.py).
GB_21010_CULTIVATED = {"0101": "水田", "0102": "水浇地", "0103": "旱地"}
M2_PER_MU = 10_000 / 15
GEOPLAN = str(Path(sys.executable).with_name("geoplan"))


def _survey() -> gpd.GeoDataFrame:
    """Four 地类图斑: two with KCXS, one with TBDLMJ only, one of an unknown code with neither."""
    geoms = [box(0, 0, 800, 1000), box(800, 0, 2000, 1000), box(0, 1000, 1200, 2000)]
    geoms.append(box(1200, 1000, 2000, 2000))
    tbmj = [round(geod_area(g), 2) for g in geoms]
    kcxs = [0.05, 0.15, None, None]
    kcmj = [round(tbmj[0] * 0.05, 2), round(tbmj[1] * 0.15, 2), None, None]
    tbdlmj = [tbmj[0] - kcmj[0], tbmj[1] - kcmj[1], round(tbmj[2] * 0.9, 2), None]
    return gpd.GeoDataFrame(
        {
            "BSM": ["S1", "S2", "S3", "S4"],
            "DLBM": ["0101", "0103", "0301", "0999X"],
            "DLMC": ["水田", "旱地", "乔木林地", "自定义地类"],
            "TBMJ": tbmj,
            "KCXS": kcxs,
            "KCMJ": kcmj,
            "TBDLMJ": tbdlmj,
        },
        geometry=geoms,
        crs=EPSG,
    )


def _project(tmp_path: Path, survey: gpd.GeoDataFrame) -> Path:
    towns = gpd.GeoDataFrame(
        {
            "BSM": ["T1", "T2"],
            "XZMC": ["甲镇", "乙镇"],
            "XZQMC": ["某县", "某县"],
            "ZTGNQ": ["城镇化地区", "农产品主产区"],
        },
        geometry=[box(0, 0, 1000, 2000), box(1000, 0, 2000, 2000)],
        crs=EPSG,
    )
    park = gpd.GeoDataFrame(
        {"BSM": ["P1"], "MC": ["某园区"]}, geometry=[box(100, 100, 1900, 1900)], crs=EPSG
    )
    project = write_project(
        tmp_path,
        {
            "townships": towns,
            "urban_boundary": [box(0, 0, 300, 2000)],
            "parks": park,
            "land_survey": survey,
        },
    )
    pack = tmp_path / "pack.toml"
    pack.write_text(rule("must_be_within", '"parks"', '"urban_boundary"'), encoding="utf-8")
    with project.open("a", encoding="utf-8") as f:
        f.write(f'\n[rules]\npacks = ["{pack.as_posix()}"]\n')
    return project


def test_rows_equal_an_independent_overlay(tmp_path):
    survey = _survey()
    result = check_project(_project(tmp_path, survey))
    breakdown = result.land_classes
    assert breakdown.source == "land_survey"

    taken = shapely.difference(box(100, 100, 1900, 1900), box(0, 0, 300, 2000))
    towns = gpd.GeoDataFrame(
        {"township": ["甲镇", "乙镇"]},
        geometry=[box(0, 0, 1000, 2000), box(1000, 0, 2000, 2000)],
        crs=EPSG,
    )
    pieces = gpd.overlay(gpd.GeoDataFrame(geometry=[taken], crs=EPSG), towns)
    pieces = gpd.overlay(pieces, survey, keep_geom_type=True)
    pieces["gross"] = [geod_area(g) for g in pieces.geometry]
    factor = (1 - pieces["KCXS"]).fillna(pieces["TBDLMJ"] / pieces["TBMJ"]).fillna(1.0)
    pieces["net"] = pieces["gross"] * factor
    expected = pieces.set_index(["township", "DLBM"])

    rows = breakdown.rows.set_index(["township", "land_class"])
    assert sorted(rows.index) == sorted(expected.index) and len(rows) == 6
    for key, row in rows.iterrows():
        want = expected.loc[key]
        assert row["gross_area_m2"] == pytest.approx(want["gross"], rel=1e-6)
        assert row["net_area_m2"] == pytest.approx(want["net"], rel=1e-6)
        assert row["gross_area_mu"] == pytest.approx(want["gross"] / M2_PER_MU, rel=1e-6)
        assert row["net_area_ha"] == pytest.approx(want["net"] / 1e4, rel=1e-6)
        assert (row["rule_id"], row["severity"], row["county"]) == ("R1", "prohibited", "某县")
    methods = rows.groupby(level="land_class")["net_method"].first().to_dict()
    assert methods == {
        "0101": "coefficient",
        "0103": "coefficient",
        "0301": "pro_rata",
        "0999X": "gross",
    }
    names = rows.groupby(level="land_class")["land_class_name"].first().to_dict()
    assert names == {"0101": "水田", "0103": "旱地", "0301": "乔木林地", "0999X": "自定义地类"}
    assert list(breakdown.rows["gross_area_m2"]) == sorted(breakdown.rows["gross_area_m2"])[::-1]

    summary = land_class_summary(breakdown)
    assert summary["land_class_source"] == "land_survey"
    first = summary["by_land_class"][0]
    assert first["gross_area_m2"] == round(rows["gross_area_m2"].max(), 2)
    json.dumps(summary, ensure_ascii=False)  # plain values


def test_inconsistent_net_area_warns(tmp_path, caplog):
    survey = _survey()
    survey.loc[1, "TBDLMJ"] = survey.loc[1, "TBMJ"]  # as if nothing were deducted
    project = read_project(_project(tmp_path, survey))
    with caplog.at_level(logging.WARNING, logger="geoplan"):
        load_project(project)
    warned = [r.getMessage() for r in caplog.records if "TBDLMJ" in r.getMessage()]
    # the GeoPackage numbers its features from 1: row 1 is feature 2
    assert len(warned) == 1 and "1 features" in warned[0] and "feature 2:" in warned[0]


@pytest.mark.parametrize(("value", "hint"), [(15.0, "a percent?"), (-0.1, ""), (1.0, "")])
def test_bad_deduction_coefficient_is_one_line_exit_2(tmp_path, value, hint):
    survey = _survey()
    survey.loc[2, "KCXS"] = value
    project = _project(tmp_path, survey)
    before = sorted(p.name for p in tmp_path.iterdir())
    run = subprocess.run(
        [GEOPLAN, "-q", "check", str(project), "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    message = lines[0]
    assert message.startswith("geoplan: error: ")
    assert "case.gpkg:land_survey" in message and "feature 3:" in message  # row 2
    assert f"is {value:g}" in message and "扣除系数" in message
    assert hint in message
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output folder made


def test_kinds_lists_the_land_survey_kind():
    run = subprocess.run(
        [GEOPLAN, "kinds", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    kinds = {k["kind"]: k for k in json.loads(run.stdout)}
    survey = kinds["land_survey"]
    assert survey["title"] == "地类图斑（国土调查）" and survey["layer_names"] == ["DLTB"]
    fields = {f["name"]: f for f in survey["fields"]}
    for name, alias, chinese in (
        ("land_class", "DLBM", "地类编码"),
        ("land_class_name", "DLMC", "地类名称"),
        ("survey_area", "TBMJ", "图斑面积"),
        ("deduction_coefficient", "KCXS", "扣除系数"),
        ("deduction_area", "KCMJ", "扣除地类面积"),
        ("net_land_area", "TBDLMJ", "图斑地类面积"),
    ):
        assert alias in fields[name]["aliases"] and chinese in fields[name]["aliases"]
    assert fields["land_class"]["required"] and fields["deduction_coefficient"]["type"] == "float"
    cultivated = {f["name"] for f in kinds["cultivated_land"]["fields"]}
    assert {"land_class", "deduction_coefficient", "net_land_area"} <= cultivated


@pytest.mark.slow
def test_demo_breakdown_equals_an_overlay_with_the_gd_layer(demo_out):
    report = json.loads((demo_out / "report.json").read_text(encoding="utf-8"))
    summary = report["summary"]
    assert summary["land_class_source"] == "cultivated_land"
    rows = pd.DataFrame(summary["by_land_class"])
    assert len(rows) and set(rows["net_method"]) == {"coefficient"}
    assert dict(zip(rows["land_class"], rows["land_class_name"], strict=True)).items() <= (
        GB_21010_CULTIVATED.items()
    )

    conflicts = gpd.read_file(demo_out / "conflicts.gpkg", layer="conflicts")
    occupied = conflicts["detail"].isin(["overlap", "outside", "within_distance", "exceeds"])
    taken = conflicts[occupied]
    gd = gpd.read_file(DATA / "bazhong.gpkg", layer="GD")[["DLBM", "KCXS", "geometry"]]
    pieces = gpd.overlay(taken[["rule_id", "township", "geometry"]], gd, keep_geom_type=True)
    # 10 m edges: the thin pieces need them for the reference to be good to 1e-7
    pieces["gross"] = [geod_area(shapely.segmentize(g, 10.0)) for g in pieces.geometry]
    pieces["net"] = pieces["gross"] * (1 - pieces["KCXS"])
    pieces = pieces[pieces["gross"] > 0]
    expected = pieces.groupby(["rule_id", "township", "DLBM"])[["gross", "net"]].sum()
    got = rows.set_index(["rule_id", "township", "land_class"])
    assert sorted(got.index) == sorted(expected.index)
    for key, row in got.iterrows():
        for side in ("gross", "net"):
            want = expected.loc[key, side]
            assert row[f"{side}_area_m2"] == pytest.approx(want, rel=1e-6, abs=0.006)
    totals = rows.groupby("rule_id")[["gross_area_m2", "net_area_m2"]].sum()
    by_rule = expected.groupby(level="rule_id").sum()
    counts = rows.groupby("rule_id").size()
    for rule_id, total in totals.iterrows():
        slack = 0.005 * counts[rule_id]  # rows hold m² to 0.01
        assert total["gross_area_m2"] == pytest.approx(by_rule.loc[rule_id, "gross"], abs=slack)
        assert total["net_area_m2"] == pytest.approx(by_rule.loc[rule_id, "net"], abs=slack)
        assert total["net_area_m2"] <= total["gross_area_m2"]
    assert rows["net_area_m2"].sum() < 0.99 * rows["gross_area_m2"].sum()  # 田坎 deducted


def test_the_demo_cultivated_land_carries_a_consistent_deduction():
    gd = gpd.read_file(DATA / "bazhong.gpkg", layer="GD")
    assert (gd["KCMJ"] == (gd["TBMJ"] * gd["KCXS"]).round(2)).all()
    assert (gd["TBDLMJ"] - (gd["TBMJ"] - gd["KCMJ"])).abs().max() < 0.006
    assert ((gd["KCXS"] >= 0) & (gd["KCXS"] < 1)).all()
    assert (gd.loc[gd["GDPDJ"] == "1", "KCXS"] == 0).all()  # ≤ 2°: 田坎 mapped, not deducted
    assert set(gd.loc[gd["KCXS"] > 0, "KCDLBM"]) == {"1203"}
    mean = gd.groupby(["GDPDJ", "DLBM"])["KCXS"].mean().unstack()
    steeper = mean.loc[["2", "3", "4", "5"]]
    assert (steeper["0103"] > steeper["0101"]).all()  # 旱地 deducts more than 水田
    assert steeper["0103"].is_monotonic_increasing and steeper["0101"].is_monotonic_increasing

    # the grade follows the DEM's slope (central differences here, Horn's method there)
    with rasterio.open(DATA / "dem.tif") as dem:
        z = dem.read(1).astype(float)
        cell = dem.transform.a
        points = shapely.point_on_surface(gd.geometry.values)
        rows, cols = rasterio.transform.rowcol(
            dem.transform, shapely.get_x(points), shapely.get_y(points)
        )
    dzdy, dzdx = np.gradient(z, cell)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))[rows, cols]
    grade = np.searchsorted([2, 6, 15, 25], slope) + 1
    assert (grade == gd["GDPDJ"].astype(int)).mean() > 0.9
