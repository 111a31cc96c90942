"""Field aliases (GDAL's "alternative names") in GeoPackage and FileGDB outputs.

A field keeps its machine name (``area_mu``) and gets a display name
(``面积（亩）``) that desktop GIS shows in attribute tables and forms:

- GeoPackage: the ``name`` column of ``gpkg_data_columns`` (the schema
  extension), read by GDAL ≥ 3.7 and the QGIS built on it. QGIS 3.22 with
  GDAL 3.6 (Debian 12) does not read it; the layers' default QGIS styles
  carry the same aliases for it (:mod:`maps.qml`).
- FileGDB: the field alias in the table definition, read by ArcGIS, by GDAL
  ≥ 3.2 and by QGIS ≥ 3.16.
- Shapefile (dBase) has no place for them.

pyogrio writes neither, so they are set after a layer is written, by GDAL
itself (``OGR_L_AlterFieldDefn`` with ``ALTER_ALTERNATIVE_NAME_FLAG``),
called through :mod:`ctypes` in the very ``libgdal`` pyogrio has loaded: the
same library, version and drivers that wrote the file.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyogrio

from geoplan.geo.errors import GeoplanError

logger = logging.getLogger(__name__)

#: Drivers whose files hold field aliases.
ALIAS_DRIVERS = frozenset({"GPKG", "OpenFileGDB"})
#: The first GDAL that writes GeoPackage aliases (gpkg_data_columns).
_MIN_VERSION = 3_07_00_00
_GDAL_OF_UPDATE = 0x01
_GDAL_OF_VECTOR = 0x04
_ALTER_ALTERNATIVE_NAME_FLAG = 0x80  # ogr_core.h, GDAL ≥ 3.7
_P = ctypes.c_void_p


class FieldAliasError(GeoplanError):
    """Field aliases that cannot be written or read."""


def _pyogrio_libgdal() -> str | None:
    """Path of the libgdal pyogrio uses: the one its wheel bundles, else the system's.

    (rasterio's wheel bundles another one; that is never the one wanted.)
    """
    package = Path(pyogrio.__file__).parent
    for folder in (package.with_name("pyogrio.libs"), package / ".dylibs"):
        found = sorted(folder.glob("*gdal*")) if folder.is_dir() else []
        if found:
            return str(found[0])
    return ctypes.util.find_library("gdal")


@functools.cache
def _library() -> ctypes.CDLL:
    path = _pyogrio_libgdal()
    if path is None:
        raise FieldAliasError("field aliases: cannot find the GDAL library pyogrio uses")
    lib = ctypes.CDLL(path)
    signatures = {
        "GDALAllRegister": (None, []),
        "GDALVersionInfo": (ctypes.c_char_p, [ctypes.c_char_p]),
        "GDALOpenEx": (_P, [ctypes.c_char_p, ctypes.c_uint, _P, _P, _P]),
        "GDALClose": (ctypes.c_int, [_P]),
        "GDALDatasetGetLayerByName": (_P, [_P, ctypes.c_char_p]),
        "OGR_L_GetLayerDefn": (_P, [_P]),
        "OGR_L_AlterFieldDefn": (ctypes.c_int, [_P, ctypes.c_int, _P, ctypes.c_int]),
        "OGR_FD_GetFieldCount": (ctypes.c_int, [_P]),
        "OGR_FD_GetFieldIndex": (ctypes.c_int, [_P, ctypes.c_char_p]),
        "OGR_FD_GetFieldDefn": (_P, [_P, ctypes.c_int]),
        "OGR_Fld_Create": (_P, [ctypes.c_char_p, ctypes.c_int]),
        "OGR_Fld_Destroy": (None, [_P]),
        "OGR_Fld_GetNameRef": (ctypes.c_char_p, [_P]),
        "OGR_Fld_GetType": (ctypes.c_int, [_P]),
        "OGR_Fld_GetAlternativeNameRef": (ctypes.c_char_p, [_P]),
        "OGR_Fld_SetAlternativeName": (None, [_P, ctypes.c_char_p]),
        "CPLGetLastErrorMsg": (ctypes.c_char_p, []),
        "CPLGetThreadLocalConfigOption": (ctypes.c_char_p, [ctypes.c_char_p, ctypes.c_char_p]),
        "CPLSetThreadLocalConfigOption": (None, [ctypes.c_char_p, ctypes.c_char_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    lib.GDALAllRegister()  # done by pyogrio already, unless nothing was read yet
    return lib


def _gdal() -> ctypes.CDLL:
    """The GDAL pyogrio uses, if it writes field aliases (3.7 or later)."""
    lib = _library()
    version = int(lib.GDALVersionInfo(b"VERSION_NUM"))
    if version < _MIN_VERSION:
        raise FieldAliasError(
            f"field aliases: GDAL {lib.GDALVersionInfo(b'RELEASE_NAME').decode()} cannot write "
            "them into a GeoPackage (GDAL 3.7 or later can)"
        )
    return lib


@contextlib.contextmanager
def thread_config(options: Mapping[str, str]) -> Iterator[None]:
    """GDAL configuration options set for what this thread does with GDAL inside the block.

    Thread-local (``CPLSetThreadLocalConfigOption``) in the GDAL pyogrio
    uses, so pyogrio's writes in this thread see them and other threads do
    not; the values before are restored after.

    Parameters
    ----------
    options : mapping of str to str
        Option name → value, such as ``{"OGR_SQLITE_SYNCHRONOUS": "OFF"}``.
    """
    if not options:
        yield
        return
    lib = _library()
    before = {k: lib.CPLGetThreadLocalConfigOption(k.encode(), None) for k in options}
    for key, value in options.items():
        lib.CPLSetThreadLocalConfigOption(key.encode(), value.encode())
    try:
        yield
    finally:
        for key, value in before.items():
            lib.CPLSetThreadLocalConfigOption(key.encode(), value)


def _open(lib: ctypes.CDLL, path: Path, flags: int) -> int:
    handle = lib.GDALOpenEx(os.fsencode(path), _GDAL_OF_VECTOR | flags, None, None, None)
    if not handle:
        raise FieldAliasError(f"{path}: cannot open ({lib.CPLGetLastErrorMsg().decode()})")
    return handle


def _layer_defn(lib: ctypes.CDLL, dataset: int, path: Path, layer: str) -> tuple[int, int]:
    handle = lib.GDALDatasetGetLayerByName(dataset, layer.encode())
    if not handle:
        raise FieldAliasError(f"{path}: no layer {layer}")
    return handle, lib.OGR_L_GetLayerDefn(handle)


def write_field_aliases(path: str | os.PathLike, aliases: Mapping[str, Mapping[str, str]]) -> None:
    """Set the aliases of fields of a GeoPackage's or FileGDB's layers.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoPackage or ``.gdb`` folder, written and not yet in use
        (write into the staged file, before it is moved into place).
    aliases : mapping of str to mapping of str to str
        Layer name → {field name → alias}. Fields the layer lacks and empty
        aliases are passed over; a layer the file lacks is an error.

    Raises
    ------
    FieldAliasError
        The file or a layer cannot be opened, the GDAL pyogrio uses is older
        than 3.7, or GDAL refuses an alias; the message names file, layer
        and field.
    """
    path = Path(path)
    lib = _gdal()
    dataset = _open(lib, path, _GDAL_OF_UPDATE)
    try:
        for layer, fields in aliases.items():
            handle, defn = _layer_defn(lib, dataset, path, layer)
            for name, alias in fields.items():
                index = lib.OGR_FD_GetFieldIndex(defn, name.encode())
                if index < 0 or not alias:
                    continue
                kind = lib.OGR_Fld_GetType(lib.OGR_FD_GetFieldDefn(defn, index))
                changed = lib.OGR_Fld_Create(name.encode(), kind)
                lib.OGR_Fld_SetAlternativeName(changed, alias.encode())
                failed = lib.OGR_L_AlterFieldDefn(
                    handle, index, changed, _ALTER_ALTERNATIVE_NAME_FLAG
                )
                lib.OGR_Fld_Destroy(changed)
                if failed:
                    raise FieldAliasError(
                        f"{path} layer {layer} field {name}: GDAL did not take the alias "
                        f"{alias!r} ({lib.CPLGetLastErrorMsg().decode()})"
                    )
    finally:
        lib.GDALClose(dataset)
    logger.debug("%s: field aliases of %d layers", path, len(aliases))


def read_field_aliases(path: str | os.PathLike, layer: str) -> dict[str, str]:
    """The aliases GDAL reads for a layer's fields.

    Parameters
    ----------
    path : str or os.PathLike
    layer : str

    Returns
    -------
    dict of str to str
        Field name → alias, for the fields that have one.

    Raises
    ------
    FieldAliasError
        The file or layer cannot be opened.
    """
    path = Path(path)
    lib = _gdal()
    dataset = _open(lib, path, 0)
    try:
        _, defn = _layer_defn(lib, dataset, path, layer)
        fields = (lib.OGR_FD_GetFieldDefn(defn, i) for i in range(lib.OGR_FD_GetFieldCount(defn)))
        found = {
            lib.OGR_Fld_GetNameRef(f).decode(): (lib.OGR_Fld_GetAlternativeNameRef(f) or b"")
            for f in fields
        }
    finally:
        lib.GDALClose(dataset)
    return {name: alias.decode() for name, alias in found.items() if alias}
