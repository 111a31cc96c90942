"""Issue 13 §4: wrong types and values in the project file and the options.

Each bad value is put into a copy of the embedded 巴中 project (or given as
an option) and must be refused before any work: exit 2, one line naming the
file, the table and the key (or the option), no traceback, no output folder,
no "loading" progress line. The table of bad values per key goes through the
click command in-process; the cases the issue lists go through the real
``geoplan`` executable in a subprocess.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from geoplan.analysis.cli import cli
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.project import read_project
from geoplan.layers.project_types import RasterSpec, Target
from geoplan.layers.where_clause import where_problem

GEOPLAN = Path(sys.executable).with_name("geoplan")
SITE = "POLYGON ((380000 3530000, 381000 3530000, 381000 3531000, 380000 3531000, 380000 3530000))"


@pytest.fixture(scope="module")
def bazhong(tmp_path_factory) -> Path:
    """A folder holding a copy of the embedded project file and its data."""
    folder = tmp_path_factory.mktemp("bazhong")
    shutil.copytree(PROJECT_FILE.parent / "data", folder / "data")
    shutil.copy(PROJECT_FILE, folder / "project.toml")
    return folder


def _section(data: dict, table: str) -> dict:
    name, _, nth = table.partition("#")
    if nth:
        return data[name][int(nth) - 1]
    for part in name.split("."):
        data = data[part]
    return data


def with_value(folder: Path, table: str, key: str, value: str) -> Path:
    """A project file in ``folder``: the embedded one with ``key = value`` in ``table``.

    ``table`` is ``"rasters.dem"`` for ``[rasters.dem]`` or ``"targets#3"``
    for the third ``[[targets]]``; ``value`` is TOML text. The key's line, if
    any, is replaced.
    """
    name, _, nth = table.partition("#")
    header = f"[[{name}]]" if nth else f"[{name}]"
    seen, inside, lines = 0, False, []
    for line in (folder / "project.toml").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            seen += stripped == header
            inside = stripped == header and (not nth or seen == int(nth))
            lines += [line, f"{key} = {value}"] if inside else [line]
        elif not (inside and re.match(rf"{re.escape(key)}\s*=", stripped)):
            lines.append(line)
    text = "\n".join(lines) + "\n"
    # the edit is there: the case tests the key it names
    wanted = tomllib.loads(f"v = {value}")["v"]
    assert repr(_section(tomllib.loads(text), table)[key]) == repr(wanted)
    path = folder / f"case-{table}-{key}-{abs(hash(value))}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def geoplan(*args, cwd: Path, real: bool = True) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command line.

    ``real``: the ``geoplan`` executable in a subprocess; else the click
    command in-process (same code, no interpreter start).
    """
    if not real:
        result = CliRunner().invoke(cli, [str(a) for a in args])
        return result.exit_code, result.stdout, result.stderr
    done = subprocess.run(
        [str(GEOPLAN), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def _case_id(values: tuple) -> str:
    return "-".join(" ".join(v) if isinstance(v, list) else str(v) for v in values)


def in_process(*values) -> pytest.param:
    """A case that runs in-process (the cases issue 13 lists run as subprocesses)."""
    return pytest.param(*values, False, id=f"{_case_id(values)}-in-process")


def real(*values) -> pytest.param:
    """A case issue 13 lists: through the real executable."""
    return pytest.param(*values, True, id=f"{_case_id(values)}-subprocess")


def error_line(returncode: int, stdout: str, stderr: str) -> str:
    """The one ``geoplan: error:`` line of a run refused with exit 2."""
    assert returncode == 2, stdout + stderr
    assert "Traceback" not in stdout + stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("geoplan: error: "), stderr
    return lines[0]


def usage_error(returncode: int, stdout: str, stderr: str, option: str) -> str:
    """The ``Error: Invalid value for OPTION`` line of a click usage error (exit 2)."""
    assert returncode == 2, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert stdout == ""
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: Invalid value for '{option}': ")
    return errors[0]


def assert_no_work(stderr: str, out: Path) -> None:
    assert not out.exists()
    assert "loading" not in stderr


# table, key, bad value (TOML), the key as the message names it, the problem
PROJECT_CASES = [
    ("project", "name", "5", "name", "expected a non-empty string"),
    ("project", "name", '" "', "name", "expected a non-empty string"),
    ("project", "working_crs", '"nonsense"', "working_crs", "not a coordinate reference system"),
    ("project", "working_crs", '"EPSG:4490"', "working_crs", "is geographic"),
    ("project", "working_crs", "4545", "working_crs", "expected a non-empty string"),
    ("project", "description", '["x"]', "description", "expected a non-empty string"),
    ("layers.zone_urban", "path", "5", "path", "expected a non-empty string"),
    ("layers.zone_urban", "path", r'"data/bazhong.gpkg\u0000x"', "path", "NUL character"),
    ("layers.zone_urban", "layer", "1", "layer", "expected a non-empty string"),
    ("layers.zone_urban", "where", "5", "where", "expected a non-empty string"),
    ("layers.zone_urban", "where", '""', "where", "expected a non-empty string"),
    (
        "layers.zone_urban",
        "where",
        "\"KJLX = '城镇空间'; DROP TABLE SQ\"",
        "where",
        "';' outside quotes",
    ),
    ("layers.zone_urban", "where", "\"KJLX = '城镇空间' -- x\"", "where", "'--' outside quotes"),
    ("layers.zone_urban", "where", "\"KJLX = '城镇空间' /* x */\"", "where", "'/*' outside"),
    ("layers.zone_urban", "where", "\"KJLX = 'a') OR (1 = 1\"", "where", "')' without its '('"),
    ("layers.zone_urban", "where", "\"(KJLX = 'a'\"", "where", "'(' without its ')'"),
    ("layers.zone_urban", "where", '"KJLX = \'城镇空间"', "where", "unterminated"),
    ("layers.zone_urban", "where", r'''"KJLX = 'a\\'; b'"''', "where", "backslash before a quote"),
    ("layers.zone_urban", "where", r'"KJLX = 1\u0000; x"', "where", "NUL character"),
    ("layers.zone_urban", "encoding", '"rot13"', "encoding", "is not a text encoding"),
    ("layers.zone_urban", "encoding", '"no-such-codec"', "encoding", "is not a text encoding"),
    ("layers.zone_urban", "encoding", "936", "encoding", "expected a non-empty string"),
    ("layers.zone_urban", "crs", '"nonsense"', "crs", "not a coordinate reference system"),
    ("layers.zone_urban", "crs", "4545", "crs", "expected a non-empty string"),
    ("layers.zone_urban", "fields", '"XZMC"', "fields", "expected a table"),
    ("layers.zone_urban", "fields", "{ name = 5 }", "fields.name", "expected a non-empty string"),
    ("layers.zone_urban", "fields", '{ colour = "YS" }', "fields", "has no field 'colour'"),
    ("rasters.dem", "path", "[]", "path", "expected a non-empty string"),
    ("rasters.dem", "band", '"x"', "band", "expected a band number"),
    ("rasters.dem", "band", "0", "band", "expected a band number"),
    ("rasters.dem", "band", "-1", "band", "expected a band number"),
    ("rasters.dem", "band", "1.5", "band", "expected a band number"),
    ("rasters.dem", "band", "true", "band", "expected a band number"),
    ("rasters.dem", "nodata", "nan", "nodata", "expected a finite number"),
    ("rasters.dem", "nodata", "-inf", "nodata", "expected a finite number"),
    ("rasters.dem", "nodata", '"-9999"', "nodata", "expected a finite number"),
    ("rasters.dem", "nodata", "false", "nodata", "expected a finite number"),
    ("rasters.dem", "crs", '"nonsense"', "crs", "not a coordinate reference system"),
    ("rules", "min_area_m2", '{ r = "abc" }', "min_area_m2.r", "expected a finite number"),
    ("rules", "min_area_m2", "{ r = nan }", "min_area_m2.r", "expected a finite number"),
    ("rules", "min_area_m2", "{ r = inf }", "min_area_m2.r", "expected a finite number"),
    ("rules", "min_area_m2", "{ r = -5 }", "min_area_m2.r", "must be ≥ 0"),
    ("rules", "min_area_m2", "{ r = true }", "min_area_m2.r", "expected a finite number"),
    ("rules", "min_area_m2", "200", "min_area_m2", "expected a table"),
    # a key with a line break is quoted: the message stays one line
    ("rules", "min_area_m2", r'{ "a\nb" = "x" }', r"min_area_m2.'a\nb'", "expected a finite"),
    ("rules", "min_area_m2", "{ nope = 5 }", "min_area_m2", "no rule 'nope'"),
    ("rules", "disable", '"rule-id"', "disable", "expected an array of strings"),
    ("rules", "disable", "[5]", "disable", "expected non-empty strings"),
    ("rules", "disable", '["nope"]', "disable", "no rule 'nope'"),
    ("rules", "packs", '"national"', "packs", "expected an array of strings"),
    ("rules", "packs", "[]", "packs", "is empty"),
    ("rules", "packs", '[""]', "packs", "expected non-empty strings"),
    ("targets#1", "indicator", "5", "indicator", "expected a non-empty string"),
    ("targets#1", "layer", '"farmland"', "layer", "unknown layer kind 'farmland'"),
    ("targets#1", "layer", "5", "layer", "expected a non-empty string"),
    ("targets#1", "value", '"12296.93"', "value", "expected a finite number"),
    ("targets#1", "value", "nan", "value", "expected a finite number"),
    ("targets#1", "value", "inf", "value", "expected a finite number"),
    ("targets#1", "value", "-1", "value", "must be ≥ 0"),
    ("targets#1", "value", "true", "value", "expected a finite number"),
    ("targets#1", "unit", '"acre"', "unit", "is not one of"),
    ("targets#1", "unit", "5", "unit", "expected a non-empty string"),
    ("targets#1", "constraint", '">"', "constraint", "is not one of >=, <=, ="),
    ("targets#1", "constraint", '"=="', "constraint", "is not one of >=, <=, ="),
    ("targets#1", "tolerance", "nan", "tolerance", "expected a finite number"),
    ("targets#1", "tolerance", "-0.1", "tolerance", "must be ≥ 0"),
    ("targets#1", "tolerance", "2", "tolerance", "is relative"),
    ("targets#1", "tolerance", '"0.5%"', "tolerance", "expected a finite number"),
    ("targets#1", "year", "2035.5", "year", "expected a year 1900–2100"),
    ("targets#1", "year", "99999", "year", "expected a year 1900–2100"),
    ("targets#1", "year", "true", "year", "expected a year 1900–2100"),
    ("targets#1", "year", '""', "year", "expected a non-empty string"),
    ("targets#1", "source", "5", "source", "expected a non-empty string"),
    ("targets#11", "value", "45.5", "value", "a count must be a whole number"),
    ("targets#11", "where", '"function_type = 城镇化地区"', "where", "expected a table"),
    ("targets#11", "where", '{ colour = "red" }', "where", "townships has no field 'colour'"),
    ("targets#11", "where", "{ function_type = 5 }", "where.function_type", "holds str values"),
    ("targets#11", "where", '{ function_type = "城镇化" }', "where.function_type", "expected one"),
    ("targets#11", "where", "{ function_type = [] }", "where.function_type", "empty array"),
    ("targets#9", "where", '{ name = ["a", 1] }', "where.name", "holds str values"),
]


@pytest.mark.parametrize(
    ("table", "key", "value", "label", "problem"),
    PROJECT_CASES,
    ids=[f"{c[0]}.{c[1]}={c[2]}" for c in PROJECT_CASES],
)
def test_bad_project_value_is_one_line_before_any_work(
    bazhong, tmp_path, table, key, value, label, problem
):
    project = with_value(bazhong, table, key, value)
    out = tmp_path / "out"
    code, stdout, stderr = geoplan("check", project, "--out", out, cwd=tmp_path, real=False)
    line = error_line(code, stdout, stderr)
    name, _, nth = table.partition("#")
    where = f"[[{name}]] #{nth}" if nth else f"[{name}]"
    assert line.startswith(f"geoplan: error: {project.resolve()} {where}")
    assert f" {label}: " in line and problem in line, line
    assert_no_work(stderr, out)


# The cases issue 13 names, through the real executable.
ISSUE_CASES = [
    ("rasters.dem", "band", '"x"', "[rasters.dem] band: "),
    ("rules", "min_area_m2", '{ r = "abc" }', "[rules] min_area_m2.r: "),
    ("rules", "disable", '"rule-id"', "[rules] disable: "),
    ("layers.zone_urban", "where", "5", "[layers.zone_urban] where: "),
    (
        "layers.zone_urban",
        "where",
        "\"KJLX = '城镇空间'; DROP TABLE SQ\"",
        "[layers.zone_urban] where: ';' outside quotes",
    ),
]


@pytest.mark.parametrize(("table", "key", "value", "message"), ISSUE_CASES)
def test_issue_project_cases_exit_2_in_a_subprocess(bazhong, tmp_path, table, key, value, message):
    project = with_value(bazhong, table, key, value)
    out = tmp_path / "out"
    code, stdout, stderr = geoplan("check", project, "--out", out, cwd=tmp_path)
    line = error_line(code, stdout, stderr)
    assert f"{project.resolve()} {message}" in line
    assert_no_work(stderr, out)


@pytest.mark.parametrize(
    ("value", "as_subprocess"),
    [
        real("nan"),
        real("inf"),
        real("-5"),
        in_process("R=abc"),
        in_process("N-LINES-01=-inf"),
        in_process("=5"),
        in_process("abc"),
    ],
)
def test_bad_min_area_option(bazhong, tmp_path, value, as_subprocess):
    out = tmp_path / "out"
    code, stdout, stderr = geoplan(
        "check",
        bazhong / "project.toml",
        "--out",
        out,
        "--min-area",
        value,
        cwd=tmp_path,
        real=as_subprocess,
    )
    usage_error(code, stdout, stderr, "--min-area")
    assert_no_work(stderr, out)


@pytest.mark.parametrize(("option", "value"), [("--disable", "nope"), ("--min-area", "nope=5")])
def test_unknown_rule_in_an_option_is_named(bazhong, tmp_path, option, value):
    out = tmp_path / "out"
    code, stdout, stderr = geoplan(
        "check", bazhong / "project.toml", "--out", out, option, value, cwd=tmp_path, real=False
    )
    line = error_line(code, stdout, stderr)
    assert line == f"geoplan: error: {option}: no rule 'nope' in packs national"
    assert_no_work(stderr, out)


@pytest.mark.parametrize(
    ("command", "as_subprocess"),
    [
        real(["check", "{project}", "--out", "{out}", "--export", "gpkg"]),
        real(["export", "{project}", "--out", "{out}", "--format", "gpkg"]),
        in_process(["demo", "--out", "{out}", "--export", "shp"]),
        # refused before connecting: no server listens on port 1
        in_process(["export", "{project}", "--to", "postgresql://nobody@127.0.0.1:1/plan"]),
    ],
)
def test_bad_export_crs_is_refused_before_the_analysis(bazhong, tmp_path, command, as_subprocess):
    out = tmp_path / "out"
    args = [a.format(project=bazhong / "project.toml", out=out) for a in command]
    code, stdout, stderr = geoplan(*args, "--dst-crs", "nonsense", cwd=tmp_path, real=as_subprocess)
    line = usage_error(code, stdout, stderr, "--dst-crs")
    assert "not a coordinate reference system: 'nonsense'" in line
    assert_no_work(stderr, out)


@pytest.mark.parametrize(
    ("value", "as_subprocess"),
    [real("nan"), in_process("inf"), in_process("-inf"), in_process("abc")],
)
def test_bad_zonal_threshold(bazhong, tmp_path, value, as_subprocess):
    code, stdout, stderr = geoplan(
        "zonal",
        bazhong / "project.toml",
        "--measure",
        "slope",
        "--threshold",
        value,
        cwd=tmp_path,
        real=as_subprocess,
    )
    usage_error(code, stdout, stderr, "--threshold")


@pytest.mark.parametrize(
    ("wkt", "problem", "as_subprocess"),
    [
        real(SITE.replace("381000 3530000", "nan 3530000"), "not finite numbers"),
        in_process(SITE.replace("381000 3531000", "381000 inf"), "not finite numbers"),
        in_process("LINESTRING (380000 3530000, 381000 3531000)", "no polygon (a LineString)"),
        in_process("POLYGON EMPTY", "no polygon (an empty one)"),
        in_process("POLYGON ((380000 3530000, 381000", "not valid WKT"),
        in_process("", "not valid WKT"),
    ],
)
def test_bad_site_wkt(bazhong, tmp_path, wkt, problem, as_subprocess):
    args = [bazhong / "project.toml", "--wkt", wkt, "--src-crs", "EPSG:4545"]
    code, stdout, stderr = geoplan("site", *args, cwd=tmp_path, real=as_subprocess)
    line = usage_error(code, stdout, stderr, "--wkt")
    assert problem in line
    assert "Warning" not in stderr  # shapely's RuntimeWarning on NaN is not shown


def test_bad_site_crs(bazhong, tmp_path):
    args = [bazhong / "project.toml", "--wkt", SITE, "--src-crs", "EPSG:99999"]
    code, stdout, stderr = geoplan("site", *args, cwd=tmp_path, real=False)
    usage_error(code, stdout, stderr, "--src-crs")


def test_a_where_that_fails_in_gdal_gets_as_far_as_loading(bazhong, tmp_path):
    """Control: the "no loading line" assertions above can fail."""
    project = with_value(bazhong, "layers.zone_urban", "where", '"NO_SUCH_FIELD = 1"')
    out = tmp_path / "out"
    code, _, stderr = geoplan("check", project, "--out", out, cwd=tmp_path)
    assert code == 2 and "Traceback" not in stderr
    assert "loading" in stderr and "NO_SUCH_FIELD" in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "clause",
    [
        "空间类型 = '城镇空间'",
        "DLBM IN ('0101','0102')",
        "\"KJLX\" = '城镇空间' AND (DLBM LIKE '01%' OR DLBM IS NULL)",
        "MC = 'a;b'",
        "MC = 'it''s -- not a comment /* either */'",
        "MC = '(' OR MC = ')'",
        "MJ - 1 > 0",
    ],
)
def test_legitimate_where_clauses_pass(clause):
    assert where_problem(clause) is None


@pytest.mark.parametrize(
    ("clause", "names"),
    [
        ("MC = 'a;b'", ["a;b"]),
        ("MC IN ('a;b', 'it''s')", ["a;b", "it's"]),
        ("MC LIKE '%--%'", ["x--y"]),
        ("\"MC\" = 'plain'", ["plain"]),
    ],
)
def test_quoted_separators_are_text_to_gdal(tmp_path, clause, names):
    squares = [
        shapely.box(380_000 + i * 1000, 3_530_000, 380_900 + i * 1000, 3_530_900) for i in range(4)
    ]
    frame = gpd.GeoDataFrame({"MC": ["a;b", "it's", "x--y", "plain"]}, geometry=squares, crs=4545)
    frame.to_file(tmp_path / "zones.gpkg", layer="SQ", driver="GPKG")
    project = tmp_path / "p.toml"
    where = clause.replace("\\", "\\\\").replace('"', '\\"')
    project.write_text(
        f'[layers.zone_urban]\npath = "zones.gpkg"\nwhere = "{where}"\n', encoding="utf-8"
    )
    assert read_project(project).layers["zone_urban"].where == clause
    result = CliRunner().invoke(cli, ["layers", str(project), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["features"] == len(names)


def test_the_embedded_project_reads_into_types():
    project = read_project(PROJECT_FILE)
    assert project.name.startswith("巴中市") and project.working_crs == "EPSG:4545"
    assert project.rules.packs == ("national",) and project.rules.disabled == ()
    assert project.rasters["dem"] == RasterSpec(
        name="dem", path=PROJECT_FILE.parent / "data" / "dem.tif"
    )
    assert project.layers["zone_urban"].where == "KJLX = '城镇空间'"
    assert len(project.targets) == 13 and all(isinstance(t, Target) for t in project.targets)
    first, central, urban = project.targets[0], project.targets[8], project.targets[10]
    assert (first.value, first.unit, first.year, first.tolerance) == (
        12296.93,
        "km2",
        "2023",
        0.005,
    )
    assert central.filters == (("name", ("巴州区中心城区", "恩阳区中心城区")),)
    assert (urban.unit, urban.value, urban.tolerance) == ("count", 45.0, 0.0)
    assert urban.filters == (("function_type", "城镇化地区"),)
