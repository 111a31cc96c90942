"""Load a project: every layer read, repaired, mapped and in one working CRS."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import ProjError

from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.crs import (
    CGCS2000,
    crs_name,
    resolve_source_crs,
    to_crs,
    transformer,
    working_crs_for,
)
from geoplan.geo.errors import CRSError, GeometryError, ProjectError
from geoplan.geo.io import SOURCE_FIELD_PREFIX, list_layers, read_vector, source_field_name
from geoplan.geo.repair import REPAIR_LOG_COLUMNS, Repaired, repair_geometries
from geoplan.geo.units import SQUARE_METRES
from geoplan.layers.catalog import FieldSpec, LayerKind, get_kind
from geoplan.layers.project import LayerSpec, Project
from geoplan.layers.region import FAR_KM, misplaced_layers

logger = logging.getLogger(__name__)

_SAMPLE_GEOMETRIES = 5000
_TRUE = {"true", "1", "t", "y", "yes", "是", "√", "●"}
_FALSE = {"false", "0", "f", "n", "no", "否", "", "none", "nan", "○"}
#: Relative difference beyond which a stored area is reported as off.
STORED_AREA_TOLERANCE = 0.01
#: Columns the loader (and the engine, on its selections) writes besides the
#: kind's standard fields; a source field of one of these names is kept as
#: ``src_<name>``.
ADDED_COLUMNS = ("area_m2", "source_fid", "layer_kind", "fid", "geometry")
_INTERNAL_PREFIX = "_geoplan_"


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
        ``source_fid`` and the source's other attributes (renamed
        ``src_<name>`` where geoplan uses the name; see :func:`load_project`);
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
        than :data:`STORED_AREA_TOLERANCE`.
    field_sources : dict of str to str
        Standard field → the source field it was read from.
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
    """Every layer of a project, loaded."""

    project: Project
    crs: CRS
    layers: dict[str, LoadedLayer]

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


def _source_column(spec: LayerSpec, fs: FieldSpec, columns: list[str]) -> str | None:
    if fs.name in spec.fields:
        wanted = spec.fields[fs.name]
        if wanted not in columns:
            raise ProjectError(
                f"{spec.source}: field map says {fs.name} = {wanted!r}, but the layer has no "
                f"field {wanted!r}; its fields are: {', '.join(columns)}"
            )
        return wanted
    by_upper = {c.upper(): c for c in columns}
    for candidate in (fs.name, *fs.aliases):
        if candidate.upper() in by_upper:
            return by_upper[candidate.upper()]
    return None


def convert_field(values: pd.Series, fs: FieldSpec, spec: LayerSpec) -> pd.Series:
    """Convert source values to a standard field's type.

    Raises
    ------
    ProjectError
        A value that is not a number (``float`` fields) or not yes/no
        (``bool`` fields), naming the source, feature and value.
    """
    if fs.dtype == "str":
        return values.map(lambda v: None if pd.isna(v) else str(v).strip()).astype(object)
    if fs.dtype == "float":
        converted = pd.to_numeric(values, errors="coerce")
        bad = converted.isna() & values.notna()
        if bad.any():
            fid = values.index[bad][0]
            raise ProjectError(
                f"{spec.source} feature {fid}: {fs.name} ({values.name}) is "
                f"{values[fid]!r}, not a number"
            )
        return converted.astype("float64")
    text = values.map(lambda v: "" if pd.isna(v) else str(v).strip().lower())
    unknown = ~text.isin(_TRUE | _FALSE)
    if unknown.any():
        fid = text.index[unknown][0]
        raise ProjectError(
            f"{spec.source} feature {fid}: {fs.name} ({values.name}) is {values[fid]!r}; "
            "expected yes/no (是/否, true/false, 1/0)"
        )
    return text.isin(_TRUE)


def _map_fields(
    frame: gpd.GeoDataFrame, spec: LayerSpec, kind: LayerKind
) -> tuple[dict[str, pd.Series], dict[str, str]]:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    mapped: dict[str, pd.Series] = {}
    used: dict[str, str] = {}
    for fs in kind.all_fields:
        column = _source_column(spec, fs, columns)
        if column is None:
            if fs.required:
                raise ProjectError(
                    f"{spec.source}: {kind.name} needs field {fs.name!r} ({fs.title}); none of "
                    f"{', '.join(fs.aliases)} is present (fields: {', '.join(columns)}); "
                    f'map it with fields = {{ {fs.name} = "..." }}'
                )
            continue
        values = convert_field(frame[column], fs, spec)
        if fs.allowed is not None:
            bad = values.notna() & ~values.isin(fs.allowed)
            if bad.any():
                fid = values.index[bad][0]
                raise ProjectError(
                    f"{spec.source} feature {fid}: {fs.name} ({column}) is {values[fid]!r}; "
                    f"expected one of {', '.join(fs.allowed)} ({int(bad.sum())} features)"
                )
        mapped[fs.name] = values
        used[fs.name] = column
    return mapped, used


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


def _source_extras(
    frame: gpd.GeoDataFrame, used: dict[str, str], kind: LayerKind, notes: list[str]
) -> dict[str, str]:
    """The source fields kept beside the standard ones, and the names they are kept under.

    A field named like a column geoplan writes (:data:`ADDED_COLUMNS`, the
    kind's standard fields, anything starting ``_geoplan_``), compared
    case-insensitively, is kept as ``src_<name>`` and a note says so.
    """
    taken = [*ADDED_COLUMNS, *(fs.name for fs in kind.all_fields)]
    kept = {}
    for column in frame.columns:
        if column == frame.geometry.name or column in used.values():
            continue
        wanted = column
        if column.casefold().startswith(_INTERNAL_PREFIX):
            wanted = SOURCE_FIELD_PREFIX + column
        name = source_field_name(wanted, taken)
        if name != column:
            notes.append(f"source field {column} kept as {name}: geoplan writes {column} itself")
        kept[column] = name
        taken.append(name)
    return kept


def _unique_ids(data: pd.DataFrame, spec: LayerSpec, notes: list[str]) -> pd.Series:
    """The ``id`` column with ``#<source feature id>`` appended to every id several features share.

    A conflict row names its features by ``id``; a repeated id would leave
    it pointing at two. Every feature of a repeated id is renamed, not all
    but the first, so that none of them passes for the only one. A warning
    names the layer and the first ids.
    """
    ids = data["id"].copy()
    repeated = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    if not repeated.any():
        return ids
    fids = data.index[repeated]
    values = list(dict.fromkeys(ids[repeated]))
    shown = ", ".join(repr(v) for v in values[:5]) + (" …" if len(values) > 5 else "")
    message = (
        f"{spec.source}: {int(repeated.sum())} features share the ids {shown}; "
        f"each is told apart as id#<source feature id> (e.g. {ids[repeated].iloc[0]}#{fids[0]})"
    )
    logger.warning("%s", message)
    notes.append(message)
    ids[repeated] = [f"{v}#{fid}" for v, fid in zip(ids[repeated], fids, strict=True)]
    return ids


def _read_layer(spec: LayerSpec) -> tuple[LoadedLayer, gpd.GeoDataFrame]:
    kind = get_kind(spec.kind)
    notes = []
    picked = _usual_layer(spec, kind)
    if picked is not None:
        spec = replace(spec, layer=picked)
        notes.append(f"layer {picked} chosen by its usual name")
    source = read_vector(spec.path, spec.layer, encoding=spec.encoding, where=spec.where)
    frame = source.frame
    if source.encoding_how and source.encoding_how != "ascii":
        notes.append(f"text read as {source.encoding} ({source.encoding_how})")
    notes.extend(source.notes)

    mapped, used = _map_fields(frame, spec, kind)
    repaired = repair_geometries(
        frame.geometry.values,
        family=kind.family,
        source=spec.source,
        feature_ids=frame.index,
        ids=mapped.get("id"),
    )
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
    extra = _source_extras(frame, used, kind, notes)
    data = pd.concat([data, frame[list(extra)].rename(columns=extra)], axis=1).loc[repaired.keep]
    data["id"] = _unique_ids(data, spec, notes)
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
    )
    if len(loaded_frame) == 0:
        logger.warning("%s: %s has no features", spec.source, kind.name)
    return layer, loaded_frame


def _lonlat_bounds(frame: gpd.GeoDataFrame) -> np.ndarray:
    """The frame's extent in longitude/latitude; inf where it is outside its CRS's domain."""
    try:
        box = transformer(frame.crs, to_crs(CGCS2000)).transform_bounds(*frame.total_bounds)
    except ProjError:
        return np.full(4, np.inf)
    return np.asarray(box, dtype="float64")


def _lonlat_text(box: tuple[float, float, float, float]) -> str:
    return f"lon {box[0]:.2f}..{box[2]:.2f}, lat {box[1]:.2f}..{box[3]:.2f}"


def _refuse_misplaced(extents: dict[str, tuple], layers: dict[str, LoadedLayer]) -> None:
    """Refuse a layer whose CRS puts it far from the others (:func:`misplaced_layers`).

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


def _stored_area_check(layer: LoadedLayer) -> None:
    frame = layer.frame
    if "area" not in frame or frame["area"].isna().all() or len(frame) == 0:
        return
    stored = frame["area"].to_numpy(dtype="float64")
    computed = frame["area_m2"].to_numpy()
    ok = np.isfinite(stored) & (computed > 0)
    if not ok.any():
        return
    ratio = np.median(stored[ok] / computed[ok])
    unit = min(SQUARE_METRES, key=lambda u: abs(np.log(ratio * SQUARE_METRES[u])))
    stored_m2 = stored * SQUARE_METRES[unit]
    off = ok & (np.abs(stored_m2 - computed) > STORED_AREA_TOLERANCE * computed)
    layer.stored_area_unit = unit
    layer.stored_area_off = int(off.sum())


def load_project(project: Project, kinds: list[str] | None = None) -> LoadedProject:
    """Load a project's layers.

    Each layer is read (encoding detected), its CRS decided (zone-prefixed
    eastings detected), its fields mapped to the kind's standard fields, its
    geometry repaired, and it is reprojected to the working CRS: the
    project's ``working_crs``, or the CGCS2000 3° Gauss-Krüger zone of the
    centre of all layers. Polygon layers get ``area_m2``, ellipsoidal.

    Column names: a source field whose name (in any case) is one geoplan
    writes — the kind's standard fields, :data:`ADDED_COLUMNS`
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

    extents = {layer.kind.name: _lonlat_bounds(f) for layer, f in read if len(f)}
    _refuse_misplaced(extents, {layer.kind.name: layer for layer, _ in read})
    if project.working_crs:
        crs = to_crs(project.working_crs)
    else:
        boxes = np.array(list(extents.values()))
        if boxes.size == 0:
            raise ProjectError(f"{project.path}: every layer is empty")
        crs = working_crs_for(
            boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()
        )

    layers = {}
    for layer, frame in read:
        frame = frame.to_crs(crs)
        if layer.kind.family == "polygon":
            frame.insert(
                frame.columns.get_loc("source_fid"),
                "area_m2",
                ellipsoidal_area(frame.geometry.values, crs),
            )
        layer.frame = frame
        _stored_area_check(layer)
        layers[layer.kind.name] = layer
    return LoadedProject(project=project, crs=crs, layers=layers)
