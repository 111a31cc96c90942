"""File-system operations shared by the output modules: removing, flushing, measuring, wording.

:mod:`geo.outputs`, :mod:`geo.output_lock` and :mod:`geo.output_journal`
use them; what they raise is :class:`geo.errors.OutputError`.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from geoplan.geo.errors import OutputError

#: Free space (bytes) under which a folder counts as full: no output set is smaller.
_MIN_FREE = 1 << 20
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def remove(path: Path) -> None:
    """Delete a file, link or folder tree if it exists."""
    if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def fsync(path: Path) -> None:
    """Flush a file or folder to disk (a folder: its entries, so that renames stick)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tree_size(path: Path) -> int:
    """Bytes of the files in a folder tree, links not followed; 0 for anything but a folder."""
    if not path.is_dir() or path.is_symlink():
        return 0
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def human_size(size: int) -> str:
    """A size in bytes as bytes, kB, MB or GB (powers of ten), for messages."""
    if size < 10**3:
        return f"{size} bytes"
    if size < 10**6:
        return f"{size / 10**3:.1f} kB"
    if size < 10**9:
        return f"{size / 10**6:.1f} MB"
    return f"{size / 10**9:.1f} GB"


def one_line(value: object, limit: int = 300) -> str:
    """``value`` as text, control characters escaped, at most ``limit`` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def os_reason(exc: OSError) -> str:
    """What the operating system said, without the file name (the message names it)."""
    return exc.strerror or str(exc)


def unwritable(folder: Path, exc: OSError) -> OutputError:
    """The error of an output folder that cannot be written into."""
    return OutputError(f"{folder}: cannot write into the output folder: {os_reason(exc)}")


def require_space(folder: Path) -> None:
    """Refuse a folder on a device with less than 1 MiB free.

    Raises
    ------
    OutputError
        Naming the folder and the free space.
    """
    free = shutil.disk_usage(folder).free
    if free < _MIN_FREE:
        raise OutputError(f"{folder}: no space left on its device ({human_size(free)} free)")


def is_full(folder: Path, exc: Exception) -> bool:
    """Whether ``exc``, raised while writing into ``folder``, means its device is full."""
    chain = [e for e in (exc, exc.__cause__, exc.__context__) if e is not None]
    if any(isinstance(e, OSError) and e.errno in _FULL_ERRNOS for e in chain):
        return True
    # GDAL's drivers say it in words (SQLite's "database or disk is full", the
    # Shapefile driver's strerror) and may have freed the space when they gave up.
    # On a full disk SQLite rolls the transaction back itself, so GDAL's own
    # ROLLBACK fails, and pyogrio's Arrow writer reports only that last error.
    words = [os.strerror(n).lower() for n in _FULL_ERRNOS] + [
        "disk is full",
        "rollback) failed: cannot rollback - no transaction is active",
    ]
    if any(w in str(e).lower() for e in chain for w in words):
        return True
    return shutil.disk_usage(folder).free < _MIN_FREE
