"""Slope and zonal statistics on a city-wide 10 m DEM: time and peak memory.

Generates (once, cached in ~/.cache/geoplan/bench) a DEM of the whole of
巴中市 at 10 m — the embedded 100 m DEM resampled, plus metre-scale relief —
written strip by strip, then, each in a fresh child process:

- slope of the whole DEM (strips of about 2 million cells) into a GeoTIFF;
- zonal statistics (mean, p50, share above 25°) of slope and elevation over
  the 139 townships (exactextract, cells weighted by covered fraction);

and prints wall time and peak RSS, at 10 m and at 20 m, so that memory can
be seen to follow the strip, not the raster. Last, exactextract against
rasterstats (whole cells) on the 20 m DEM: time and the largest difference
of the township means.

    .venv/bin/python benchmarks/bench_raster.py [--block-rows N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window

from geoplan.layers.bazhong import PROJECT_FILE

DEFAULT_CACHE = Path.home() / ".cache" / "geoplan" / "bench"
SOURCE = PROJECT_FILE.parent / "data" / "dem.tif"
GPKG = PROJECT_FILE.parent / "data" / "bazhong.gpkg"


def ensure_dem(cell_m: float, cache: Path, strip_rows: int = 1024) -> Path:
    """The city DEM at ``cell_m``, generated strip by strip when missing."""
    path = cache / f"bazhong-dem-{cell_m:g}m.tif"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with rasterio.open(SOURCE) as src:
        t = src.transform
        factor = abs(t.a) / cell_m
        width, height = round(src.width * factor), round(src.height * factor)
        transform = rasterio.Affine(cell_m, 0, t.c, 0, -cell_m, t.f)
        profile = {
            "driver": "GTiff", "width": width, "height": height, "count": 1,
            "dtype": "float32", "crs": src.crs, "transform": transform, "nodata": -9999.0,
            "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
            "BIGTIFF": "IF_SAFER",
        }  # fmt: skip
        coarse = src.read(1).astype("float32")
        staging = path.with_suffix(".partial.tif")
        with rasterio.open(staging, "w", **profile) as dst:
            cols = np.arange(width) * cell_m
            for top in range(0, height, strip_rows):
                rows = min(strip_rows, height - top)
                strip = np.full((rows, width), -9999.0, dtype="float32")
                strip_transform = rasterio.Affine(cell_m, 0, t.c, 0, -cell_m, t.f - top * cell_m)
                reproject(
                    coarse, strip, src_transform=t, src_crs=src.crs,
                    dst_transform=strip_transform, dst_crs=src.crs, src_nodata=src.nodata,
                    dst_nodata=-9999.0, resampling=Resampling.bilinear,
                )  # fmt: skip
                y = (top + np.arange(rows))[:, None] * cell_m
                relief = 6 * np.sin(cols / 170.0) * np.cos(y / 230.0) + 3 * np.sin(
                    (cols + y) / 90.0
                )
                strip = np.where(strip == -9999.0, strip, strip + relief.astype("float32"))
                dst.write(strip, 1, window=Window(0, top, width, rows))
        staging.rename(path)
    seconds = time.perf_counter() - start
    print(f"generated {path.name}: {width:,} × {height:,} cells in {seconds:.0f} s")
    return path


_CHILD = """
import json, resource, sys, tempfile, time
import geopandas as gpd
from geoplan.geo.terrain import open_info
from geoplan.geo.zonal import write_measure, zonal_stats
dem, gpkg, block_rows, job = sys.argv[1], sys.argv[2], int(sys.argv[3]) or None, sys.argv[4]
info = open_info(dem)
towns = gpd.read_file(gpkg, layer="XZQ_XZ")
start = time.perf_counter()
if job == "slope":
    with tempfile.TemporaryDirectory() as folder:
        write_measure(info, "slope", folder + "/slope.tif", block_rows)
elif job == "zonal":
    zonal_stats(info, towns, measure="slope", stats=("mean", "p50"), threshold=25,
                block_rows=block_rows)
    zonal_stats(info, towns, measure="elevation", stats=("mean", "min", "max"))
elif job == "rasterstats":
    from rasterstats import zonal_stats as rs
    result = rs(towns.to_crs(info.crs), dem, stats=["mean"])
    print(json.dumps([r["mean"] for r in result]), file=sys.stderr)
elif job == "exactextract":
    result = zonal_stats(info, towns, measure="elevation", stats=("mean",))
    print(json.dumps(result["mean"].tolist()), file=sys.stderr)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak}))
"""


def child(dem: Path, block_rows: int, job: str) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(dem), str(GPKG), str(block_rows), job],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--block-rows", type=int, default=0, help="rows per strip (0: geo.terrain.BLOCK_CELLS)"
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    for cell in (20.0, 10.0):
        dem = ensure_dem(cell, args.cache)
        with rasterio.open(dem) as src:
            cells = src.width * src.height
        for job in ("slope", "zonal"):
            result, _ = child(dem, args.block_rows, job)
            print(
                f"{cell:>4g} m DEM ({cells / 1e6:6.1f} M cells, "
                f"{cells * 4 / 1e6:6.0f} MB as float32)"
                f" | {job:<6} | {result['seconds']:6.1f} s | peak RSS {result['peak_mb']:6.0f} MB"
            )
    dem = ensure_dem(20.0, args.cache)
    exact, exact_means = child(dem, args.block_rows, "exactextract")
    whole, whole_means = child(dem, args.block_rows, "rasterstats")
    a = np.array(json.loads(exact_means.strip().splitlines()[-1]), dtype=float)
    b = np.array(json.loads(whole_means.strip().splitlines()[-1]), dtype=float)
    print(
        f"township mean elevation, 20 m DEM: exactextract {exact['seconds']:.1f} s "
        f"({exact['peak_mb']:.0f} MB), rasterstats {whole['seconds']:.1f} s "
        f"({whole['peak_mb']:.0f} MB); largest difference {np.nanmax(np.abs(a - b)):.2f} m"
    )


if __name__ == "__main__":
    main()
