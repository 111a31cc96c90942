"""A generated DEM (dem.tif): low hills in the south, mountains in the north, river valleys."""

from __future__ import annotations

import numpy as np
import shapely

#: Cell size (m).
CELL = 100.0
#: Cell size (m) of the grid the distance to the rivers is computed on.
COARSE = 1_000.0


def dem(
    city: shapely.Geometry, river_lines: np.ndarray, state: int
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Elevations (m): about 300 m in the south, up to about 2,500 m in the north.

    The grid covers the city's bounds and ten cells more on each side.

    Returns
    -------
    elevation : numpy.ndarray of int16
        Rows north to south, 250 to 2,600 m; no cell is nodata.
    transform : tuple of float
        (west, north, cell) in metres, for the GeoTIFF.
    """
    x0, y0, x1, y1 = city.bounds
    x0, y0 = np.floor(x0 / CELL) * CELL - CELL * 10, np.floor(y0 / CELL) * CELL - CELL * 10
    x1, y1 = np.ceil(x1 / CELL) * CELL + CELL * 10, np.ceil(y1 / CELL) * CELL + CELL * 10
    xs = np.arange(x0 + CELL / 2, x1, CELL)
    ys = np.arange(y1 - CELL / 2, y0, -CELL)
    gx, gy = np.meshgrid(xs, ys)
    north = np.clip((gy - y0) / (y1 - y0), 0, 1)
    base = 300 + 1_900 * north**2.2
    elevation = base + _relief(np.random.default_rng(state), gx, gy) * (0.4 + 1.6 * north)
    d = _river_distance(river_lines, gx, gy, (x0, y0, x1, y1))
    elevation -= (250 + 500 * north) * np.exp(-((d / 2_500) ** 2))
    elevation = np.clip(elevation, 250, 2_600)
    return np.round(elevation).astype("int16"), (x0, y1, CELL)


def _relief(rng: np.random.Generator, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Rolling relief (m) at the cell centres ``gx, gy``: four tilted wave trains."""
    relief = np.zeros_like(gx)
    for wavelength, amplitude in ((30_000, 180), (9_000, 140), (3_000, 90), (1_200, 40)):
        ax, ay = rng.uniform(0, 6.28, 2)
        theta = rng.uniform(0, np.pi)
        u = gx * np.cos(theta) + gy * np.sin(theta)
        v = -gx * np.sin(theta) + gy * np.cos(theta)
        relief += (
            amplitude
            * np.sin(2 * np.pi * u / wavelength + ax)
            * np.cos(2 * np.pi * v / wavelength + ay)
        )
    return relief


def _river_distance(
    river_lines: np.ndarray,
    gx: np.ndarray,
    gy: np.ndarray,
    bounds: tuple[float, float, float, float],
) -> np.ndarray:
    """Distance (m) from the cell centres to the nearest river, bilinear from a coarse grid."""
    x0, y0, x1, y1 = bounds
    cxs = np.arange(x0, x1 + COARSE, COARSE)
    cys = np.arange(y1, y0 - COARSE, -COARSE)
    cgx, cgy = np.meshgrid(cxs, cys)
    lines = shapely.union_all(river_lines)
    distance = shapely.distance(shapely.points(cgx.ravel(), cgy.ravel()), lines).reshape(cgx.shape)
    fi = (gy[:, 0][:, None] - y1) / -COARSE
    fj = (gx[0, :][None, :] - x0) / COARSE
    i0 = np.clip(np.floor(fi).astype(int), 0, cgx.shape[0] - 2)
    j0 = np.clip(np.floor(fj).astype(int), 0, cgx.shape[1] - 2)
    ti, tj = fi - i0, fj - j0
    return (
        distance[i0, j0] * (1 - ti) * (1 - tj)
        + distance[i0 + 1, j0] * ti * (1 - tj)
        + distance[i0, j0 + 1] * (1 - ti) * tj
        + distance[i0 + 1, j0 + 1] * ti * tj
    )
