"""Writing loaded layers back out."""

from __future__ import annotations

import os
from pathlib import Path

from geoplan.geo.vector_write import write_layers
from geoplan.layers.loader import LoadedProject


def write_loaded_layers(
    loaded: LoadedProject, path: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """Write every loaded layer into one GeoPackage, one layer per kind, named by the kind.

    Parameters
    ----------
    loaded : LoadedProject
    path : str or os.PathLike
        Output ``.gpkg``.
    overwrite : bool, default False
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    return write_layers(loaded.frames, path, overwrite=overwrite)
