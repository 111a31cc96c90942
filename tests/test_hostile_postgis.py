"""PostGIS export against a real throwaway server: no credential echoed, errors on one line.

The session's server (fixture ``postgis_url``) trusts every local login; this
module adds one role, ``hostile_pw``, that must give its password (SCRAM), so
a wrong password really fails authentication.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

import geopandas as gpd
import numpy as np
import psycopg
import pytest
from psycopg import sql

from engine_cases import EPSG, box, write_project
from geoplan.geo.postgis import MAX_IDENTIFIER_BYTES, PostGISError, index_name, write_postgis

pytestmark = pytest.mark.postgis

GEOPLAN = str(Path(sys.executable).with_name("geoplan"))
ROLE = "hostile_pw"
RIGHT = "R1ght p@ss/wörd?&="  # needs percent-encoding in a URL
WRONG = "Wr0ngS3cretQ7"


@pytest.fixture(scope="module")
def server(postgis_url):
    """Host and port of the server, with ``hostile_pw`` made to authenticate by SCRAM."""
    with psycopg.connect(postgis_url, autocommit=True) as connection:
        hba = Path(connection.execute("SHOW hba_file").fetchone()[0])
        connection.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD {sql.quote(RIGHT)}")
        connection.execute(f"GRANT CREATE ON DATABASE postgres TO {ROLE}")
        original = hba.read_text()
        hba.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n{original}")
        connection.execute("SELECT pg_reload_conf()")
    parts = urlsplit(postgis_url)
    try:
        yield parts.hostname, parts.port
    finally:
        with psycopg.connect(postgis_url, autocommit=True) as connection:
            hba.write_text(original)
            connection.execute("SELECT pg_reload_conf()")
            connection.execute(f"DROP OWNED BY {ROLE}")
            connection.execute(f"DROP ROLE {ROLE}")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-postgis")
    parks = gpd.GeoDataFrame(
        {"BSM": ["P1", "P2"], "MC": ["巴中经济开发区", "平昌县化工园区"], "gid": [7, 8]},
        geometry=[box(0, 0, 800, 600), box(2000, 0, 2600, 700)],
        crs=EPSG,
    )
    farm = gpd.GeoDataFrame({"BSM": ["F1"]}, geometry=[box(500, 400, 1200, 900)], crs=EPSG)
    return write_project(folder, {"permanent_farmland": farm, "parks": parks})


@pytest.fixture(scope="module")
def plain_project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plain-postgis")
    farm = gpd.GeoDataFrame({"BSM": ["F1"]}, geometry=[box(500, 400, 1200, 900)], crs=EPSG)
    return write_project(folder, {"permanent_farmland": farm})


def export(project: Path, target: str, *args: str, env: dict | None = None):
    return subprocess.run(
        [GEOPLAN, "-q", "export", str(project), "--to", target, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def assert_one_line_error(done, *secrets: str) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoplan: error: "), done.stderr
    for secret in secrets:
        assert secret not in done.stderr + done.stdout
    return lines[0]


def _targets(host: str, port: int, password: str) -> dict[str, str]:
    return {
        "query": f"postgresql://{ROLE}@{host}:{port}/postgres?password={password}",
        "userinfo": f"postgresql://{ROLE}:{password}@{host}:{port}/postgres",
        "keywords": f"host={host} port={port} user={ROLE} dbname=postgres password='{password}'",
        "sslpassword": (
            f"postgresql://{ROLE}:{password}@{host}:{port}/postgres?sslpassword={password}"
        ),
    }


@pytest.mark.parametrize("form", ["query", "userinfo", "keywords", "sslpassword"])
def test_a_wrong_password_is_not_echoed_in_any_form(plain_project, server, form):
    host, port = server
    done = export(plain_project, _targets(host, port, WRONG)[form])
    line = assert_one_line_error(done, WRONG)
    assert f"postgresql://{ROLE}@{host}:{port}/postgres: cannot connect" in line
    assert "password authentication failed" in line


def test_a_wrong_pgpassword_is_not_echoed(plain_project, server):
    host, port = server
    done = export(
        plain_project, f"postgresql://{ROLE}@{host}:{port}/postgres", env={"PGPASSWORD": WRONG}
    )
    line = assert_one_line_error(done, WRONG)
    assert "password authentication failed" in line


def test_a_password_libpq_cannot_decode_is_not_echoed(plain_project, server):
    host, port = server
    secret = "bad%zzS3cret"
    done = export(plain_project, f"postgresql://{ROLE}:{secret}@{host}:{port}/postgres")
    line = assert_one_line_error(done, secret, "zzS3cret")
    assert "invalid percent-encoded token" in line


def test_an_unencoded_at_sign_in_the_password_is_refused(plain_project, server):
    host, port = server
    done = export(plain_project, f"postgresql://{ROLE}:p@ssS3cret@{host}:{port}/postgres")
    line = assert_one_line_error(done, "ssS3cret")
    assert "%40" in line


def test_the_right_password_in_any_form_connects(plain_project, server):
    host, port = server
    for form, target in _targets(host, port, quote(RIGHT, safe="")).items():
        if form == "keywords":
            target = target.replace(quote(RIGHT, safe=""), RIGHT.replace("'", "\\'"))
        if form == "sslpassword":
            continue  # a client key password: this server uses no SSL
        done = export(plain_project, target, "--schema", f"ok_{form}")
        assert done.returncode == 0, done.stderr
        assert f"ok_{form}.permanent_farmland" in done.stdout
        assert RIGHT not in done.stdout + done.stderr


def test_a_server_error_is_one_line_naming_the_table(project, server, postgis_url):
    # A source field "gid" collides with the key column the export adds.
    done = export(project, postgis_url, "--schema", "hostile_gid")
    line = assert_one_line_error(done)
    assert "table hostile_gid.parks" in line and '"gid"' in line
    with psycopg.connect(postgis_url) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'hostile_gid'"
        ).fetchone()[0]
    assert tables == 0  # one transaction: nothing was left behind


def test_a_copy_error_is_one_line_naming_the_table(postgis_url):
    frame = gpd.GeoDataFrame(
        {"big": np.array([1, 2**64 - 1], dtype=np.uint64)},
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)],
        crs=EPSG,
    )
    with pytest.raises(PostGISError) as caught:
        write_postgis({"big": frame}, postgis_url, schema="hostile_copy")
    message = str(caught.value)
    assert "\n" not in message
    assert "table hostile_copy.big" in message and "out of range" in message
    assert "COPY" in message  # the server's context: which row and column


def test_index_names_are_unique_and_fit_for_63_byte_table_names(postgis_url):
    stem = "t" * 55
    names = [f"{stem}_{suffix}" for suffix in ("layer_a", "layer_b")]  # 63 bytes each
    assert all(len(n.encode()) == MAX_IDENTIFIER_BYTES for n in names)
    frame = gpd.GeoDataFrame({"v": [1]}, geometry=[box(0, 0, 10, 10)], crs=EPSG)
    write_postgis({n: frame for n in names}, postgis_url, schema="hostile_idx")
    with psycopg.connect(postgis_url) as connection:
        rows = connection.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'hostile_idx' AND indexdef LIKE '%USING gist%'"
        ).fetchall()
    assert sorted(r[0] for r in rows) == names
    indexes = [r[1] for r in rows]
    assert len(set(indexes)) == 2 and set(indexes).isdisjoint(names)
    assert all(len(i.encode()) <= MAX_IDENTIFIER_BYTES for i in indexes)
    assert sorted(indexes) == sorted(index_name(n) for n in names)
    assert index_name("parks") == "parks_geom_gist"
