"""Zonal statistics of a raster over polygons, partial cells weighted by coverage.

``exactextract`` computes, for every feature, the exact fraction of each
cell the polygon covers; statistics weight each cell by that fraction (a
cell half inside counts half). It reads only the cells under each feature,
so memory follows the feature, not the raster. Measured against
``rasterstats`` (whole cells in or out) in ``benchmarks/bench_raster.py``.

Vectors are reprojected to the raster's CRS, never the raster to the
vectors': the cells stay as they are.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from geoplan.geo.terrain import (
    GDAL_CACHE_BYTES,
    DerivedRasters,
    RasterError,
    RasterInfo,
    write_measure,
)

#: Cells (of the features' bounding boxes) summarised per exactextract call.
BATCH_CELLS = 4_000_000
#: Statistics :func:`zonal_stats` knows; ``pNN`` is the NN-th percentile.
STATS = ("mean", "min", "max", "p10", "p50", "p90", "count")


def _weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q / 100 * cumulative[-1])])


def _summarise(
    values: np.ndarray, weights: np.ndarray, stats: Sequence[str], threshold: float | None
) -> dict[str, float]:
    keep = ~np.isnan(values) & (weights > 0)
    values, weights = values[keep], weights[keep]
    out: dict[str, float] = {}
    if values.size == 0:
        out = {s: np.nan for s in stats}
        if threshold is not None:
            out["share_above"] = np.nan
        return out
    for stat in stats:
        if stat == "mean":
            out[stat] = float(np.average(values, weights=weights))
        elif stat == "min":
            out[stat] = float(values.min())
        elif stat == "max":
            out[stat] = float(values.max())
        elif stat == "count":
            out[stat] = float(weights.sum())
        else:
            out[stat] = _weighted_percentile(values, weights, float(stat[1:]))
    if threshold is not None:
        out["share_above"] = float(weights[values > threshold].sum() / weights.sum())
    return out


def zonal_stats(
    info: RasterInfo,
    frame: gpd.GeoDataFrame,
    *,
    measure: str = "elevation",
    stats: Sequence[str] = ("mean", "min", "max", "p50"),
    threshold: float | None = None,
    block_rows: int | None = None,
    derived: DerivedRasters | None = None,
) -> pd.DataFrame:
    """Statistics of a raster measure over each feature, partial cells by their covered fraction.

    Parameters
    ----------
    info : RasterInfo
    frame : geopandas.GeoDataFrame
        Polygons in any CRS (reprojected to the raster's).
    measure : {"elevation", "slope", "aspect"}
        Slope and aspect are computed from the DEM first (strip by strip,
        into a temporary GeoTIFF).
    stats : sequence of str
        From :data:`STATS`. ``count`` is the number of cells, fractionally.
    threshold : float, optional
        Also give ``share_above``: the covered share of the feature where the
        measure exceeds it (0–1).
    block_rows : int
    derived : DerivedRasters, optional
        Where slope and aspect computed earlier in the run are kept (and
        computed into, when missing); a temporary file otherwise.

    Returns
    -------
    pandas.DataFrame
        One row per feature, in ``frame``'s order and index.

    Raises
    ------
    RasterError
        The features do not overlap the raster, or a statistic is unknown.
    """
    from exactextract import exact_extract

    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise RasterError(f"unknown statistic(s) {', '.join(unknown)}; known: {', '.join(STATS)}")
    if frame.crs is None:
        raise RasterError("the features have no CRS")
    vectors = frame[[frame.geometry.name]].to_crs(info.crs)
    left, bottom, right, top = rasterio.transform.array_bounds(
        info.height, info.width, info.transform
    )
    minx, miny, maxx, maxy = vectors.total_bounds
    if len(vectors) and (maxx < left or minx > right or maxy < bottom or miny > top):
        raise RasterError(f"{info.path}: does not overlap the features")
    with tempfile.TemporaryDirectory() as folder:
        source = info.path
        if measure != "elevation":
            source = (derived or DerivedRasters(folder)).get(info, measure).path
        elif info.band != 1 or info.nodata_overridden:
            # exactextract reads band 1 with the file's nodata: give it those.
            source = write_measure(info, measure, Path(folder) / f"{measure}.tif", block_rows)
        rows = []
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES), rasterio.open(source) as raster:
            for batch in _batches(vectors, info):
                result = exact_extract(
                    raster, batch.reset_index(drop=True), ["values", "coverage"], output="pandas"
                )
                rows += [
                    _summarise(np.asarray(v, float), np.asarray(c, float), stats, threshold)
                    for v, c in zip(result["values"], result["coverage"], strict=True)
                ]
    return pd.DataFrame(rows, index=frame.index)


def _batches(vectors: gpd.GeoDataFrame, info: RasterInfo) -> list[gpd.GeoDataFrame]:
    """Consecutive groups of features whose bounding boxes hold about BATCH_CELLS cells.

    The values and coverage of a batch's cells are held at once; batching
    keeps that bounded whatever the number of features.
    """
    bounds = vectors.bounds.to_numpy()
    cells = ((bounds[:, 2] - bounds[:, 0]) / abs(info.transform.a) + 2) * (
        (bounds[:, 3] - bounds[:, 1]) / abs(info.transform.e) + 2
    )
    batch = np.floor(np.cumsum(cells) / BATCH_CELLS).astype(int)
    return [vectors.iloc[index] for index in pd.Series(batch).groupby(batch).indices.values()]
