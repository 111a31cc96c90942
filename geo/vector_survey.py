"""What a vector file layer holds, without reading its geometries whole.

A cluster run's client surveys a layer too large to hold in memory
(:func:`layers.loader.survey_layer`): its feature count, extent, a sample
of its features and, one column at a time, the attribute values decisions
on the whole layer need (repeated ids, fields with values). GDAL file
sources (GeoPackage, Shapefile, FileGDB, GeoJSON, FlatGeobuf …) and PostGIS
tables (the queries run by the server, :func:`geo.postgis_read.read_postgis`,
and the rows' digest computed a column and a chunk of geometries at a
time); GeoParquet files are read whole (:func:`geo.vector_read.read_vector`).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors

from geoplan.geo.checksum import RowsDigest
from geoplan.geo.encoding import shapefile_encoding
from geoplan.geo.errors import LayerReadError
from geoplan.geo.postgis import describe, is_postgis_url
from geoplan.geo.shapefile import gdal_path, is_shapefile

#: Geometries of a PostGIS table hashed at a time (:func:`table_rows_sha256`).
_DIGEST_CHUNK = 50_000


def surveyable(path: str | os.PathLike) -> bool:
    """Whether a source's layers can be surveyed: a GDAL file or a PostGIS table."""
    if is_postgis_url(path):
        return True
    path = Path(path)
    return path.exists() and path.suffix.lower() not in (".parquet", ".geoparquet")


def feature_count(path: str | os.PathLike, layer: str | None) -> int:
    """Features in a file layer as its driver counts them (-1 when it cannot count fast).

    Raises
    ------
    LayerReadError
        The source or layer cannot be opened.
    """
    if is_postgis_url(path):
        return len(_table(path, layer, columns=[], geometry=False))
    path = Path(path)
    try:
        return int(pyogrio.read_info(gdal_path(path, layer), layer=layer)["features"])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerReadError(f"{path} layer {layer!r}: cannot be read ({exc})") from None


def _encoding(path: Path, layer: str | None, encoding: str | None) -> str | None:
    if encoding is None and is_shapefile(path):
        return shapefile_encoding(path, layer)[0]
    return encoding


def read_column(
    path: str | os.PathLike,
    layer: str | None,
    column: str,
    *,
    encoding: str | None = None,
    where: str | None = None,
) -> pd.Series:
    """One attribute of every feature (``where`` applied), indexed by feature id.

    Raises
    ------
    LayerReadError
        The source, layer or column cannot be read.
    """
    if is_postgis_url(path):
        frame = _table(path, layer, where=where, columns=[column], geometry=False)
        return frame[frame.columns.drop(frame.geometry.name)[0]]
    path = Path(path)
    try:
        frame = pyogrio.read_dataframe(
            gdal_path(path, layer),
            layer=layer,
            encoding=_encoding(path, layer, encoding),
            where=where,
            columns=[column],
            read_geometry=False,
            fid_as_index=True,
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerReadError(
            f"{path} layer {layer!r} field {column!r}: cannot be read ({exc})"
        ) from None
    return frame[column]


def read_extent(
    path: str | os.PathLike, layer: str | None, *, where: str | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """Every feature's id (``where`` applied), which have finite bounds, and their extent.

    Returns
    -------
    fids : numpy.ndarray of int
        Every feature's id.
    bounded : numpy.ndarray of bool
        Whether its geometry has finite bounds (not missing, empty or NaN).
    extent : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of those, in the layer's CRS; NaN when none.

    Raises
    ------
    LayerReadError
        The source or layer cannot be read.
    """
    if is_postgis_url(path):
        frame = _table(path, layer, where=where, geometry="bounds")
        bounds = frame[["_xmin", "_ymin", "_xmax", "_ymax"]].to_numpy().T
        return _extent(frame.index.to_numpy(), frame.index.to_numpy(), bounds)
    path = Path(path)
    try:
        opened = gdal_path(path, layer)
        everyone = pyogrio.read_dataframe(
            opened, layer=layer, where=where, columns=[], read_geometry=False, fid_as_index=True
        )
        fids, bounds = pyogrio.read_bounds(opened, layer=layer, where=where)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerReadError(f"{path} layer {layer!r}: cannot be read ({exc})") from None
    return _extent(everyone.index.to_numpy(), fids, bounds)


def _extent(everyone: np.ndarray, fids: np.ndarray, bounds: np.ndarray) -> tuple:
    finite = np.isfinite(bounds).all(axis=0)
    bounded = np.isin(everyone, fids[finite])
    bounds = bounds[:, finite]
    if bounds.shape[1] == 0:
        return everyone, bounded, (np.nan,) * 4
    extent = (bounds[0].min(), bounds[1].min(), bounds[2].max(), bounds[3].max())
    return everyone, bounded, tuple(float(v) for v in extent)


def read_fids(
    path: str | os.PathLike, layer: str | None, fids: np.ndarray, *, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """The features with these ids, whole, indexed by feature id.

    Raises
    ------
    LayerReadError
        The source or layer cannot be read.
    """
    if len(fids) == 0:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], dtype="geometry"))
    if is_postgis_url(path):
        return _table(path, layer, fids=[int(f) for f in fids])
    path = Path(path)
    try:
        return pyogrio.read_dataframe(
            gdal_path(path, layer),
            layer=layer,
            encoding=_encoding(path, layer, encoding),
            fids=np.asarray(fids),
            fid_as_index=True,
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerReadError(f"{path} layer {layer!r}: cannot be read ({exc})") from None


def _table(url: str, layer: str | None, **options) -> gpd.GeoDataFrame:
    from geoplan.geo.postgis_read import read_postgis  # it imports geo.vector_read

    if layer is None:
        raise LayerReadError(f'{describe(url)}: name the table with layer = "schema.table"')
    return read_postgis(url, layer, **options)[0]


def table_rows_sha256(url: str, layer: str, *, where: str | None = None) -> str:
    """:func:`geo.checksum.rows_sha256` of a whole PostGIS table as read, without holding it.

    The ids, then each attribute column, then the geometries
    :data:`_DIGEST_CHUNK` at a time, each read by its own query.
    """
    fids = _table(url, layer, where=where, columns=[], geometry=False).index.to_numpy()
    digest = RowsDigest([int(f) for f in fids])
    for name in _table(url, layer, where=where, limit=0, geometry=False).columns:
        if name == "geometry":
            continue
        source = name.removeprefix("src_") if name == "src_geometry" else name
        frame = _table(url, layer, where=where, columns=[source], geometry=False)
        digest.column(name, frame[name])
    for start in range(0, fids.size, _DIGEST_CHUNK):
        chunk = fids[start : start + _DIGEST_CHUNK]
        digest.geometries(_table(url, layer, fids=[int(f) for f in chunk]).geometry.to_numpy())
    return digest.hexdigest()
