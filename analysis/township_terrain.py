"""Elevation and slope statistics per township, from the project's DEM."""

from __future__ import annotations

import pandas as pd

from geoplan.geo.terrain import DerivedRasters
from geoplan.geo.zonal import zonal_stats
from geoplan.layers.loader import LoadedProject


def terrain_by_township(
    loaded: LoadedProject, derived: DerivedRasters | None = None
) -> pd.DataFrame | None:
    """Elevation (m) and slope (°) statistics per township from the project's ``dem``.

    Cells are weighted by the fraction of them inside the township
    (:func:`geo.zonal.zonal_stats`).

    Parameters
    ----------
    loaded : LoadedProject
    derived : DerivedRasters, optional
        Where the DEM's slope is derived once for the run.

    Returns
    -------
    pandas.DataFrame or None
        One row per township, sorted by county and township: ``county``,
        ``township``, ``function_type``, ``elevation_mean``/``_min``/``_max``
        (m), ``slope_mean`` and ``slope_p50`` (°), ``slope_share_above_25``
        (0–1); None when the project has no DEM or no townships.
    """
    dem = loaded.project.rasters.get("dem")
    if dem is None or "townships" not in loaded.layers:
        return None
    info = dem.info()
    towns = loaded.frame("townships")
    elevation = zonal_stats(info, towns, measure="elevation", stats=("mean", "min", "max"))
    slope = zonal_stats(
        info, towns, measure="slope", stats=("mean", "p50"), threshold=25, derived=derived
    )
    table = pd.DataFrame(
        {
            "county": towns["county"].astype(str).to_numpy(),
            "township": towns["name"].astype(str).to_numpy(),
            "function_type": towns["function_type"].astype(str).to_numpy(),
            "elevation_mean": elevation["mean"].to_numpy(),
            "elevation_min": elevation["min"].to_numpy(),
            "elevation_max": elevation["max"].to_numpy(),
            "slope_mean": slope["mean"].to_numpy(),
            "slope_p50": slope["p50"].to_numpy(),
            "slope_share_above_25": slope["share_above"].to_numpy(),
        }
    )
    return table.sort_values(["county", "township"]).reset_index(drop=True)
