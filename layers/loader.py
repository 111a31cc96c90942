"""Load a project: every layer read, repaired, mapped and in one working CRS."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.crs import resolve_source_crs, to_crs, working_crs_for
from geoplan.geo.errors import GeometryError
from geoplan.geo.repair import Repaired, repair_geometries
from geoplan.geo.vector_read import list_layers, read_vector
from geoplan.geo.vector_survey import (
    feature_count,
    read_column,
    read_extent,
    read_fids,
    surveyable,
    table_rows_sha256,
)
from geoplan.layers.catalog import LayerKind, get_kind
from geoplan.layers.errors import ProjectError
from geoplan.layers.field_mapping import convert_field, map_fields, source_extras, unique_ids
from geoplan.layers.loaded import LayerDecision, LayerParts, LoadedLayer, LoadedProject
from geoplan.layers.placement import lonlat_bounds, refuse_misplaced
from geoplan.layers.project_types import LayerSpec, Project
from geoplan.layers.stored_area import judge_stored_area

logger = logging.getLogger(__name__)

_SAMPLE_GEOMETRIES = 5000
#: Features a surveyed layer's fields and CRS are decided from (:func:`survey_layer`).
SURVEY_SAMPLE = 5000
#: The GeoPackage the surveyed layers' features are kept in, in the run's folder.
STORE_FILE = "surveyed.gpkg"

__all__ = [
    "LayerDecision",
    "LayerParts",
    "LoadedLayer",
    "LoadedProject",
    "load_part",
    "load_project",
]


def _sample_xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    step = max(1, geoms.size // _SAMPLE_GEOMETRIES)
    coords = shapely.get_coordinates(geoms[::step])
    return coords[:, 0], coords[:, 1]


def _usual_layer(spec: LayerSpec, kind: LayerKind) -> str | None:
    """The layer of a multi-layer source that has one of the kind's usual names.

    Returns ``None`` when the project names the layer, the kind has no usual
    names or the source holds at most one layer.

    Raises
    ------
    ProjectError
        Several layers and not exactly one with a usual name.
    geo.errors.LayerReadError
        The source is missing or cannot be opened.
    """
    if spec.layer is not None or not kind.layer_names:
        return None
    layers = list_layers(spec.path)
    if len(layers) <= 1:
        return None
    usual = {name.upper() for name in kind.layer_names}
    matches = [name for name in layers if name.upper() in usual]
    if len(matches) == 1:
        return matches[0]
    raise ProjectError(
        f"{spec.path}: holds {len(layers)} layers ({', '.join(layers)}) and "
        + (
            f"several have a usual {kind.name} name ({', '.join(matches)})"
            if matches
            else f"none has a usual {kind.name} name ({', '.join(kind.layer_names)})"
        )
        + f'; name one with layer = "..." in [layers.{kind.name}]'
    )


def _nothing_usable(spec: LayerSpec, kind: LayerKind, repaired: Repaired) -> str:
    problems = repaired.log.loc[repaired.log["action"] == "dropped", "problem"].value_counts()
    why = ", ".join(f"{problem}: {n}" for problem, n in problems.items())
    return (
        f"{spec.source}: none of its {repaired.keep.size} features has a usable {kind.family} "
        f"geometry ({why}), so no rule on {kind.name} could be checked"
    )


def _read_layer(
    spec: LayerSpec,
    decided: LayerDecision | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    max_features: int | None = None,
) -> tuple[LoadedLayer, gpd.GeoDataFrame]:
    """Read one layer; with ``decided``, the features in ``bbox`` the way the whole was read."""
    kind = get_kind(spec.kind)
    notes = []
    picked = None if decided else _usual_layer(spec, kind)
    if picked is not None:
        spec = replace(spec, layer=picked)
        notes.append(f"layer {picked} chosen by its usual name")
    spec = decided.spec if decided else spec
    source = read_vector(
        spec.path,
        spec.layer,
        encoding=spec.encoding,
        where=spec.where,
        bbox=bbox,
        max_features=max_features,
    )
    frame = source.frame
    if source.encoding_how and source.encoding_how != "ascii":
        notes.append(f"text read as {source.encoding} ({source.encoding_how})")
    notes.extend(source.notes)

    mapped, used = map_fields(frame, spec, kind)
    repaired = repair_geometries(
        frame.geometry.values,
        family=kind.family,
        source=spec.source,
        feature_ids=frame.index,
        ids=mapped.get("id"),
    )
    if decided is not None:
        crs = decided.source_crs
    else:
        if len(frame) and not repaired.keep.any():
            raise GeometryError(_nothing_usable(spec, kind, repaired))
        declared = to_crs(spec.crs) if spec.crs else frame.crs
        x, y = _sample_xy(repaired.geometries)
        crs, note = resolve_source_crs(declared, x, y, source=spec.source)
        if note:
            notes.append(note)

    data = pd.DataFrame(mapped, index=frame.index)
    if "id" not in data:
        data.insert(0, "id", frame.index.astype(str))
    if kind.name == "parks" and "chemical" not in data:
        kinds = data.get("kind", pd.Series("", index=data.index)).fillna("")
        data["chemical"] = kinds.str.contains("化工")
        notes.append("no chemical-park field; chemical = kind contains 化工")
    data["source_fid"] = frame.index
    extra = source_extras(frame, used, kind, notes)
    data = pd.concat([data, frame[list(extra)].rename(columns=extra)], axis=1).loc[repaired.keep]
    ids = data["id"]
    repeated = frozenset(ids[ids.notna() & ids.duplicated(keep=False)])
    if decided is None:
        data["id"] = unique_ids(data, spec, notes)
    else:  # a part: the ids the whole layer repeats, told apart as unique_ids does
        repeated = decided.repeated_ids
        mine = ids.isin(repeated).to_numpy()
        data.loc[mine, "id"] = [
            f"{v}#{fid}" for v, fid in zip(ids[mine], data.index[mine], strict=True)
        ]
    loaded_frame = gpd.GeoDataFrame(
        data.reset_index(drop=True), geometry=repaired.geometries, crs=crs
    )
    layer = LoadedLayer(
        spec=spec,
        kind=kind,
        frame=loaded_frame,
        driver=source.driver,
        source_crs=crs,
        notes=notes,
        repair_log=repaired.log,
        features_read=len(frame),
        field_sources=used,
        repeated_ids=repeated,
        rows_sha256=source.sha256,
    )
    if len(loaded_frame) == 0 and decided is None:
        logger.warning("%s: %s has no features", spec.source, kind.name)
    return layer, loaded_frame


def survey_layer(spec: LayerSpec, store: Path) -> LoadedLayer:
    """A layer's whole-layer decisions without holding its features (a cluster run's client).

    What :func:`load_project` decides on the whole layer is decided here too:
    the layer of a multi-layer source, fields mapped and the CRS resolved
    from the first :data:`SURVEY_SAMPLE` features; every standard field read
    one column at a time (its values converted and checked, which have any
    value, the ids several features share); the count and extent from the
    features' bounds. The frame keeps the columns (without the standard
    fields no feature has a value for) and no rows; the partitions append
    the features they own to ``store`` (:class:`LayerParts`).

    Parameters
    ----------
    spec : LayerSpec
        A GDAL file or PostGIS table (:func:`geo.vector_survey.surveyable`).
    store : pathlib.Path
        GeoPackage the partitions' features will be appended to.

    Raises
    ------
    GeoplanError
        As :func:`load_project` for the sample; a value of a standard field
        that cannot be converted, anywhere in the layer.
    """
    layer, sample = _read_layer(spec, max_features=SURVEY_SAMPLE)
    spec, kind = layer.spec, layer.kind
    fields = {fs.name: fs for fs in kind.all_fields}
    valued, repeated = set(), frozenset()
    for name, column in layer.field_sources.items():
        raw = read_column(spec.path, spec.layer, column, encoding=spec.encoding, where=spec.where)
        values = convert_field(raw, fields[name], spec)
        if values.notna().any():
            valued.add(name)
        if name == "id":
            repeated = frozenset(values[values.notna() & values.duplicated(keep=False)])
    fids, bounded, extent = read_extent(spec.path, spec.layer, where=spec.where)
    unbounded = read_fids(spec.path, spec.layer, fids[~bounded], encoding=spec.encoding)
    repaired = repair_geometries(  # refuses NaN coordinates as a whole load does
        unbounded.geometry.values,
        family=kind.family,
        source=spec.source,
        feature_ids=unbounded.index,
    )
    unvalued = [fs.name for fs in kind.all_fields if fs.name in sample and fs.name not in valued]
    layer.frame = sample.iloc[:0].drop(columns=unvalued)
    layer.repeated_ids = repeated
    layer.features_read = len(fids)
    layer.repair_log = repaired.log
    if spec.is_postgis:  # the digest of every row, not of the sample's
        layer.rows_sha256 = table_rows_sha256(spec.path, spec.layer, where=spec.where)
    logger.info("%s: surveyed, its %d features read by partitions", spec.source, len(fids))
    box = gpd.GeoDataFrame(geometry=[shapely.box(*extent)], crs=layer.source_crs)
    layer.parts = LayerParts(store, extent, lonlat_bounds(box), frozenset(valued))
    return layer


def load_project(
    project: Project,
    kinds: list[str] | None = None,
    *,
    survey_above: int | None = None,
    store: Path | None = None,
) -> LoadedProject:
    """Load a project's layers.

    Each layer is read (encoding detected), its CRS decided (zone-prefixed
    eastings detected), its fields mapped to the kind's standard fields, its
    geometry repaired, and it is reprojected to the working CRS: the
    project's ``working_crs``, or the CGCS2000 3° Gauss-Krüger zone of the
    centre of all layers. Polygon layers get ``area_m2``, ellipsoidal.

    Column names: a source field whose name (in any case) is one geoplan
    writes — the kind's standard fields, :data:`layers.field_mapping.ADDED_COLUMNS`
    (``area_m2``, ``source_fid``, ``layer_kind``, ``fid``, ``geometry``) or
    anything starting ``_geoplan_`` — is kept, under ``src_<name>``
    (``src_src_<name>`` if that is taken too); the layer's notes say so.

    Ids: an ``id`` that several features of a layer share becomes
    ``<id>#<source feature id>`` on each of them (``F1#12``), with a warning,
    so that every conflict row names one feature; the part after ``#`` is
    the feature id in the source file (``source_fid``), which joins the row
    back to it.

    Parameters
    ----------
    project : Project
    kinds : list of str, optional
        Load only these kinds (default: all in the project).
    survey_above : int, optional
        Survey instead of loading (:func:`survey_layer`) a GDAL file layer
        of more features than this; a cluster run's client.
    store : pathlib.Path, optional
        Folder for the surveyed layers' store (:data:`STORE_FILE`, a layer per
        kind); needed with ``survey_above``.

    Returns
    -------
    LoadedProject

    Raises
    ------
    GeoplanError
        Any layer that cannot be read (a Shapefile cut short among them),
        whose CRS cannot be decided or puts it more than
        :data:`layers.region.FAR_KM` from the region of the others, whose
        fields cannot be mapped, which has a NaN or infinite coordinate, or
        which has features but none with a usable geometry of its family; the
        message names the file, layer, feature and problem.
    """
    specs = [project.layers[k] for k in (kinds or project.layers)]
    read = []
    for spec in specs:
        logger.info("reading %s from %s", spec.kind, spec.source)
        if _too_large(spec, survey_above):
            surveyed = survey_layer(spec, Path(store) / STORE_FILE)
            read.append((surveyed, surveyed.frame))
        else:
            read.append(_read_layer(spec))

    extents = {
        layer.kind.name: layer.parts.lonlat_bounds if layer.parts else lonlat_bounds(f)
        for layer, f in read
        if len(f) or (layer.parts and layer.features_read)
    }
    refuse_misplaced(extents, {layer.kind.name: layer for layer, _ in read})
    if project.working_crs:
        crs = to_crs(project.working_crs)
    else:
        boxes = np.array(list(extents.values()))
        if boxes.size == 0:
            raise ProjectError(f"{project.path}: every layer is empty")
        crs = working_crs_for(boxes[:, 0].min(), boxes[:, 2].max())

    layers = {}
    for layer, frame in read:
        _into_working_crs(layer, frame, crs)
        judged = None if layer.parts else judge_stored_area(layer.frame)
        if judged is not None:
            layer.stored_area_unit, layer.stored_area_off = judged
        layers[layer.kind.name] = layer
    return LoadedProject(project=project, crs=crs, layers=layers)


def _too_large(spec: LayerSpec, survey_above: int | None) -> bool:
    if survey_above is None or not surveyable(spec.path):
        return False
    layer = spec.layer
    if layer is None:
        layer = _usual_layer(spec, get_kind(spec.kind))
    return feature_count(spec.path, layer) > survey_above


def _into_working_crs(layer: LoadedLayer, frame: gpd.GeoDataFrame, crs: CRS) -> None:
    frame = frame.to_crs(crs)
    if layer.kind.family == "polygon":
        frame.insert(
            frame.columns.get_loc("source_fid"),
            "area_m2",
            ellipsoidal_area(frame.geometry.values, crs),
        )
    layer.frame = frame


def load_part(
    project: Project,
    crs: CRS,
    decisions: dict[str, LayerDecision],
    boxes: dict[str, tuple[float, float, float, float]],
) -> LoadedProject:
    """Load each layer given a box: its features there, as :func:`load_project` loads them.

    What was decided on whole layers (CRS, layer chosen, repeated ids) comes
    from ``decisions`` (by kind, :attr:`LoadedLayer.decision`), so each feature
    is the one the whole load gives: same id, geometry and ``area_m2``.
    ``boxes`` are ``(xmin, ymin, xmax, ymax)`` by kind, in the layer's source
    CRS; ``crs`` is the project's working CRS. Raises GeoplanError as
    :func:`load_project` does for a layer that cannot be read or mapped.
    """
    layers = {}
    for kind, box in boxes.items():
        layer, frame = _read_layer(decisions[kind].spec, decisions[kind], box)
        _into_working_crs(layer, frame, crs)
        layers[kind] = layer
    return LoadedProject(project=project, crs=crs, layers=layers)
