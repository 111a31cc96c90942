"""A province-scale synthetic plan for benchmarks: synthetic cities side by side.

Each city is one of ``citygen``'s (about 110 km × 110 km, five counties and
139 townships, ≥ 300,000 farmland patches by default, its own seed), moved
into a cell of a grid of cities (as square as the count allows) centred on
the 108°E central meridian of EPSG:4545, so a province of 10 cities spans
about 440 km × 330 km (105.7–110.3°E, 31.4–34.4°N): three 3° zones, so the
project file sets ``working_crs = "EPSG:4545"`` rather than leaving the
loader to choose. Counties, townships and every named feature carry the
city in their name (``市3县2``, ``市3乡镇17``), ids (BSM) and codes (XZQDM)
are unique across the province. The layers are written city by city
(appended) into one GeoPackage, with ``project.toml`` and ``province.json``
(cities, farmland patches per city), once, into a cache folder outside git
(``~/.cache/geoplan/bench/province-<N>``) and re-used when present.

Run::

    .venv/bin/python benchmarks/provincegen.py --patches 3000000
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).parent))

from citygen import CRS, DEFAULT_CACHE, PROJECT, SIZE, X0, generate

#: The central meridian's easting in EPSG:4545 (false easting), metres.
CENTRAL_EASTING = 500_000.0
#: Farmland patches of one city when the count of cities is not given.
PATCHES_PER_CITY = 300_000
#: Fields that name a feature, by layer; each gets the city's name in front.
NAME_FIELDS = {
    "counties": ("XZQMC",),
    "townships": ("XZMC", "XZQMC"),
    "ecological_redline": ("HXMC",),
    "protected_areas": ("MC",),
    "parks": ("MC",),
    "rivers": ("MC",),
}


def default_cities(n_patches: int) -> int:
    """Cities of about :data:`PATCHES_PER_CITY` patches each that make ``n_patches``."""
    return max(1, round(n_patches / PATCHES_PER_CITY))


def city_offsets(cities: int) -> np.ndarray:
    """Where each city's square goes: (dx, dy) in metres from ``citygen``'s square.

    Parameters
    ----------
    cities : int
        Number of cities.

    Returns
    -------
    numpy.ndarray
        Shape (cities, 2): the shift of city *i*, row by row from the south-west,
        the grid ``ceil(sqrt(cities))`` columns wide and centred east-west on
        the central meridian of EPSG:4545.
    """
    columns = math.ceil(math.sqrt(cities))
    index = np.arange(cities)
    west = CENTRAL_EASTING - columns * SIZE / 2
    return np.column_stack([west + (index % columns) * SIZE - X0, (index // columns) * SIZE + 0.0])


def _megabytes(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir()) / 2**20


def _city_layers(city: int, patches: int, offset: np.ndarray) -> dict[str, gpd.GeoDataFrame]:
    """City ``city`` (0-based) of ``patches`` patches, moved by ``offset`` and renamed."""
    prefix = f"市{city + 1}"
    layers = generate(patches, seed=7 + city)
    for name, frame in layers.items():
        frame["BSM"] = f"{city + 1:02d}" + frame["BSM"]
        for field in NAME_FIELDS.get(name, ()):
            frame[field] = prefix + frame[field]
        frame.geometry = shapely.transform(frame.geometry.values, lambda xy: xy + offset)
    counties, townships = layers["counties"], layers["townships"]
    codes = {n: f"51{city + 1:02d}{i + 1:02d}" for i, n in enumerate(counties["XZQMC"])}
    counties["XZQDM"] = counties["XZQMC"].map(codes)
    townships["XZQDM"] = [f"{codes[c]}{i + 1:03d}" for i, c in enumerate(townships["XZQMC"])]
    return layers


def ensure_province(n_patches: int, cities: int | None = None, cache: Path = DEFAULT_CACHE) -> Path:
    """The project file of the cached synthetic province, generating it when missing.

    Parameters
    ----------
    n_patches : int
        Farmland patches in the whole province, at least (each city is given
        ``ceil(n_patches / cities)`` and the city generator overshoots a little).
    cities : int, optional
        Number of cities (default :func:`default_cities`).
    cache : pathlib.Path
        Folder of the benchmark caches.

    Returns
    -------
    pathlib.Path
        ``<cache>/province-<n_patches>[x<cities>]/project.toml``.
    """
    chosen = cities or default_cities(n_patches)
    suffix = "" if chosen == default_cities(n_patches) else f"x{chosen}"
    folder = cache / f"province-{n_patches}{suffix}"
    project = folder / "project.toml"
    if project.exists():
        print(f"re-using {folder} ({_megabytes(folder):,.0f} MB)")
        return project
    start = time.perf_counter()
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    per_city = math.ceil(n_patches / chosen)
    counts = []
    for city, offset in enumerate(city_offsets(chosen)):
        layers = _city_layers(city, per_city, offset)
        for name, frame in layers.items():
            pyogrio.write_dataframe(
                frame, staging / "province.gpkg", layer=name, driver="GPKG", append=city > 0
            )
        counts.append(len(layers["permanent_farmland"]))
        print(
            f"city {city + 1}/{chosen}: {counts[-1]:,} farmland patches "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    if sum(counts) < n_patches:
        raise SystemExit(
            f"provincegen: error: {sum(counts):,} farmland patches generated, "
            f"fewer than the {n_patches:,} asked for"
        )
    text = PROJECT.replace('"city.gpkg"', '"province.gpkg"').replace(
        'name = "benchmark city"', 'name = "benchmark province"'
    )
    if '"city.gpkg"' in text or f'working_crs = "{CRS}"' not in text:
        raise SystemExit("provincegen: error: citygen.PROJECT no longer has the expected form")
    (staging / "province.json").write_text(
        json.dumps({"cities": chosen, "farmland_patches": counts, "crs": CRS}), encoding="utf-8"
    )
    (staging / "project.toml").write_text(text, encoding="utf-8")
    staging.rename(folder)
    print(
        f"generated {sum(counts):,} farmland patches in {chosen} "
        f"{'city' if chosen == 1 else 'cities'} in "
        f"{time.perf_counter() - start:.1f} s, {_megabytes(folder):,.0f} MB on disk → {folder}"
    )
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=3_000_000)
    parser.add_argument("--cities", type=int, help="default: one per 300,000 patches")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    print(ensure_province(args.patches, args.cities, args.cache))


if __name__ == "__main__":
    main()
