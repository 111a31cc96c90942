"""The project file: which files hold which layers, and how to read them.

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

    [rules]
    packs = ["national"]

Relative paths are relative to the project file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.crs import to_crs
from geo.errors import CRSError, ProjectError
from geo.terrain import RasterInfo, open_info
from layers.catalog import get_kind

_PROJECT_KEYS = {"name", "working_crs", "description"}
_LAYER_KEYS = {"path", "layer", "where", "encoding", "crs", "fields"}
_RASTER_KEYS = {"path", "band", "crs", "nodata"}
_RULES_KEYS = {"packs", "disable", "min_area_m2"}
_TARGET_KEYS = {
    "indicator",
    "layer",
    "value",
    "unit",
    "constraint",
    "tolerance",
    "year",
    "source",
    "where",
}
_TOP_KEYS = {"project", "layers", "rasters", "rules", "targets"}


@dataclass(frozen=True)
class LayerSpec:
    """Where one layer kind comes from.

    Attributes
    ----------
    kind : str
        Layer kind (see :data:`layers.catalog.KINDS`).
    path : pathlib.Path
        Source file or folder, absolute.
    layer : str or None
        Layer inside the source.
    where : str or None
        OGR SQL ``WHERE`` clause selecting this kind's features.
    encoding : str or None
        Text encoding, overriding detection.
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
    """A raster input (``[rasters.NAME]``)."""

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
class Project:
    """A parsed, validated project file."""

    path: Path
    name: str
    working_crs: str | None
    layers: dict[str, LayerSpec]
    rasters: dict[str, RasterSpec] = field(default_factory=dict)
    rule_packs: tuple[str, ...] = ("national",)
    disabled_rules: tuple[str, ...] = ()
    min_area_m2: dict[str, float] = field(default_factory=dict)
    targets: tuple[dict[str, Any], ...] = ()


def _unknown(table: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ProjectError(
            f"{where}: unknown key {extra[0]!r}; allowed keys: {', '.join(sorted(allowed))}"
        )


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProjectError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _table(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ProjectError(f"{where}: expected a table, got {value!r}")
    return value


def read_project(path: str | os.PathLike) -> Project:
    """Read and validate a project file.

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
        The file is missing, is not TOML, or has an unknown table, key,
        layer kind or field; each message names the file and the table.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ProjectError(f"{path}: no such project file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: not a valid TOML file ({exc})") from None
    _unknown(data, _TOP_KEYS, str(path))
    base = path.parent

    meta = _table(data.get("project", {}), f"{path} [project]")
    _unknown(meta, _PROJECT_KEYS, f"{path} [project]")
    working_crs = meta.get("working_crs")
    if working_crs is not None:
        try:
            crs = to_crs(working_crs)
        except CRSError as exc:
            raise ProjectError(f"{path} [project] working_crs: {exc}") from None
        if not crs.is_projected:
            raise ProjectError(
                f"{path} [project] working_crs: {working_crs} is geographic; "
                "give a projected CRS such as EPSG:4545"
            )

    layers_table = _table(data.get("layers", {}), f"{path} [layers]")
    if not layers_table:
        raise ProjectError(f"{path}: no [layers.*] tables; a project needs at least one layer")
    layers = {}
    for kind_name, raw in layers_table.items():
        where = f"{path} [layers.{kind_name}]"
        kind = get_kind(kind_name, where=where)
        raw = _table(raw, where)
        _unknown(raw, _LAYER_KEYS, where)
        if "path" not in raw:
            raise ProjectError(f"{where}: missing key 'path'")
        fields = _table(raw.get("fields", {}), f"{where} fields")
        known = {f.name for f in kind.all_fields}
        for std, src in fields.items():
            if std not in known:
                raise ProjectError(
                    f"{where} fields: {kind_name} has no field {std!r}; its fields are: "
                    f"{', '.join(sorted(known))}"
                )
            _str(src, f"{where} fields.{std}")
        if "crs" in raw:
            try:
                to_crs(raw["crs"])
            except CRSError as exc:
                raise ProjectError(f"{where} crs: {exc}") from None
        layers[kind_name] = LayerSpec(
            kind=kind.name,
            path=base / _str(raw["path"], f"{where} path"),
            layer=raw.get("layer"),
            where=raw.get("where"),
            encoding=raw.get("encoding"),
            crs=raw.get("crs"),
            fields=dict(fields),
        )

    rasters = {}
    for name, raw in _table(data.get("rasters", {}), f"{path} [rasters]").items():
        where = f"{path} [rasters.{name}]"
        raw = _table(raw, where)
        _unknown(raw, _RASTER_KEYS, where)
        if "path" not in raw:
            raise ProjectError(f"{where}: missing key 'path'")
        rasters[name] = RasterSpec(
            name=name,
            path=base / _str(raw["path"], f"{where} path"),
            band=int(raw.get("band", 1)),
            crs=raw.get("crs"),
            nodata=raw.get("nodata"),
        )

    rules = _table(data.get("rules", {}), f"{path} [rules]")
    _unknown(rules, _RULES_KEYS, f"{path} [rules]")
    packs = tuple(
        str(base / p) if p.endswith(".toml") else p
        for p in (_str(p, f"{path} [rules] packs") for p in rules.get("packs", ["national"]))
    )
    targets = data.get("targets", [])
    if not isinstance(targets, list):
        raise ProjectError(f"{path}: targets must be an array of tables ([[targets]])")
    for i, target in enumerate(targets):
        _unknown(
            _table(target, f"{path} [[targets]] #{i + 1}"),
            _TARGET_KEYS,
            f"{path} [[targets]] #{i + 1}",
        )

    return Project(
        path=path,
        name=str(meta.get("name", path.stem)),
        working_crs=working_crs,
        layers=layers,
        rasters=rasters,
        rule_packs=packs,
        disabled_rules=tuple(rules.get("disable", ())),
        min_area_m2={k: float(v) for k, v in rules.get("min_area_m2", {}).items()},
        targets=tuple(targets),
    )
