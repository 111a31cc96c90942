"""Reading vector files: one layer of a source into a GeoDataFrame.

Reads through pyogrio (GDAL) — GeoPackage, Shapefile (also zipped), FileGDB
(``.gdb`` folders), GeoJSON, FlatGeobuf, KML — GeoParquet through
geopandas (pyogrio's bundled GDAL has no Parquet driver) and PostGIS tables
through :mod:`geo.postgis_read` (nor a PostgreSQL one). A bounding box
reads only the features that meet it, from the source's spatial index.
Shapefile text is decoded with the encoding :mod:`geo.encoding` decides
from the bytes; a Shapefile cut short is refused (:mod:`geo.shapefile`).
Writing is :mod:`geo.vector_write`.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from geoplan.geo.checksum import rows_sha256
from geoplan.geo.encoding import garbled_text_warnings, shapefile_encoding
from geoplan.geo.errors import LayerReadError
from geoplan.geo.geoparquet import read_row_groups_in_box
from geoplan.geo.postgis import describe, is_postgis_url
from geoplan.geo.shapefile import gdal_path, is_shapefile, refuse_truncated_shapefile

logger = logging.getLogger(__name__)


@dataclass
class VectorSource:
    """A layer read from a file or a PostGIS table.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The features, indexed by their feature id in the source.
    path : pathlib.Path or str
        The file, or the ``postgresql://`` URL (without password).
    layer : str or None
        Layer name within the source (``schema.table`` for PostGIS).
    driver : str
        GDAL driver name, ``"GeoParquet"``, or ``"PostgreSQL"``.
    encoding : str or None
        Text encoding used to decode attributes (Shapefiles only).
    encoding_how : str or None
        How the encoding was decided (``"cpg"``, ``"gb18030 bytes"`` …).
    notes : list of str
        What the reader noticed, for the inventory: a field kept under
        another name, text that looks garbled (also logged as a warning).
    sha256 : str or None
        For a PostGIS table, which has no file to hash: the digest of the
        rows read (:func:`geo.checksum.rows_sha256`); None for a file.
    """

    frame: gpd.GeoDataFrame
    path: Path | str
    layer: str | None
    driver: str
    encoding: str | None = None
    encoding_how: str | None = None
    notes: list[str] = field(default_factory=list)
    sha256: str | None = None


#: Prefix given to a source field whose name a reader of the outputs would
#: confuse with one geoplan writes (``area_m2`` is kept as ``src_area_m2``).
SOURCE_FIELD_PREFIX = "src_"


def source_field_name(name: str, taken: Collection[str]) -> str:
    """The name a source field is kept under: ``name``, or ``src_name`` when that is taken.

    Names are compared case-insensitively (GeoPackage and Shapefile columns
    are), and the prefix is repeated until the name is free
    (``src_src_name``).

    Parameters
    ----------
    name : str
        The field's name in the source.
    taken : collection of str
        Names already used, in any case.

    Returns
    -------
    str
    """
    folded = {t.casefold() for t in taken}
    while name.casefold() in folded:
        name = SOURCE_FIELD_PREFIX + name
    return name


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".geoparquet")


def list_layers(path: str | os.PathLike) -> list[str]:
    """Names of the layers in a vector source.

    Raises
    ------
    LayerReadError
        The source does not exist or GDAL cannot open it.
    """
    path = Path(path)
    _require_exists(path)
    if _is_parquet(path):
        return [path.stem]
    try:
        return [str(name) for name in pyogrio.list_layers(gdal_path(path))[:, 0]]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerReadError(f"{path}: cannot be opened as vector data ({exc})") from None


def _require_exists(path: Path) -> None:
    if not path.exists():
        raise LayerReadError(f"{path}: no such file or folder")


def read_vector(
    path: str | os.PathLike,
    layer: str | None = None,
    *,
    encoding: str | None = None,
    where: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    max_features: int | None = None,
) -> VectorSource:
    """Read one layer of a vector source into a GeoDataFrame.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage, Shapefile (``.shp`` or ``.zip``), FileGDB folder, GeoJSON,
        FlatGeobuf, KML or GeoParquet; or a PostGIS database as a
        ``postgresql://user@host:port/db`` URL (a ``str``) without password
        (:mod:`geo.postgis_read`; libpq takes the password from
        ``PGPASSWORD`` or ``~/.pgpass``).
    layer : str, optional
        Layer to read; required when the source holds more than one, and
        for a database (``schema.table``, or ``table`` in ``public``).
    encoding : str, optional
        Text encoding of a Shapefile; detected from its bytes when not given.
    where : str, optional
        SQL ``WHERE`` clause (OGR SQL; PostgreSQL's for a database) selecting
        features, e.g. ``"空间类型 = '城镇空间'"``.
    bbox : tuple of float, optional
        ``(xmin, ymin, xmax, ymax)`` in the layer's own CRS (its units, e.g.
        metres or degrees): only the features whose geometry intersects this
        box are read, whole (not clipped), keeping their feature ids. GDAL
        sources get it as a spatial filter (pyogrio's ``bbox=``), which the
        driver answers from the layer's spatial index (GeoPackage R-tree,
        Shapefile ``.qix``, PostGIS ``&&``). The envelope test of the index
        is then made exact with shapely's ``intersects``, so a feature whose
        envelope meets the box but whose geometry does not is left out on
        every driver. A GeoParquet file's row groups that its ``bbox``
        covering column puts wholly outside the box are skipped (without
        one the file is read whole), and its rows keep their row numbers
        in the file as feature ids (:mod:`geo.geoparquet`). Combines with
        ``where`` (both must hold).
    max_features : int, optional
        Read at most this many features, the first in the source's order
        (GDAL sources; others are read whole, then cut).

    Returns
    -------
    VectorSource

    Raises
    ------
    LayerReadError
        Missing file, missing layer, ambiguous layer, bad ``where`` clause,
        a ``bbox`` that is not four finite numbers with ``xmin <= xmax`` and
        ``ymin <= ymax``, a source GDAL cannot read, a Shapefile cut short
        (records its ``.shx`` places past the end of the ``.shp``), a
        PostGIS table that cannot be read (:func:`geo.postgis_read.read_postgis`).
    EncodingError
        A Shapefile's text encoding cannot be determined.

    Notes
    -----
    A source field named ``geometry``, which GDAL's reader would hide behind
    the geometry column, is kept as ``src_geometry`` (see
    :func:`source_field_name`). Text of a Shapefile decoded as GBK/GB18030
    that looks garbled is warned about (:func:`geo.encoding.garbled_text_warnings`).
    """
    if is_postgis_url(path):
        return _read_table(path, layer, encoding, where, bbox, max_features)
    path = Path(path)
    _require_exists(path)
    if bbox is not None:
        bbox = _checked_bbox(bbox, path)
    if _is_parquet(path):
        return _first(_read_parquet(path, where, bbox), max_features)

    layers = list_layers(path)
    if layer is None:
        if len(layers) > 1:
            raise LayerReadError(
                f"{path}: holds {len(layers)} layers ({', '.join(layers)}); name one with `layer`"
            )
        if not layers:
            raise LayerReadError(f"{path}: holds no layers")
        layer = layers[0]
    elif layer not in layers:
        raise LayerReadError(
            f"{path}: no layer {layer!r}; its layers are: {', '.join(layers) or 'none'}"
        )

    shapefile = is_shapefile(path)
    how = None
    if encoding is None and shapefile:
        encoding, how = shapefile_encoding(path, layer)
    elif encoding is not None:
        how = "given"
    if shapefile:
        refuse_truncated_shapefile(path, layer)
    notes: list[str] = []

    try:
        opened = gdal_path(path, layer)
        info = pyogrio.read_info(opened, layer=layer, encoding=encoding)
        with warnings.catch_warnings():
            # shapely warns on NaN coordinates; geo.repair refuses them, naming the feature
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            frame = pyogrio.read_dataframe(
                opened,
                layer=layer,
                encoding=encoding,
                where=where,
                bbox=bbox,
                max_features=max_features,
                fid_as_index=True,
            )
        if isinstance(frame, gpd.GeoDataFrame) and "geometry" in list(info["fields"]):
            shadowed = pyogrio.read_dataframe(
                opened,
                layer=layer,
                encoding=encoding,
                where=where,
                bbox=bbox,
                max_features=max_features,
                columns=["geometry"],
                read_geometry=False,
                fid_as_index=True,
            )
            kept_as = source_field_name("geometry", frame.columns)
            frame.insert(0, kept_as, shadowed["geometry"])
            notes.append(f"source field geometry kept as {kept_as}: geoplan writes geometry itself")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        detail = f" with where {where!r}" if where else ""
        raise LayerReadError(f"{path} layer {layer!r}: cannot be read{detail} ({exc})") from None
    except (UnicodeDecodeError, LookupError) as exc:
        raise LayerReadError(
            f"{path} layer {layer!r}: text cannot be decoded as {encoding} ({exc})"
        ) from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerReadError(f"{path} layer {layer!r}: has no geometry column")
    frame.index.name = "fid"
    if bbox is not None:
        frame = frame[_intersects_box(frame, bbox)]
    garbled = _garbled_text(frame, encoding, f"{path}:{layer}") if shapefile else []
    for warning in garbled:
        logger.warning("%s", warning)
    return VectorSource(frame, path, layer, info["driver"], encoding, how, notes + garbled)


def _first(source: VectorSource, max_features: int | None) -> VectorSource:
    if max_features is not None:
        source.frame = source.frame.iloc[:max_features]
    return source


def _garbled_text(frame: gpd.GeoDataFrame, encoding: str | None, source: str) -> list[str]:
    text = {
        column: [str(v) for v in frame[column].dropna().unique()]
        for column in frame.columns
        if column != frame.geometry.name
        and (frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]))
    }
    text["(field names)"] = [str(c) for c in frame.columns]
    return garbled_text_warnings(text, encoding, source=source)


def _read_table(
    url: str,
    layer: str | None,
    encoding: str | None,
    where: str | None,
    bbox: tuple[float, float, float, float] | None,
    limit: int | None = None,
) -> VectorSource:
    """A PostGIS table, read like a file (:mod:`geo.postgis_read`), with its rows' digest."""
    from geoplan.geo.postgis_read import read_postgis, source_label  # it imports this module

    if layer is None:
        raise LayerReadError(f'{describe(url)}: name the table with layer = "schema.table"')
    try:
        label = source_label(url, layer)
    except ValueError as exc:
        raise LayerReadError(f"{describe(url)} layer: {exc}") from None
    if encoding is not None:
        raise LayerReadError(f"{label}: encoding does not apply, the server sends UTF-8")
    if bbox is not None:
        bbox = _checked_bbox(bbox, label)
    frame, notes = read_postgis(url, layer, where=where, bbox=bbox, limit=limit)
    if bbox is not None:
        frame = frame[_intersects_box(frame, bbox)]
    how = "converted by the server"
    return VectorSource(frame, url, layer, "PostgreSQL", "UTF-8", how, notes, rows_sha256(frame))


def _checked_bbox(bbox: tuple[float, float, float, float], source: object) -> tuple[float, ...]:
    try:
        xmin, ymin, xmax, ymax = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise LayerReadError(
            f"{source}: bbox must be four numbers (xmin, ymin, xmax, ymax)"
        ) from None
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmin > xmax or ymin > ymax:
        raise LayerReadError(
            f"{source}: bbox {bbox!r} is not a box (xmin <= xmax, ymin <= ymax, finite)"
        )
    return xmin, ymin, xmax, ymax


def _intersects_box(frame: gpd.GeoDataFrame, bbox: tuple[float, ...]) -> np.ndarray:
    """Which rows' geometry intersects the box (null geometry does not)."""
    box = shapely.box(*bbox)
    shapely.prepare(box)
    return shapely.intersects(box, frame.geometry.to_numpy())


def _read_parquet(path: Path, where: str | None, bbox: tuple[float, ...] | None) -> VectorSource:
    try:
        if bbox is None:
            frame = gpd.read_parquet(path).reset_index(drop=True)
            frame.index.name = "fid"
        else:
            frame = read_row_groups_in_box(path, bbox)
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise LayerReadError(f"{path}: cannot be read as GeoParquet ({exc})") from None
    if bbox is not None:
        frame = frame[_intersects_box(frame, bbox)]
    if where:
        frame = _filter_with_ogr_sql(frame, where, path)
    return VectorSource(frame, path, path.stem, "GeoParquet")


def _filter_with_ogr_sql(frame: gpd.GeoDataFrame, where: str, path: Path) -> gpd.GeoDataFrame:
    """Apply an OGR SQL ``WHERE`` to a frame GDAL cannot read directly."""
    staged_frame = frame.assign(_geoplan_row=range(len(frame)))
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "staged.gpkg"
        pyogrio.write_dataframe(staged_frame, staged, layer="staged")
        try:
            kept = pyogrio.read_dataframe(
                staged, layer="staged", where=where, columns=["_geoplan_row"], read_geometry=False
            )
        except pyogrio.errors.DataLayerError as exc:
            raise LayerReadError(f"{path}: cannot apply where {where!r} ({exc})") from None
    return frame.iloc[kept["_geoplan_row"].to_numpy()]
