"""The review report at city scale (issue 15 §9): land without a union per group, sizes.

Land areas are checked against an independent union (``shapely.union_all``
measured by ``pyproj.Geod``, ``engine_cases.geod_area``) of each group.
"""

from __future__ import annotations

import json
import re
import threading
from html import unescape

import geopandas as gpd
import numpy as np
import pytest
import shapely

from engine_cases import EPSG, box, geod_area, rule, write_project
from geoplan.analysis.conflict_rows import CONFLICT_COLUMNS
from geoplan.analysis.reports.conflict_records import CHUNK, ConflictRecords, records_of
from geoplan.analysis.reports.html import HTML_FINDINGS, render_html
from geoplan.analysis.reports.json import report_json
from geoplan.analysis.reports.land import LandIndex
from geoplan.analysis.reports.md import render_markdown
from geoplan.analysis.run import check_project
from geoplan.geo.field_aliases import _library, thread_config

#: geo.area agrees with pyproj.Geod to 0.01 % (README "Areas").
REL = 1e-4


def _pieces() -> np.ndarray:
    """Patches that touch, lie apart, overlap, repeat and nest, as conflict pieces do."""
    cells = [(100 * i, 100 * j) for i in range(6) for j in range(4)]
    tiles = [box(x, y, x + 100, y + 100) for x, y in cells]
    return np.array(
        [
            *tiles,  # 0-23: neighbours that only touch
            tiles[3],  # 24: the same piece found by a second rule
            tiles[3],  # 25: and by a third
            box(150, 150, 420, 260),  # 26: over several tiles
            box(400, 150, 480, 230),  # 27: overlapping 26 and tiles
            box(2000, 0, 2100, 100),  # 28: far away
            box(2020, 20, 2060, 60),  # 29: inside 28
            box(5000, 5000, 5300, 5100),  # 30: alone
            box(5290, 5000, 5400, 5100),  # 31: overlapping 30 by 10 m
            box(2030, 30, 2050, 50),  # 32: inside 29, inside 28
            box(2000, 40, 2010, 50),  # 33: inside 28 on its edge
            box(220, 160, 230, 170),  # 34: inside 26 and inside tile 9
            box(2100, 0, 2200, 100),  # 35: touching 28
        ]
    )


def _assert_land_is_the_union(index: LandIndex, geoms: np.ndarray, groupings: list) -> None:
    """Each group's land equals the geodesic area of the union of its members."""
    for codes in groupings:
        groups = int(codes.max()) + 1
        land = index.land_m2(codes, groups)
        for g in range(groups):
            members = geoms[codes == g]
            expected = geod_area(shapely.union_all(members)) if len(members) else 0.0
            assert land[g] == pytest.approx(expected, rel=REL, abs=1e-6), (codes, g)


def test_land_of_every_grouping_equals_an_independent_union():
    geoms = _pieces()
    areas = np.array([geod_area(g) for g in geoms])
    index = LandIndex(geoms, areas, EPSG)
    rng = np.random.default_rng(15)
    groupings = [
        np.zeros(len(geoms), dtype=int),  # the whole check
        np.arange(len(geoms)),  # every row alone
        rng.integers(-1, 4, len(geoms)),  # some rows in no group
        rng.integers(0, 2, len(geoms)),
        np.where(np.arange(len(geoms)) >= 24, 0, -1),
    ]
    _assert_land_is_the_union(index, geoms, groupings)
    # rows inside another away from its edge are left out of a union holding it
    pairs = set(zip(index.cover.tolist(), index.covered.tolist(), strict=True))
    assert {(28, 29), (29, 32), (28, 32), (26, 34), (9, 34)} <= pairs
    assert not {c for _, c in pairs} & {24, 25, 33, 35}
    # the three copies of tile 3 are its area once; 26 and 27 share ground
    assert index.land_of(np.isin(np.arange(len(geoms)), [3, 24, 25])) == pytest.approx(
        areas[3], rel=REL
    )
    assert index.land_of(np.isin(np.arange(len(geoms)), [26, 27])) < areas[26] + areas[27] - 1


def test_land_unioned_through_partitions_equals_an_independent_union():
    # sets cut by a partition (townships), and again by a finer one (township and
    # severity), are unioned from their pieces' unions, kept for other groupings
    geoms = _pieces()
    areas = np.array([geod_area(g) for g in geoms])
    rng = np.random.default_rng(9)
    coarse = rng.integers(0, 3, len(geoms))
    fine = 2 * coarse + rng.integers(0, 2, len(geoms))
    index = LandIndex(geoms, areas, EPSG, [coarse, fine])
    groupings = [
        np.zeros(len(geoms), dtype=int),
        fine,
        coarse,
        rng.integers(-1, 3, len(geoms)),
        np.where(np.arange(len(geoms)) >= 20, 0, -1),
        np.zeros(len(geoms), dtype=int),  # again: from what is kept
    ]
    _assert_land_is_the_union(index, geoms, groupings)


def test_land_does_not_depend_on_the_order_of_the_rows():
    # a check combined from partitions (--workers) may hold its rows in another
    # order; its land areas must be the one-process run's to the bit
    rng = np.random.default_rng(18)
    centres = rng.uniform(0, 3000, (300, 2))
    blobs = shapely.buffer(shapely.points(centres), rng.uniform(50, 400, 300), quad_segs=7)
    geoms = np.concatenate([_pieces(), blobs])
    areas = np.array([geod_area(g) for g in geoms])
    codes = rng.integers(0, 4, len(geoms))
    town = rng.integers(0, 3, len(geoms))
    land = LandIndex(geoms, areas, EPSG, [town]).land_m2(codes, 4)
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(geoms))
        shuffled = LandIndex(geoms[order], areas[order], EPSG, [town[order]])
        assert shuffled.land_m2(codes[order], 4).tolist() == land.tolist()
    whole = geod_area(shapely.union_all(geoms))
    assert LandIndex(geoms, areas, EPSG).land_of(codes >= 0) == pytest.approx(whole, rel=REL)


def test_a_geopackage_is_written_unsynced_in_its_own_thread_only():
    lib = _library()
    key = b"OGR_SQLITE_SYNCHRONOUS"
    seen = {}

    def other() -> None:
        seen["other"] = lib.CPLGetThreadLocalConfigOption(key, None)

    with thread_config({"OGR_SQLITE_SYNCHRONOUS": "OFF"}):
        seen["inside"] = lib.CPLGetThreadLocalConfigOption(key, None)
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen == {"inside": b"OFF", "other": None}
    assert lib.CPLGetThreadLocalConfigOption(key, None) is None  # restored


def test_report_json_has_one_line_per_finding_and_conflict():
    row = {"conflict_id": "R1-1", "left_name": '甲"乙\n丙', "area_m2": 1.5, "distance_m": None}
    report = {
        "schema_version": 2,
        "summary": {"conflicts": 2, "by_rule": [{"rule_id": "R1", "land_area_m2": 3.0}]},
        "issues": [{"number": 1, "conflict_ids": ["R1-1", "R1-2"]}, {"number": 2}],
        "conflicts": [row, {**row, "conflict_id": "R1-2"}],
    }
    text = report_json(report)
    assert json.loads(text) == report
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and text.endswith("}\n")
    assert '    {"number":1,"conflict_ids":["R1-1","R1-2"]},' in lines
    assert sum(line.startswith('    {"conflict_id":') for line in lines) == 2
    assert '  "summary": {' in lines and '    "by_rule": [' in lines  # the rest indented
    assert "甲" in text  # Chinese as text, not escaped
    with pytest.raises(ValueError):
        report_json({"conflicts": [{"area_m2": float("nan")}]})


def _conflict_frame(n: int) -> gpd.GeoDataFrame:
    """``n`` conflict rows of every column, repeated texts, NaN and None among them."""
    rng = np.random.default_rng(7)
    table = {c: [f"{c}{i % 5}" for i in range(n)] for c in CONFLICT_COLUMNS}
    table["conflict_id"] = [f"R-{i:06d}" for i in range(n)]
    table["left_name"] = [f"甲{i}" if i % 3 else None for i in range(n)]
    table["severity"] = [("prohibited", "restricted", "notice")[i % 3] for i in range(n)]
    for column in ("area_m2", "area_mu", "area_ha", "distance_m", "centre_x"):
        table[column] = rng.random(n) * 1000
    table["area_m2"][::7] = 500.0  # ties: ordered by id
    table["distance_m"][::2] = np.nan
    return gpd.GeoDataFrame(table, geometry=[shapely.Point(0, 0)] * n, crs=EPSG)


def test_conflict_records_are_the_rows_a_chunk_at_a_time():
    n = CHUNK + 1234
    frame = _conflict_frame(n)
    records = ConflictRecords.of(frame)
    expected = frame.drop(columns="geometry").to_dict("records")
    for row in expected:
        for key, digits in (("area_m2", 2), ("area_mu", 2), ("area_ha", 4), ("distance_m", 2)):
            row[key] = round(row[key], digits)
        row.update((k, None) for k, v in row.items() if isinstance(v, float) and np.isnan(v))
    rows = list(records)
    assert len(records) == n and rows == expected
    assert records[n - 1] == expected[-1] and records[-1] == expected[-1]
    assert records[CHUNK - 2 : CHUNK + 2] == expected[CHUNK - 2 : CHUNK + 2]
    with pytest.raises(IndexError):
        records[n]
    rank = {"prohibited": 0, "restricted": 1, "notice": 2}
    ordered = sorted(expected, key=lambda r: (rank[r["severity"]], -r["area_m2"], r["conflict_id"]))
    assert list(records.in_severity_order()) == ordered
    assert list(records_of(expected).in_severity_order()) == ordered  # a loaded report.json
    assert json.loads(report_json({"conflicts": records})) == {"conflicts": expected}
    assert report_json({"conflicts": ConflictRecords.of(frame.iloc[:0]), "issues": []}) == (
        '{\n  "conflicts": [],\n  "issues": []\n}\n'
    )


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A check with more prohibited findings than report.html lists, and a few restricted."""
    tmp = tmp_path_factory.mktemp("many")
    n = HTML_FINDINGS + 20
    farmland = [box(50 * i, 0, 50 * i + 40, 40 + i % 7) for i in range(n)]
    project = write_project(
        tmp,
        {
            "permanent_farmland": farmland,
            "urban_boundary": [box(-5, -5, 50 * n + 5, 60)],
            "ecological_redline": [box(0, 0, 120, 30)],
        },
    )
    pack = tmp / "pack.toml"
    restricted = rule("must_not_overlap", '"ecological_redline"', '"permanent_farmland"')
    restricted = restricted.replace('"R1"', '"R2"').replace("prohibited", "restricted")
    restricted = restricted.replace("第一条", "第二条")
    pack.write_text(
        rule("must_not_overlap", '"permanent_farmland"', '"urban_boundary"') + "\n" + restricted,
        encoding="utf-8",
    )
    with project.open("a", encoding="utf-8") as f:
        f.write(f'\n[rules]\npacks = ["{pack.as_posix()}"]\n')
    return check_project(project).report


def test_html_lists_at_most_its_cap_per_severity_and_says_where_the_rest_are(many):
    found = many["issues"]
    prohibited = [i for i in found if i["severity"] == "prohibited"]
    restricted = [i for i in found if i["severity"] == "restricted"]
    assert len(prohibited) == HTML_FINDINGS + 20 and len(restricted) == 3
    html = render_html(many, overview_png=None, legend=[])
    table = re.search(r'<table id="issues">.*?</table>', html, re.S).group(0)
    numbers = [int(n) for n in re.findall(r"<tr><td class=\"num\">(\d+)</td>", table)]
    # the largest prohibited findings, then every restricted one
    expected = [i["number"] for i in prohibited[:HTML_FINDINGS]] + [i["number"] for i in restricted]
    assert numbers == expected
    note = unescape(re.search(r'<p class="note" id="issues-note">(.*?)</p>', html).group(1))
    assert f"共 {len(found):,} 项（禁止类 {len(prohibited):,} 项、限制类 3 项）" in note
    assert "report.xlsx" in note and "report.json" in note
    # the citation and remedy shown are the rule's, looked up by rule id
    rules = {r["rule_id"]: r for r in many["summary"]["by_rule"]}
    assert unescape(table).count(rules["R1"]["citation"]["text"]) == HTML_FINDINGS
    assert unescape(table).count(rules["R2"]["citation"]["text"]) == 3
    assert "完整问题清单（523 项）见 `report.xlsx`、`report.json`" in render_markdown(many)
