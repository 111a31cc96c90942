"""The features of a surveyed layer (:class:`layers.loaded.LayerParts`), kept on disk.

A cluster run's partitions hand back the features of a surveyed layer they
own; the client appends them to the run's store (a GeoPackage in its
temporary folder, a layer per surveyed kind) and tallies them. layers.gpkg
starts as a copy of the store; the other outputs read features back by id or
by box, or attributes only — never the whole layer, but for an export.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geoplan.geo.vector_write import append_layer
from geoplan.layers.errors import ProjectError
from geoplan.layers.loaded import LoadedLayer, LoadedProject


def append_features(layer: LoadedLayer, frame: gpd.GeoDataFrame, repairs: pd.DataFrame) -> None:
    """Append one partition's owned features (and their repair log) to a surveyed layer.

    Parameters
    ----------
    layer : LoadedLayer
        A surveyed layer (``layer.parts`` set); its features go to the
        store's layer named after its kind.
    frame : geopandas.GeoDataFrame
        The features, as loaded (working CRS).
    repairs : pandas.DataFrame
        Their repair-log rows and the features dropped in the partition's
        boxes; a feature dropped by several partitions is logged once.
    """
    parts = layer.parts
    if len(frame):
        frame = frame.astype({c: layer.frame[c].dtype for c in frame.columns if c != "geometry"})
        append_layer(frame, parts.store, layer.kind.name)
    parts.features += len(frame)
    if layer.kind.family == "polygon":
        parts.area_m2 += float(frame["area_m2"].sum())
    else:
        parts.length_m += float(shapely.length(frame.geometry.to_numpy()).sum())
    if len(repairs):
        log = pd.concat([layer.repair_log, repairs], ignore_index=True)
        layer.repair_log = log.drop_duplicates(["feature", "problem", "action"], ignore_index=True)


def _read(layer: LoadedLayer, **options) -> gpd.GeoDataFrame | pd.DataFrame:
    """The store's features of a surveyed layer (its empty frame when it has none)."""
    if layer.parts.features == 0:
        frame = layer.frame
        return frame if options.get("read_geometry", True) else pd.DataFrame(frame)
    read = pyogrio.read_dataframe(layer.parts.store, layer=layer.kind.name, **options)
    if isinstance(read, gpd.GeoDataFrame):
        read = read.set_crs(layer.frame.crs, allow_override=True)
    return read


def stored_attributes(layer: LoadedLayer, columns: list[str]) -> pd.DataFrame:
    """Some attributes of every feature of a surveyed layer, without geometry."""
    present = [c for c in columns if c in layer.frame.columns]
    return _read(layer, columns=present, read_geometry=False)[present]


def stored_with_ids(layer: LoadedLayer, ids: set[str]) -> gpd.GeoDataFrame:
    """The features of a surveyed layer whose ``id`` is one of ``ids``."""
    if not ids or layer.parts.features == 0:
        return layer.frame
    wanted = _read(layer, columns=["id"], read_geometry=False)
    rows = wanted.index[wanted["id"].isin(ids)].to_numpy()
    if rows.size == 0:
        return layer.frame
    return _read(layer, fids=rows + 1)  # GeoPackage fids count from 1, in append order


def stored_in_box(layer: LoadedLayer, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The features of a surveyed layer whose envelope meets a box (working CRS, m)."""
    return _read(layer, bbox=tuple(box))


def stored_whole(layer: LoadedLayer) -> gpd.GeoDataFrame:
    """Every feature of a surveyed layer in one frame (an export of it: memory as a whole load)."""
    return _read(layer)


def refuse_unowned(layer: LoadedLayer) -> None:
    """Fail when features of a surveyed layer were owned by no partition.

    A feature is owned by the partition holding its representative point or,
    outside every county, by the nearest one — if that partition's box meets
    the feature. One farther away is checked by none, and must not be
    reported as clean.

    Raises
    ------
    ProjectError
        Features kept and dropped fall short of the features the layer has.
    """
    dropped = layer.repair_log.loc[layer.repair_log["action"] == "dropped", "feature"].nunique()
    missing = layer.features_read - layer.parts.features - dropped
    if missing > 0:
        raise ProjectError(
            f"{layer.spec.source}: {missing} of its {layer.features_read} features lie too far "
            "outside every county for any partition of the cluster run to check them; extend "
            "the counties layer to cover them, or check without --workers/--scheduler"
        )


def whole_frames(loaded: LoadedProject) -> dict[str, gpd.GeoDataFrame]:
    """Every layer's features by kind, a surveyed layer's read whole from its store."""
    return {
        kind: layer.frame if layer.parts is None else stored_whole(layer)
        for kind, layer in loaded.layers.items()
    }


def frames_with_ids(loaded: LoadedProject, ids: dict[str, set[str]]) -> dict[str, gpd.GeoDataFrame]:
    """Every layer's features by kind; of a surveyed layer, those with the ids ``ids[kind]``."""
    return {
        kind: layer.frame if layer.parts is None else stored_with_ids(layer, ids.get(kind, set()))
        for kind, layer in loaded.layers.items()
    }
