"""Layers read from PostGIS tables against a real throwaway server (fixture ``postgis_url``).

The embedded 巴中 layers are written to schema ``bz`` (:func:`geo.postgis.write_postgis`,
whose ``gid`` numbers rows 1, 2, … as the GeoPackage's fids do); a role that
must give its password by SCRAM reads them, the password in ``PGPASSWORD``
only, and every statement it runs is logged by the server, so the tests see
the box and the ``where`` reach SQL.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import jsonschema
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from psycopg import sql
from pyproj import Geod

from geoplan.analysis.cli import cli
from geoplan.geo.errors import LayerReadError
from geoplan.geo.postgis import write_postgis
from geoplan.geo.vector_read import read_vector
from geoplan.layers.errors import ProjectError
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project

pytestmark = pytest.mark.postgis

ROOT = Path(__file__).parents[1]
BAZHONG = ROOT / "layers" / "bazhong"
GPKG = BAZHONG / "data" / "bazhong.gpkg"
SCHEMA = ROOT / "analysis" / "schemas" / "report.schema.json"
GEOPLAN = str(Path(sys.executable).with_name("geoplan"))
ROLE = "bz_reader"
SECRET = "Rd7 s3cr3t/p@ss?&=wörd"
#: Demo layer → table in schema bz.
TABLES = {"YJJBNT": "yjjbnt", "STBHHX": "stbhhx", "XZQ_XZ": "xzq_xz", "SQ": "sq", "HL": "hl"}
#: Kinds of the demo project read from PostGIS instead, and their where.
POINTED = {
    "permanent_farmland": ("bz.yjjbnt", None),
    "ecological_redline": ("bz.stbhhx", None),
    "townships": ("bz.xzq_xz", None),
    "zone_urban": ("bz.sq", "\"KJLX\" = '城镇空间'"),
    "zone_agricultural": ("bz.sq", "\"KJLX\" = '农业空间'"),
}


@pytest.fixture(scope="module")
def db(postgis_url):
    """``url`` of the reader (no password), ``env`` with its password, the server's ``log``."""
    frames = {
        TABLES[layer]: pyogrio.read_dataframe(GPKG, layer=layer, fid_as_index=True)
        for layer in TABLES
    }
    for name, frame in frames.items():  # gid = the GeoPackage's fid
        assert list(frame.index) == list(range(1, len(frame) + 1)), name
    write_postgis(frames, postgis_url, schema="bz", overwrite=True)
    with psycopg.connect(postgis_url, autocommit=True) as connection:
        data = Path(connection.execute("SHOW data_directory").fetchone()[0])
        hba = Path(connection.execute("SHOW hba_file").fetchone()[0])
        connection.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD {sql.quote(SECRET)}")
        connection.execute(f"ALTER ROLE {ROLE} SET log_statement = 'all'")
        connection.execute(f"GRANT USAGE ON SCHEMA bz TO {ROLE}")
        connection.execute(
            "CREATE TABLE bz.hl_nokey AS SELECT * FROM bz.hl;"
            "CREATE TABLE bz.nogeom (gid serial PRIMARY KEY, name text);"
            'CREATE TABLE bz."河流 Rivers" (LIKE bz.hl INCLUDING ALL);'
            'INSERT INTO bz."河流 Rivers" SELECT * FROM bz.hl;'
            "CREATE TABLE bz.stbhhx_copy (LIKE bz.stbhhx INCLUDING ALL);"
            "INSERT INTO bz.stbhhx_copy SELECT * FROM bz.stbhhx;"
        )
        connection.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA bz TO {ROLE}")
        original = hba.read_text()
        hba.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n{original}")
        connection.execute("SELECT pg_reload_conf()")
    parts = urlsplit(postgis_url)
    url = f"postgresql://{ROLE}@{parts.hostname}:{parts.port}/postgres"
    try:
        yield {"url": url, "env": {"PGPASSWORD": SECRET}, "log": data.parent / "log"}
    finally:
        with psycopg.connect(postgis_url, autocommit=True) as connection:
            hba.write_text(original)
            connection.execute("SELECT pg_reload_conf()")
            connection.execute("DROP SCHEMA bz CASCADE")
            connection.execute(f"DROP OWNED BY {ROLE}")
            connection.execute(f"DROP ROLE {ROLE}")


@pytest.fixture
def password(db, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", SECRET)
    return db


def logged_since(log: Path, start: int) -> str:
    with open(log, "rb") as handle:
        handle.seek(start)
        return handle.read().decode("utf-8", errors="replace")


def test_box_and_where_reach_the_server_and_the_features_are_exact(password):
    url, log = password["url"], password["log"]
    whole = pyogrio.read_dataframe(GPKG, layer="HL", fid_as_index=True)
    xmin, ymin, xmax, ymax = whole.total_bounds
    corner = (xmin + 0.37 * (xmax - xmin), ymin + 0.2 * (ymax - ymin))
    box = (*corner, corner[0] + 0.19 * (xmax - xmin), corner[1] + 0.23 * (ymax - ymin))
    shape = shapely.box(*box)
    meets = {fid for fid, g in whole.geometry.items() if g.intersects(shape)}
    envelopes = set(whole.index[whole.geometry.envelope.intersects(shape)])
    assert meets and envelopes > meets  # the envelope test alone would keep more

    start = log.stat().st_size
    source = read_vector(url, "bz.hl", bbox=box)
    assert set(source.frame.index) == meets
    assert list(source.frame["BSM"]) == list(whole.loc[sorted(meets), "BSM"])
    statements = [s for s in logged_since(log, start).splitlines() if '"bz"."hl"' in s]
    assert any(re.search(r'"geom" && ST_MakeEnvelope\(', s) for s in statements), statements

    farm = pyogrio.read_dataframe(GPKG, layer="YJJBNT", fid_as_index=True)
    start = log.stat().st_size
    where = "\"DLBM\" = '0101'"
    got = read_vector(url, "bz.yjjbnt", where=where, bbox=box).frame
    chosen = (farm["DLBM"] == "0101") & farm.geometry.intersects(shape)
    assert set(got.index) == set(farm.index[chosen]) and chosen.any()
    logged = logged_since(log, start)
    assert 'WHERE ("DLBM" = \'0101\') AND "geom" && ST_MakeEnvelope(' in logged


def test_a_table_reads_as_its_geopackage_layer(password):
    url = password["url"]
    expected = pyogrio.read_dataframe(GPKG, layer="XZQ_XZ", fid_as_index=True)
    source = read_vector(url, "bz.xzq_xz")
    got = source.frame
    assert source.driver == "PostgreSQL" and got.crs.to_epsg() == 4545
    assert list(got.index) == list(expected.index) and got.index.name == "fid"
    attributes = [c for c in expected.columns if c != "geometry"]
    assert list(got.columns) == [*attributes, "geometry"]  # gid is the fid, not a field
    for column in attributes:
        assert got[column].tolist() == expected[column].tolist(), column
    assert any("镇" in name for name in got["XZMC"])  # UTF-8 from the server
    assert shapely.equals(got.geometry.values, expected.geometry.values).all()
    # postgres:// as libpq reads it; a table named with Chinese and a space, quoted
    rivers = read_vector(url.replace("postgresql://", "postgres://"), "bz.河流 Rivers").frame
    assert len(rivers) == len(pyogrio.read_dataframe(GPKG, layer="HL"))


def _documented_digest(rows: list[tuple], names: list[str]) -> str:
    """geo.checksum.rows_sha256's recipe, from the rows psycopg returns."""
    digest = hashlib.sha256()

    def line(value):
        digest.update(json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n")

    line([r[0] for r in rows])
    for i, name in enumerate(names, start=1):
        line([name, [r[i] for r in rows]])
    for r in rows:
        digest.update(struct.pack("<Q", len(r[-1])) + bytes(r[-1]))
    return digest.hexdigest()


def test_the_rows_digest_is_the_documented_one_and_follows_the_data(password, postgis_url):
    url = password["url"]
    with psycopg.connect(postgis_url) as connection:
        rows = connection.execute(
            'SELECT gid, "BSM", "HXMC", "MJ", ST_AsBinary(geom, \'NDR\') '
            "FROM bz.stbhhx_copy ORDER BY gid"
        ).fetchall()
    names = ["BSM", "HXMC", "MJ"]
    source = read_vector(url, "bz.stbhhx_copy")
    assert [c for c in source.frame.columns if c != "geometry"] == names
    assert source.sha256 == _documented_digest(rows, names)
    with psycopg.connect(postgis_url, autocommit=True) as connection:
        connection.execute('UPDATE bz.stbhhx_copy SET "MJ" = "MJ" + 1 WHERE gid = 1')
    assert read_vector(url, "bz.stbhhx_copy").sha256 != source.sha256


def test_repair_crs_override_and_ids_work_on_a_table(password, postgis_url, tmp_path):
    x, y = 400000.0, 3520000.0
    bowtie = f"POLYGON(({x} {y}, {x + 100} {y + 100}, {x + 100} {y}, {x} {y + 100}, {x} {y}))"
    square = f"POLYGON(({x + 500} {y}, {x + 600} {y}, {x + 600} {y + 100}, {x + 500} {y}))"
    with psycopg.connect(postgis_url, autocommit=True) as connection:
        connection.execute(
            'CREATE TABLE bz.bowtie (gid integer PRIMARY KEY, "BSM" text, geom geometry)'
        )  # no SRID on the column or the geometries: the project's crs says it
        connection.execute(
            "INSERT INTO bz.bowtie VALUES "
            "(7, 'B7', ST_GeomFromText(%s)), (9, 'B7', ST_GeomFromText(%s))",
            [bowtie, square],
        )
        connection.execute(f"GRANT SELECT ON bz.bowtie TO {ROLE}")
    project = tmp_path / "project.toml"
    project.write_text(
        '[project]\nworking_crs = "EPSG:4545"\n[layers.permanent_farmland]\n'
        f'path = "{password["url"]}"\nlayer = "bz.bowtie"\ncrs = "EPSG:4545"\n',
        encoding="utf-8",
    )
    layer = load_project(read_project(project)).layers["permanent_farmland"]
    assert layer.source_crs.to_epsg() == 4545 and layer.repaired == 1
    assert set(layer.repair_log["source"]) == {f"{password['url']} table bz.bowtie"}
    assert list(layer.frame["id"]) == ["B7#7", "B7#9"]  # repeated ids told apart by the key
    fixed = shapely.make_valid(shapely.from_wkt(bowtie))
    geod = Geod(ellps="GRS80")
    lonlat = gpd.GeoSeries([fixed], crs=4545).to_crs(4326).iloc[0]
    expected = sum(abs(geod.geometry_area_perimeter(p)[0]) for p in lonlat.geoms)
    assert layer.frame["area_m2"].iloc[0] == pytest.approx(expected, rel=1e-6)


def test_a_table_without_a_primary_key_is_refused(password):
    # GDAL numbers such a table's features 0, 1, … in the order read, so the
    # same feature gets another fid in another box: no stable id to report.
    with pytest.raises(LayerReadError, match="no primary key of one integer column") as caught:
        read_vector(password["url"], "bz.hl_nokey")
    assert str(caught.value).startswith(f"{password['url']} table bz.hl_nokey: ")


def write_pg_project(folder: Path, url: str, pointed=POINTED) -> Path:
    """The demo project with ``pointed`` kinds read from PostGIS (absolute file paths)."""
    text = (BAZHONG / "project.toml").read_text(encoding="utf-8")
    text = text.replace('path = "data/', f'path = "{BAZHONG / "data"}/')
    for kind, (table, where) in pointed.items():
        block = re.compile(
            rf'(\[layers\.{kind}\]\n)path = "[^"]*"\nlayer = "[^"]*"\n(where = .*\n)?'
        )
        lines = [f'path = "{url}"', f'layer = "{table}"']
        if where:
            lines.append(f"where = {json.dumps(where, ensure_ascii=False)}")
        found = block.search(text)
        text = text[: found.end(1)] + "\n".join(lines) + "\n" + text[found.end() :]
    project = folder / "project.toml"
    project.write_text(text, encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def pg_run(db, tmp_path_factory):
    """``geoplan -v check`` of the demo project with four layers in PostGIS."""
    folder = tmp_path_factory.mktemp("pg-project")
    project = write_pg_project(folder, db["url"])
    out = folder / "out"
    result = CliRunner().invoke(
        cli, ["-v", "check", str(project), "--out", str(out)], env=db["env"]
    )
    assert result.exit_code in (0, 1), result.output + result.stderr
    return project, out, result


@pytest.mark.slow
def test_check_on_postgis_gives_the_file_based_conflicts(pg_run, demo_out):
    _, out, _ = pg_run

    def conflicts(folder: Path):
        frame = pyogrio.read_dataframe(folder / "conflicts.gpkg", layer="conflicts")
        return frame.sort_values("conflict_id").reset_index(drop=True)

    want, got = conflicts(demo_out), conflicts(out)
    assert len(got) == len(want) > 300
    assert list(got["conflict_id"]) == list(want["conflict_id"])
    areas = ["area_m2", "area_mu", "area_ha"]
    same = [c for c in want.columns if c not in ("geometry", *areas)]
    pd.testing.assert_frame_equal(got[same], want[same])
    assert np.abs(got["area_m2"].to_numpy() - want["area_m2"].to_numpy()).max() <= 1e-6
    pd.testing.assert_frame_equal(got[areas], want[areas], rtol=1e-9)
    assert shapely.equals(got.geometry.values, want.geometry.values).all()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    reference = json.loads((demo_out / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["by_severity"] == reference["summary"]["by_severity"]
    assert report["verdict"] == reference["verdict"]


@pytest.mark.slow
def test_provenance_names_each_table_and_its_rows_digest(pg_run, db):
    _, out, _ = pg_run
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, json.loads(SCHEMA.read_text(encoding="utf-8")))
    tables = [i for i in report["provenance"]["inputs"] if i.get("sha256_of") == "rows"]
    named = [f"{db['url']} table {t}" + (f" where {w}" if w else "") for t, w in POINTED.values()]
    assert [t["path"] for t in tables] == sorted(named)
    zones = [t for t in tables if " where " in t["path"]]  # one table, two wheres: two digests
    assert len(zones) == 2 and zones[0]["sha256"] != zones[1]["sha256"]
    farmland = next(t for t in tables if t["path"].endswith("bz.yjjbnt"))
    assert farmland["rows"] == pyogrio.read_info(GPKG, layer="YJJBNT")["features"]
    assert farmland["bytes"] is None and re.fullmatch("[0-9a-f]{64}", farmland["sha256"])
    files = {f["path"]: f["sha256"] for f in report["inputs"]["files"]}
    assert files[farmland["path"]] == farmland["sha256"]
    rows = {r["kind"]: r for r in report["inputs"]["layers"]}
    assert rows["permanent_farmland"]["source"] == f"{db['url']} table bz.yjjbnt"
    assert rows["permanent_farmland"]["driver"] == "PostgreSQL"


def _texts(folder: Path):
    """Every output file's bytes, and those of each member of a zip (xlsx, docx)."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        yield path.name, data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path.name}:{member}", archive.read(member)


@pytest.mark.slow
def test_no_password_in_any_output_or_message(pg_run):
    _, out, result = pg_run
    forms = {SECRET, "s3cr3t", json.dumps(SECRET)[1:-1]}
    for name, data in _texts(out):
        for form in forms:
            assert form.encode("utf-8") not in data, name
    assert not any(form in result.output + result.stderr for form in forms)
    assert "reading permanent_farmland from postgresql://bz_reader@" in result.stderr


def test_geoplan_layers_lists_postgis_layers(db, tmp_path):
    project = write_pg_project(tmp_path, db["url"])
    result = CliRunner().invoke(cli, ["layers", str(project), "--json"], env=db["env"])
    assert result.exit_code == 0, result.output + result.stderr
    rows = {r["kind"]: r for r in json.loads(result.stdout)}
    assert rows["townships"]["source"] == f"{db['url']} table bz.xzq_xz"
    assert rows["townships"]["features"] == 139
    assert rows["zone_urban"]["features"] == 1  # the where ran on the server
    text = CliRunner().invoke(cli, ["layers", str(project)], env=db["env"]).stdout
    assert f"townships: {db['url']} table bz.xzq_xz (PostgreSQL)" in text


def test_the_password_may_come_from_pgpass(db, tmp_path, monkeypatch):
    host, port = urlsplit(db["url"]).hostname, urlsplit(db["url"]).port
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text(f"{host}:{port}:postgres:{ROLE}:{SECRET}\n", encoding="utf-8")
    pgpass.chmod(0o600)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert len(read_vector(db["url"], "bz.stbhhx").frame) == 5
    pgpass.write_text(f"{host}:{port}:postgres:{ROLE}:Wr0ngPassw0rd\n", encoding="utf-8")
    with pytest.raises(LayerReadError, match="password authentication failed") as caught:
        read_vector(db["url"], "bz.stbhhx")
    assert "Wr0ngPassw0rd" not in str(caught.value)


def one_line_error(result, *secrets: str) -> str:
    assert result.exit_code == 2, result.output + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoplan: error: "), result.stderr
    for secret in (SECRET, "s3cr3t", *secrets):
        assert secret not in result.output + result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "path",
    [
        "postgresql://bz_reader:Rd7s3cr3t@127.0.0.1:5432/postgres",
        "postgres://bz_reader:Rd7s3cr3t/p@127.0.0.1/postgres",
        "postgresql://bz_reader@127.0.0.1/postgres?password=Rd7s3cr3t",
        "postgresql://bz_reader@127.0.0.1/postgres?sslmode=prefer&sslpassword=Rd7s3cr3t",
    ],
)
def test_a_password_in_the_project_file_is_refused(tmp_path, path):
    project = write_pg_project(tmp_path, path, {"townships": ("bz.xzq_xz", None)})
    with pytest.raises(ProjectError) as caught:
        read_project(project)
    message = str(caught.value)
    assert message.startswith(f"{project} [layers.townships] path: holds a password")
    assert "PGPASSWORD" in message and "s3cr3t" not in message and "\n" not in message
    one_line_error(CliRunner().invoke(cli, ["layers", str(project)]))


def test_project_file_checks_of_a_postgis_layer(tmp_path):
    url = "postgresql://bz_reader@127.0.0.1:5432/postgres?sslmode=prefer"
    spec = read_project(write_pg_project(tmp_path, url)).layers["townships"]
    assert spec.path == url and spec.is_postgis and spec.layer == "bz.xzq_xz"
    bad = {
        "a.b.c": "layer: 'a.b.c' is not schema.table",
        "bz.": "layer: 'bz.' is not schema.table",
    }
    for layer, problem in bad.items():
        project = write_pg_project(tmp_path, url, {"townships": (layer, None)})
        with pytest.raises(ProjectError, match=re.escape(f"[layers.townships] {problem}")):
            read_project(project)
    project = tmp_path / "project.toml"
    no_layer = f'[layers.townships]\npath = "{url}"\n'
    project.write_text(no_layer, encoding="utf-8")
    with pytest.raises(ProjectError, match=r"\[layers.townships\] layer: is missing"):
        read_project(project)
    project.write_text(no_layer + 'layer = "bz.xzq_xz"\nencoding = "GBK"\n', encoding="utf-8")
    with pytest.raises(ProjectError, match=r"\[layers.townships\] encoding: does not apply"):
        read_project(project)


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("table", "password", "url_change", "expected"),
    [
        ("bz.xzq_xz", "Wr0ngPassw0rd", None, r"cannot connect \(.*password authentication failed"),
        ("bz.xzq_xz", None, "port", r"cannot connect \(.*(refused|failed)"),
        ("nope.xzq_xz", SECRET, None, "no schema 'nope' in the database"),
        ("bz.nope", SECRET, None, "no table 'nope' in schema 'bz'"),
        ("bz.nogeom", SECRET, None, "has no geometry column"),
        ("bz.hl_nokey", SECRET, None, "has no primary key of one integer column"),
    ],
)
def test_a_source_that_cannot_be_read_is_one_line_naming_url_and_table(
    db, tmp_path, free_port, table, password, url_change, expected
):
    url = db["url"]
    if url_change == "port":
        url = re.sub(r":\d+/", f":{free_port}/", url)
    project = write_pg_project(tmp_path, url, {"townships": (table, None)})
    env = {"PGPASSWORD": password} if password else {"PGPASSWORD": None}
    line = one_line_error(
        CliRunner().invoke(cli, ["layers", str(project)], env=env), "Wr0ngPassw0rd"
    )
    assert line.startswith(f"geoplan: error: {url} table {table}: "), line
    assert re.search(expected, line), line


def test_a_bad_where_is_one_line_from_a_real_process(db, tmp_path):
    project = write_pg_project(tmp_path, db["url"], {"zone_urban": ("bz.sq", "KJLX = '城镇空间'")})
    done = subprocess.run(
        [GEOPLAN, "layers", str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, **db["env"]},
        timeout=300,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"geoplan: error: {db['url']} table bz.sq: cannot be read with where")
    assert 'column "kjlx" does not exist' in line and SECRET not in done.stderr


def test_a_surveyed_table_takes_the_whole_loads_decisions_and_digest(password, tmp_path):
    """A cluster run's client surveys a large table: same CRS, ids, fields and rows' digest."""
    project = read_project(write_pg_project(tmp_path, password["url"]))
    kinds = ["permanent_farmland", "zone_urban"]
    whole = load_project(project, kinds)
    surveyed = load_project(project, kinds, survey_above=1000, store=tmp_path)
    farmland, reference = surveyed.layers["permanent_farmland"], whole.layers["permanent_farmland"]
    assert farmland.parts is not None and len(farmland.frame) == 0
    assert surveyed.layers["zone_urban"].parts is None  # under the threshold: loaded
    assert farmland.sha256 == reference.sha256 and farmland.sha256
    assert farmland.features_read == reference.features_read == 21204
    assert farmland.repeated_ids == reference.repeated_ids
    assert farmland.field_sources == reference.field_sources
    assert farmland.source_crs == reference.source_crs
    source = pyogrio.read_dataframe(GPKG, layer="YJJBNT")
    np.testing.assert_allclose(farmland.parts.extent, source.total_bounds, rtol=0, atol=1e-6)


@pytest.mark.slow
def test_a_cluster_run_on_a_surveyed_table_gives_the_file_based_conflicts(
    password, demo_out, tmp_path
):
    from distributed import LocalCluster

    from geoplan.analysis.run import Cluster, check_project

    project = write_pg_project(tmp_path, password["url"])
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:  # fmt: skip
        result = check_project(
            project, cluster=Cluster(scheduler=cluster.scheduler_address, survey_above=1000)
        )
    assert result.loaded.layers["permanent_farmland"].parts is not None
    want = pyogrio.read_dataframe(demo_out / "conflicts.gpkg", layer="conflicts")
    got = result.conflicts
    assert list(got["conflict_id"]) == list(want["conflict_id"])
    np.testing.assert_allclose(got["area_m2"], want["area_m2"], rtol=0, atol=1e-6)
