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

Relative paths are relative to the project file.

The file is read once, by :func:`read_project`, into the frozen dataclasses
below; every value is checked for its type and range there, so the rest of
geoplan takes typed objects and a wrong value fails before any work, with
one line naming the file, the table and the key.

A layer's ``where`` is handed to GDAL, which pastes it into the SQL it runs
(``SELECT … WHERE <clause>`` for a GeoPackage, executed by SQLite). Outside
quoted text it may not hold ``;`` (SQLite runs the first statement and
silently ignores the rest), ``--`` or ``/*`` (a comment cuts off whatever
GDAL appends), unbalanced parentheses, or an unterminated quote. Inside
``'…'`` or ``"…"`` these are ordinary text (``MC = 'a;b'`` is accepted). A
backslash before a quote is refused: some SQL dialects read it as an
escape, others as text, so where the quoted text ends would be ambiguous.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoplan.geo.crs import to_crs
from geoplan.geo.errors import CRSError, ProjectError
from geoplan.geo.terrain import RasterInfo, open_info
from geoplan.layers.catalog import KINDS, FieldSpec, get_kind
from geoplan.layers.vocabulary import UNIT_ALIASES

_PROJECT_KEYS = {"name", "working_crs", "description"}
_LAYER_KEYS = {"path", "layer", "where", "encoding", "crs", "fields"}
_RASTER_KEYS = {"path", "band", "crs", "nodata"}
_RULES_KEYS = {"packs", "disable", "min_area_m2"}
_TARGET_REQUIRED = ("indicator", "layer", "value", "unit", "constraint")
_TARGET_KEYS = {*_TARGET_REQUIRED, "tolerance", "year", "source", "where"}
_TOP_KEYS = {"project", "layers", "rasters", "rules", "targets"}

CONSTRAINTS = (">=", "<=", "=")
#: Relative tolerance of an "=" area target when the target gives none.
DEFAULT_EQUAL_TOLERANCE = 0.005
#: Years a target may name as a number.
TARGET_YEARS = range(1900, 2101)
#: Longest piece of a bad value quoted in a message (characters).
_SHOWN = 60
_MISSING = object()


@dataclass(frozen=True)
class ProjectMeta:
    """The ``[project]`` table.

    Attributes
    ----------
    name : str
        Shown in titles and reports.
    working_crs : str or None
        A projected CRS pyproj resolves; None: chosen from the data.
    description : str
    """

    name: str
    working_crs: str | None = None
    description: str = ""


@dataclass(frozen=True)
class LayerSpec:
    """Where one layer kind comes from (``[layers.KIND]``).

    Attributes
    ----------
    kind : str
        Layer kind (see :data:`layers.catalog.KINDS`).
    path : pathlib.Path
        Source file or folder, absolute.
    layer : str or None
        Layer inside the source.
    where : str or None
        OGR SQL ``WHERE`` clause selecting this kind's features (one
        expression; see the module notes).
    encoding : str or None
        Text encoding (a Python text codec), overriding detection.
    crs : str or None
        CRS for a source whose own is missing or wrong.
    fields : dict of str to str
        Standard field name → source field name.
    """

    kind: str
    path: Path
    layer: str | None = None
    where: str | None = None
    encoding: str | None = None
    crs: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """``path`` or ``path:layer``, for messages and inventories."""
        return f"{self.path}:{self.layer}" if self.layer else str(self.path)


@dataclass(frozen=True)
class RasterSpec:
    """A raster input (``[rasters.NAME]``).

    Attributes
    ----------
    name : str
    path : pathlib.Path
        Absolute.
    band : int
        1-based band number.
    crs : str or None
        CRS for a raster whose own is missing or wrong.
    nodata : float or None
        Nodata value overriding the file's.
    """

    name: str
    path: Path
    band: int = 1
    crs: str | None = None
    nodata: float | None = None

    def info(self) -> RasterInfo:
        """Open the raster with this entry's band, CRS and nodata overrides.

        Raises
        ------
        geo.terrain.RasterError
            Unreadable, no such band, or no CRS.
        """
        return open_info(self.path, band=self.band, crs=self.crs, nodata=self.nodata)


@dataclass(frozen=True)
class RuleSettings:
    """The ``[rules]`` table.

    Attributes
    ----------
    packs : tuple of str
        Built-in pack names, or absolute paths of ``.toml`` packs.
    disabled : tuple of str
        Rule ids left out (checked against the packs when they are loaded).
    min_area_m2 : dict of str to float
        Sliver tolerance (m², finite, ≥ 0) per rule id, ``"*"`` for all.
    """

    packs: tuple[str, ...] = ("national",)
    disabled: tuple[str, ...] = ()
    min_area_m2: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """One plan target (``[[targets]]``).

    Attributes
    ----------
    indicator : str
    layer : str
        A known layer kind (the project need not have it: then "missing").
    value : float
        Finite, ≥ 0, in ``unit``; a whole number for ``count``.
    unit : str
        A :mod:`geo.units` key (``m2``, ``mu``, ``ha``, ``wanmu``, ``km2``)
        or ``count``.
    constraint : {">=", "<=", "="}
    tolerance : float
        Relative tolerance of ``=`` (0–1).
    filters : tuple of (str, value)
        Standard field → required value (a tuple: any of), sorted by field.
    year : str
    source : str
    """

    indicator: str
    layer: str
    value: float
    unit: str
    constraint: str
    tolerance: float = DEFAULT_EQUAL_TOLERANCE
    filters: tuple[tuple[str, Any], ...] = ()
    year: str = ""
    source: str = ""


@dataclass(frozen=True)
class Project:
    """A parsed, validated project file."""

    path: Path
    meta: ProjectMeta
    layers: dict[str, LayerSpec]
    rasters: dict[str, RasterSpec] = field(default_factory=dict)
    rules: RuleSettings = field(default_factory=RuleSettings)
    targets: tuple[Target, ...] = ()

    @property
    def name(self) -> str:
        """``[project] name`` (default: the file's stem)."""
        return self.meta.name

    @property
    def working_crs(self) -> str | None:
        """``[project] working_crs``."""
        return self.meta.working_crs


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _label(name: str) -> str:
    """A table or key name for a message: as written, or quoted if it holds a line break."""
    return name if name.isprintable() else repr(name)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def where_problem(clause: str) -> str | None:
    """What makes a ``where`` clause more than one SQL expression, or None.

    Parameters
    ----------
    clause : str

    Returns
    -------
    str or None
        A description of the first problem: ``;``, ``--`` or ``/*`` outside
        quoted text, unbalanced parentheses, an unterminated quote, or a
        backslash before a quote.

    Examples
    --------
    >>> where_problem("DLBM IN ('0101', '0102')") is None
    True
    >>> where_problem("MC = 'a;b'") is None
    True
    >>> where_problem("MC = 'a'; DROP TABLE t")
    "';' outside quotes (a second statement)"
    """
    if "\\'" in clause or '\\"' in clause:
        return "a backslash before a quote (an escape in some SQL dialects, text in others)"
    outside, quote, depth = [], None, 0
    for ch in clause:
        if quote is not None:
            quote = None if ch == quote else quote  # '' reopens at once: same outside text
            continue
        if ch in "'\"":
            quote = ch
            outside.append(" ")
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return "')' without its '('"
        outside.append(ch)
    if quote is not None:
        return f"unterminated {quote}…{quote}"
    if depth:
        return "'(' without its ')'"
    text = "".join(outside)
    for token, meaning in ((";", "a second statement"), ("--", "a comment"), ("/*", "a comment")):
        if token in text:
            return f"{token!r} outside quotes ({meaning})"
    return None


class _Table:
    """One table of the project file; every value read from it is checked.

    Messages are ``"{file} [table] key: problem"``.
    """

    def __init__(
        self,
        value: Any,
        at: str,
        allowed: set[str],
        required: tuple[str, ...] = (),
        *,
        prefix: str = "",
    ):
        if not isinstance(value, dict):
            raise ProjectError(f"{at}: expected a table, got {_show(value)}")
        extra = sorted(set(value) - allowed)
        if extra:
            raise ProjectError(
                f"{at}: unknown key {extra[0]!r}; allowed keys: {', '.join(sorted(allowed))}"
            )
        for key in required:
            if key not in value:
                raise ProjectError(f"{at}: missing key {key!r}")
        self.values = value
        self.at = at
        self.prefix = prefix  # keys of an inline table are named "table.key"

    def error(self, key: str, problem: str) -> ProjectError:
        return ProjectError(f"{self.at} {self.prefix}{_label(key)}: {problem}")

    def text(self, key: str, default: Any = None) -> Any:
        """A non-empty string without NUL (C libraries would cut it there)."""
        value = self.values.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"expected a non-empty string, got {_show(value)}")
        if "\0" in value:
            raise self.error(key, f"contains a NUL character: {_show(value)}")
        return value

    def number(self, key: str, default: Any = None, *, minimum: float | None = None) -> Any:
        """A finite int or float (not a boolean), at least ``minimum``."""
        value = self.values.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not _is_number(value) or not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {_show(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be ≥ {minimum:g}, got {_show(value)}")
        return float(value)

    def crs(self, key: str, *, projected: bool = False) -> str | None:
        """A CRS string pyproj resolves (``projected``: and not geographic)."""
        value = self.text(key)
        if value is None:
            return None
        try:
            crs = to_crs(value)
        except CRSError as exc:
            raise self.error(key, " ".join(str(exc).split())) from None
        if projected and not crs.is_projected:
            raise self.error(key, f"{value} is geographic; give a projected CRS such as EPSG:4545")
        return value

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """An array of non-empty strings."""
        value = self.values.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of strings, got {_show(value)}")
        for item in value:
            if not isinstance(item, str) or not item.strip() or "\0" in item:
                raise self.error(key, f"expected non-empty strings, got {_show(item)}")
        return tuple(value)

    def mapping(self, key: str) -> dict[str, Any]:
        """A table (``{}`` when absent)."""
        value = self.values.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {_show(value)}")
        return value


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
    table = _Table(data.get("project", {}), f"{path} [project]", _PROJECT_KEYS)
    return ProjectMeta(
        name=table.text("name", path.stem),
        working_crs=table.crs("working_crs", projected=True),
        description=table.text("description", ""),
    )


def _encoding(table: _Table) -> str | None:
    value = table.text("encoding")
    if value is None:
        return None
    try:
        "".encode(value)  # LookupError for unknown names and non-text codecs (rot13, base64)
    except LookupError:
        raise table.error(
            "encoding", f"{_show(value)} is not a text encoding (e.g. UTF-8, GBK, GB18030)"
        ) from None
    return value


def _layer(kind_name: str, raw: Any, path: Path) -> LayerSpec:
    at = f"{path} [layers.{_label(kind_name)}]"
    kind = get_kind(kind_name, at=at)
    table = _Table(raw, at, _LAYER_KEYS, required=("path",))
    where = table.text("where")
    if where is not None and (problem := where_problem(where)) is not None:
        raise table.error("where", f"{problem}: {_show(where)}; give one SQL expression")
    known = {f.name for f in kind.all_fields}
    mapping = table.mapping("fields")
    for std in mapping:
        if std not in known:
            raise table.error(
                "fields",
                f"{kind_name} has no field {std!r}; its fields are: {', '.join(sorted(known))}",
            )
    fields_table = _Table(mapping, at, known, prefix="fields.")
    fields = {std: fields_table.text(std) for std in mapping}
    return LayerSpec(
        kind=kind.name,
        path=path.parent / table.text("path"),
        layer=table.text("layer"),
        where=where,
        encoding=_encoding(table),
        crs=table.crs("crs"),
        fields=fields,
    )


def _raster(name: str, raw: Any, path: Path) -> RasterSpec:
    table = _Table(raw, f"{path} [rasters.{_label(name)}]", _RASTER_KEYS, required=("path",))
    band = table.values.get("band", 1)
    if not isinstance(band, int) or isinstance(band, bool) or band < 1:
        raise table.error("band", f"expected a band number 1, 2, …, got {_show(band)}")
    return RasterSpec(
        name=name,
        path=path.parent / table.text("path"),
        band=band,
        crs=table.crs("crs"),
        nodata=table.number("nodata"),
    )


def _rules(data: dict[str, Any], path: Path) -> RuleSettings:
    table = _Table(data.get("rules", {}), f"{path} [rules]", _RULES_KEYS)
    packs = table.strings("packs", ("national",))
    if not packs:
        raise table.error("packs", 'is empty; name at least one pack (e.g. "national")')
    raw = table.mapping("min_area_m2")
    tolerances = _Table(raw, table.at, set(raw), prefix="min_area_m2.")
    return RuleSettings(
        packs=tuple(str(path.parent / p) if p.endswith(".toml") else p for p in packs),
        disabled=table.strings("disable", ()),
        min_area_m2={rid: tolerances.number(rid, minimum=0) for rid in raw},
    )


def _filter_value(fs: FieldSpec, value: Any, table: _Table, key: str) -> Any:
    """One required value of a target's ``where``: of the field's type and allowed values."""
    if isinstance(value, list):
        if not value:
            raise table.error(key, "is an empty array; give at least one value")
        return tuple(_filter_value(fs, v, table, key) for v in value)
    expected = {"str": str, "float": int | float, "bool": bool}[fs.dtype]
    wrong_bool = fs.dtype != "bool" and isinstance(value, bool)
    if not isinstance(value, expected) or wrong_bool:
        raise table.error(key, f"{fs.name} holds {fs.dtype} values, got {_show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise table.error(key, f"expected a finite number, got {_show(value)}")
    if fs.allowed is not None and value not in fs.allowed:
        raise table.error(
            key, f"{_show(value)} is not a {fs.name}; expected one of {', '.join(fs.allowed)}"
        )
    return value


def _year(table: _Table) -> str:
    value = table.values.get("year", _MISSING)
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        return table.text("year")
    if not isinstance(value, int) or isinstance(value, bool) or value not in TARGET_YEARS:
        raise table.error(
            "year",
            f"expected a year {TARGET_YEARS.start}–{TARGET_YEARS.stop - 1} or a string, "
            f"got {_show(value)}",
        )
    return str(value)


def _target(raw: Any, number: int, path: Path) -> Target:
    at = f"{path} [[targets]] #{number}"
    table = _Table(raw, at, _TARGET_KEYS, required=_TARGET_REQUIRED)
    indicator = table.text("indicator")
    table.at = f"{at} ({indicator!r})"  # later messages name the target too
    layer = table.text("layer")
    if layer not in KINDS:
        raise table.error("layer", f"unknown layer kind {layer!r}; known kinds: {', '.join(KINDS)}")
    unit = UNIT_ALIASES.get(table.text("unit"))
    if unit is None:
        raise table.error(
            "unit", f"{_show(table.values['unit'])} is not one of {', '.join(UNIT_ALIASES)}"
        )
    constraint = table.text("constraint")
    if constraint not in CONSTRAINTS:
        raise table.error(
            "constraint", f"{_show(constraint)} is not one of {', '.join(CONSTRAINTS)}"
        )
    value = table.number("value", minimum=0)
    if unit == "count" and not value.is_integer():
        raise table.error("value", f"a count must be a whole number, got {_show(value)}")
    tolerance = table.number(
        "tolerance", 0.0 if unit == "count" else DEFAULT_EQUAL_TOLERANCE, minimum=0
    )
    if tolerance > 1:
        raise table.error("tolerance", f"is relative (0.005 = 0.5 %), got {_show(tolerance)}")
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
    top = _Table(data, str(path), _TOP_KEYS)
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
