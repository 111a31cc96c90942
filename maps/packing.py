"""Compact feature data for the page: quantised, delta-encoded coordinates.

Plain GeoJSON spends some twenty characters on every vertex
(``[106.123456,31.123456],``). Here all coordinates of a layer are scaled
to integers (``10**decimals`` per degree), written as differences from the
previous vertex, as in TopoJSON, in zigzag LEB128 varints as base85 text
(:func:`maps.dense.to_text`: about two characters a coordinate) — and the
nesting (rings, polygons, geometries) as offset arrays, straight from
:func:`shapely.to_ragged_array`. ``geoplan.unpack`` (``static/geoplan.js``)
turns it back into GeoJSON in the browser.
"""

from __future__ import annotations

import json

import numpy as np
import shapely

from geoplan.maps.dense import to_text, varints, zigzag

_GEOJSON_TYPES = {
    shapely.GeometryType.POINT: "Point",
    shapely.GeometryType.LINESTRING: "LineString",
    shapely.GeometryType.POLYGON: "Polygon",
    shapely.GeometryType.MULTIPOINT: "MultiPoint",
    shapely.GeometryType.MULTILINESTRING: "MultiLineString",
    shapely.GeometryType.MULTIPOLYGON: "MultiPolygon",
}


def _ints(values: np.ndarray) -> str:
    return ",".join(values.astype(str))


def pack_features(geoms: np.ndarray, properties: list[dict], decimals: int) -> str:
    """Serialise features for ``geoplan.unpack``.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Non-empty geometries of one family (polygonal, lineal or points),
        in longitude/latitude.
    properties : list of dict
        One per geometry; JSON-serialisable.
    decimals : int
        Decimal places of a degree kept (coordinates are rounded to them).

    Returns
    -------
    str
        JSON: ``t`` GeoJSON geometry type, ``s`` scale, ``xy`` coordinate
        differences (x, y interleaved; zigzag varints as base85 text),
        ``o`` offsets (innermost first), ``p`` properties.
    """
    props = json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
    if len(geoms) == 0:
        return f'{{"t":"Polygon","s":1,"xy":"","o":[[0]],"p":{props}}}'
    kind, coords, offsets = shapely.to_ragged_array(np.asarray(geoms, dtype=object))
    scale = 10**decimals
    ints = np.rint(coords[:, :2] * scale).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), np.int64))
    nesting = ",".join(f"[{_ints(np.asarray(o))}]" for o in offsets)
    xy = to_text(varints(zigzag(deltas.ravel())))
    return f'{{"t":"{_GEOJSON_TYPES[kind]}","s":{scale},"xy":"{xy}","o":[{nesting}],"p":{props}}}'
