"""Shapefiles, plain or zipped: finding their parts, and refusing one cut short."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from geoplan.geo.errors import LayerReadError


def sidecar(path: Path, suffix: str) -> Path | None:
    """The file beside ``path`` with ``suffix`` (lower or upper case), or None.

    Parameters
    ----------
    path : pathlib.Path
        Any part of the Shapefile (``.shp``, ``.dbf`` …).
    suffix : str
        The part wanted, lower case with its dot (``".dbf"``).

    Returns
    -------
    pathlib.Path or None
    """
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def zip_members(archive: zipfile.ZipFile, suffix: str, layer: str | None = None) -> list[str]:
    """The members of a zip ending in ``suffix`` (any case).

    Parameters
    ----------
    archive : zipfile.ZipFile
    suffix : str
        Lower case with its dot (``".shp"``).
    layer : str, optional
        A Shapefile's stem: only its members, when the zip holds any.

    Returns
    -------
    list of str
        Member names, in the zip's order.
    """
    found = [n for n in archive.namelist() if n.lower().endswith(suffix)]
    if layer is not None:
        found = [n for n in found if PurePosixPath(n).stem == layer] or found
    return found


def zip_sidecar(archive: zipfile.ZipFile, member: str, suffix: str) -> str | None:
    """The member beside ``member`` (same path and stem) with ``suffix``, in any case."""
    wanted = (member.rsplit(".", 1)[0] + suffix).lower()
    return next((n for n in archive.namelist() if n.lower() == wanted), None)


def is_shapefile(path: Path) -> bool:
    """Whether ``path`` is a ``.shp``/``.dbf``, or a zip holding a ``.shp``."""
    suffix = path.suffix.lower()
    if suffix in (".shp", ".dbf"):
        return True
    if suffix == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return bool(zip_members(archive, ".shp"))
    return False


def gdal_path(path: Path, layer: str | None = None) -> str | Path:
    """The path GDAL should open: a Shapefile in a zip's folder is opened by its member path."""
    if path.suffix.lower() != ".zip" or not zipfile.is_zipfile(path):
        return path
    with zipfile.ZipFile(path) as archive:
        shps = zip_members(archive, ".shp", layer)
    if len(shps) == 1 and "/" in shps[0]:
        return f"/vsizip/{path}/{shps[0]}"
    return path


def _shapefile_index(path: Path, layer: str | None) -> tuple[str, int, bytes] | None:
    """The ``.shp`` of a Shapefile (plain or zipped): its name, size in bytes and its ``.shx``."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            shps = zip_members(archive, ".shp", layer)
            shx = zip_sidecar(archive, shps[0], ".shx") if shps else None
            if shx is None:
                return None
            return f"{path}!{shps[0]}", archive.getinfo(shps[0]).file_size, archive.read(shx)
    shp, shx = sidecar(path, ".shp"), sidecar(path, ".shx")
    if shp is None or shx is None:
        return None
    return str(shp), shp.stat().st_size, shx.read_bytes()


def refuse_truncated_shapefile(path: Path, layer: str | None) -> None:
    """Refuse a Shapefile whose ``.shp`` is cut short of the records its ``.shx`` lists.

    GDAL reads such records as features with no geometry, which would pass
    for features that have none. A record is damaged when the ``.shx`` puts
    its end (offset + 8-byte header + content length) past the end of the
    ``.shp``; a null shape record (type 0) inside the file is not.

    Parameters
    ----------
    path : pathlib.Path
        ``.shp``, ``.dbf`` or ``.zip``.
    layer : str or None
        In a zip holding several Shapefiles, the one to look at (its stem).

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
