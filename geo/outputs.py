"""Output folders: written all together or not at all, by one run at a time.

A run writes its outputs into a hidden staging folder inside the output
folder and commits them as a journal, so that a run killed at any instant
leaves the complete previous outputs, the complete new ones, or a state the
next run into the folder completes (and says so):

1. everything is written into ``.geoplan.<id>.partial`` and flushed to disk;
2. a manifest naming the new outputs and the names they replace is renamed
   into the staging folder — the commit point;
3. each replaced output is moved into ``.geoplan.<id>.old``, then each new
   one into the folder;
4. the backup folder, the manifest and the staging folder are removed.

From before the analysis until its outputs are in place a run holds an
exclusive ``flock`` on ``<folder>/.geoplan.lock``, which records who holds
it for the error a second run gets; the kernel releases it when the process
dies, so a lock file left behind never blocks. Holding the lock, a run knows
that any staging or backup folder it finds belongs to a dead run: one with a
manifest is rolled forward (steps 3–4), one without is deleted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shlex
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from geoplan.geo.errors import GeoplanError, OutputExistsError

logger = logging.getLogger(__name__)

#: The lock file of an output folder.
LOCK_NAME = ".geoplan.lock"
#: The manifest whose presence in a staging folder means its outputs are committed.
MANIFEST_NAME = ".geoplan.commit"

_PREFIX = ".geoplan."
_STAGING_SUFFIX = ".partial"
_BACKUP_SUFFIX = ".old"
_SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
#: Free space (bytes) under which a folder counts as full: no output set is smaller.
_MIN_FREE = 1 << 20
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_HOLDER_TRIES = 20  # 50 ms apart: a run records itself right after taking the lock


class OutputError(GeoplanError, OSError):
    """An output folder or file cannot be written."""


class OutputLockedError(OutputError):
    """Another run is writing into the same output folder."""


def _outputs_of(path: Path) -> list[Path]:
    if path.suffix.lower() == ".shp":
        return [path.with_suffix(s) for s in _SHAPEFILE_SIDECARS]
    return [path]


def _refuse_existing(folder: Path, names: list[str]) -> None:
    """Raise :class:`OutputExistsError` if an output of ``names`` (or a sidecar) exists."""
    candidates = (p for name in names for p in _outputs_of(folder / name))
    existing = next((p for p in candidates if os.path.lexists(p)), None)
    if existing is not None:
        raise OutputExistsError(f"{existing}: exists")


@contextlib.contextmanager
def atomic_outputs(
    folder: str | os.PathLike, names: list[str], *, overwrite: bool = False
) -> Iterator[Path]:
    """Write several outputs into a folder all at once, or not at all.

    On entry the folder is created, locked against other runs, cleared of
    what dead runs left (see the module) and checked for existing outputs;
    enter it before the work that produces the outputs, so that an unusable
    folder is found first. Yields a hidden staging folder inside ``folder``;
    whatever is written there (files, Shapefiles with their sidecars,
    ``.gdb`` folders) replaces the outputs named by ``names`` when the block
    exits normally, and is deleted when it raises.

    Parameters
    ----------
    folder : str or os.PathLike
        Output folder; created (with its parents) if missing.
    names : list of str
        Everything the block may write; existing outputs of these names are
        replaced, even those it does not write again.
    overwrite : bool, default False
        Replace existing outputs; otherwise raise :class:`OutputExistsError`.

    Raises
    ------
    OutputError
        The folder cannot be created or written (read-only, under a file,
        full), or the outputs cannot be written into it.
    OutputLockedError
        Another run holds the folder.
    OutputExistsError
        An output exists and ``overwrite`` is False.
    """
    folder = Path(folder)
    created = _make_folder(folder)
    try:
        with _folder_lock(folder):
            _recover(folder)
            if not overwrite:
                _refuse_existing(folder, names)
            _require_space(folder)
            replaces = sorted({p.name for name in names for p in _outputs_of(folder / name)})
            with _staged(folder, replaces) as staging:
                yield staging
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: nothing of ours is left
        raise


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


@contextlib.contextmanager
def _staged(folder: Path, replaces: list[str]) -> Iterator[Path]:
    """A new staging folder, committed when the block succeeds and deleted when it fails."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=_PREFIX, suffix=_STAGING_SUFFIX, dir=folder))
    except OSError as exc:
        raise _unwritable(folder, exc) from None
    committed = False
    try:
        _backup_of(staging).mkdir()  # before the commit point, so that none is made after it
        yield staging
        outputs = sorted(p.name for p in staging.iterdir() if not p.name.startswith(_PREFIX))
        _seal(staging, outputs, replaces)
        committed = True
        _complete(folder, staging, outputs, replaces)
    except GeoplanError:
        raise
    except Exception as exc:
        error = _committed_error(folder, exc) if committed else _write_error(folder, exc)
        if error is None:
            raise
        raise error from exc
    finally:
        if not committed:
            _remove(staging)
            _remove(_backup_of(staging))


def _make_folder(folder: Path) -> bool:
    """Create ``folder`` and its parents; True when it did not exist."""
    if folder.is_dir():
        return False
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        if folder.is_dir():  # made meanwhile by someone else
            return False
        raise OutputError(f"{folder}: exists and is not a folder") from None
    except NotADirectoryError:
        blocker = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file" if blocker else "a parent is not a folder"
        raise OutputError(f"{folder}: cannot create the output folder: {reason}") from None
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder: {_reason(exc)}") from None
    return True


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock, recording this run in the lock file; remove it after."""
    path = folder / LOCK_NAME
    fd = _acquire(folder, path)
    try:
        _record_holder(folder, fd)
        yield
    finally:
        # removed while still held: a run that opened the old file sees it is gone and retries
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _acquire(folder: Path, path: Path) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise _unwritable(folder, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputLockedError(
                f"{folder}: is being written by another geoplan run ({holder})"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise OutputError(f"{folder}: cannot lock the output folder: {_reason(exc)}") from None
        if _is_at(fd, path):
            return fd
        os.close(fd)  # the holder removed the file while we opened it: take the new one


def _is_at(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is still the file at ``path``."""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _record_holder(folder: Path, fd: int) -> None:
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S}",
        "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record, ensure_ascii=False).encode("utf-8"), 0)
        os.fsync(fd)  # on a full disk this is where it shows, before any work is done
    except OSError as exc:
        raise _unwritable(folder, exc) from None


def _holder(fd: int) -> str:
    """Who holds the lock, as its record says, on one line."""
    for _ in range(_HOLDER_TRIES):
        try:
            record = json.loads(os.pread(fd, 4096, 0))
            pid, host = int(record["pid"]), _one_line(record["host"])
            started, command = _one_line(record["started"]), _one_line(record["command"])
        except (ValueError, KeyError, TypeError, OSError):
            time.sleep(0.05)  # it may be writing its record right now
            continue
        return f"pid {pid} on {host}, started {started}: {command}"
    return "it has not recorded who it is"


def _one_line(value: object, limit: int = 300) -> str:
    """``value`` as text, control characters escaped, at most ``limit`` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _recover(folder: Path) -> None:
    """Complete or remove what dead runs left in ``folder`` (the caller holds the lock)."""
    leftovers = [
        *sorted(folder.glob(f"{_PREFIX}*{_STAGING_SUFFIX}")),
        *sorted(folder.glob(f"{_PREFIX}*{_BACKUP_SUFFIX}")),
    ]
    for leftover in leftovers:
        try:
            _recover_one(folder, leftover)
        except OSError as exc:
            raise OutputError(
                f"{folder}: cannot clear {leftover.name}, left by an interrupted run: "
                f"{_reason(exc)}"
            ) from None


def _recover_one(folder: Path, leftover: Path) -> None:
    if not os.path.lexists(leftover):  # a backup removed with its staging folder
        return
    if leftover.name.endswith(_BACKUP_SUFFIX):
        # outlives its staging folder only if that was never committed: it holds nothing
        _remove(leftover)
        logger.warning("%s: removed %s, left by an interrupted run", folder, leftover.name)
        return
    manifest = _read_manifest(leftover)
    if manifest is None:
        size = _size(leftover)
        empty = leftover.is_dir() and not any(leftover.iterdir())
        _remove(leftover)
        _remove(_backup_of(leftover))
        if not empty:
            logger.warning(
                "%s: removed the staging folder %s of an interrupted run (%s; it was not "
                "committed, the outputs are as they were)",
                folder,
                leftover.name,
                _human(size),
            )
        else:  # nothing staged yet, or its commit had finished
            logger.warning(
                "%s: removed the empty staging folder %s of an interrupted run",
                folder,
                leftover.name,
            )
        return
    _complete(folder, leftover, *manifest)
    logger.warning(
        "%s: recovered the outputs of an interrupted run (%s): completed its commit of %d outputs",
        folder,
        leftover.name,
        len(manifest[0]),
    )


def _backup_of(staging: Path) -> Path:
    return staging.with_name(staging.name.removesuffix(_STAGING_SUFFIX) + _BACKUP_SUFFIX)


def _seal(staging: Path, outputs: list[str], replaces: list[str]) -> None:
    """Flush the staged outputs to disk, then write the manifest: the commit point."""
    for root, _, files in os.walk(staging):
        for name in files:
            _fsync(Path(root) / name)
        _fsync(Path(root))
    temporary = staging / f"{MANIFEST_NAME}.tmp"
    text = json.dumps({"outputs": outputs, "replaces": replaces}, ensure_ascii=False)
    temporary.write_text(text, encoding="utf-8")
    _fsync(temporary)
    os.replace(temporary, staging / MANIFEST_NAME)
    _fsync(staging)


def _read_manifest(staging: Path) -> tuple[list[str], list[str]] | None:
    """The outputs and replaced names a staging folder committed, or None if it did not."""
    if staging.is_symlink() or not staging.is_dir():
        return None
    path = staging / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        outputs, replaces = data["outputs"], data["replaces"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutputError(f"{path}: not a geoplan commit manifest ({exc})") from None
    for name in (*_names(outputs, path), *_names(replaces, path)):
        if not _plain_name(name):
            raise OutputError(f"{path}: not a geoplan commit manifest (name {_one_line(name)!r})")
    return outputs, replaces


def _plain_name(name: object) -> bool:
    """Whether ``name`` names an entry of the folder itself, and none of ours."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and not name.startswith(_PREFIX)
        and "/" not in name
        and "\0" not in name
    )


def _names(value: object, path: Path) -> list:
    if not isinstance(value, list):
        raise OutputError(f"{path}: not a geoplan commit manifest (expected lists of names)")
    return value


def _complete(folder: Path, staging: Path, outputs: list[str], replaces: list[str]) -> None:
    """Steps 3–4 of a commit; safe to repeat after an interruption at any point."""
    backup = _backup_of(staging)
    if backup.is_symlink() or (os.path.lexists(backup) and not backup.is_dir()):
        backup.unlink()
    backup.mkdir(exist_ok=True)
    for name in sorted({*outputs, *replaces}):
        moved_in = name in outputs and not os.path.lexists(staging / name)
        if not moved_in and os.path.lexists(folder / name):
            _remove(backup / name)
            os.replace(folder / name, backup / name)
    for name in outputs:
        if os.path.lexists(staging / name):
            os.replace(staging / name, folder / name)
    _fsync(folder)
    _remove(backup)
    (staging / MANIFEST_NAME).unlink(missing_ok=True)
    _remove(staging)


def _require_space(folder: Path) -> None:
    free = shutil.disk_usage(folder).free
    if free < _MIN_FREE:
        raise OutputError(f"{folder}: no space left on its device ({_human(free)} free)")


def _write_error(folder: Path, exc: Exception) -> OutputError | None:
    """The output error that an exception raised while writing the outputs stands for."""
    if _is_full(folder, exc):
        return OutputError(
            f"{_output_folder(folder)}: no space left on its device while writing the outputs; "
            "nothing was replaced"
        )
    if isinstance(exc, OSError) and exc.filename and _is_inside(exc.filename, folder):
        return OutputError(f"{exc.filename}: cannot write: {_reason(exc)}; nothing was replaced")
    return None


def _is_full(folder: Path, exc: Exception) -> bool:
    chain = [e for e in (exc, exc.__cause__, exc.__context__) if e is not None]
    if any(isinstance(e, OSError) and e.errno in _FULL_ERRNOS for e in chain):
        return True
    # GDAL's drivers say it in words (SQLite's "database or disk is full", the
    # Shapefile driver's strerror) and may have freed the space when they gave up
    words = [os.strerror(n).lower() for n in _FULL_ERRNOS] + ["disk is full"]
    if any(w in str(e).lower() for e in chain for w in words):
        return True
    return shutil.disk_usage(folder).free < _MIN_FREE


def _output_folder(folder: Path) -> Path:
    """The output folder that ``folder`` stages, or ``folder`` if it stages none."""
    while folder.name.startswith(_PREFIX) and folder.name.endswith(_STAGING_SUFFIX):
        folder = folder.parent
    return folder


def _committed_error(folder: Path, exc: Exception) -> OutputError | None:
    if not isinstance(exc, OSError):
        return None
    return OutputError(
        f"{folder}: the new outputs are committed but could not all be moved into place "
        f"({_reason(exc)}); the next run into this folder completes the move"
    )


def _is_inside(path: str | os.PathLike, folder: Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))


def _remove(path: Path) -> None:
    """Delete a file, link or folder tree if it exists."""
    if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size(path: Path) -> int:
    if not path.is_dir() or path.is_symlink():
        return 0
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _human(size: int) -> str:
    if size < 10**3:
        return f"{size} bytes"
    if size < 10**6:
        return f"{size / 10**3:.1f} kB"
    if size < 10**9:
        return f"{size / 10**6:.1f} MB"
    return f"{size / 10**9:.1f} GB"


def _unwritable(folder: Path, exc: OSError) -> OutputError:
    return OutputError(f"{folder}: cannot write into the output folder: {_reason(exc)}")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
