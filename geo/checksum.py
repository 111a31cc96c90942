"""SHA-256 of input files, recorded so a report names exactly the data it was made from."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_BLOCK = 1 << 20  # bytes read at a time


def file_sha256(path: str | os.PathLike) -> str | None:
    """The SHA-256 of a file, or of every file in a folder (a FileGDB) in path order.

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
    path = Path(path)
    if not path.exists():
        return None
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                digest.update(block)
    return digest.hexdigest()
