"""Load a project: every layer read, repaired, mapped and in one working CRS."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.checksum import file_sha256
from geoplan.geo.crs import resolve_source_crs, to_crs, working_crs_for
from geoplan.geo.errors import GeometryError
from geoplan.geo.repair import REPAIR_LOG_COLUMNS, Repaired, repair_geometries
from geoplan.geo.vector_read import list_layers, read_vector
from geoplan.layers.catalog import LayerKind, get_kind
from geoplan.layers.errors import ProjectError
from geoplan.layers.field_mapping import map_fields, source_extras, unique_ids
from geoplan.layers.placement import lonlat_bounds, refuse_misplaced
from geoplan.layers.project_types import LayerSpec, Project
from geoplan.layers.stored_area import judge_stored_area

logger = logging.getLogger(__name__)

_SAMPLE_GEOMETRIES = 5000


@dataclass(frozen=True)
class LayerDecision:
    """What loading a layer decided on the whole layer (:func:`load_part` reads a part so).

    Attributes
    ----------
    spec : LayerSpec
        Where it comes from, with the layer chosen by its usual name.
    source_crs : pyproj.CRS
        The CRS its coordinates are read in.
    repeated_ids : frozenset
        The ids several of its features share (told apart as ``<id>#<fid>``).
    """

    spec: LayerSpec
    source_crs: CRS
    repeated_ids: frozenset


@dataclass
class LoadedLayer:
    """One layer as loaded.

    Attributes
    ----------
    spec : LayerSpec
        Where it came from.
    kind : LayerKind
    frame : geopandas.GeoDataFrame
        Standard fields first (``id``, ``name`` … as the kind defines them),
        then ``area_m2`` (ellipsoidal, computed) for polygon layers,
        ``source_fid`` and the source's attributes with their source values,
        those read into standard fields included (``BSM`` beside ``id``;
        renamed ``src_<name>`` where geoplan uses the name; see
        :func:`load_project` and :func:`layers.field_mapping.source_extras`);
        in the working CRS.
    driver : str
        GDAL driver (or ``"GeoParquet"``).
    source_crs : pyproj.CRS
        The CRS the coordinates were read in.
    notes : list of str
        Decisions taken on the way (CRS, encoding, derived fields).
    repair_log : pandas.DataFrame
        One row per repaired or dropped feature.
    features_read : int
    stored_area_unit : str or None
        Unit of the stored area field, judged from its values.
    stored_area_off : int or None
        Features whose stored area differs from the computed one by more
        than :data:`layers.stored_area.STORED_AREA_TOLERANCE`.
    field_sources : dict of str to str
        Standard field → the source field it was read from.
    repeated_ids : frozenset
        The ids several features share (before they were told apart).
    rows_sha256 : str or None
        A PostGIS table's digest of the rows read (:func:`geo.checksum.rows_sha256`).
    """

    spec: LayerSpec
    kind: LayerKind
    frame: gpd.GeoDataFrame
    driver: str
    source_crs: CRS
    notes: list[str] = field(default_factory=list)
    repair_log: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=REPAIR_LOG_COLUMNS)
    )
    features_read: int = 0
    stored_area_unit: str | None = None
    stored_area_off: int | None = None
    field_sources: dict[str, str] = field(default_factory=dict)
    repeated_ids: frozenset = frozenset()
    rows_sha256: str | None = None

    @property
    def decision(self) -> LayerDecision:
        """What was decided on the whole layer, to read a part of it the same way."""
        return LayerDecision(self.spec, self.source_crs, self.repeated_ids)

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the source (of every file in it, for a folder); None when it is gone.

        Read when first asked for, not when the layer is loaded
        (:func:`geo.checksum.file_sha256`), so only a run that reports hashes.
        A PostGIS table has no file: its :attr:`rows_sha256`, of the rows read.
        """
        return self.rows_sha256 if self.spec.is_postgis else file_sha256(self.spec.path)

    @property
    def repaired(self) -> int:
        """Kept features whose geometry was changed."""
        kept = self.repair_log.loc[self.repair_log["action"] != "dropped", "feature"]
        return int(kept.nunique())

    @property
    def dropped(self) -> int:
        """Features dropped for having no usable geometry."""
        return int((self.repair_log["action"] == "dropped").sum())


@dataclass
class LoadedProject:
    """Every layer of a project, loaded.

    Attributes
    ----------
    project : Project
    crs : pyproj.CRS
        The working CRS.
    layers : dict of str to LoadedLayer
        By kind, in the project's order.
    """

    project: Project
    crs: CRS
    layers: dict[str, LoadedLayer]

    @property
    def project_sha256(self) -> str | None:
        """SHA-256 of the project file, read when first asked for (as a layer's ``sha256``)."""
        return file_sha256(self.project.path)

    @property
    def repair_log(self) -> pd.DataFrame:
        """The repair logs of all layers, one table."""
        logs = [layer.repair_log.assign(kind=kind) for kind, layer in self.layers.items()]
        logs = [log for log in logs if len(log)]
        if not logs:
            return pd.DataFrame(columns=["kind", *REPAIR_LOG_COLUMNS])
        return pd.concat(logs, ignore_index=True)[["kind", *REPAIR_LOG_COLUMNS]]

    def frame(self, kind: str) -> gpd.GeoDataFrame:
        """The loaded features of one kind."""
        return self.layers[kind].frame

    @property
    def frames(self) -> dict[str, gpd.GeoDataFrame]:
        """The loaded features of every kind, in the project's order."""
        return {kind: layer.frame for kind, layer in self.layers.items()}


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
) -> tuple[LoadedLayer, gpd.GeoDataFrame]:
    """Read one layer; with ``decided``, the features in ``bbox`` the way the whole was read."""
    kind = get_kind(spec.kind)
    notes = []
    picked = None if decided else _usual_layer(spec, kind)
    if picked is not None:
        spec = replace(spec, layer=picked)
        notes.append(f"layer {picked} chosen by its usual name")
    spec = decided.spec if decided else spec
    source = read_vector(spec.path, spec.layer, encoding=spec.encoding, where=spec.where, bbox=bbox)
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


def load_project(project: Project, kinds: list[str] | None = None) -> LoadedProject:
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
        read.append(_read_layer(spec))

    extents = {layer.kind.name: lonlat_bounds(f) for layer, f in read if len(f)}
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
        judged = judge_stored_area(layer.frame)
        if judged is not None:
            layer.stored_area_unit, layer.stored_area_off = judged
        layers[layer.kind.name] = layer
    return LoadedProject(project=project, crs=crs, layers=layers)


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
