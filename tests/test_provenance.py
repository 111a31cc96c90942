"""Provenance (issue 15 §7) and the output stage's progress lines (§9).

``report.json``'s ``provenance`` lists every file the check read with a
SHA-256 that must equal an independent ``hashlib`` of the file, its times
and the exit status the command really returned; the loader hashes nothing
(commands that never report read no byte twice) and a report hashes each
file exactly once; ``check`` prints one line per output it writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from geoplan.analysis.reports.model import report_model
from geoplan.analysis.run import OUTPUT_FILES, check_project
from geoplan.geo import checksum
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.inventory import inventory
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project

GEOPLAN = str(Path(sys.executable).parent / "geoplan")
NATIONAL_PACK = Path(__file__).resolve().parents[1] / "analysis" / "packs" / "national.toml"


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, or of every file of a folder in sorted path order."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def size_of(path: Path) -> int:
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return sum(os.path.getsize(f) for f in files)


def run_check(out: Path, fail_on: str, *, quiet: bool = False) -> tuple[int, str, dict]:
    """``geoplan check`` on the demo project: exit code, stderr, report.json."""
    args = ["check", str(PROJECT_FILE), "--out", str(out), "--fail-on", fail_on]
    done = subprocess.run(
        [GEOPLAN, *(["-q"] if quiet else []), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return done.returncode, done.stderr, report


@pytest.fixture(scope="module")
def prohibited(tmp_path_factory):
    return run_check(tmp_path_factory.mktemp("prohibited"), "prohibited")


@pytest.fixture(scope="module")
def never(tmp_path_factory):
    return run_check(tmp_path_factory.mktemp("never"), "never", quiet=True)


def test_every_input_is_listed_with_its_own_sha256_and_size(prohibited):
    _, _, report = prohibited
    provenance = report["provenance"]
    project = read_project(PROJECT_FILE)
    expected = {
        (str(PROJECT_FILE.resolve()), "project"),
        *((str(spec.path), "vector") for spec in project.layers.values()),
        *((str(raster.path), "raster") for raster in project.rasters.values()),
        (str(NATIONAL_PACK.resolve()), "rule_pack"),
    }
    listed = {(str(Path(i["path"]).resolve()), i["kind"]) for i in provenance["inputs"]}
    assert listed == {(str(Path(p).resolve()), kind) for p, kind in expected}
    assert "raster" in {kind for _, kind in listed}  # the DEM
    assert len(provenance["inputs"]) == len(listed)  # each file once
    for entry in provenance["inputs"]:
        assert entry["sha256"] == sha256_of(Path(entry["path"])), entry["path"]
        assert entry["bytes"] == size_of(Path(entry["path"]))
    (pack,) = provenance["rule_packs"]
    assert pack["name"] == "national"
    assert pack["sha256"] == sha256_of(NATIONAL_PACK)
    assert provenance["tool"]["name"] == "geoplan" and provenance["tool"]["version"]


def test_times_are_iso_with_offset_and_in_order(prohibited):
    _, _, report = prohibited
    provenance = report["provenance"]
    started = datetime.fromisoformat(provenance["started"])
    finished = datetime.fromisoformat(provenance["finished"])
    assert started.utcoffset() is not None and finished.utcoffset() is not None
    assert finished >= started
    assert abs(provenance["duration_s"] - (finished - started).total_seconds()) <= 1.0


def test_exit_status_is_the_exit_code_the_command_returned(prohibited, never):
    for code, _, report in (prohibited, never):
        assert report["provenance"]["exit_status"] == code
        assert (report["verdict"]["status"] == "fail") == (code == 1)
    assert prohibited[0] == 1 and never[0] == 0  # the demo has prohibited conflicts


def test_one_progress_line_per_output_and_none_when_quiet(prohibited, never):
    _, stderr, _ = prohibited
    lines = stderr.splitlines()
    for name in OUTPUT_FILES:
        pattern = re.compile(rf"^geoplan: 写出 {re.escape(name)}（\d+\.\d 秒）$")
        assert sum(bool(pattern.match(line)) for line in lines) == 1, name
    assert sum(line.startswith("geoplan: 写出 ") for line in lines) == len(OUTPUT_FILES)
    _, quiet_stderr, _ = never
    assert "写出" not in quiet_stderr


@pytest.fixture
def project_with_raster(mixed_project: Path) -> Path:
    """The mixed-format project (FileGDB, Shapefile, a GeoPackage for two layers …) and a DEM."""
    dem = mixed_project.parent / "data" / "dem.tif"
    values = np.linspace(300, 900, 60 * 80, dtype="float32").reshape(60, 80)
    with rasterio.open(
        dem,
        "w",
        driver="GTiff",
        width=80,
        height=60,
        count=1,
        dtype="float32",
        crs="EPSG:4490",
        transform=from_origin(106.2, 32.5, 0.015, 0.015),
    ) as raster:
        raster.write(values, 1)
    with mixed_project.open("a", encoding="utf-8") as project:
        project.write('\n[rasters.dem]\npath = "data/dem.tif"\n')
    return mixed_project


def test_loading_hashes_nothing_and_a_report_hashes_each_file_once(project_with_raster):
    project = read_project(project_with_raster)
    checksum.cache_clear()
    inventory(load_project(project))  # what `geoplan layers` does; `map` loads the same way
    assert checksum.cache_info().misses == 0 and checksum.cache_info().hits == 0

    result = check_project(project)
    assert checksum.cache_info().misses == 0  # the check itself hashes nothing either
    inputs = result.report["provenance"]["inputs"]
    assert checksum.cache_info().misses == len(inputs)  # each listed file read once …
    assert checksum.cache_info().hits > 0  # … though inputs.files and the packs asked again
    report_model(result)
    assert checksum.cache_info().misses == len(inputs)

    paths = {Path(i["path"]).name: i for i in inputs}
    # the Shapefile with its sidecars, the FileGDB as a folder, the shared GeoPackage once
    assert {"永久基本农田.shp", "永久基本农田.dbf", "永久基本农田.shx"} <= set(paths)
    assert paths["生态保护红线.gdb"]["kind"] == "vector"
    assert [Path(i["path"]).name for i in inputs].count("规划分区.gpkg") == 1
    assert paths["dem.tif"]["kind"] == "raster"
    for entry in inputs:
        assert entry["sha256"] == sha256_of(Path(entry["path"])), entry["path"]
