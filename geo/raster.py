"""Raster helpers: writing GeoTIFFs and encoding images through GDAL (rasterio)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an image as PNG.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``uint8`` array of shape (height, width, 3), or 4 with transparency.

    Returns
    -------
    bytes
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(
            f"expected a (height, width, 3|4) uint8 array, got {rgb.dtype} {rgb.shape}"
        )
    height, width, bands = rgb.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as memory:
            with memory.open(
                driver="PNG", width=width, height=height, count=bands, dtype="uint8"
            ) as dataset:
                dataset.write(np.moveaxis(rgb, 2, 0))
            return memory.read()


def write_geotiff(
    path,
    values: np.ndarray,
    transform,
    crs,
    *,
    band_names: Sequence[str] = (),
    nodata: float | None = None,
    units: str = "",
) -> None:
    """Write a (bands, rows, cols) array as a compressed, tiled GeoTIFF with band names.

    Parameters
    ----------
    path : str or os.PathLike
        The caller takes care of atomicity.
    values : numpy.ndarray
    transform : affine.Affine
    crs : pyproj.CRS or str
    band_names : sequence of str
        Written as band descriptions.
    nodata : float, optional
    units : str
        Unit of the values, written as each band's unit type.
    """
    bands, height, width = values.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": bands,
        "dtype": values.dtype.name,
        "crs": crs.to_wkt() if hasattr(crs, "to_wkt") else crs,
        "transform": transform,
        "nodata": nodata,
        "compress": "deflate",
        "tiled": width >= 256 and height >= 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values)
        for i, name in enumerate(band_names, start=1):
            dst.set_band_description(i, name)
            if units:
                dst.set_band_unit(i, units)
