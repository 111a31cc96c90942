"""Writing layers to PostgreSQL/PostGIS (psycopg 3, no ORM).

All tables are written in one transaction: either every table is there,
complete and indexed, or none is. Schema and table names are checked
against a strict pattern and, like every column name, passed to the server
only as quoted identifiers (``psycopg.sql.Identifier``); values go through
``COPY``, geometries as hex EWKB with their SRID. Existing tables are kept
unless ``overwrite``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import GeoplanError, OutputExistsError

#: What a schema or table name may be: lower-case ASCII letters, digits, "_".
NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_TYPES = {"i": "bigint", "u": "bigint", "f": "double precision", "b": "boolean"}


class PostGISError(GeoplanError, OSError):
    """The database cannot be reached or refuses the write."""


def check_name(value: str, what: str) -> str:
    """``value`` if it is a safe schema or table name, else a :class:`GeoplanError`."""
    if not NAME_PATTERN.fullmatch(value):
        raise GeoplanError(
            f"{what} {value!r}: use lower-case letters, digits and _ (at most 63, "
            "not starting with a digit)"
        )
    return value


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _column_type(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "timestamptz"
    return _TYPES.get(series.dtype.kind, "text")


def _geometry_type(geoms: np.ndarray) -> tuple[str, np.ndarray]:
    """The column's geometry type, with single parts promoted to multi-part."""
    present = ~shapely.is_missing(geoms)
    kinds = set(shapely.get_type_id(geoms[present]).tolist())
    for family, members, make in (
        ("MultiPolygon", {3, 6}, shapely.multipolygons),
        ("MultiLineString", {1, 5}, shapely.multilinestrings),
    ):
        if kinds <= members:
            parts, index = shapely.get_parts(geoms[present], return_index=True)
            out = np.full(len(geoms), None, dtype=object)
            out[present] = make(parts, indices=index)
            return family, out
    return "Geometry", geoms


def write_postgis(
    frames: Mapping[str, gpd.GeoDataFrame],
    url: str,
    *,
    schema: str = "public",
    prefix: str = "",
    overwrite: bool = False,
) -> list[str]:
    """Write each frame to a table ``schema.prefix + name`` with a GiST index.

    Parameters
    ----------
    frames : mapping of str to geopandas.GeoDataFrame
        Table name (without prefix) to features.
    url : str
        ``postgresql://user[:password]@host[:port]/database``.
    schema : str
        Created if missing.
    prefix : str
        Put before every table name.
    overwrite : bool
        Replace tables that exist; otherwise refuse before writing anything.

    Returns
    -------
    list of str
        The qualified table names written.

    Raises
    ------
    GeoplanError
        A bad schema or table name.
    OutputExistsError
        A table exists and ``overwrite`` is False.
    PostGISError
        The database cannot be reached, lacks PostGIS, or refuses the write.
    """
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise GeoplanError(
            "writing to PostGIS needs psycopg: pip install 'geoplan[postgis]'"
        ) from exc
    check_name(schema, "schema")
    tables = {name: check_name(f"{prefix}{name}", "table") for name in frames}
    try:
        connection = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        raise PostGISError(f"{_redacted(url)}: cannot connect ({exc})") from None
    written = []
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
            if cursor.fetchone() is None:
                raise PostGISError(f"{_redacted(url)}: the database has no PostGIS extension")
            existing = [
                table
                for table in tables.values()
                if cursor.execute("SELECT to_regclass(%s)", [f'"{schema}"."{table}"']).fetchone()[0]
                is not None
            ]
            if existing and not overwrite:
                raise OutputExistsError(
                    f"{_redacted(url)}: table {schema}.{existing[0]} exists; "
                    "pass --overwrite to replace it"
                )
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            for name, frame in frames.items():
                written.append(_write_table(cursor, sql, frame, schema, tables[name]))
    except psycopg.Error as exc:
        raise PostGISError(f"{_redacted(url)}: {exc}".strip()) from None
    finally:
        connection.close()
    return written


def _write_table(cursor, sql, frame: gpd.GeoDataFrame, schema: str, table: str) -> str:
    target = sql.Identifier(schema, table)
    srid = (frame.crs.to_epsg() or 0) if frame.crs is not None else 0
    geom_type, geoms = _geometry_type(frame.geometry.values)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    definitions = [
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_column_type(frame[c]))) for c in columns
    ]
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
    cursor.execute(
        sql.SQL("CREATE TABLE {} (gid bigserial PRIMARY KEY, {}, geom geometry({}, {}))").format(
            target,
            sql.SQL(", ").join(definitions) if definitions else sql.SQL("dummy boolean"),
            sql.SQL(geom_type),
            sql.Literal(srid),
        )
    )
    hexes = shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)
    values = frame[columns].astype(object).where(frame[columns].notna(), None)
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join([*(sql.Identifier(c) for c in columns), sql.Identifier("geom")])
    )
    with cursor.copy(copy) as writer:
        for row, geom in zip(values.itertuples(index=False, name=None), hexes, strict=True):
            writer.write_row((*row, geom))
    cursor.execute(
        sql.SQL("CREATE INDEX {} ON {} USING GIST (geom)").format(
            sql.Identifier(f"{table}_geom_gist"[:63]), target
        )
    )
    cursor.execute(sql.SQL("ANALYZE {}").format(target))
    return f"{schema}.{table}"
