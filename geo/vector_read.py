"""Reading vector files: one layer of a source into a GeoDataFrame.

Reads through pyogrio (GDAL) — GeoPackage, Shapefile (also zipped), FileGDB
(``.gdb`` folders), GeoJSON, FlatGeobuf, KML — and GeoParquet through
geopandas (pyogrio's bundled GDAL has no Parquet driver). Shapefile text is
decoded with the encoding :mod:`geo.encoding` decides from the bytes; a
Shapefile cut short is refused (:mod:`geo.shapefile`). Writing is
:mod:`geo.vector_write`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from geoplan.geo.encoding import garbled_text_warnings, shapefile_encoding
from geoplan.geo.errors import LayerReadError
from geoplan.geo.shapefile import gdal_path, is_shapefile, refuse_truncated_shapefile

logger = logging.getLogger(__name__)


@dataclass
class VectorSource:
    """A layer read from a file.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The features, indexed by their feature id in the source.
    path : pathlib.Path
    layer : str or None
        Layer name within the source.
    driver : str
        GDAL driver name, or ``"GeoParquet"``.
    encoding : str or None
        Text encoding used to decode attributes (Shapefiles only).
    encoding_how : str or None
        How the encoding was decided (``"cpg"``, ``"gb18030 bytes"`` …).
    notes : list of str
        What the reader noticed, for the inventory: a field kept under
        another name, text that looks garbled (also logged as a warning).
    """

    frame: gpd.GeoDataFrame
    path: Path
    layer: str | None
    driver: str
    encoding: str | None = None
    encoding_how: str | None = None
    notes: list[str] = field(default_factory=list)


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
) -> VectorSource:
    """Read one layer of a vector source into a GeoDataFrame.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage, Shapefile (``.shp`` or ``.zip``), FileGDB folder, GeoJSON,
        FlatGeobuf, KML or GeoParquet.
    layer : str, optional
        Layer to read; required when the source holds more than one.
    encoding : str, optional
        Text encoding of a Shapefile; detected from its bytes when not given.
    where : str, optional
        SQL ``WHERE`` clause (OGR SQL) selecting features, e.g.
        ``"空间类型 = '城镇空间'"``.

    Returns
    -------
    VectorSource

    Raises
    ------
    LayerReadError
        Missing file, missing layer, ambiguous layer, bad ``where`` clause,
        a source GDAL cannot read, or a Shapefile cut short (records its
        ``.shx`` places past the end of the ``.shp``).
    EncodingError
        A Shapefile's text encoding cannot be determined.

    Notes
    -----
    A source field named ``geometry``, which GDAL's reader would hide behind
    the geometry column, is kept as ``src_geometry`` (see
    :func:`source_field_name`). Text of a Shapefile decoded as GBK/GB18030
    that looks garbled is warned about (:func:`geo.encoding.garbled_text_warnings`).
    """
    path = Path(path)
    _require_exists(path)
    if _is_parquet(path):
        return _read_parquet(path, where)

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
                opened, layer=layer, encoding=encoding, where=where, fid_as_index=True
            )
        if isinstance(frame, gpd.GeoDataFrame) and "geometry" in list(info["fields"]):
            shadowed = pyogrio.read_dataframe(
                opened,
                layer=layer,
                encoding=encoding,
                where=where,
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
    garbled = _garbled_text(frame, encoding, f"{path}:{layer}") if shapefile else []
    for warning in garbled:
        logger.warning("%s", warning)
    return VectorSource(frame, path, layer, info["driver"], encoding, how, notes + garbled)


def _garbled_text(frame: gpd.GeoDataFrame, encoding: str | None, source: str) -> list[str]:
    text = {
        column: [str(v) for v in frame[column].dropna().unique()]
        for column in frame.columns
        if column != frame.geometry.name
        and (frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]))
    }
    text["(field names)"] = [str(c) for c in frame.columns]
    return garbled_text_warnings(text, encoding, source=source)


def _read_parquet(path: Path, where: str | None) -> VectorSource:
    try:
        frame = gpd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise LayerReadError(f"{path}: cannot be read as GeoParquet ({exc})") from None
    frame = frame.reset_index(drop=True)
    frame.index.name = "fid"
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
