"""Opening a command's output folder, before its analysis runs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from geoplan.geo.errors import OutputExistsError
from geoplan.geo.export import UnencodableTextError
from geoplan.geo.outputs import atomic_outputs


@contextlib.contextmanager
def option_hints() -> Iterator[None]:
    """Library errors that an option of the command fixes, with the option named."""
    try:
        yield
    except OutputExistsError as exc:
        raise OutputExistsError(f"{exc}; pass --overwrite to replace it") from None
    except UnencodableTextError as exc:
        raise UnencodableTextError(f"{exc}; export with --encoding utf-8") from None


@contextlib.contextmanager
def staged_outputs(
    folder: str | os.PathLike, names: list[str], *, overwrite: bool
) -> Iterator[Path]:
    """:func:`geo.outputs.atomic_outputs`, its errors worded for the command line.

    Parameters
    ----------
    folder : str or os.PathLike
        The ``--out`` folder (the parent folder for a one-file output).
    names : list of str
        Everything the command may write there.
    overwrite : bool
        The value of ``--overwrite``.

    Yields
    ------
    pathlib.Path
        The staging folder to write the outputs into.
    """
    with option_hints(), atomic_outputs(folder, names, overwrite=overwrite) as staging:
        yield staging
