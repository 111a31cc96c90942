"""Refusing a layer whose CRS puts it nowhere on the globe, or far from the other layers.

A wrong CRS rarely fails to reproject: it moves the layer elsewhere, where
no rule finds a conflict with it. So every layer's extent is compared in
longitude/latitude (:func:`layers.region.misplaced_layers`) before the
working CRS is chosen from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
from pyproj.exceptions import ProjError

from geoplan.geo.crs import CGCS2000, crs_name, to_crs, transformer
from geoplan.geo.errors import CRSError
from geoplan.layers.region import FAR_KM, misplaced_layers

if TYPE_CHECKING:  # the loader imports this module
    from geoplan.layers.loader import LoadedLayer


def lonlat_bounds(frame: gpd.GeoDataFrame) -> np.ndarray:
    """The frame's extent in longitude/latitude; inf where it is outside its CRS's domain.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Features in the CRS they were read in.

    Returns
    -------
    numpy.ndarray
        ``[lon_min, lat_min, lon_max, lat_max]``, degrees (CGCS2000).
    """
    try:
        box = transformer(frame.crs, to_crs(CGCS2000)).transform_bounds(*frame.total_bounds)
    except ProjError:
        return np.full(4, np.inf)
    return np.asarray(box, dtype="float64")


def _lonlat_text(box: tuple[float, float, float, float]) -> str:
    return f"lon {box[0]:.2f}..{box[2]:.2f}, lat {box[1]:.2f}..{box[3]:.2f}"


def refuse_misplaced(extents: Mapping[str, np.ndarray], layers: Mapping[str, LoadedLayer]) -> None:
    """Refuse a layer whose CRS puts it far from the others (:func:`misplaced_layers`).

    Parameters
    ----------
    extents : mapping of str to numpy.ndarray
        Kind → :func:`lonlat_bounds` of its features (layers with features only).
    layers : mapping of str to LoadedLayer
        Kind → the layer as read, for its source and the CRS it was read in.

    Raises
    ------
    CRSError
        A layer whose coordinates are nowhere on the globe in its CRS, or one
        far from the others, naming the layer, its extent and the region's in
        longitude/latitude, the threshold, and the ``crs`` key to fix.
    """
    for kind, box in extents.items():
        if not np.all(np.isfinite(box)):
            layer = layers[kind]
            raise CRSError(
                f"{layer.spec.source}: {kind} read in {crs_name(layer.source_crs)} has "
                "coordinates that are nowhere on the globe; its CRS is probably wrong: give the "
                f'right one with crs = "EPSG:..." in [layers.{kind}]'
            )
    found = misplaced_layers(extents)
    if not found:
        return
    if len(found) == len(extents):  # no two layers agree on where the region is
        where = "; ".join(
            f"{layers[m.kind].spec.source} ({crs_name(layers[m.kind].source_crs)}) at "
            f"{_lonlat_text(m.box)}"
            for m in found
        )
        raise CRSError(
            f"the layers lie more than {FAR_KM:g} km apart: {where}; the CRS of some is "
            'wrong: give the right one with crs = "EPSG:..." in its [layers.KIND]'
        )
    wrong = found[0]
    layer = layers[wrong.kind]
    raise CRSError(
        f"{layer.spec.source}: {wrong.kind} read in {crs_name(layer.source_crs)} lies at "
        f"{_lonlat_text(wrong.box)}, ~{wrong.distance_km:,.0f} km from the region of "
        f"{wrong.region_of} "
        f"({_lonlat_text(wrong.region)}; more than {FAR_KM:g} km away counts as misplaced); "
        f'its CRS is probably wrong: give the right one with crs = "EPSG:..." '
        f"in [layers.{wrong.kind}]"
    )
