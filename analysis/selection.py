"""Selections: the features of one rule side, its layer kind filtered by its ``where``.

A :class:`Selection` is what a relation's breach function takes for each side
(:mod:`analysis.relations`): a frame in the working CRS with ``layer_kind``,
``id``, ``name`` and ``source_fid``, and its geometries cut and indexed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.analysis.pieces import Indexed
from geoplan.analysis.rules import Side
from geoplan.layers.catalog import KINDS
from geoplan.layers.loader import LoadedProject


class RuleSkipped(Exception):
    """A rule cannot be evaluated on this project (missing layer, field or raster).

    Parameters
    ----------
    reason : str
        Why, in English (the exception's message, logs and ``*_en`` fields).
    reason_zh : str
        The same in Chinese, for the documents and the terminal summary.
    """

    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason_zh = reason_zh


@dataclass
class Selection:
    """The features of one rule side.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        ``layer_kind``, ``id``, ``name``, ``source_fid`` and the geometry,
        with a 0-based index.
    geoms : Indexed
        Its geometries, cut and indexed on first use.
    """

    frame: gpd.GeoDataFrame
    geoms: Indexed

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> Selection:
        """Wrap a frame."""
        return cls(frame, Indexed(frame.geometry.values))

    def __len__(self) -> int:
        return len(self.frame)


def select(loaded: LoadedProject, side: Side) -> Selection:
    """The features of one rule side: its layer kind, filtered by its ``where``.

    Parameters
    ----------
    loaded : LoadedProject
    side : Side

    Returns
    -------
    Selection

    Raises
    ------
    RuleSkipped
        The project has no such layer, or the layer lacks a filter field
        (unless the filter asks for ``""``, unknown values: then every
        feature matches it). A layer without features has no feature to
        match and is not skipped: the selection is empty.
    """
    if side.kind not in loaded.layers:
        title = KINDS[side.kind].title
        raise RuleSkipped(
            f"the project has no {side.kind} layer ({title})",
            f"项目没有{title}（{side.kind}）图层",
        )
    frame = loaded.frame(side.kind)
    mask = np.ones(len(frame), dtype=bool)
    for name, wanted in side.filters.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        unknown_wanted = "" in values
        if name not in frame or (len(frame) > 0 and frame[name].isna().all()):
            if unknown_wanted:
                continue  # every value is unknown, and "" asks for unknown values
            raise RuleSkipped(
                f"{side.kind} has no values for field {name!r}",
                f"{KINDS[side.kind].title}（{side.kind}）图层的字段“{name}”没有值",
            )
        column = frame[name]
        matched = column.isin(values)
        if unknown_wanted:
            matched |= column.isna() | (column.astype(str).str.strip() == "")
        mask &= matched.to_numpy()
    chosen = frame.loc[mask]
    out = pd.DataFrame(
        {
            "layer_kind": side.kind,
            "id": chosen["id"].fillna("").astype(str).to_numpy(),
            "name": chosen["name"].fillna("").astype(str).to_numpy() if "name" in chosen else "",
            "source_fid": chosen["source_fid"].to_numpy(),
        }
    )
    return Selection.of(gpd.GeoDataFrame(out, geometry=chosen.geometry.to_numpy(), crs=frame.crs))
