"""Polygons from CAD drawings (DXF), as survey offices and designers hand sites over.

GDAL's DXF driver reads a closed LWPOLYLINE or POLYLINE as a polygon when
``DXF_CLOSED_LINE_AS_POLYGON`` is on, and a line drawn back to its first
point without the closed flag is taken as closed too; open lines, points, text and blocks are
left out. The drawing's layer (CAD ``Layer``) and text fields are kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from geoplan.geo.errors import LayerReadError


def read_dxf_polygons(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """The closed polylines of a DXF drawing, as polygons (no CRS: DXF carries none).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    geopandas.GeoDataFrame
        ``Layer`` (the CAD layer) and the polygon, one row per closed polyline.

    Raises
    ------
    LayerReadError
        Missing or unreadable file, or a drawing without a closed polyline.
    """
    path = Path(path)
    if not path.is_file():
        raise LayerReadError(f"{path}: no such file")
    previous = pyogrio.get_gdal_config_option("DXF_CLOSED_LINE_AS_POLYGON")
    pyogrio.set_gdal_config_options({"DXF_CLOSED_LINE_AS_POLYGON": "TRUE"})
    try:
        frame = pyogrio.read_dataframe(path, columns=["Layer"])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerReadError(f"{path}: not a DXF drawing GDAL can read ({exc})") from None
    finally:
        pyogrio.set_gdal_config_options({"DXF_CLOSED_LINE_AS_POLYGON": previous})
    geoms = frame.geometry.values
    # a polyline drawn back to its start without the closed flag is a ring too
    rings = (shapely.get_type_id(geoms) == 1) & shapely.is_closed(geoms)
    rings &= shapely.get_num_coordinates(geoms) >= 4
    geoms = geoms.copy()
    geoms[rings] = [shapely.Polygon(shapely.get_coordinates(g)) for g in geoms[rings]]
    frame = frame.set_geometry(geoms)
    kinds = shapely.get_type_id(geoms)
    polygons = frame[(kinds == 3) | (kinds == 6)].reset_index(drop=True)
    if len(polygons) == 0:
        raise LayerReadError(
            f"{path}: no closed polyline ({len(frame)} other entities); draw the site "
            "as a closed polyline (PLINE … C)"
        )
    return gpd.GeoDataFrame(polygons, geometry=polygons.geometry.values, crs=None)
