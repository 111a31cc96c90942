"""Vector I/O: the only module that reads and writes vector files.

Reads through pyogrio (GDAL) — GeoPackage, Shapefile (also zipped), FileGDB
(``.gdb`` folders), GeoJSON, FlatGeobuf, KML — and GeoParquet through
geopandas (pyogrio's bundled GDAL has no Parquet driver). Shapefile text is
decoded with the encoding :mod:`geo.encoding` decides from the bytes.

Every write is atomic: the output is written beside its target under a
temporary name and renamed into place only once complete, so a failed run
leaves no half-written file. An existing output is kept unless
``overwrite=True``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors

from geoplan.geo.encoding import garbled_text_warnings, shapefile_encoding
from geoplan.geo.errors import LayerReadError
from geoplan.geo.outputs import atomic_output

logger = logging.getLogger(__name__)

#: Output drivers by file suffix ("parquet" is written by geopandas).
DRIVERS: dict[str, str] = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".kml": "KML",
    ".gdb": "OpenFileGDB",
    ".csv": "CSV",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}

_WGS84_ONLY = {"GeoJSON", "KML"}  # RFC 7946 and the KML specification


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


def _is_shapefile(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".shp", ".dbf"):
        return True
    if suffix == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(n.lower().endswith(".shp") for n in archive.namelist())
    return False


def _gdal_path(path: Path, layer: str | None = None) -> str | Path:
    """The path GDAL should open: a Shapefile inside a zip is opened by its member path."""
    if path.suffix.lower() != ".zip" or not zipfile.is_zipfile(path):
        return path
    with zipfile.ZipFile(path) as archive:
        shps = [n for n in archive.namelist() if n.lower().endswith(".shp")]
    if layer is not None:
        shps = [n for n in shps if Path(n).stem == layer] or shps
    if len(shps) == 1 and "/" in shps[0]:
        return f"/vsizip/{path}/{shps[0]}"
    return path


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
        return [str(name) for name in pyogrio.list_layers(_gdal_path(path))[:, 0]]
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

    shapefile = _is_shapefile(path)
    how = None
    if encoding is None and shapefile:
        encoding, how = shapefile_encoding(path, layer)
    elif encoding is not None:
        how = "given"
    if shapefile:
        _refuse_truncated_shapefile(path, layer)
    notes: list[str] = []

    try:
        gdal_path = _gdal_path(path, layer)
        info = pyogrio.read_info(gdal_path, layer=layer, encoding=encoding)
        with warnings.catch_warnings():
            # shapely warns on NaN coordinates; geo.repair refuses them, naming the feature
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            frame = pyogrio.read_dataframe(
                gdal_path, layer=layer, encoding=encoding, where=where, fid_as_index=True
            )
        if isinstance(frame, gpd.GeoDataFrame) and "geometry" in list(info["fields"]):
            shadowed = pyogrio.read_dataframe(
                gdal_path,
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


def _shapefile_index(path: Path, layer: str | None) -> tuple[str, int, bytes] | None:
    """The ``.shp`` of a Shapefile (plain or zipped): its name, size in bytes and its ``.shx``."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = {n.lower(): n for n in archive.namelist()}
            shps = [n for n in members.values() if n.lower().endswith(".shp")]
            if layer is not None:
                shps = [n for n in shps if Path(n).stem == layer] or shps
            shx = members.get(f"{shps[0][:-4]}.shx".lower()) if shps else None
            if shx is None:
                return None
            return f"{path}!{shps[0]}", archive.getinfo(shps[0]).file_size, archive.read(shx)
    shp, shx = (
        next((p for p in (path.with_suffix(s), path.with_suffix(s.upper())) if p.exists()), None)
        for s in (".shp", ".shx")
    )
    if shp is None or shx is None:
        return None
    return str(shp), shp.stat().st_size, shx.read_bytes()


def _refuse_truncated_shapefile(path: Path, layer: str | None) -> None:
    """Refuse a Shapefile whose ``.shp`` is cut short of the records its ``.shx`` lists.

    GDAL reads such records as features with no geometry, which would pass
    for features that have none. A record is damaged when the ``.shx`` puts
    its end (offset + 8-byte header + content length) past the end of the
    ``.shp``; a null shape record (type 0) inside the file is not.

    Raises
    ------
    LayerReadError
        Naming the ``.shp``, how many records are unreadable and the first
        of their feature ids.
    """
    index = _shapefile_index(path, layer)
    if index is None:
        return
    shp, size, shx = index
    if len(shx) < 100:  # no header: GDAL refuses to open it, with its own message
        return
    n = (len(shx) - 100) // 8
    entries = np.frombuffer(shx, dtype=">i4", count=2 * n, offset=100).reshape(n, 2)
    ends = (entries[:, 0].astype(np.int64) + entries[:, 1]) * 2 + 8  # lengths in 16-bit words
    damaged = np.flatnonzero(ends > size)
    if damaged.size:
        first = ", ".join(str(i) for i in damaged[:5]) + (" …" if damaged.size > 5 else "")
        raise LayerReadError(
            f"{shp}: {damaged.size} of {n} records are unreadable (feature ids {first}): "
            f"the file is cut short at {size} bytes but its .shx places records up to byte "
            f"{int(ends.max())}; copy the Shapefile again from its source"
        )


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


def driver_for(path: str | os.PathLike) -> str:
    """Output driver for a file name, from its suffix.

    Raises
    ------
    ValueError
        The suffix is not a supported output format.
    """
    suffix = Path(path).suffix.lower()
    try:
        return DRIVERS[suffix]
    except KeyError:
        raise ValueError(
            f"{path}: unknown output format {suffix!r}; use one of {', '.join(sorted(DRIVERS))}"
        ) from None


_INT32 = np.iinfo(np.int32)


def _filegdb_integers(frame: gpd.GeoDataFrame, layer: str | None):
    """64-bit integer columns for a FileGDB, and the layer options they need.

    A FileGDB before ArcGIS Pro 3.2 has no 64-bit integer: GDAL writes them
    as floats unless ``TARGET_ARCGIS_VERSION=ARCGIS_PRO_3_2_OR_LATER``, which
    ArcMap, older ArcGIS Pro and GDAL < 3.8 cannot open. So columns whose
    values fit 32 bits are written as 32-bit integers, readable everywhere,
    and only real 64-bit values switch the layer to the newer format.
    """
    wide = [
        c for c in frame.columns if frame[c].dtype.kind in "iu" and frame[c].dtype.itemsize == 8
    ]
    too_big = [c for c in wide if len(frame) and not frame[c].between(_INT32.min, _INT32.max).all()]
    if too_big:
        logger.warning(
            "layer %s: %s hold 64-bit integers; the FileGDB needs ArcGIS Pro 3.2 or later",
            layer,
            ", ".join(too_big),
        )
        return frame, {"TARGET_ARCGIS_VERSION": "ARCGIS_PRO_3_2_OR_LATER"}
    return frame.astype({c: "int32" for c in wide}), {}


def _write_one(
    frame: gpd.GeoDataFrame, target: Path, driver: str, layer: str | None, encoding: str | None
) -> None:
    if driver in _WGS84_ONLY and frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    if driver == "parquet":
        frame.to_parquet(target, index=False)
        return
    options: dict[str, object] = {}
    if driver == "CSV":
        options["layer_options"] = {"GEOMETRY": "AS_WKT"}
    if driver == "OpenFileGDB":
        frame, options["layer_options"] = _filegdb_integers(frame, layer)
    if driver in ("GPKG", "OpenFileGDB", "FlatGeobuf"):
        # One geometry type per layer (a FileGDB refuses mixed Polygon/MultiPolygon).
        options["promote_to_multi"] = True
    if driver == "GPKG" and not target.exists():
        # GeoPackage 1.2, not GDAL's default 1.4: GDAL < 3.7 (QGIS 3.22, Debian 12)
        # warns that it "may only be partially supported", and nothing here needs 1.4
        options["dataset_options"] = {"VERSION": "1.2"}
    pyogrio.write_dataframe(
        frame,
        target,
        layer=layer,
        driver=driver,
        encoding=encoding if driver == "ESRI Shapefile" else None,
        append=target.exists() and driver in ("GPKG", "OpenFileGDB"),
        **options,
    )


def write_vector(
    frame: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    overwrite: bool = False,
    encoding: str | None = None,
) -> Path:
    """Write a GeoDataFrame atomically, in the format its suffix names.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
    path : str or os.PathLike
        Output file; the suffix chooses the format (see :data:`DRIVERS`).
        GeoJSON and KML are written in EPSG:4326 as their specifications
        require; other formats keep the frame's CRS.
    layer : str, optional
        Layer name in formats that have them.
    overwrite : bool, default False
        Replace an existing output.
    encoding : str, optional
        Shapefile text encoding (written to the ``.cpg``); UTF-8 by default.

    Returns
    -------
    pathlib.Path
        The output path.
    """
    return write_layers(
        {layer or Path(path).stem: frame}, path, overwrite=overwrite, encoding=encoding
    )


def write_layers(
    frames: Mapping[str, gpd.GeoDataFrame],
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    encoding: str | None = None,
) -> Path:
    """Write several layers into one GeoPackage or FileGDB, atomically.

    Parameters
    ----------
    frames : mapping of str to geopandas.GeoDataFrame
        Layer name to features. Formats without layers take exactly one.
    path : str or os.PathLike
        Output file or ``.gdb`` folder.
    overwrite : bool, default False
        Replace an existing output.
    encoding : str, optional
        Shapefile text encoding.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    driver = driver_for(path)
    if len(frames) > 1 and driver not in ("GPKG", "OpenFileGDB"):
        raise ValueError(f"{path}: {driver} holds one layer; got {len(frames)}")
    with atomic_output(path, overwrite=overwrite) as target:
        for name, frame in frames.items():
            _write_one(frame, target, driver, name, encoding)
    logger.debug("wrote %s (%d layers)", path, len(frames))
    return path
