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

The lock is :mod:`geo.output_lock`, the journal :mod:`geo.output_journal`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from geoplan.geo.errors import OutputError, OutputExistsError
from geoplan.geo.output_files import os_reason, require_space
from geoplan.geo.output_journal import recover, staged
from geoplan.geo.output_lock import folder_lock

_SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


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
        with folder_lock(folder):
            recover(folder)
            if not overwrite:
                _refuse_existing(folder, names)
            require_space(folder)
            replaces = sorted({p.name for name in names for p in _outputs_of(folder / name)})
            with staged(folder, replaces) as staging:
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
        raise OutputError(f"{folder}: cannot create the output folder: {os_reason(exc)}") from None
    return True
