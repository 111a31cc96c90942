"""Writing layers to PostgreSQL/PostGIS (psycopg 3, no ORM).

All tables are written in one transaction: either every table is there,
complete and indexed, or none is. Schema and table names are checked
against a strict pattern and, like every column name, passed to the server
only as quoted identifiers (``psycopg.sql.Identifier``); values go through
``COPY``, geometries as hex EWKB with their SRID. Existing tables are kept
unless ``overwrite``.

Errors are one line. They name the database as :func:`describe` does —
user, host, port and database only, so no form of credential (a password
in the URL's user part, ``?password=``, ``password=`` in a keyword string,
``sslpassword``, ``PGPASSWORD``) is ever echoed — and the server's or
libpq's own message has every such secret replaced by ``***``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from urllib.parse import unquote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.geo.errors import GeoplanError, OutputExistsError

#: What a schema or table name may be: lower-case ASCII letters, digits, "_".
NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: Bytes PostgreSQL keeps of an identifier (NAMEDATALEN - 1).
MAX_IDENTIFIER_BYTES = 63
_SECRET_KEYS = ("password", "sslpassword")
# Where a password can be written, as typed: the URL's user part (up to the
# last "@" before the path), a query parameter, a keyword=value pair.
_RAW_SECRETS = (
    re.compile(r"^\w+://[^:/?#@]*:([^/?#]*)@"),
    re.compile(r"[?&](?:ssl)?password=([^&]*)", re.IGNORECASE),
    re.compile(r"(?:^|\s)(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE),
)
_TYPES = {"i": "bigint", "u": "bigint", "f": "double precision", "b": "boolean"}


#: URL schemes of a PostgreSQL database (libpq reads both).
SCHEMES = ("postgresql://", "postgres://")


def is_postgis_url(value: object) -> bool:
    """Whether a layer's ``path`` names a PostGIS database (``postgresql://`` or ``postgres://``)."""
    return isinstance(value, str) and value.lower().startswith(SCHEMES)


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


def describe(target: str) -> str:
    """Where a connection string points, without any credential.

    Parameters
    ----------
    target : str
        A ``postgresql://`` URL or a libpq keyword/value string.

    Returns
    -------
    str
        ``postgresql://user@host:port/dbname`` with the parts ``target``
        gives, or ``"the PostgreSQL connection string"`` when libpq cannot
        parse it.
    """
    params = _parse(target)
    if params is None:
        return "the PostgreSQL connection string"
    user = f"{params['user']}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    text = f"postgresql://{user}{params.get('host', '')}{port}/{params.get('dbname', '')}"
    return scrub(text, target)


def _parse(target: str) -> dict | None:
    """The connection parameters libpq reads from ``target``; None if it cannot."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(target)
    except psycopg.Error:
        return None


def _secrets(target: str) -> set[str]:
    """Every string in ``target`` or the environment that may be a password."""
    found = {match.group(1) for pattern in _RAW_SECRETS for match in pattern.finditer(target)}
    found |= {s[1:-1] for s in found if len(s) > 1 and s[0] == s[-1] == "'"}
    params = _parse(target) or {}
    found |= {str(params[key]) for key in _SECRET_KEYS if params.get(key)}
    found |= {unquote(s) for s in found}
    if os.environ.get("PGPASSWORD"):
        found.add(os.environ["PGPASSWORD"])
    return {s for s in found if s}


def scrub(text: str, target: str) -> str:
    """``text`` on one line, with every password of ``target`` (see :func:`describe`) as ``***``.

    Parameters
    ----------
    text : str
        A message, such as libpq's or the server's (which may span lines).
    target : str
        The connection string the message is about.

    Returns
    -------
    str
    """
    for secret in sorted(_secrets(target), key=len, reverse=True):
        text = text.replace(secret, "***")
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())


def _check_target(target: str) -> None:
    """Refuse a URL whose user part libpq would read differently from what was meant."""
    authority = re.match(r"^\w+://([^/?#]*)", target)
    if authority and authority.group(1).count("@") > 1:
        raise PostGISError(
            "the PostgreSQL URL has more than one '@' before the host; "
            "write an '@' in the user name or password as %40"
        )


def index_name(table: str, suffix: str = "geom_gist") -> str:
    """The name of a table's index: ``<table>_<suffix>``, within PostgreSQL's 63 bytes.

    A name that would be longer keeps the start of the table name and adds
    eight hex digits of its SHA-1, so the indexes of two long tables that
    share their first characters still differ.

    Parameters
    ----------
    table : str
        Table name (at most 63 bytes).
    suffix : str
        What the index is.

    Returns
    -------
    str
        At most :data:`MAX_IDENTIFIER_BYTES` bytes in UTF-8.
    """
    name = f"{table}_{suffix}"
    if len(name.encode()) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha1(table.encode()).hexdigest()[:8]
    room = MAX_IDENTIFIER_BYTES - len(f"__{digest}{suffix}".encode())
    start = table.encode()[:room].decode(errors="ignore")
    return f"{start}_{digest}_{suffix}"


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
        ``postgresql://user[:password]@host[:port]/database[?param=value…]``
        or a libpq keyword/value string (``host=… dbname=…``); the password
        may also come from ``PGPASSWORD`` or a password file.
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
    _check_target(url)
    where = describe(url)
    try:
        connection = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        raise PostGISError(f"{where}: cannot connect ({scrub(str(exc), url)})") from None
    written = []
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
            if cursor.fetchone() is None:
                raise PostGISError(f"{where}: the database has no PostGIS extension")
            existing = [
                table
                for table in tables.values()
                if cursor.execute("SELECT to_regclass(%s)", [f'"{schema}"."{table}"']).fetchone()[0]
                is not None
            ]
            if existing and not overwrite:
                raise OutputExistsError(f"{where}: table {schema}.{existing[0]} exists")
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            for name, frame in frames.items():
                try:
                    written.append(_write_table(cursor, sql, frame, schema, tables[name]))
                except psycopg.Error as exc:
                    raise PostGISError(
                        f"{where}: table {schema}.{tables[name]}: {scrub(str(exc), url)}"
                    ) from None
    except psycopg.Error as exc:
        raise PostGISError(f"{where}: {scrub(str(exc), url)}") from None
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
            sql.Identifier(index_name(table)), target
        )
    )
    cursor.execute(sql.SQL("ANALYZE {}").format(target))
    return f"{schema}.{table}"
