"""The project file: which files hold which layers, how to read them, what to check.

A project file is TOML (format in ``DESIGN.md``)::

    [project]
    name = "巴中市"
    working_crs = "EPSG:4545"        # optional

    [layers.ecological_redline]
    path = "data/生态保护红线.gdb"
    layer = "STBHHX"

    [layers.zone_urban]
    path = "data/规划分区.gpkg"
    layer = "三区"
    where = "空间类型 = '城镇空间'"

    [layers.townships]
    path = "data/townships.gpkg"
    fields = { name = "XZMC", county = "XZQMC", function_type = "ZTGNQ" }

    [rasters.dem]
    path = "data/dem.tif"

    [rules]
    packs = ["national"]

    [[targets]]
    indicator = "永久基本农田保护面积"
    layer = "permanent_farmland"
    value = 328.07
    unit = "万亩"
    constraint = ">="

Relative paths are relative to the project file. A layer may be a PostGIS
table instead (:mod:`geo.postgis_read`)::

    [layers.permanent_farmland]
    path = "postgresql://geoplan@db.example.cn:5432/yizhangtu"
    layer = "sanqu.yjjbnt"          # schema.table; a table alone is in public

The password comes from ``PGPASSWORD`` or ``~/.pgpass``; a URL holding one
is refused.

The file is read once, by :func:`read_project`, into the frozen dataclasses
of :mod:`layers.project_types`; every value is checked for its type and
range there (:mod:`layers.project_table`), so the rest of geoplan takes
typed objects and a wrong value fails before any work, with one line naming
the file, the table and the key. A layer's ``where`` must be one SQL
expression (:mod:`layers.where_clause`).
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Any

from geoplan.geo.postgis import is_postgis_url
from geoplan.geo.postgis_read import password_problem, split_table
from geoplan.layers.catalog import KINDS, FieldSpec, get_kind
from geoplan.layers.errors import ProjectError
from geoplan.layers.project_table import ProjectTable, show_value, table_label
from geoplan.layers.project_types import (
    CONSTRAINTS,
    DEFAULT_EQUAL_TOLERANCE,
    TARGET_YEARS,
    LayerSpec,
    Project,
    ProjectMeta,
    RasterSpec,
    RuleSettings,
    Target,
)
from geoplan.layers.vocabulary import UNIT_ALIASES
from geoplan.layers.where_clause import where_problem

_PROJECT_KEYS = {"name", "working_crs", "description"}
_LAYER_KEYS = {"path", "layer", "where", "encoding", "crs", "fields"}
_RASTER_KEYS = {"path", "band", "crs", "nodata"}
_RULES_KEYS = {"packs", "disable", "min_area_m2"}
_TARGET_REQUIRED = ("indicator", "layer", "value", "unit", "constraint")
_TARGET_KEYS = {*_TARGET_REQUIRED, "tolerance", "year", "source", "where"}
_TOP_KEYS = {"project", "layers", "rasters", "rules", "targets"}


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ProjectError(f"{path}: no such project file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProjectError(f"{path}: cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: not a valid TOML file ({exc})") from None


def _meta(data: dict[str, Any], path: Path) -> ProjectMeta:
    table = ProjectTable(data.get("project", {}), f"{path} [project]", _PROJECT_KEYS)
    return ProjectMeta(
        name=table.text("name", path.stem),
        working_crs=table.crs("working_crs", projected=True),
        description=table.text("description", ""),
    )


def _encoding(table: ProjectTable) -> str | None:
    value = table.text("encoding")
    if value is None:
        return None
    try:
        "".encode(value)  # LookupError for unknown names and non-text codecs (rot13, base64)
    except LookupError:
        raise table.error(
            "encoding", f"{show_value(value)} is not a text encoding (e.g. UTF-8, GBK, GB18030)"
        ) from None
    return value


def _layer(kind_name: str, raw: Any, path: Path) -> LayerSpec:
    at = f"{path} [layers.{table_label(kind_name)}]"
    kind = get_kind(kind_name, at=at)
    table = ProjectTable(raw, at, _LAYER_KEYS, required=("path",))
    where = table.text("where")
    if where is not None and (problem := where_problem(where)) is not None:
        raise table.error("where", f"{problem}: {show_value(where)}; give one SQL expression")
    known = {f.name for f in kind.all_fields}
    mapping = table.mapping("fields")
    for std in mapping:
        if std not in known:
            raise table.error(
                "fields",
                f"{kind_name} has no field {std!r}; its fields are: {', '.join(sorted(known))}",
            )
    fields_table = ProjectTable(mapping, at, known, prefix="fields.")
    fields = {std: fields_table.text(std) for std in mapping}
    source = table.text("path")
    return LayerSpec(
        kind=kind.name,
        path=_database(table) if is_postgis_url(source) else path.parent / source,
        layer=table.text("layer"),
        where=where,
        encoding=_encoding(table),
        crs=table.crs("crs"),
        fields=fields,
    )


def _database(table: ProjectTable) -> str:
    """A layer's ``postgresql://`` path, checked: no password, a ``schema.table`` layer."""
    url = table.text("path")
    try:
        problem = password_problem(url)
    except ImportError:
        raise table.error(
            "path", "reading PostGIS needs psycopg: pip install 'geoplan[postgis]'"
        ) from None
    if problem is not None:
        raise table.error("path", problem)
    layer = table.text("layer")
    if layer is None:
        raise table.error("layer", 'is missing; a PostGIS path needs layer = "schema.table"')
    try:
        split_table(layer)
    except ValueError as exc:
        raise table.error("layer", str(exc)) from None
    if "encoding" in table.values:
        raise table.error("encoding", "does not apply to a PostGIS table (the server sends UTF-8)")
    return url


def _raster(name: str, raw: Any, path: Path) -> RasterSpec:
    table = ProjectTable(
        raw, f"{path} [rasters.{table_label(name)}]", _RASTER_KEYS, required=("path",)
    )
    band = table.values.get("band", 1)
    if not isinstance(band, int) or isinstance(band, bool) or band < 1:
        raise table.error("band", f"expected a band number 1, 2, …, got {show_value(band)}")
    return RasterSpec(
        name=name,
        path=path.parent / table.text("path"),
        band=band,
        crs=table.crs("crs"),
        nodata=table.number("nodata"),
    )


def _rules(data: dict[str, Any], path: Path) -> RuleSettings:
    table = ProjectTable(data.get("rules", {}), f"{path} [rules]", _RULES_KEYS)
    packs = table.strings("packs", ("national",))
    if not packs:
        raise table.error("packs", 'is empty; name at least one pack (e.g. "national")')
    raw = table.mapping("min_area_m2")
    tolerances = ProjectTable(raw, table.at, set(raw), prefix="min_area_m2.")
    return RuleSettings(
        packs=tuple(str(path.parent / p) if p.endswith(".toml") else p for p in packs),
        disabled=table.strings("disable", ()),
        min_area_m2={rid: tolerances.number(rid, minimum=0) for rid in raw},
    )


def _filter_value(fs: FieldSpec, value: Any, table: ProjectTable, key: str) -> Any:
    """One required value of a target's ``where``: of the field's type and allowed values."""
    if isinstance(value, list):
        if not value:
            raise table.error(key, "is an empty array; give at least one value")
        return tuple(_filter_value(fs, v, table, key) for v in value)
    expected = {"str": str, "float": int | float, "bool": bool}[fs.dtype]
    wrong_bool = fs.dtype != "bool" and isinstance(value, bool)
    if not isinstance(value, expected) or wrong_bool:
        raise table.error(key, f"{fs.name} holds {fs.dtype} values, got {show_value(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise table.error(key, f"expected a finite number, got {show_value(value)}")
    if fs.allowed is not None and value not in fs.allowed:
        raise table.error(
            key, f"{show_value(value)} is not a {fs.name}; expected one of {', '.join(fs.allowed)}"
        )
    return value


def _year(table: ProjectTable) -> str:
    if "year" not in table.values:
        return ""
    value = table.values["year"]
    if isinstance(value, str):
        return table.text("year")
    if not isinstance(value, int) or isinstance(value, bool) or value not in TARGET_YEARS:
        raise table.error(
            "year",
            f"expected a year {TARGET_YEARS.start}–{TARGET_YEARS.stop - 1} or a string, "
            f"got {show_value(value)}",
        )
    return str(value)


def _target(raw: Any, number: int, path: Path) -> Target:
    at = f"{path} [[targets]] #{number}"
    table = ProjectTable(raw, at, _TARGET_KEYS, required=_TARGET_REQUIRED)
    indicator = table.text("indicator")
    table.at = f"{at} ({indicator!r})"  # later messages name the target too
    layer = table.text("layer")
    if layer not in KINDS:
        raise table.error("layer", f"unknown layer kind {layer!r}; known kinds: {', '.join(KINDS)}")
    unit = UNIT_ALIASES.get(table.text("unit"))
    if unit is None:
        raise table.error(
            "unit", f"{show_value(table.values['unit'])} is not one of {', '.join(UNIT_ALIASES)}"
        )
    constraint = table.text("constraint")
    if constraint not in CONSTRAINTS:
        raise table.error(
            "constraint", f"{show_value(constraint)} is not one of {', '.join(CONSTRAINTS)}"
        )
    value = table.number("value", minimum=0)
    if unit == "count" and not value.is_integer():
        raise table.error("value", f"a count must be a whole number, got {show_value(value)}")
    tolerance = table.number(
        "tolerance", 0.0 if unit == "count" else DEFAULT_EQUAL_TOLERANCE, minimum=0
    )
    if tolerance > 1:
        raise table.error("tolerance", f"is relative (0.005 = 0.5 %), got {show_value(tolerance)}")
    fields = {f.name: f for f in KINDS[layer].all_fields}
    filters = {}
    for name, wanted in table.mapping("where").items():
        if name not in fields:
            raise table.error(
                "where",
                f"{layer} has no field {name!r}; its fields are: {', '.join(sorted(fields))}",
            )
        filters[name] = _filter_value(fields[name], wanted, table, f"where.{name}")
    return Target(
        indicator=indicator,
        layer=layer,
        value=value,
        unit=unit,
        constraint=constraint,
        tolerance=tolerance,
        filters=tuple(sorted(filters.items())),
        year=_year(table),
        source=table.text("source", ""),
    )


def read_project(path: str | os.PathLike) -> Project:
    """Read and validate a project file, every value of it.

    Parameters
    ----------
    path : str or os.PathLike
        The TOML project file.

    Returns
    -------
    Project

    Raises
    ------
    ProjectError
        The file is missing or not TOML; a table or key is unknown or
        missing; a value has the wrong type or range (a CRS pyproj does not
        know, a band that is not a positive integer, a nodata or tolerance
        that is not a finite number, a string where an array is expected, a
        ``where`` holding more than one expression …). The message names the
        file, the table and the key.
    """
    path = Path(path).resolve()
    data = _read_toml(path)
    top = ProjectTable(data, str(path), _TOP_KEYS)
    layers_table = top.mapping("layers")
    if not layers_table:
        raise ProjectError(f"{path}: no [layers.*] tables; a project needs at least one layer")
    targets = data.get("targets", [])
    if not isinstance(targets, list):
        raise ProjectError(f"{path}: targets must be an array of tables ([[targets]])")
    return Project(
        path=path,
        meta=_meta(data, path),
        layers={kind: _layer(kind, raw, path) for kind, raw in layers_table.items()},
        rasters={name: _raster(name, raw, path) for name, raw in top.mapping("rasters").items()},
        rules=_rules(data, path),
        targets=tuple(_target(raw, i + 1, path) for i, raw in enumerate(targets)),
    )
