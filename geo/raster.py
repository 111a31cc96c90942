"""Raster helpers: encoding images through GDAL (rasterio)."""

from __future__ import annotations

import warnings

import numpy as np
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an image as PNG.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``uint8`` array of shape (height, width, 3).

    Returns
    -------
    bytes
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected a (height, width, 3) uint8 array, got {rgb.dtype} {rgb.shape}")
    height, width, _ = rgb.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as memory:
            with memory.open(
                driver="PNG", width=width, height=height, count=3, dtype="uint8"
            ) as dataset:
                dataset.write(np.moveaxis(rgb, 2, 0))
            return memory.read()
