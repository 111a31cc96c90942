"""A loaded project: its layers in the working CRS, and what their loads decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from geoplan.geo.checksum import file_sha256
from geoplan.geo.repair import REPAIR_LOG_COLUMNS
from geoplan.layers.catalog import LayerKind
from geoplan.layers.project_types import LayerSpec, Project


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
class LayerParts:
    """A layer too large for the client of a cluster run: surveyed, its features kept on disk.

    The client reads only what decisions on the whole layer need
    (:func:`layers.survey.survey_layer`); the partitions read the features
    and hand back the ones they own, which are appended to :attr:`store`.

    Attributes
    ----------
    store : pathlib.Path
        GeoPackage whose layer named after the kind holds the layer's loaded
        features (working CRS), appended partition by partition.
    extent : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of the source, in its CRS.
    lonlat_bounds : numpy.ndarray
        The same extent in longitude/latitude (degrees, CGCS2000).
    valued : frozenset of str
        The standard fields with at least one value in the whole layer.
    features : int
        Features kept (after repair), all partitions together.
    area_m2 : float
        Their ellipsoidal area (m²; 0 for lines).
    length_m : float
        Their length in the working CRS (m; 0 for polygons).
    """

    store: Path
    extent: tuple[float, float, float, float]
    lonlat_bounds: np.ndarray
    valued: frozenset
    features: int = 0
    area_m2: float = 0.0
    length_m: float = 0.0


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
    parts : LayerParts or None
        Set on a layer a cluster run did not load whole: ``frame`` then has
        its columns but no rows, and the features are in ``parts.store``.
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
    parts: LayerParts | None = None

    def extent_in(self, crs: CRS) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the features in ``crs`` (a surveyed layer's: its extent).

        NaN when the layer has no features.
        """
        if self.parts is None:
            frame = self.frame if self.frame.crs == crs else self.frame.to_crs(crs)
            return tuple(frame.total_bounds) if len(frame) else (np.nan,) * 4
        if not np.isfinite(self.parts.extent).all():
            return (np.nan,) * 4
        to_crs = Transformer.from_crs(self.source_crs, crs, always_xy=True)
        return to_crs.transform_bounds(*self.parts.extent, densify_pts=64)

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
