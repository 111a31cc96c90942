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

import contextlib
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyogrio.errors

from geo.encoding import shapefile_encoding
from geo.errors import LayerReadError, OutputExistsError

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

_SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
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
    """

    frame: gpd.GeoDataFrame
    path: Path
    layer: str | None
    driver: str
    encoding: str | None = None
    encoding_how: str | None = None


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
        or a source GDAL cannot read.
    EncodingError
        A Shapefile's text encoding cannot be determined.
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

    how = None
    if encoding is None and _is_shapefile(path):
        encoding, how = shapefile_encoding(path, layer)
    elif encoding is not None:
        how = "given"

    try:
        gdal_path = _gdal_path(path, layer)
        info = pyogrio.read_info(gdal_path, layer=layer, encoding=encoding)
        frame = pyogrio.read_dataframe(
            gdal_path, layer=layer, encoding=encoding, where=where, fid_as_index=True
        )
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
    return VectorSource(frame, path, layer, info["driver"], encoding, how)


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


def _outputs_of(path: Path) -> list[Path]:
    if path.suffix.lower() == ".shp":
        return [path.with_suffix(s) for s in _SHAPEFILE_SIDECARS]
    return [path]


def refuse_existing(
    folder: str | os.PathLike, names: list[str], *, overwrite: bool = False
) -> list[Path]:
    """The outputs among ``names`` that already exist in ``folder`` (with sidecars).

    Raises
    ------
    OutputExistsError
        Some exist and ``overwrite`` is False.
    """
    existing = [p for name in names for p in _outputs_of(Path(folder) / name) if p.exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]}: exists; pass --overwrite to replace it")
    return existing


@contextlib.contextmanager
def atomic_outputs(
    folder: str | os.PathLike, names: list[str], *, overwrite: bool = False
) -> Iterator[Path]:
    """Write several outputs into a folder all at once, or not at all.

    Yields a hidden staging folder inside ``folder``; whatever is written
    there (files, Shapefiles with their sidecars, ``.gdb`` folders) replaces
    the targets when the block exits normally, and is deleted when it
    raises, so a failed run leaves no half-written output.

    Parameters
    ----------
    folder : str or os.PathLike
        Output folder; created if missing.
    names : list of str
        The outputs that will be written, checked before anything is done.
    overwrite : bool, default False
        Replace existing outputs; otherwise raise :class:`OutputExistsError`.
    """
    folder = Path(folder)
    existing = refuse_existing(folder, names, overwrite=overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".geoplan.", suffix=".partial", dir=folder))
    try:
        yield staging
        for stale in existing:
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        for item in sorted(staging.iterdir()):
            os.replace(item, folder / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Write one output under a temporary name and move it into place on success.

    Yields a path with the same file name inside a hidden staging folder
    beside ``path`` (see :func:`atomic_outputs`).

    Parameters
    ----------
    path : str or os.PathLike
        Final output path.
    overwrite : bool, default False
        Replace an existing output; otherwise raise :class:`OutputExistsError`.
    """
    path = Path(path)
    with atomic_outputs(path.parent, [path.name], overwrite=overwrite) as staging:
        yield staging / path.name


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
