"""The project file as typed objects: one frozen dataclass per table.

:func:`layers.project.read_project` builds them, checking every value, so
whatever takes them can rely on the types and ranges documented here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoplan.geo.postgis import is_postgis_url
from geoplan.geo.postgis_read import source_label
from geoplan.geo.terrain import RasterInfo, open_info

CONSTRAINTS = (">=", "<=", "=")
#: Relative tolerance of an "=" area target when the target gives none.
DEFAULT_EQUAL_TOLERANCE = 0.005
#: Years a target may name as a number.
TARGET_YEARS = range(1900, 2101)


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
    path : pathlib.Path or str
        Source file or folder, absolute; or, as a ``str``, the
        ``postgresql://user@host:port/db`` URL of a PostGIS database (never
        with a password: libpq reads ``PGPASSWORD`` or ``~/.pgpass``).
    layer : str or None
        Layer inside the source; for a database ``schema.table`` (or
        ``table``, in ``public``), always given.
    where : str or None
        SQL ``WHERE`` clause selecting this kind's features (one
        expression; see :mod:`layers.where_clause`): OGR SQL for a file,
        PostgreSQL's for a database.
    encoding : str or None
        Text encoding (a Python text codec), overriding detection; never
        for a database (the server sends UTF-8).
    crs : str or None
        CRS for a source whose own is missing or wrong.
    fields : dict of str to str
        Standard field name → source field name.
    """

    kind: str
    path: Path | str
    layer: str | None = None
    where: str | None = None
    encoding: str | None = None
    crs: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def is_postgis(self) -> bool:
        """Whether the layer is a PostGIS table (``path`` a ``postgresql://`` URL)."""
        return is_postgis_url(self.path)

    @property
    def source(self) -> str:
        """``path`` or ``path:layer`` (``URL table schema.table``), for messages and inventories."""
        if self.is_postgis:
            return source_label(self.path, self.layer)
        return f"{self.path}:{self.layer}" if self.layer else str(self.path)

    @property
    def input_name(self) -> str:
        """What a report names the input by: the file, or the URL, table and ``where``.

        Two layers of one file read one file; two of one table with
        different ``where`` read different rows, hashed apart.
        """
        if not self.is_postgis:
            return str(self.path)
        return f"{self.source} where {self.where}" if self.where else self.source


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
