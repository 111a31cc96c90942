"""Writing loaded layers back out, with their fields' Chinese names as aliases."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from geoplan.geo.vector_write import write_layers
from geoplan.layers.catalog import KINDS
from geoplan.layers.loader import LoadedProject

#: Display names of the columns the loader adds to every layer
#: (:data:`layers.field_mapping.ADDED_COLUMNS`).
ADDED_FIELD_TITLES = {
    "area_m2": "椭球面积（平方米）",
    "source_fid": "源要素编号",
    "layer_kind": "图层类型",
}


def layer_field_aliases(kinds: Iterable[str]) -> dict[str, dict[str, str]]:
    """Field aliases of loaded layers: the standard fields' titles and the added columns'.

    Parameters
    ----------
    kinds : iterable of str
        Layer names; those that are layer kinds get aliases, the others none.

    Returns
    -------
    dict of str to dict of str to str
        Kind → {column → Chinese name}. Source fields kept beside the
        standard ones keep their own names and get no alias.
    """
    return {
        kind: {**{f.name: f.title for f in KINDS[kind].all_fields}, **ADDED_FIELD_TITLES}
        for kind in kinds
        if kind in KINDS
    }


def write_loaded_layers(
    loaded: LoadedProject, path: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """Write every loaded layer into one GeoPackage, one layer per kind, named by the kind.

    Each field gets its Chinese name as alias (:func:`layer_field_aliases`).
    A cluster run's surveyed layers come first: the file starts as a copy of
    their store (:mod:`layers.parts_store`).

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
    stored = {k for k, layer in loaded.layers.items() if layer.parts and layer.parts.features}
    frames = {kind: layer.frame for kind, layer in loaded.layers.items() if kind not in stored}
    aliases = layer_field_aliases(loaded.layers)
    base = loaded.layers[next(iter(stored))].parts.store if stored else None
    return write_layers(frames, path, overwrite=overwrite, aliases=aliases, base=base)
