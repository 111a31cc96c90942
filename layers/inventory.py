"""The inventory of a loaded project: what each layer is and measures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely

from geoplan.geo.crs import to_crs
from geoplan.geo.units import m2_to_km2, m2_to_wanmu
from geoplan.layers.loader import LoadedLayer, LoadedProject


def _crs_label(crs: Any) -> str:
    crs = to_crs(crs)
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else crs.name


def _source_label(layer: LoadedLayer, base: Path) -> str:
    spec = layer.spec
    if spec.is_postgis:
        return spec.source
    path = spec.path.relative_to(base) if spec.path.is_relative_to(base) else spec.path
    return f"{path.as_posix()}:{spec.layer}" if spec.layer else path.as_posix()


def layer_row(layer: LoadedLayer, base: Path) -> dict[str, Any]:
    """Inventory of one layer, as a JSON-ready dict.

    Keys: ``kind``, ``title``, ``source``, ``driver``, ``source_crs``,
    ``features`` (after repair), ``features_read``, ``repaired``,
    ``dropped``, ``area_km2`` and ``area_wanmu`` (ellipsoidal; None for line
    layers), ``length_km`` (line layers), ``stored_area_field``,
    ``stored_area_unit``, ``stored_area_off`` (features whose stored area is
    more than 1 % off the computed one), ``fields`` (standard field → the
    source field it was read from) and ``notes`` (decisions and warnings:
    encoding, CRS, derived fields, source fields kept as ``src_<name>``,
    repeated ids told apart as ``<id>#<source feature id>``, text that looks
    garbled). ``source`` is relative to ``base`` (the project file's folder)
    when the file lies inside it; for a PostGIS table it is
    ``postgresql://user@host:port/db table schema.table`` (no password).
    """
    frame, parts = layer.frame, layer.parts
    polygon = layer.kind.family == "polygon"
    if parts is not None:  # a cluster run's surveyed layer: its partitions' tallies
        area_m2 = parts.area_m2 if polygon else None
        length_km = None if polygon else parts.length_m / 1000.0
    else:
        area_m2 = float(frame["area_m2"].sum()) if polygon else None
        length_km = None if polygon else float(shapely.length(frame.geometry.values).sum() / 1000)
    return {
        "kind": layer.kind.name,
        "title": layer.kind.title,
        "source": _source_label(layer, base),
        "driver": layer.driver,
        "source_crs": _crs_label(layer.source_crs),
        "features": len(frame) if parts is None else parts.features,
        "features_read": layer.features_read,
        "repaired": layer.repaired,
        "dropped": layer.dropped,
        "area_km2": None if area_m2 is None else round(float(m2_to_km2(area_m2)), 4),
        "area_wanmu": None if area_m2 is None else round(float(m2_to_wanmu(area_m2)), 4),
        "length_km": None if length_km is None else round(length_km, 3),
        "stored_area_field": layer.field_sources.get("area"),
        "stored_area_unit": layer.stored_area_unit,
        "stored_area_off": layer.stored_area_off,
        "fields": dict(layer.field_sources),
        "notes": list(layer.notes),
    }


def inventory(loaded: LoadedProject) -> list[dict[str, Any]]:
    """Inventory rows of every layer, in project order."""
    base = loaded.project.path.parent
    return [layer_row(layer, base) for layer in loaded.layers.values()]
