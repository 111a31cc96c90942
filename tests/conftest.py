"""Shared fixtures: real files written through GDAL in temporary folders."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

# Township-sized squares around Bazhong, in longitude/latitude: two in zone 35
# (west of 106.5°E), two in zone 36.
LONLAT_BOXES = [
    shapely.box(106.30, 31.80, 106.36, 31.85),
    shapely.box(106.40, 31.70, 106.47, 31.76),
    shapely.box(106.70, 31.85, 106.78, 31.92),
    shapely.box(107.20, 32.30, 107.29, 32.36),
]
NAMES = ["巴州区", "恩阳区", "通江县", "南江县"]


#: Run by QGIS's own Python (tests/test_qgis_styles.py), not collected.
collect_ignore = ["qgis_probe.py"]


def lonlat_to(epsg: int, geoms) -> np.ndarray:
    """Transform lon/lat geometries to ``epsg`` with pyproj directly (always_xy)."""
    t = Transformer.from_crs(4490, epsg, always_xy=True)
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1]))
    )


def write_gbk_shapefile_without_cpg(frame: gpd.GeoDataFrame, path: Path, *, prj: bool) -> Path:
    """Write a Shapefile whose DBF is GBK and which has no .cpg, like bureau data."""
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    if not prj:
        path.with_suffix(".prj").unlink(missing_ok=True)
    return path


@pytest.fixture
def mixed_project(tmp_path: Path) -> Path:
    """A project mixing formats and CRSs, as bureaus deliver them.

    - ecological_redline: FileGDB, CGCS2000 GK zone 36 (CM only, EPSG:4545)
    - permanent_farmland: GBK Shapefile, no .cpg, no .prj, zone-prefixed zone 35
    - zone_urban / zone_agricultural: one GeoPackage layer split with `where`,
      CGCS2000 GK zone 35 with prefix (EPSG:4523)
    - protected_areas: GeoJSON in WGS 84
    - parks: zipped Shapefile (UTF-8 with .cpg) in EPSG:4490
    - counties: GeoParquet in EPSG:4545
    - urban_boundary: FlatGeobuf in EPSG:4544
    - rivers: KML
    """
    data = tmp_path / "data"
    data.mkdir()
    boxes = np.array(LONLAT_BOXES, dtype=object)

    red = gpd.GeoDataFrame(
        {"BSM": ["R1", "R2"], "HXMC": ["米仓山红线", "诺水河红线"]},
        geometry=lonlat_to(4545, boxes[:2]),
        crs=4545,
    )
    pyogrio.write_dataframe(red, data / "生态保护红线.gdb", layer="STBHHX", driver="OpenFileGDB")

    farmland = gpd.GeoDataFrame(
        {"BSM": ["F1", "F2", "F3"], "DLBM": ["0101", "0103", "0103"], "ZLDWMC": NAMES[:3]},
        geometry=lonlat_to(4523, [b.buffer(-0.01) for b in boxes[:3]]),
        crs=4523,
    )
    write_gbk_shapefile_without_cpg(farmland, data / "永久基本农田.shp", prj=False)

    zones = gpd.GeoDataFrame(
        {"空间类型": ["城镇空间", "农业空间", "农业空间", "生态空间"]},
        geometry=lonlat_to(4523, boxes),
        crs=4523,
    )
    pyogrio.write_dataframe(zones, data / "规划分区.gpkg", layer="三区")

    protected = gpd.GeoDataFrame(
        {"名称": ["光雾山自然保护区", "空山森林公园"], "类型": ["自然保护区", "自然公园"]},
        geometry=boxes[2:],
        crs=4326,
    )
    pyogrio.write_dataframe(protected, data / "自然保护地.geojson")

    parks = gpd.GeoDataFrame(
        {"YQMC": ["巴中经开区", "平昌化工园"], "YQLX": ["经济开发区", "化工园区"]},
        geometry=[b.buffer(-0.02) for b in boxes[:2]],
        crs=4490,
    )
    staging = tmp_path / "staging"
    staging.mkdir()
    pyogrio.write_dataframe(parks, staging / "parks.shp", encoding="UTF-8")
    import zipfile

    with zipfile.ZipFile(data / "产业园区.zip", "w") as archive:
        for f in sorted(staging.iterdir()):
            archive.write(f, f.name)

    counties = gpd.GeoDataFrame(
        {"XZQDM": ["511902", "511921"], "XZQMC": ["巴州区", "通江县"]},
        geometry=lonlat_to(4545, [shapely.union_all(boxes[:2]), shapely.union_all(boxes[2:])]),
        crs=4545,
    )
    counties.to_parquet(data / "counties.parquet")

    urban = gpd.GeoDataFrame(
        {"MC": ["中心城区"]}, geometry=lonlat_to(4544, [boxes[0].buffer(-0.015)]), crs=4544
    )
    pyogrio.write_dataframe(urban, data / "城镇开发边界.fgb")

    rivers = gpd.GeoDataFrame(
        {"Name": ["巴河"]},
        geometry=[shapely.LineString([(106.3, 31.8), (106.8, 31.9), (107.3, 32.35)])],
        crs=4326,
    )
    pyogrio.write_dataframe(rivers, data / "rivers.kml", driver="KML")

    project = tmp_path / "project.toml"
    project.write_text(
        """
[project]
name = "测试项目"

[layers.ecological_redline]
path = "data/生态保护红线.gdb"
layer = "STBHHX"

[layers.permanent_farmland]
path = "data/永久基本农田.shp"

[layers.zone_urban]
path = "data/规划分区.gpkg"
layer = "三区"
where = "空间类型 = '城镇空间'"

[layers.zone_agricultural]
path = "data/规划分区.gpkg"
layer = "三区"
where = "空间类型 = '农业空间'"

[layers.protected_areas]
path = "data/自然保护地.geojson"

[layers.parks]
path = "data/产业园区.zip"

[layers.counties]
path = "data/counties.parquet"

[layers.urban_boundary]
path = "data/城镇开发边界.fgb"

[layers.rivers]
path = "data/rivers.kml"
fields = { name = "Name" }
""",
        encoding="utf-8",
    )
    return project


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """The outputs of ``geoplan demo``, run once for the session."""
    from click.testing import CliRunner

    from geoplan.analysis.cli import cli

    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["-q", "demo", "--out", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium with the network off (see tests/browser.py)."""
    from browser import start_browser

    driver = start_browser()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def postgis_url():
    """A throwaway PostgreSQL cluster with PostGIS on 127.0.0.1, for the session.

    Started from Debian's packages (tests/run.sh installs them) in a temporary
    folder; as root, the server runs as the ``postgres`` user.
    """
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        pytest.fail(
            "PostGIS tests need Debian's postgresql and postgis (tests/run.sh installs them)"
        )
    bindir = bins[-1].parent
    # Not under pytest's base folder: it is private to this user, and the
    # server may run as another one.
    folder = Path(tempfile.mkdtemp(prefix="geoplan-pg-"))
    data = folder / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        os.chmod(folder, 0o755)
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "geoplan"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "start",
            "-l",
            str(folder / "log"),
        ],
        check=True,
        capture_output=True,
    )
    url = f"postgresql://geoplan@127.0.0.1:{port}/postgres"
    try:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION postgis")
        yield url
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _geoplan_logger_as_a_library_leaves_it():
    """Each test starts with the ``geoplan`` logger as the library leaves it (propagating,
    no handler of its own), whatever an in-process CLI run configured before, so
    ``caplog`` sees its warnings; the state found is restored afterwards."""
    logger = logging.getLogger("geoplan")
    state = (list(logger.handlers), logger.propagate, logger.level)
    logger.handlers[:] = [h for h in logger.handlers if isinstance(h, logging.NullHandler)]
    logger.propagate, logger.level = True, logging.NOTSET
    yield
    logger.handlers[:], logger.propagate, logger.level = state[0], state[1], state[2]
