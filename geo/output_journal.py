"""The commit journal of an output folder: staging, the manifest, completion, recovery.

The steps are those of :mod:`geo.outputs`: the new outputs are staged in
``.geoplan.<id>.partial``; the manifest renamed into it is the commit
point; replaced outputs go into ``.geoplan.<id>.old`` and the new ones into
the folder; then the backup, the manifest and the staging folder are
removed. Every step can be repeated after an interruption, so the next run
into the folder (holding its lock) completes a committed set or deletes an
uncommitted one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from geoplan.geo.errors import GeoplanError, OutputError
from geoplan.geo.output_files import (
    fsync,
    human_size,
    is_full,
    one_line,
    os_reason,
    remove,
    tree_size,
    unwritable,
)

logger = logging.getLogger(__name__)

#: The manifest whose presence in a staging folder means its outputs are committed.
MANIFEST_NAME = ".geoplan.commit"

_PREFIX = ".geoplan."
_STAGING_SUFFIX = ".partial"
_BACKUP_SUFFIX = ".old"


@contextlib.contextmanager
def staged(folder: Path, replaces: list[str]) -> Iterator[Path]:
    """A new staging folder, committed when the block succeeds and deleted when it fails."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=_PREFIX, suffix=_STAGING_SUFFIX, dir=folder))
    except OSError as exc:
        raise unwritable(folder, exc) from None
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
            remove(staging)
            remove(_backup_of(staging))


def recover(folder: Path) -> None:
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
                f"{os_reason(exc)}"
            ) from None


def _recover_one(folder: Path, leftover: Path) -> None:
    if not os.path.lexists(leftover):  # a backup removed with its staging folder
        return
    if leftover.name.endswith(_BACKUP_SUFFIX):
        # outlives its staging folder only if that was never committed: it holds nothing
        remove(leftover)
        logger.warning("%s: removed %s, left by an interrupted run", folder, leftover.name)
        return
    manifest = _read_manifest(leftover)
    if manifest is None:
        size = tree_size(leftover)
        empty = leftover.is_dir() and not any(leftover.iterdir())
        remove(leftover)
        remove(_backup_of(leftover))
        if not empty:
            logger.warning(
                "%s: removed the staging folder %s of an interrupted run (%s; it was not "
                "committed, the outputs are as they were)",
                folder,
                leftover.name,
                human_size(size),
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
            fsync(Path(root) / name)
        fsync(Path(root))
    temporary = staging / f"{MANIFEST_NAME}.tmp"
    text = json.dumps({"outputs": outputs, "replaces": replaces}, ensure_ascii=False)
    temporary.write_text(text, encoding="utf-8")
    fsync(temporary)
    os.replace(temporary, staging / MANIFEST_NAME)
    fsync(staging)


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
            raise OutputError(f"{path}: not a geoplan commit manifest (name {one_line(name)!r})")
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
            remove(backup / name)
            os.replace(folder / name, backup / name)
    for name in outputs:
        if os.path.lexists(staging / name):
            os.replace(staging / name, folder / name)
    fsync(folder)
    remove(backup)
    (staging / MANIFEST_NAME).unlink(missing_ok=True)
    remove(staging)


def _write_error(folder: Path, exc: Exception) -> OutputError | None:
    """The output error that an exception raised while writing the outputs stands for."""
    if is_full(folder, exc):
        return OutputError(
            f"{_output_folder(folder)}: no space left on its device while writing the outputs; "
            "nothing was replaced"
        )
    if isinstance(exc, OSError) and exc.filename and _is_inside(exc.filename, folder):
        return OutputError(f"{exc.filename}: cannot write: {os_reason(exc)}; nothing was replaced")
    return None


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
        f"({os_reason(exc)}); the next run into this folder completes the move"
    )


def _is_inside(path: str | os.PathLike, folder: Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))
