"""Reading the row groups of a GeoParquet file that may hold features in a box.

A GeoParquet file's feature ids are its row numbers, so a read by box must
not renumber: :func:`read_row_groups_in_box` skips the row groups whose
``bbox`` covering column (GeoParquet 1.1) says their features all lie
outside the box, reads the others, and numbers their rows as they stand in
the whole file. A file without a covering column, or with geometry in a
GeoArrow native encoding, is read whole (:func:`geopandas.read_parquet`).
The caller then keeps the features that really meet the box.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

#: The CRS of a GeoParquet geometry column without a ``crs`` key (the spec's default).
DEFAULT_CRS = "OGC:CRS84"


def _covering(geo: dict) -> dict[str, tuple[str, ...]] | None:
    column = geo["columns"][geo["primary_column"]]
    bbox = column.get("covering", {}).get("bbox")
    if column.get("encoding", "WKB").upper() != "WKB" or not bbox:
        return None
    return {key: tuple(bbox[key]) for key in ("xmin", "ymin", "xmax", "ymax")}


def _group_may_meet(group, paths: dict[str, tuple[str, ...]], box: tuple[float, ...]) -> bool:
    """False only when the row group's statistics put every feature outside ``box``."""
    stats = {}
    for i in range(group.num_columns):
        column = group.column(i)
        stats[tuple(column.path_in_schema.split("."))] = column.statistics
    needed = {
        "xmin": ("min", paths["xmin"]),
        "ymin": ("min", paths["ymin"]),
        "xmax": ("max", paths["xmax"]),
        "ymax": ("max", paths["ymax"]),
    }
    values = {}
    for key, (which, path) in needed.items():
        found = stats.get(path)
        if found is None or not found.has_min_max:
            return True
        values[key] = found.min if which == "min" else found.max
    xmin, ymin, xmax, ymax = box
    return not (
        values["xmin"] > xmax
        or values["xmax"] < xmin
        or values["ymin"] > ymax
        or values["ymax"] < ymin
    )


def read_row_groups_in_box(path: Path, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The rows of the row groups that may meet ``box``, indexed by their row number in the file.

    Parameters
    ----------
    path : pathlib.Path
        A GeoParquet file.
    box : tuple of float
        ``(xmin, ymin, xmax, ymax)`` in the file's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``fid``: 0-based row numbers of the whole file. Without a
        covering column every row (the whole file).

    Raises
    ------
    Exception
        Whatever pyarrow raises for a file it cannot read.
    """
    handle = pq.ParquetFile(path)
    geo = json.loads(handle.schema_arrow.metadata[b"geo"])
    paths = _covering(geo)
    if paths is None:
        frame = gpd.read_parquet(path).reset_index(drop=True)
        frame.index.name = "fid"
        return frame
    metadata = handle.metadata
    starts = np.cumsum(
        [0] + [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    )
    groups = [
        i
        for i in range(metadata.num_row_groups)
        if _group_may_meet(metadata.row_group(i), paths, box)
    ]
    covering = paths["xmin"][0]
    names = [n for n in handle.schema_arrow.names if n != covering]
    table = handle.read_row_groups(groups, columns=names)
    primary = geo["primary_column"]
    data = table.drop_columns([primary]).to_pandas().reset_index(drop=True)
    crs = geo["columns"][primary].get("crs", DEFAULT_CRS)
    data[primary] = shapely.from_wkb(table.column(primary).to_numpy(zero_copy_only=False))
    frame = gpd.GeoDataFrame(
        data[[c for c in names if c in data.columns]],
        geometry=primary,
        crs=None if crs is None else CRS.from_user_input(crs),
    )
    rows = [np.arange(starts[i], starts[i + 1], dtype=np.int64) for i in groups]
    frame.index = pd.Index(np.concatenate(rows) if rows else [], dtype=np.int64, name="fid")
    return frame
