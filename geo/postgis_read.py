"""Reading a layer from a PostgreSQL/PostGIS table (psycopg 3), box and ``where`` in the query.

A layer may name a table instead of a file: ``postgresql://user@host:port/db``
(or ``postgres://``; libpq parameters such as ``?sslmode=require`` are kept)
and ``schema.table`` (``table`` alone: in ``public``). The password never
comes from the project file — a URL holding one is refused
(:func:`password_problem`) — but from ``PGPASSWORD`` or ``~/.pgpass``, which
libpq reads.

pyogrio's bundled GDAL has no PostgreSQL driver, so the table is read with
psycopg, the way GDAL's driver reads one: the first ``geometry`` column, the
single-column integer primary key as feature id (not an attribute), the
CRS from the column's SRID (``spatial_ref_sys``), text converted to UTF-8 by
the server. A box becomes ``geom && ST_MakeEnvelope(…)`` (answered from
the GiST index) and ``where`` the query's ``WHERE``, both run by the
server; :func:`geo.vector_read.read_vector`, which calls :func:`read_postgis`,
then keeps only features whose geometry really meets the box, as it does
for files. Names reach the server only as quoted identifiers
(``psycopg.sql.Identifier``), numbers as literals; the session is read-only.

A table without such a primary key is refused: GDAL numbers its features
in the order the server returns them (0, 1, … of each read), so ids would
change with the box and between runs.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from geoplan.geo.errors import LayerReadError
from geoplan.geo.postgis import describe, scrub
from geoplan.geo.vector_read import source_field_name

#: Characters a schema or table name in ``layer`` may not hold (GDAL's
#: ``schema.table`` syntax and control characters).
_BAD_NAME = re.compile(r'[.,()"\x00-\x1f\x7f]')
_INTEGER_TYPES = {"int2", "int4", "int8"}
_FLOAT_TYPES = {"numeric", "float4", "float8"}
_TIME_TYPES = {"date", "timestamp", "timestamptz"}
_BATCH = 10_000  # rows fetched from the server-side cursor at a time
_TIMEOUT_S = 10


def password_problem(url: str) -> str | None:
    """Why ``url`` may not stand in a project file, or None; the message never quotes it.

    Parameters
    ----------
    url : str
        A ``postgresql://`` URL.

    Returns
    -------
    str or None
        A password in the user part (``user:secret@``; a ``:`` before the
        last ``@``, so an unencoded ``/`` or ``@`` in it is caught too) or as
        a parameter (``password=``, ``sslpassword=``), or a URL libpq cannot
        parse.
    """
    from psycopg import Error
    from psycopg.conninfo import conninfo_to_dict

    rest = re.split(r"[?#]", url.split("://", 1)[-1], maxsplit=1)[0]
    if ":" in rest[: rest.rfind("@") + 1]:
        return _PASSWORD_ADVICE
    try:
        params = conninfo_to_dict(url)
    except Error:
        return "is not a PostgreSQL URL libpq can read (postgresql://user@host:port/database)"
    if any(key in params for key in ("password", "sslpassword")):
        return _PASSWORD_ADVICE
    return None


_PASSWORD_ADVICE = (
    "holds a password; a project file must not: remove it from the URL and give it in "
    "the PGPASSWORD environment variable or ~/.pgpass"
)


def split_table(layer: str) -> tuple[str, str]:
    """``(schema, table)`` of a layer's ``schema.table`` (``table`` alone: in ``public``).

    Raises
    ------
    ValueError
        Empty parts, more than one ``.``, or a ``,``, ``(``, ``)``, ``"`` or
        control character in a name.
    """
    parts = layer.split(".")
    if len(parts) == 1:
        parts = ["public", *parts]
    if len(parts) != 2 or not all(parts) or any(_BAD_NAME.search(p) for p in parts):
        raise ValueError(
            f'{layer!r} is not schema.table (names without . , ( ) " or control characters)'
        )
    return parts[0], parts[1]


def source_label(url: str, layer: str) -> str:
    """How messages and reports name a table: ``postgresql://user@host:port/db table s.t``."""
    schema, table = split_table(layer)
    return f"{describe(url)} table {schema}.{table}"


def read_postgis(
    url: str,
    layer: str,
    *,
    where: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    columns: list[str] | None = None,
    geometry: bool | str = True,
    limit: int | None = None,
    fids: list[int] | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a PostGIS table's features whose envelope meets ``bbox`` and that ``where`` selects.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/database[?param=value…]``, without a
        password (libpq takes it from ``PGPASSWORD`` or ``~/.pgpass``).
    layer : str
        ``schema.table`` or ``table`` (in ``public``).
    where : str, optional
        An SQL expression run by PostgreSQL (its dialect: quote a column
        name with capitals, ``"KJLX" = '城镇空间'``).
    bbox : tuple of float, optional
        ``(xmin, ymin, xmax, ymax)`` in the table's SRID: only rows whose
        geometry's envelope meets it (``&&``, from the GiST index).
    columns : list of str, optional
        The attributes to read (default all), in table order.
    geometry : bool or "bounds", default True
        Read the geometries; without, the frame's geometry is all missing;
        ``"bounds"``: not the geometries but their envelopes, as attributes
        ``_xmin``, ``_ymin``, ``_xmax``, ``_ymax`` (NaN for a missing or empty one).
    limit : int, optional
        The first rows only, by primary key.
    fids : list of int, optional
        The rows with these primary keys only.

    Returns
    -------
    frame : geopandas.GeoDataFrame
        Indexed by the primary key (``fid``), in its order; attributes in
        column order (a column named ``geometry`` as ``src_geometry``).
    notes : list of str
        What the reader decided (geometry column chosen among several).

    Raises
    ------
    LayerReadError
        Server unreachable, authentication failed, no such schema or table,
        no geometry column, no single-column integer primary key, mixed or
        unknown SRIDs, a ``where`` the server refuses. One line naming the
        URL (without password) and the table.
    """
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the installation
        raise LayerReadError(
            f"table {layer}: reading PostGIS needs psycopg: pip install 'geoplan[postgis]'"
        ) from None
    schema, table = split_table(layer)
    label = f"{describe(url)} table {schema}.{table}"
    try:
        connection = psycopg.connect(
            url, connect_timeout=_TIMEOUT_S, client_encoding="UTF8", application_name="geoplan"
        )
    except psycopg.Error as exc:
        raise LayerReadError(f"{label}: cannot connect ({scrub(str(exc), url)})") from None
    try:
        connection.read_only = True
        with connection:
            options = {"columns": columns, "geometry": geometry, "limit": limit, "fids": fids}
            return _read(connection, schema, table, label, where, bbox, **options)
    except psycopg.Error as exc:
        detail = f" with where {where!r}" if where else ""
        raise LayerReadError(f"{label}: cannot be read{detail} ({scrub(str(exc), url)})") from None
    finally:
        connection.close()


def _read(
    connection, schema, table, label, where, bbox, *, columns, geometry, limit, fids
) -> tuple[gpd.GeoDataFrame, list[str]]:
    from psycopg import sql

    cursor = connection.cursor()
    if cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone() is None:
        raise LayerReadError(f"{label}: no schema {schema!r} in the database")
    found = cursor.execute(
        "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        [schema, table],
    ).fetchone()
    if found is None:
        raise LayerReadError(f"{label}: no table {table!r} in schema {schema!r}")
    described = cursor.execute(
        "SELECT a.attname, t.typname, a.atttypmod FROM pg_attribute a "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [found[0]],
    ).fetchall()
    geometries = [(name, typmod) for name, kind, typmod in described if kind == "geometry"]
    if not geometries:
        geography = [name for name, kind, _ in described if kind == "geography"]
        hint = f" (geography column {geography[0]}: cast it in a view)" if geography else ""
        raise LayerReadError(f"{label}: has no geometry column{hint}")
    geom, typmod = geometries[0]
    notes = []
    if len(geometries) > 1:
        notes.append(
            f"geometry read from column {geom}; also has {', '.join(n for n, _ in geometries[1:])}"
        )
    fid = _primary_key(cursor, found[0], label)
    srid = cursor.execute("SELECT postgis_typmod_srid(%s)", [typmod]).fetchone()[0]
    target = sql.Identifier(schema, table)
    if not srid:
        srid = _data_srid(cursor, sql, target, sql.Identifier(geom), label)
    attributes = [(n, k) for n, k, _ in described if k != "geometry" and n != fid]
    if columns is not None:
        attributes = [(n, k) for n, k in attributes if n in columns]

    conditions = []
    if where:
        conditions.append(sql.SQL("({})").format(sql.SQL(where)))
    if bbox is not None:
        conditions.append(
            sql.SQL("{} && ST_MakeEnvelope({}, {}, {}, {}, {})").format(
                sql.Identifier(geom), *map(sql.Literal, bbox), sql.Literal(srid)
            )
        )
    if fids is not None:
        conditions.append(
            sql.SQL("{} = ANY({})").format(sql.Identifier(fid), sql.Literal([int(f) for f in fids]))
        )
    column, selected = sql.Identifier(geom), attributes
    if geometry == "bounds":  # the envelope's corners: NULL for a missing or empty geometry
        selected, attributes = [], [(f"_{c}", "float8") for c in ("xmin", "ymin", "xmax", "ymax")]
        shape = sql.SQL("ST_XMin({0}), ST_YMin({0}), ST_XMax({0}), ST_YMax({0}), NULL").format(
            column
        )
    elif geometry:
        shape = sql.SQL("ST_AsBinary({})").format(column)
    else:
        shape = sql.SQL("NULL")
    query = sql.SQL("SELECT {}, {}{} FROM {}{} ORDER BY {}{}").format(
        sql.Identifier(fid),
        sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(n)) for n, _ in selected),
        shape,
        target,
        sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL(""),
        sql.Identifier(fid),
        sql.SQL(" LIMIT {}").format(sql.Literal(int(limit))) if limit is not None else sql.SQL(""),
    )
    with connection.cursor(name="geoplan_read") as rows:
        rows.itersize = _BATCH
        rows.execute(query)
        records = list(rows)
    return _frame(records, attributes, _crs(cursor, srid, label)), notes


def _primary_key(cursor, oid: int, label: str) -> str:
    key = cursor.execute(
        "SELECT a.attname, t.typname FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "JOIN pg_type t ON t.oid = a.atttypid WHERE i.indrelid = %s AND i.indisprimary",
        [oid],
    ).fetchall()
    if len(key) != 1 or key[0][1] not in _INTEGER_TYPES:
        raise LayerReadError(
            f"{label}: has no primary key of one integer column, so its features have no "
            "stable ids (GDAL would number them in the order read, which changes with the "
            "box); add one: ALTER TABLE … ADD COLUMN gid bigserial PRIMARY KEY"
        )
    return key[0][0]


def _data_srid(cursor, sql, target, geom, label: str) -> int:
    """The SRID of a column declared without one: that of its geometries, if all share it."""
    found = cursor.execute(
        sql.SQL("SELECT DISTINCT ST_SRID({}) FROM {} WHERE {} IS NOT NULL LIMIT 2").format(
            geom, target, geom
        )
    ).fetchall()
    if len(found) > 1:
        raise LayerReadError(f"{label}: its geometries have different SRIDs ({found[0][0]}, …)")
    return found[0][0] if found else 0


def _crs(cursor, srid: int, label: str) -> CRS | None:
    """The CRS of an SRID from ``spatial_ref_sys``; None for 0 (unknown)."""
    if not srid:
        return None
    row = cursor.execute(
        "SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = %s", [srid]
    ).fetchone()
    if row is None:
        raise LayerReadError(f"{label}: SRID {srid} is not in spatial_ref_sys")
    auth, code, wkt = row
    try:
        return CRS.from_authority(auth, code)
    except ProjCRSError:  # a custom SRID (auth_name NULL or unknown to PROJ): its WKT
        try:
            return CRS.from_wkt(wkt or "")
        except ProjCRSError as exc:
            message = " ".join(str(exc).split())
            raise LayerReadError(
                f"{label}: SRID {srid} is not a CRS pyproj knows ({message})"
            ) from None


def _frame(records: list[tuple], attributes: list[tuple[str, str]], crs) -> gpd.GeoDataFrame:
    fids = np.array([r[0] for r in records], dtype=np.int64)
    data = {}
    for i, (name, kind) in enumerate(attributes, start=1):
        values = [r[i] for r in records]
        if kind in _FLOAT_TYPES:
            column = np.array([math.nan if v is None else float(v) for v in values], dtype=float)
        elif kind in _TIME_TYPES:
            column = pd.to_datetime(values).to_numpy()
        else:
            if any(isinstance(v, Decimal) for v in values):  # numeric inside a domain type
                values = [None if v is None else float(v) for v in values]
            column = pd.Series(values, dtype=None if values else object).to_numpy()
        data[source_field_name(name, data) if name.casefold() == "geometry" else name] = column
    wkb = np.array([None if r[-1] is None else bytes(r[-1]) for r in records], dtype=object)
    return gpd.GeoDataFrame(
        data, index=pd.Index(fids, name="fid"), geometry=shapely.from_wkb(wkb), crs=crs
    )
