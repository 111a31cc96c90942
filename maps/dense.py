"""Dense layers: every feature in deflated chunks per grid cell, and a generalized overview.

A city's 永久基本农田 has hundreds of thousands of patches. They cannot be
Leaflet objects (a path and a ``LatLng`` per vertex would take gigabytes of
JavaScript heap), nor plain text (tens of megabytes of file). Instead:

- every feature, at full resolution (rounded to the display step), goes
  into the chunk of the grid cell its extent's centre falls in: counts and
  quantised coordinates as LEB128 varints (coordinates as zigzag
  differences from the vertex predicting it, x and y in separate runs, the
  closing vertex of a ring left out), compressed with zlib and written as
  base85 text (:func:`to_text`); the page inflates a chunk with ``DecompressionStream("deflate")``
  only when a view at ``detail_from_zoom`` or closer needs it, draws it on
  canvas tiles and hit-tests it on the decoded typed arrays
  (``static/geoplan-dense.js``);
- below that zoom a generalized overview is drawn: the cells of a fine grid
  (about three features' spacing) that hold a feature's centre, outlined
  and simplified to half a cell (:func:`overview_frame`);
- the features' ids (图斑编号), in layer order, are one deflated list that
  search and identify inflate when first used (:func:`pack_ids`).

Everything here is vectorised over the features: the only Python loops run
over grid cells and classes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.features import rasterize, shapes

_ZLIB_LEVEL = 6
#: The digits of :func:`to_text`, 0 to 84.
ALPHABET = "!#$%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz|~"
_DIGITS = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_VALUES = np.zeros(256, np.uint8)
_VALUES[_DIGITS] = np.arange(85)


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed integers as unsigned (0, -1, 1, -2 … become 0, 1, 2, 3 …)."""
    values = values.astype(np.int64)
    return ((values << 1) ^ (values >> 63)).view(np.uint64)


def varints(values: np.ndarray) -> bytes:
    """Unsigned integers as LEB128 varints (7 bits a byte, low bits first).

    Parameters
    ----------
    values : numpy.ndarray
        Non-negative integers below 2**35.
    """
    u = np.asarray(values).astype(np.uint64)
    if len(u) == 0:
        return b""
    count = np.ones(len(u), np.int64)
    for k in range(1, 5):
        count += u >= np.uint64(1 << (7 * k))
    out = np.empty((len(u), 5), np.uint8)
    for k in range(5):
        more = np.where(count > k + 1, 0x80, 0).astype(np.uint64)
        out[:, k] = ((u >> np.uint64(7 * k)) & np.uint64(0x7F)) | more
    return out[np.arange(5)[None, :] < count[:, None]].tobytes()


def to_text(data: bytes) -> str:
    r"""Bytes as base85 text that needs no escaping in JSON, HTML or a template.

    Each 4 bytes (big-endian) as 5 digits of :data:`ALPHABET` (printable
    ASCII without ``"&'<>\`{}``), the last group of 1–3 bytes as 2–4
    digits (as in RFC 1924); ``geoplan.bytes`` reads it: 5 characters for 4
    bytes, where base64 takes 5⅓.
    """
    if not data:
        return ""
    pad = -len(data) % 4
    values = np.frombuffer(data + b"\0" * pad, dtype=">u4").astype(np.int64)
    digits = np.empty((len(values), 5), np.uint8)
    for k in range(4, -1, -1):
        values, digits[:, k] = np.divmod(values, 85)
    text = _DIGITS[digits].tobytes()
    return text[: len(text) - pad].decode("ascii")


def from_text(text: str) -> bytes:
    """The bytes of :func:`to_text`."""
    if not text:
        return b""
    pad = -len(text) % 5
    codes = np.frombuffer(text.encode("ascii") + _DIGITS[-1:].tobytes() * pad, dtype=np.uint8)
    digits = _VALUES[codes].reshape(-1, 5).astype(np.int64)
    values = digits @ (85 ** np.arange(4, -1, -1, dtype=np.int64))
    data = values.astype(">u4").tobytes()
    return data[: len(data) - pad]


def deflated(data: bytes) -> str:
    """``data`` compressed with zlib, as :func:`to_text` (``DecompressionStream("deflate")``)."""
    return to_text(zlib.compress(data, _ZLIB_LEVEL))


def pack_ids(ids: Sequence[str]) -> dict:
    """Feature ids, deflated: as numbers where they are (图斑编号 usually are).

    Returns
    -------
    dict
        ``{"w": width, "d": ...}`` when every id is a decimal number of at
        most 15 digits, all zero-padded to ``width`` digits (0: not padded):
        ``d`` the zigzag varint differences of the numbers, deflated;
        otherwise ``{"t": ...}``, the ids joined by newlines (newlines in
        them become spaces), deflated.
    """
    text = pd.Series(ids, dtype=object).astype(str)
    digits = text.str.fullmatch(r"[0-9]{1,15}").all() and len(text)
    widths = text.str.len()
    padded = bool(digits) and widths.nunique() == 1
    if digits and (padded or not text.str.match(r"0[0-9]").any()):
        numbers = text.astype(np.int64).to_numpy()
        deltas = np.diff(numbers, prepend=0)
        return {"w": int(widths.iloc[0]) if padded else 0, "d": deflated(varints(zigzag(deltas)))}
    joined = "\n".join(text.str.replace("\n", " ").str.replace("\r", " "))
    return {"t": deflated(joined.encode("utf-8"))}


def _ragged(geoms: np.ndarray, polygonal: bool):
    """Coordinates and offsets geometry→parts→rings→vertices of one family."""
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    n = len(geoms)
    if kind == shapely.GeometryType.MULTIPOLYGON:
        rings, parts, features = offsets
    elif kind == shapely.GeometryType.POLYGON:
        rings, parts, features = offsets[0], offsets[1], np.arange(n + 1)
    elif kind == shapely.GeometryType.MULTILINESTRING:
        rings, parts, features = offsets[0], np.arange(len(offsets[0])), offsets[1]
    elif kind == shapely.GeometryType.LINESTRING:
        rings, parts, features = offsets[0], np.arange(n + 1), np.arange(n + 1)
    else:
        raise ValueError(f"dense layers hold polygons or lines, not {kind.name}")
    if polygonal != (kind in (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)):
        raise ValueError("a dense layer holds one family of geometries")
    return coords[:, :2], np.asarray(rings), np.asarray(parts), np.asarray(features)


def cell_keys(frame: gpd.GeoDataFrame, cell_m: float) -> np.ndarray:
    """The grid cell (of side ``cell_m``, working CRS) of each feature's extent centre."""
    bounds = shapely.bounds(frame.geometry.values)
    x = np.floor((bounds[:, 0] + bounds[:, 2]) / 2 / cell_m).astype(np.int64)
    y = np.floor((bounds[:, 1] + bounds[:, 3]) / 2 / cell_m).astype(np.int64)
    return (x - x.min()) * (int(y.max() - y.min()) + 1) + (y - y.min())


def ring_deltas(xy: np.ndarray, ring_start: np.ndarray, polygonal: bool) -> np.ndarray:
    """What a chunk stores of each vertex: its difference from its prediction.

    A vertex is predicted by the previous one of its ring; a ring's first
    vertex by the previous ring's second (the end of its first side: the
    next field of a row often begins there; the cell's first by 0); the fourth
    corner of a polygon's ring of four vertices (its closing vertex left
    out) by the parallelogram of the other three (``v0 + v2 - v1``: a field
    is often near-rectangular). ``xy`` are integers, ``ring_start`` each
    ring's first vertex and the end.
    """
    deltas = np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.int64))
    firsts = ring_start[:-1]
    seconds = np.minimum(firsts + 1, ring_start[1:] - 1)
    previous = np.concatenate([np.zeros((1, 2), np.int64), xy[seconds[:-1]]])
    deltas[firsts] = xy[firsts] - previous
    quad = firsts[np.diff(ring_start) == 4] if polygonal else np.zeros(0, np.int64)
    deltas[quad + 3] = xy[quad + 3] - (xy[quad] + xy[quad + 2] - xy[quad + 1])
    return deltas


def pack_cells(
    geoms: np.ndarray,
    styles: np.ndarray,
    keys: np.ndarray,
    scale: int,
    numbers: np.ndarray | None = None,
    points: np.ndarray | None = None,
) -> tuple[str, list[list], str | None]:
    """Features in deflated chunks, one per grid cell.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Non-empty polygonal or lineal geometries in longitude/latitude; their
        index is the feature's number (its place in the ids).
    styles : numpy.ndarray of int
        Style index of each feature (below 128).
    keys : numpy.ndarray of int
        Grid cell of each feature (:func:`cell_keys`).
    scale : int
        Integers per degree the coordinates are rounded to.
    numbers : numpy.ndarray of int, optional
        Increasing feature numbers (default: 0, 1, 2 …).
    points : numpy.ndarray of float, optional
        A point of each feature (longitude, latitude; inside it): the
        features' numbers and points go into one stream of their own, drawn
        while a cell's features are below a pixel (its chunk not inflated),
        and each feature's first vertex is stored as its difference from
        its point.

    Returns
    -------
    family : str
        ``"polygon"`` or ``"line"``.
    cells : list of list
        ``[west, south, east, north, count, chunk, span]`` per cell: the
        extent of its features (degrees), the chunk (zlib stream as
        :func:`to_text`) of the varints ``count``; per feature its number's
        difference from the previous one's (unless ``points``), its style,
        its parts; per part its rings; per ring its vertices; then the
        zigzag :func:`ring_deltas` of all x, then of all y (integers of
        ``1 / scale`` degree); ``span`` the largest side of a feature's
        extent (degrees).
    points : str or None
        With ``points``: the features in the cells' order, as zigzag
        varints of the difference of each number from the previous one's,
        then of each point's x, then y, from the previous point's (integers
        of ``1 / scale`` degree), deflated.
    """
    types = shapely.get_type_id(geoms)
    polygonal = bool(np.isin(types, (3, 6)).any())
    order = np.argsort(keys, kind="stable")
    coords, rings, parts, features = _ragged(np.asarray(geoms, dtype=object)[order], polygonal)
    vertices = np.diff(rings)
    if polygonal:  # the closing vertex repeats the first
        keep = np.ones(len(coords), bool)
        keep[rings[1:] - 1] = False
        coords, vertices = coords[keep], vertices - 1
    ints = np.rint(coords * scale).astype(np.int64)
    ring_start = np.concatenate([[0], np.cumsum(vertices)])
    bounds = shapely.bounds(np.asarray(geoms, dtype=object)[order])
    spans = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    numbers = np.arange(len(order)) if numbers is None else np.asarray(numbers)
    at = None if points is None else np.rint(np.asarray(points)[order] * scale).astype(np.int64)

    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], len(order)]
    cells = []
    for a, b in zip(starts, ends, strict=True):
        pa, pb = features[a], features[b]
        ra, rb = parts[pa], parts[pb]
        ca, cb = ring_start[ra], ring_start[rb]
        deltas = ring_deltas(ints[ca:cb], ring_start[ra : rb + 1] - ca, polygonal)
        if at is not None:
            first = ring_start[parts[features[a:b]]] - ca
            deltas[first] = ints[ca + first] - at[a:b]
        head = [
            [b - a],
            np.zeros(0, np.int64) if at is not None else np.diff(numbers[order[a:b]], prepend=0),
            styles[order[a:b]],
            np.diff(features[a : b + 1]),
            np.diff(parts[pa : pb + 1]),
            vertices[ra:rb],
        ]
        chunk = varints(np.concatenate(head)) + varints(zigzag(deltas[:, 0]))
        box = bounds[a:b]
        cells.append(
            [
                round(float(box[:, 0].min()), 6),
                round(float(box[:, 1].min()), 6),
                round(float(box[:, 2].max()), 6),
                round(float(box[:, 3].max()), 6),
                int(b - a),
                deflated(chunk + varints(zigzag(deltas[:, 1]))),
                round(float(spans[a:b].max()), 7),
            ]
        )
    packed = None
    if at is not None:
        moves = np.diff(np.column_stack([numbers[order], at]), axis=0, prepend=0)
        packed = deflated(varints(zigzag(moves.T.ravel())))
    return ("polygon" if polygonal else "line"), cells, packed


def overview_cell_m(frame: gpd.GeoDataFrame) -> float:
    """Side of the overview grid (metres): about three features' spacing, 100–1,000 m."""
    west, south, east, north = frame.total_bounds
    spacing = math.sqrt(max((east - west) * (north - south), 1.0) / max(len(frame), 1))
    return float(min(1000.0, max(100.0, 3 * spacing)))


def overview_frame(frame: gpd.GeoDataFrame, *, by: str | None, cell_m: float) -> gpd.GeoDataFrame:
    """A generalized outline of a dense layer: where its features cover the grid.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer in its working (projected, metric) CRS.
    by : str, optional
        Column whose classes are outlined apart.
    cell_m : float
        Side of the grid (metres).

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon per connected region of cells holding a feature's
        centre, simplified to half a cell, with ``features``
        (how many features have their centre in it), ``area_m2`` (their
        area) and ``by``; in the working CRS.
    """
    geoms = frame.geometry.values
    bounds = shapely.bounds(geoms)
    x, y = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    area = shapely.area(geoms)
    west, north = math.floor(x.min() / cell_m) * cell_m, math.ceil(y.max() / cell_m) * cell_m
    nx = int((x.max() - west) // cell_m) + 1
    ny = int((north - y.min()) // cell_m) + 1
    flat = ((north - y) // cell_m).astype(np.int64) * nx + ((x - west) // cell_m).astype(np.int64)
    transform = Affine(cell_m, 0, west, 0, -cell_m, north)
    classes = frame[by].astype(str).to_numpy() if by else np.zeros(len(frame), object)
    rows, counts, areas = [], [], []
    for value in pd.unique(classes):
        mine = classes == value
        mask = (np.bincount(flat[mine], minlength=nx * ny) > 0).reshape(ny, nx)
        # Each region's cells, numbered as its polygon, give its features and area.
        regions = [
            shapely.geometry.shape(s)
            for s, _ in shapes(mask.astype(np.uint8), mask=mask, transform=transform)
        ]
        if not regions:
            continue
        label = rasterize(
            ((r, i + 1) for i, r in enumerate(regions)),
            out_shape=(ny, nx),
            transform=transform,
            dtype=np.int32,
            all_touched=False,
        ).ravel()
        counts.append(np.bincount(label[flat[mine]], minlength=len(regions) + 1)[1:])
        areas.append(
            np.bincount(label[flat[mine]], weights=area[mine], minlength=len(regions) + 1)[1:]
        )
        rows += [{"geometry": r, **({by: value} if by else {})} for r in regions]
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs) if rows else None
    if out is None:
        return gpd.GeoDataFrame({"features": [], "area_m2": []}, geometry=[], crs=frame.crs)
    out["features"] = np.concatenate(counts)
    out["area_m2"] = np.concatenate(areas)
    out.geometry = shapely.simplify(out.geometry.values, cell_m / 2, preserve_topology=True)
    return out
