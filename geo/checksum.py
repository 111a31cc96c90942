"""SHA-256 of inputs, recorded so a report names exactly the data it was made from.

Hashing reads every byte, so it is done only when a report asks, and once per
file and state: :func:`file_sha256` keeps the digest of each path under its
size and modification time (every file's, for a folder), and a file that
several layers read, or that a second report of the same run asks for, is
read once. A database table has no file: :func:`rows_sha256` digests the
rows read from it instead.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

_BLOCK = 1 << 20  # bytes read at a time

#: (file, size in bytes, modification time in ns) of every file at a path.
Signature = tuple[tuple[str, int, int], ...]


def _files(path: Path) -> list[Path]:
    """The files at ``path``: itself, or every file under a folder (a FileGDB) in path order."""
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def file_signature(path: str | os.PathLike) -> Signature | None:
    """What :func:`file_sha256` keys its digests by; None when nothing is at ``path``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    tuple of (str, int, int), or None
        Per file (one, or each file of a folder in path order): its path,
        size (bytes) and modification time (ns).
    """
    path = Path(path).absolute()
    if not path.exists():
        return None
    stats = [(file, file.stat()) for file in _files(path)]
    return tuple((str(file), stat.st_size, stat.st_mtime_ns) for file, stat in stats)


def file_bytes(path: str | os.PathLike) -> int | None:
    """The size of a file, or of every file in a folder (bytes); None when nothing is there."""
    signature = file_signature(path)
    return None if signature is None else sum(size for _, size, _ in signature)


#: Files beside a source that GDAL reads with it, by the source's suffix.
_SIDECARS = {
    ".shp": (".shx", ".dbf", ".prj", ".cpg"),
    ".tif": (".tif.aux.xml", ".tfw", ".tifw", ".wld"),
    ".tiff": (".tiff.aux.xml", ".tfw", ".tiffw", ".wld"),
}


def source_files(path: str | os.PathLike) -> list[Path]:
    """The files a data source consists of: itself and the sidecars GDAL reads with it.

    A Shapefile is its ``.shp`` with ``.shx``, ``.dbf``, ``.prj`` and
    ``.cpg``; a GeoTIFF its ``.tif`` with ``.aux.xml`` and world file; only
    those that exist (any case of suffix), the source first. A folder (a
    FileGDB) is itself: :func:`file_sha256` hashes the files in it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name in ("a.shp", "a.DBF", "a.shx", "b.dbf"):
    ...         _ = (Path(folder) / name).write_bytes(b"")
    ...     [p.name for p in source_files(Path(folder) / "a.shp")]
    ['a.shp', 'a.DBF', 'a.shx']
    """
    path = Path(path)
    suffixes = _SIDECARS.get(path.suffix.lower())
    if not suffixes or not path.parent.is_dir():
        return [path]
    stem = path.name[: -len(path.suffix)].lower()
    wanted = {stem + suffix for suffix in suffixes}
    beside = sorted(p for p in path.parent.iterdir() if p.name.lower() in wanted and p.is_file())
    return [path, *beside]


@functools.lru_cache(maxsize=4096)
def _digest(signature: Signature) -> str:
    digest = hashlib.sha256()
    for file, _, _ in signature:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str | None:
    """The SHA-256 of a file, or of every file in a folder (a FileGDB) in path order.

    Computed once per path, size and modification time (see the module);
    :func:`cache_info` ``().misses`` counts the paths actually read.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    str or None
        64 lower-case hex digits; None when nothing is at ``path``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     (Path(folder) / "a.txt").write_bytes(b"abc")
    ...     file_sha256(Path(folder) / "a.txt")[:16], file_sha256(Path(folder) / "b.txt")
    3
    ('ba7816bf8f01cfea', None)
    """
    signature = file_signature(path)
    return None if signature is None else _digest(signature)


#: Hits and misses (= paths read) of :func:`file_sha256` (:func:`functools.lru_cache`).
cache_info = _digest.cache_info
#: Forget every digest (the next :func:`file_sha256` of each path reads it again).
cache_clear = _digest.cache_clear


def _json_value(value: Any) -> Any:
    """A value numpy or pandas gives, as JSON: numbers as numbers, times in ISO 8601."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def rows_sha256(frame: gpd.GeoDataFrame) -> str:
    """The SHA-256 of a layer's rows as read: feature ids, attribute values, geometries.

    What is hashed, in this order (so anyone can recompute it from the
    same rows): the rows are taken in ascending feature id (the index);
    then, as UTF-8 JSON (no ASCII escaping, ``", "`` and ``": "``
    separators) each followed by a newline, the array of feature ids, then
    for each attribute column in frame order ``[name, [values]]`` with
    missing values (None, NaN, NaT) as ``null``, numbers as JSON numbers,
    dates and times in ISO 8601 and bytes in hex; then each geometry as its
    ISO WKB (little-endian, as :func:`shapely.to_wkb` writes it) after its
    length as an 8-byte little-endian integer (length 0 for a missing one).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Indexed by feature id.

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    frame = frame.sort_index(kind="stable")
    digest = RowsDigest([int(fid) for fid in frame.index])
    for column in frame.columns:
        if column != frame.geometry.name:
            digest.column(str(column), frame[column])
    digest.geometries(frame.geometry.to_numpy())
    return digest.hexdigest()


class RowsDigest:
    """:func:`rows_sha256` fed a part at a time: the ids, each column, the geometries in chunks.

    For a table too large to hold: the same digest as :func:`rows_sha256` of
    the whole frame when fed its ids (ascending), every attribute column in
    frame order (values in id order), then every geometry in id order.
    """

    def __init__(self, fids: list[int]):
        self._sha = hashlib.sha256()
        self._line(fids)

    def _line(self, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_value)
        self._sha.update(text.encode("utf-8") + b"\n")

    def column(self, name: str, values: pd.Series) -> None:
        """One attribute column's values, in id order."""
        values = values.astype(object)
        self._line([name, values.where(pd.notna(values), None).tolist()])

    def geometries(self, geoms: np.ndarray) -> None:
        """The next geometries, in id order (None for a missing one)."""
        for wkb in shapely.to_wkb(geoms, flavor="iso", byte_order=1):
            wkb = b"" if wkb is None else wkb
            self._sha.update(struct.pack("<Q", len(wkb)) + wkb)

    def hexdigest(self) -> str:
        """64 lower-case hex digits."""
        return self._sha.hexdigest()
