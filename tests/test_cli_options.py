"""The command-line grammar: the project file first, one meaning per option name.

``--crs`` and ``site --project`` are deprecated aliases for one release: they
still work and print one warning line naming the new form (``site --project``
end to end: ``tests/test_site.py``; ``export --crs``: ``tests/test_export.py``).
"""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from geoplan.analysis.cli import cli

# an option's first line in --help: two spaces, then its names
OPTION_LINE = re.compile(r"^  (?:-\w, )?(--[\w-]+)", re.MULTILINE)
SITE = "POLYGON ((380000 3530000, 381000 3530000, 381000 3531000, 380000 3530000))"


def _listed_options(command: str) -> list[str]:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    return OPTION_LINE.findall(result.output.partition("\nOptions:\n")[2])


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_help_lists_each_option_once(command):
    names = _listed_options(command)
    assert "--help" in names
    assert len(names) == len(set(names)), names
    assert "--crs" not in names
    assert "--project" not in names


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("check", "--dst-crs"),
        ("demo", "--dst-crs"),
        ("export", "--dst-crs"),
        ("site", "--src-crs"),
        ("check", "--rules"),
        ("demo", "--rules"),
        ("site", "--rules"),
    ],
)
def test_the_commands_share_the_option(command, option):
    assert option in _listed_options(command)


# demo has its own project; kinds, rules and coords (a layer file to 界址点 text) read no project.
@pytest.mark.parametrize(
    "command", sorted(set(cli.commands) - {"demo", "kinds", "rules", "coords", "diff"})
)
def test_the_project_file_is_the_first_argument(command):
    arguments = [p for p in cli.commands[command].params if isinstance(p, click.Argument)]
    assert arguments[0].name == "project_file"
    assert arguments[0].make_metavar(click.Context(cli.commands[command])).strip("[]") == (
        "PROJECT.toml"
    )


@pytest.mark.parametrize(
    ("args", "dest", "new"),
    [
        (["check", "p.toml", "--out", "o"], "dst_crs", "--dst-crs"),
        (["demo", "--out", "o"], "dst_crs", "--dst-crs"),
        (["export", "p.toml", "--out", "o", "--format", "gpkg"], "dst_crs", "--dst-crs"),
        (["site", "p.toml", "--wkt", SITE], "src_crs", "--src-crs"),
    ],
)
@pytest.mark.parametrize("where", ["last", "first"])
def test_crs_is_a_deprecated_alias_that_warns(args, dest, new, where, capsys):
    name, *rest = args
    given = [*rest, "--crs", "EPSG:4490"] if where == "last" else ["--crs", "EPSG:4490", *rest]
    if name != "demo" and where == "first":
        given = [rest[0], "--crs", "EPSG:4490", *rest[1:]]
    ctx = cli.commands[name].make_context(name, given)
    assert ctx.params[dest] == "EPSG:4490"
    assert capsys.readouterr().err == (
        f"geoplan: warning: --crs is deprecated and goes in the next release; use {new}\n"
    )


@pytest.mark.parametrize("first", ["--crs", "--dst-crs"])
def test_crs_with_its_new_name_is_refused(first):
    second = "--dst-crs" if first == "--crs" else "--crs"
    args = ["export", "p.toml", "--out", "o", "--format", "gpkg"]
    result = CliRunner().invoke(cli, [*args, first, "EPSG:4490", second, "EPSG:4326"])
    assert result.exit_code == 2
    assert "give --dst-crs only, not also --crs" in result.output


def test_a_bad_crs_given_by_its_alias_is_a_usage_error():
    args = ["site", "p.toml", "--wkt", SITE, "--crs", "EPSG:99999"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "Invalid value for '--crs'" in result.stderr


def test_the_project_is_needed():
    result = CliRunner().invoke(cli, ["site", "--wkt", SITE])
    assert result.exit_code == 2
    assert "Missing argument 'PROJECT.toml'" in result.stderr
