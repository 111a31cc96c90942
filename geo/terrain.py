"""Terrain from a DEM, block by block: slope and aspect (Horn), threshold polygons.

The DEM is never read whole: it is processed in strips of ``block_rows``
rows (plus one row of halo above and below), so memory is bounded by the
strip, not the raster. Cell sizes are in metres: a projected DEM's from its
transform; a DEM in longitude/latitude gets, per row, the ellipsoidal
length of one cell east-west and north-south at that latitude, so slopes
are right in either.

Slope (degrees) and aspect (degrees clockwise from north, the direction the
slope faces; -1 where flat) follow Horn (1981), as ``gdaldem`` does. Cells
whose 3×3 neighbourhood holds nodata, and the raster's outer ring, are
nodata.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import CRS, Geod
from rasterio.features import shapes
from rasterio.windows import Window

from geoplan.geo.errors import GeoplanError

MEASURES = ("elevation", "slope", "aspect")
#: Cells per strip when no row count is given: 2 million (16 MB per float64
#: array; Horn's method holds about a dozen of them).
BLOCK_CELLS = 2_000_000
#: GDAL's block cache while reading or writing strips (bytes): without a cap
#: it grows with the raster up to 5 % of the machine's memory.
GDAL_CACHE_BYTES = 128 * 2**20


class RasterError(GeoplanError, ValueError):
    """A raster that cannot be used as given."""


@dataclass(frozen=True)
class RasterInfo:
    """What a raster is: its grid, CRS and nodata."""

    path: Path
    crs: CRS
    transform: rasterio.Affine
    width: int
    height: int
    nodata: float | None
    band: int
    #: ``nodata`` was given in place of the file's own.
    nodata_overridden: bool = False


def open_info(
    path: str | Path, *, band: int = 1, crs: str | None = None, nodata: float | None = None
) -> RasterInfo:
    """Check a raster and describe it; ``crs`` and ``nodata`` override the file's.

    Raises
    ------
    RasterError
        Unreadable, no such band, or no CRS (and none given).
    """
    path = Path(path)
    try:
        with rasterio.open(path) as src:
            if band < 1 or band > src.count:
                raise RasterError(f"{path}: has {src.count} band(s), no band {band}")
            file_crs = src.crs
            info = (src.transform, src.width, src.height, src.nodatavals[band - 1])
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(f"{path}: cannot be read as a raster ({exc})") from None
    chosen = (
        CRS.from_user_input(crs) if crs else (CRS.from_wkt(file_crs.to_wkt()) if file_crs else None)
    )
    if chosen is None:
        raise RasterError(f'{path}: has no CRS; give one with crs = "EPSG:…" in [rasters]')
    transform, width, height, file_nodata = info
    if transform.b or transform.d:
        raise RasterError(f"{path}: a rotated grid is not supported; warp it north-up first")
    overridden = nodata is not None and not (
        nodata == file_nodata
        or (file_nodata is not None and np.isnan(nodata) and np.isnan(file_nodata))
    )
    return RasterInfo(
        path,
        chosen,
        transform,
        width,
        height,
        nodata if nodata is not None else file_nodata,
        band,
        overridden,
    )


def cell_sizes_m(info: RasterInfo, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell width and height (metres) of the given rows.

    Projected: from the transform (times the unit's metres). Geographic: the
    ellipsoidal distance of one cell east-west and north-south at each row's
    latitude.
    """
    t = info.transform
    rows = np.asarray(rows, dtype=float)
    if not info.crs.is_geographic:
        unit = info.crs.axis_info[0].unit_conversion_factor if info.crs.axis_info else 1.0
        return np.full(rows.size, abs(t.a) * unit), np.full(rows.size, abs(t.e) * unit)
    geod = Geod(**_ellipsoid(info.crs))
    lat = t.f + (rows + 0.5) * t.e
    lon = np.full(rows.size, t.c)
    _, _, dx = geod.inv(lon, lat, lon + abs(t.a), lat)
    _, _, dy = geod.inv(lon, lat - abs(t.e) / 2, lon, lat + abs(t.e) / 2)
    return np.asarray(dx), np.asarray(dy)


def _ellipsoid(crs: CRS) -> dict:
    ellipsoid = crs.ellipsoid
    return {"a": ellipsoid.semi_major_metre, "b": ellipsoid.semi_minor_metre}


def horn(
    z: np.ndarray, dx: np.ndarray, dy: np.ndarray, *, with_aspect: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Slope and aspect (degrees) of the inner cells of ``z`` by Horn's method.

    Parameters
    ----------
    z : numpy.ndarray
        Elevations (metres) with one cell of halo on every side; NaN for nodata.
    dx, dy : numpy.ndarray
        Cell width and height (metres) of each inner row.
    with_aspect : bool
        Also compute the aspect (otherwise None is returned for it).

    Returns
    -------
    slope, aspect : numpy.ndarray
        Shape ``z.shape - 2``; NaN where any neighbour is NaN. Aspect is
        clockwise from north, the direction the slope faces; -1 where flat.
    """
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * dx[:, None])
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * dy[:, None])  # rows run south
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    slope[np.isnan(z[1:-1, 1:-1])] = np.nan
    if not with_aspect:
        return slope, None
    aspect = np.degrees(np.arctan2(dzdy, -dzdx))
    aspect = np.where(aspect > 90, 450 - aspect, 90 - aspect) % 360
    aspect[(dzdx == 0) & (dzdy == 0)] = -1.0
    aspect[np.isnan(slope)] = np.nan
    return slope, aspect


def _read(src, info: RasterInfo, window: Window) -> np.ndarray:
    """Values of a window that may reach past the raster's edge (NaN there and at nodata)."""
    out = np.full((int(window.height), int(window.width)), np.nan)
    row0, col0 = max(0, int(window.row_off)), max(0, int(window.col_off))
    row1 = min(info.height, int(window.row_off + window.height))
    col1 = min(info.width, int(window.col_off + window.width))
    if row1 > row0 and col1 > col0:
        inner = Window(col0, row0, col1 - col0, row1 - row0)
        data = src.read(info.band, window=inner, out_dtype="float64")
        if info.nodata is not None and not np.isnan(info.nodata):
            data[data == info.nodata] = np.nan
        top, left = row0 - int(window.row_off), col0 - int(window.col_off)
        out[top : top + data.shape[0], left : left + data.shape[1]] = data
    return out


def blocks(
    info: RasterInfo,
    measure: str,
    window: Window | None = None,
    block_rows: int | None = None,
) -> Iterator[tuple[Window, np.ndarray]]:
    """Strips of a measure over ``window`` (the whole raster by default).

    ``block_rows`` rows at a time; by default as many as make
    :data:`BLOCK_CELLS` cells, so memory does not grow with the raster.

    Yields
    ------
    window : rasterio.windows.Window
        The strip's place in the raster.
    values : numpy.ndarray
        float64, NaN for nodata (and, for slope and aspect, the outer ring).
    """
    if measure not in MEASURES:
        raise RasterError(f"measure {measure!r}: expected one of {', '.join(MEASURES)}")
    window = window or Window(0, 0, info.width, info.height)
    block_rows = block_rows or max(8, BLOCK_CELLS // max(1, int(window.width)))
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES), rasterio.open(info.path) as src:
        for top in range(int(window.row_off), int(window.row_off + window.height), block_rows):
            rows = min(block_rows, int(window.row_off + window.height) - top)
            strip = Window(window.col_off, top, window.width, rows)
            if measure == "elevation":
                yield strip, _read(src, info, strip)
                continue
            halo = Window(window.col_off - 1, top - 1, window.width + 2, rows + 2)
            # Outside the raster the read gives NaN: the outer ring, lacking
            # a full neighbourhood, becomes nodata.
            z = _read(src, info, halo)
            dx, dy = cell_sizes_m(info, np.arange(top, top + rows))
            slope, aspect = horn(z, dx, dy, with_aspect=measure == "aspect")
            yield strip, slope if measure == "slope" else aspect


def window_of(info: RasterInfo, bounds: tuple[float, float, float, float]) -> Window:
    """The raster window covering ``bounds`` (in the raster's CRS).

    Raises
    ------
    RasterError
        The bounds do not overlap the raster.
    """
    t = info.transform
    minx, miny, maxx, maxy = bounds
    col0 = max(0, math.floor((minx - t.c) / t.a))
    col1 = min(info.width, math.ceil((maxx - t.c) / t.a))
    row0 = max(0, math.floor((maxy - t.f) / t.e))
    row1 = min(info.height, math.ceil((miny - t.f) / t.e))
    if col1 <= col0 or row1 <= row0:
        raise RasterError(f"{info.path}: does not overlap the features (bounds {bounds})")
    return Window(col0, row0, col1 - col0, row1 - row0)


def strip_transform(info: RasterInfo, window: Window) -> rasterio.Affine:
    """The transform of a window of the raster."""
    t = info.transform
    return rasterio.Affine(
        t.a, t.b, t.c + window.col_off * t.a, t.d, t.e, t.f + window.row_off * t.e
    )


def above_threshold(
    info: RasterInfo,
    measure: str,
    threshold: float,
    bounds: tuple[float, float, float, float],
    block_rows: int | None = None,
) -> np.ndarray:
    """Polygons of the cells whose measure exceeds ``threshold``, in the raster's CRS.

    The cells are vectorised strip by strip and merged with a coverage union
    (cells never overlap), so a region crossing strips is one polygon.
    """
    polygons = []
    for strip, values in blocks(info, measure, window_of(info, bounds), block_rows):
        mask = (values > threshold).astype("uint8")
        if not mask.any():
            continue
        transform = strip_transform(info, strip)
        for geom, value in shapes(mask, mask=mask.astype(bool), transform=transform):
            if value == 1:
                polygons.append(shapely.geometry.shape(geom))
    if not polygons:
        return np.array([], dtype=object)
    merged = shapely.coverage_union_all(np.array(polygons, dtype=object))
    return shapely.get_parts(merged)


def overview_hillshade(
    info: RasterInfo, max_px: int = 1600, azimuth: float = 315.0, altitude: float = 45.0
) -> tuple[np.ndarray, rasterio.Affine]:
    """A hillshade (0–1, NaN for nodata) of the whole DEM at most ``max_px`` cells wide.

    The DEM is read decimated to that size (GDAL picks overviews or
    resamples), so memory follows ``max_px``, not the DEM.
    """
    factor = max(1.0, max(info.width, info.height) / max_px)
    width, height = max(3, round(info.width / factor)), max(3, round(info.height / factor))
    with rasterio.open(info.path) as src:
        z = src.read(
            info.band,
            out_shape=(height, width),
            resampling=rasterio.enums.Resampling.average,
            out_dtype="float64",
        )
    if info.nodata is not None and not np.isnan(info.nodata):
        z[z == info.nodata] = np.nan
    t = info.transform
    transform = rasterio.Affine(
        t.a * info.width / width, 0.0, t.c, 0.0, t.e * info.height / height, t.f
    )
    coarse = RasterInfo(info.path, info.crs, transform, width, height, None, info.band)
    padded = np.pad(z, 1, constant_values=np.nan)
    dx, dy = cell_sizes_m(coarse, np.arange(height))
    slope, aspect = horn(padded, dx, dy)
    zenith, sun = np.radians(90 - altitude), np.radians(azimuth)
    s, a = np.radians(slope), np.radians(np.where(aspect < 0, 0, aspect))
    shade = np.cos(zenith) * np.cos(s) + np.sin(zenith) * np.sin(s) * np.cos(sun - a)
    return np.clip(shade, 0, 1), transform


def write_measure(
    info: RasterInfo, measure: str, path: str | Path, block_rows: int | None = None
) -> Path:
    """Write a measure (elevation, slope, aspect) of a DEM to a tiled GeoTIFF, strip by strip."""
    profile = {
        "driver": "GTiff",
        "width": info.width,
        "height": info.height,
        "count": 1,
        "dtype": "float32",
        "crs": info.crs.to_wkt(),
        "transform": info.transform,
        "nodata": np.nan,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES):
        with rasterio.open(path, "w", **profile) as dst:
            for window, values in blocks(info, measure, block_rows=block_rows):
                dst.write(values.astype("float32"), 1, window=window)
    return Path(path)


class DerivedRasters:
    """Slope and aspect of DEMs, computed once per run and kept as GeoTIFFs in ``folder``.

    Raster rules and zonal statistics of one check read the same slope; this
    keeps them from deriving it again for each.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._made: dict[tuple[str, int, str], RasterInfo] = {}

    def get(self, info: RasterInfo, measure: str) -> RasterInfo:
        """A raster whose values are ``measure`` of ``info`` (``info`` itself for elevation)."""
        if measure == "elevation":
            return info
        key = (str(info.path), info.band, measure)
        if key not in self._made:
            path = self.folder / f"{len(self._made)}-{measure}.tif"
            self._made[key] = open_info(write_measure(info, measure, path))
        return self._made[key]
