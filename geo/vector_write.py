"""Writing vector files: atomically, in the format the file name's suffix names.

Every write is atomic: the output is written beside its target under a
temporary name and renamed into place only once complete, so a failed run
leaves no half-written file (:func:`geo.outputs.atomic_output`). An existing
output is kept unless ``overwrite=True``.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from geoplan.geo.field_aliases import ALIAS_DRIVERS, thread_config, write_field_aliases
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
# Written through Arrow (GDAL >= 3.8): half again as fast on a city's 300,000
# patches. Only where the field aliases are set afterwards and the tests read
# every field type back; an object column of mixed types is written as text
# either way.
_ARROW_DRIVERS = {"GPKG", "OpenFileGDB"}


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


def _filegdb_integers(
    frame: gpd.GeoDataFrame, layer: str | None
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
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
        use_arrow=driver in _ARROW_DRIVERS,
        **options,
    )


def write_vector(
    frame: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    overwrite: bool = False,
    encoding: str | None = None,
    aliases: Mapping[str, str] | None = None,
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
    aliases : mapping of str to str, optional
        Field name → its display name, written where the format holds one
        (GeoPackage, FileGDB; see :mod:`geo.field_aliases`).

    Returns
    -------
    pathlib.Path
        The output path.
    """
    name = layer or Path(path).stem
    return write_layers(
        {name: frame},
        path,
        overwrite=overwrite,
        encoding=encoding,
        aliases={name: aliases} if aliases else None,
    )


def append_layer(frame: gpd.GeoDataFrame, path: str | os.PathLike, layer: str) -> None:
    """Append features to a layer of a GeoPackage, created (with the file) on first use.

    Written as :func:`write_layers` writes a GeoPackage's layers, so a file
    grown this way can be the ``base`` of one.
    """
    _write_one(frame, Path(path), "GPKG", layer, None)


def write_layers(
    frames: Mapping[str, gpd.GeoDataFrame],
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    encoding: str | None = None,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
    base: Path | None = None,
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
    aliases : mapping of str to mapping of str to str, optional
        Layer name → {field name → display name}, written into GeoPackages
        and FileGDBs (:func:`geo.field_aliases.write_field_aliases`); other
        formats have no place for them.
    base : pathlib.Path, optional
        A GeoPackage (:func:`append_layer`) the output starts as a copy of,
        ``frames`` added to its layers: layers larger than memory, written
        once already.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    driver = driver_for(path)
    if base is not None and driver != "GPKG":
        raise ValueError(f"{path}: only a GeoPackage starts from a base")
    if len(frames) > 1 and driver not in ("GPKG", "OpenFileGDB"):
        raise ValueError(f"{path}: {driver} holds one layer; got {len(frames)}")
    # A GeoPackage (SQLite) written without waiting for the disk at each commit
    # (a city's layers.gpkg: seconds): the file is staged, and only renamed into
    # place once whole, as before.
    unsynced = {"OGR_SQLITE_SYNCHRONOUS": "OFF"} if driver == "GPKG" else {}
    with atomic_output(path, overwrite=overwrite) as target, thread_config(unsynced):
        names = [*frames]
        if base is not None:
            shutil.copyfile(base, target)
            names += [str(n) for n in pyogrio.list_layers(target)[:, 0]]
        for name, frame in frames.items():
            _write_one(frame, target, driver, name, encoding)
        if aliases and driver in ALIAS_DRIVERS:
            write_field_aliases(target, {n: aliases[n] for n in names if aliases.get(n)})
    logger.debug("wrote %s (%d layers)", path, len(frames))
    return path
