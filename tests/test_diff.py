"""``geoplan diff`` and ``check --baseline`` on a second delivery made in the test.

The embedded 巴中 dataset is checked as delivered (OLD), then as a new
delivery (NEW) in which the institute removed one park (its findings are
resolved), shrank another (its findings change), added a park inside the
red line (new prohibited findings), renumbered every 永久基本农田 patch
(their findings keep their ground under new ids) and grew the red line by
a square over farmland. The expected class of every finding is derived
here from what was changed, not from the diff code; the layer changes and
the red line's growth per county are checked against pyproj.Geod.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import jsonschema
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer

import geoplan.analysis
from geoplan.layers.bazhong import PROJECT_FILE

pytestmark = pytest.mark.slow

EMBEDDED = PROJECT_FILE.parent
REMOVED, SHRUNK, ADDED = "CYYQ0016", "CYYQ0017", "CYYQ9001"
GEOD = Geod(ellps="GRS80")
TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4490", always_xy=True)


GEOPLAN = Path(sys.executable).with_name("geoplan")


def _geoplan(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GEOPLAN), *map(str, args)], capture_output=True, text=True, timeout=900
    )


def _geod_area(geom) -> float:
    lonlat = shapely.transform(
        shapely.segmentize(geom, 100), lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T))
    )
    return abs(GEOD.geometry_area_perimeter(lonlat)[0])


def _copy(root: Path) -> Path:
    root.mkdir()
    shutil.copy(PROJECT_FILE, root / "project.toml")
    shutil.copytree(EMBEDDED / "data", root / "data")
    return root / "data" / "bazhong.gpkg"


def _free_spot(gpkg: Path, conflicts: gpd.GeoDataFrame, inside: str, size: float):
    """A square of ``size`` m inside layer ``inside``, 1.5 km from every finding and park."""
    area = pyogrio.read_dataframe(gpkg, layer=inside).to_crs("EPSG:4545").union_all()
    busy = shapely.union_all(
        [*conflicts.geometry, *pyogrio.read_dataframe(gpkg, layer="CYYQ").geometry]
    )
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = area.bounds
    xy = rng.uniform([x0, y0], [x1, y1], size=(4000, 2))
    squares = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + size, xy[:, 1] + size)
    shapely.prepare(area)
    ok = shapely.contains(area, squares) & (shapely.distance(busy, squares) > 1500)
    return squares[np.flatnonzero(ok)[0]]


def _farmland_spot(gpkg: Path, conflicts: gpd.GeoDataFrame):
    """A 400 m square over 永久基本农田 outside the red line, far from every finding."""
    farmland = pyogrio.read_dataframe(gpkg, layer="YJJBNT")
    redline = pyogrio.read_dataframe(gpkg, layer="STBHHX").union_all()
    busy = conflicts.geometry.union_all()
    for patch in farmland.sort_values("BSM").geometry:
        c = patch.centroid
        square = shapely.box(c.x - 200, c.y - 200, c.x + 200, c.y + 200)
        if shapely.distance(square, redline) > 2000 and shapely.distance(square, busy) > 1500:
            return square
    raise AssertionError("no free farmland in the embedded dataset")


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    root = tmp_path_factory.mktemp("deliveries")
    old_gpkg = _copy(root / "old")
    run = _geoplan("-q", "check", root / "old" / "project.toml", "--out", root / "old-out")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    old_conflicts = gpd.read_file(root / "old-out" / "conflicts.gpkg", layer="conflicts")

    new_gpkg = _copy(root / "new")
    parks = pyogrio.read_dataframe(new_gpkg, layer="CYYQ")
    parks = parks[parks["BSM"] != REMOVED].copy()
    shrink = parks["BSM"] == SHRUNK
    parks.loc[shrink, "geometry"] = parks.loc[shrink].geometry.buffer(-30)
    fixed = parks.copy()
    new_park = _free_spot(old_gpkg, old_conflicts, "STBHHX", 300)
    added = gpd.GeoDataFrame(
        {"BSM": [ADDED], "MC": ["新增测试园区"], "LX": ["工业园区"], "SFHG": ["否"]},
        geometry=[new_park],
        crs=parks.crs,
    )
    parks = pd.concat([parks, added], ignore_index=True)
    pyogrio.write_dataframe(parks, new_gpkg, layer="CYYQ")
    farmland = pyogrio.read_dataframe(new_gpkg, layer="YJJBNT")
    renumbered = dict(zip(farmland["BSM"], "N" + farmland["BSM"], strict=True))
    farmland["BSM"] = farmland["BSM"].map(renumbered)
    pyogrio.write_dataframe(farmland, new_gpkg, layer="YJJBNT")
    redline = pyogrio.read_dataframe(new_gpkg, layer="STBHHX")
    square = _farmland_spot(old_gpkg, old_conflicts)
    grown = int(np.argmin(redline.distance(square)))
    redline.loc[grown, "geometry"] = shapely.union(redline.geometry[grown], square)
    pyogrio.write_dataframe(redline, new_gpkg, layer="STBHHX")
    run = _geoplan("-q", "check", root / "new" / "project.toml", "--out", root / "new-out")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr

    fixed_gpkg = _copy(root / "fixed")
    pyogrio.write_dataframe(fixed, fixed_gpkg, layer="CYYQ")
    return {
        "root": root,
        "square": square,
        "redline_id": redline["BSM"][grown],
        "renumbered": renumbered,
        "old": old_conflicts,
        "new": gpd.read_file(root / "new-out" / "conflicts.gpkg", layer="conflicts"),
    }


def _keys(frame: gpd.GeoDataFrame, renumbered: dict | None = None) -> pd.Series:
    """Each finding's rule, features (ids as NEW numbers them), place and detail."""
    ids = {c: frame[c].fillna("").astype(str) for c in ("left_id", "right_id")}
    if renumbered:
        ids = {c: v.map(lambda x: renumbered.get(x, x)) for c, v in ids.items()}
    parts = [
        frame["rule_id"],
        ids["left_id"],
        ids["right_id"],
        frame["county"].fillna(""),
        frame["township"].fillna(""),
        frame["detail"].fillna(""),
    ]
    return pd.Series(["|".join(map(str, k)) for k in zip(*parts, strict=True)], index=frame.index)


def _expected(d) -> dict[str, set]:
    """The class of each finding, from what the second delivery changed.

    A finding keeps its rule, its features (under their new numbers), its
    township and its kind of breach; it changed when its ground moved by more
    than 1 m² (symmetric difference).
    """
    old, new = d["old"], d["new"]
    old_keys, new_keys = _keys(old, d["renumbered"]), _keys(new)
    assert old_keys.is_unique and new_keys.is_unique
    new_by_key = new.set_index(new_keys.to_numpy())
    matched = old_keys.isin(new_keys)
    moved = {
        row.conflict_id
        for row, key in zip(old[matched].itertuples(), old_keys[matched], strict=True)
        if shapely.symmetric_difference(row.geometry, new_by_key.geometry[key]).area > 1.0
    }
    return {
        "resolved": set(old.loc[~matched, "conflict_id"]),
        "new": set(new.loc[~new_keys.isin(old_keys), "conflict_id"]),
        "changed": moved,
    }


def test_diff_classes_every_finding_as_the_delivery_changed_it(deliveries):
    root = deliveries["root"]
    run = _geoplan("diff", root / "old-out", root / "new-out", "--out", root / "diff")
    assert run.returncode == 1, run.stderr  # a new prohibited finding: the gate fails
    assert "Traceback" not in run.stderr
    diff = json.loads((root / "diff" / "diff.json").read_text(encoding="utf-8"))
    expected = _expected(deliveries)
    rows = pd.DataFrame(diff["findings"])
    got_resolved = set(rows.loc[rows["change"] == "resolved", "old_conflict_id"])
    got_new = set(rows.loc[rows["change"] == "new", "new_conflict_id"])
    got_changed = set(rows.loc[rows["change"] == "changed", "old_conflict_id"])
    assert got_resolved == expected["resolved"]
    assert got_new == expected["new"]
    assert got_changed == expected["changed"] and expected["changed"]
    new = deliveries["new"].set_index("conflict_id").loc[sorted(got_new)]
    assert ((new["left_id"] == ADDED) | (new["right_id"] == ADDED)).any()
    assert new.intersects(deliveries["square"]).any()  # the red line's new ground
    n_old, n_new = len(deliveries["old"]), len(deliveries["new"])
    unchanged = n_old - len(expected["resolved"]) - len(expected["changed"])
    assert diff["counts"] == {
        "new": len(expected["new"]),
        "changed": len(expected["changed"]),
        "resolved": len(expected["resolved"]),
        "unchanged": unchanged,
    }
    assert unchanged + len(expected["changed"]) + len(expected["new"]) == n_new
    assert diff["gate"]["status"] == "fail" and diff["gate"]["new_failing"] >= 1


def test_renumbered_farmland_findings_are_matched_by_geometry(deliveries):
    root = deliveries["root"]
    diff = json.loads((root / "diff" / "diff.json").read_text(encoding="utf-8"))
    rows = pd.DataFrame(diff["findings"])
    old = deliveries["old"].set_index("conflict_id")
    farm = old[(old["left_kind"] == "permanent_farmland") & (old["left_id"] != "")]
    farm = farm[~farm.index.isin(rows.loc[rows["change"] == "resolved", "old_conflict_id"])]
    matched = rows.set_index("old_conflict_id").loc[farm.index]
    assert (matched["match"] == "geometry").all()
    assert (matched["new_conflict_id"] != matched.index).all()
    new_ids = matched["left_id"]
    assert (new_ids == farm["left_id"].map(deliveries["renumbered"])).all()
    layers = {layer["layer"]: layer for layer in diff["layers"]}
    farmland = layers["permanent_farmland"]
    assert farmland["matched_by_geometry"] == farmland["unchanged"] > 20000
    assert farmland["added"] == farmland["removed"] == farmland["changed"] == 0


def test_the_red_line_growth_is_stated_per_county(deliveries):
    root = deliveries["root"]
    diff = json.loads((root / "diff" / "diff.json").read_text(encoding="utf-8"))
    redline = {layer["layer"]: layer for layer in diff["layers"]}["ecological_redline"]
    assert redline["changed"] == 1 and redline["added"] == redline["removed"] == 0
    old = pyogrio.read_dataframe(EMBEDDED / "data" / "bazhong.gpkg", layer="STBHHX").union_all()
    growth = _geod_area(shapely.difference(deliveries["square"], old))
    assert redline["area_change_m2"] == pytest.approx(growth, rel=1e-4)
    counties = pyogrio.read_dataframe(EMBEDDED / "data" / "bazhong.gpkg", layer="XZQ_XJ")
    county = counties[counties.intersects(deliveries["square"])]["XZQMC"].iloc[0]
    by_county = {r["county"]: r for r in redline["by_county"]}
    assert by_county[county]["area_change_m2"] == pytest.approx(growth, rel=1e-4)
    parks = {layer["layer"]: layer for layer in diff["layers"]}["parks"]
    assert (parks["added"], parks["removed"], parks["changed"]) == (1, 1, 1)


def test_outputs_of_the_diff(deliveries):
    folder = deliveries["root"] / "diff"
    schema = json.loads(
        (Path(geoplan.analysis.__file__).parent / "schemas" / "diff.schema.json").read_text()
    )
    jsonschema.validate(json.loads((folder / "diff.json").read_text(encoding="utf-8")), schema)
    md = (folder / "diff.md").read_text(encoding="utf-8")
    assert md.index("新增冲突") < md.index("已解决的冲突")
    assert "门禁结果：不通过" in md
    assert pyogrio.list_layers(folder / "diff.gpkg")[:, 0].tolist() == ["findings", "features"]
    findings = gpd.read_file(folder / "diff.gpkg", layer="findings")
    assert set(findings["change"]) == {"new", "changed", "resolved", "unchanged"}
    html = (folder / "diff.html").read_text(encoding="utf-8")
    assert "<svg" in html and "新增测试园区" not in html.split("<svg")[0]


def test_baseline_gate_passes_when_every_change_is_an_improvement(deliveries):
    root = deliveries["root"]
    run = _geoplan(
        "-q",
        "check",
        root / "fixed" / "project.toml",
        "--out",
        root / "fixed-out",
        "--baseline",
        root / "old-out",
    )
    assert run.returncode == 0, run.stderr
    diff = json.loads((root / "fixed-out" / "diff.json").read_text(encoding="utf-8"))
    assert diff["counts"]["new"] == 0 and diff["counts"]["resolved"] > 0
    assert diff["gate"]["status"] == "pass"
    run = _geoplan("diff", root / "new-out", root / "old-out")
    assert run.returncode == 1  # going back re-adds the removed park's prohibited findings


def test_a_folder_that_is_not_a_check_output_is_bad_input(tmp_path, deliveries):
    (tmp_path / "empty").mkdir()
    run = _geoplan("diff", tmp_path / "empty", deliveries["root"] / "old-out")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "report.json" in run.stderr and str(tmp_path / "empty") in run.stderr
