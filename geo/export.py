"""GIS export in the formats offices use, without losing data silently.

- GeoPackage and FileGDB hold every layer in one file (FileGDB with
  ``TARGET_ARCGIS_VERSION=ARCGIS_PRO_3_2_OR_LATER`` so 64-bit integers stay
  integers, see :mod:`geo.vector_write`).
- Shapefile, GeoJSON, GeoParquet, FlatGeobuf, KML and CSV (geometry as WKT)
  get one file per layer. GeoJSON and KML are in EPSG:4326 as RFC 7946 and
  the KML specification require; the others in the layers' CRS or the one
  asked for. CSV has no CRS of its own: a ``.prj`` beside it says it.
- Every text cell of a CSV file (the CSV format and the Shapefile's
  ``.fields.csv`` and ``.long_text.csv``), field names included, goes through
  :func:`geo.text.csv_text`: text a spreadsheet would evaluate as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a
  leading ``'``; numbers are written as numbers, untouched.
- Shapefile limits are handled in the open: field names longer than 10
  characters are shortened to unique names listed in ``<layer>.fields.csv``
  (short name, full name); text longer than 254 bytes in the chosen encoding
  is cut at a character boundary, a warning names the fields and rows, and
  the full values go to ``<layer>.long_text.csv`` keyed by feature id.
  The ``.cpg`` says the encoding: UTF-8 by default, GBK for older ArcGIS.
- Field aliases (display names such as ``面积（亩）``) go into GeoPackage and
  FileGDB (:mod:`geo.field_aliases`). A Shapefile has no place for them:
  ``<layer>.fields.csv`` lists each field's alias beside its names.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from geoplan.geo.errors import GeoplanError
from geoplan.geo.text import csv_text
from geoplan.geo.vector_write import write_layers, write_vector

#: Export formats and their file suffix.
FORMATS: dict[str, str] = {
    "gpkg": ".gpkg",
    "gdb": ".gdb",
    "shp": ".shp",
    "geojson": ".geojson",
    "parquet": ".parquet",
    "fgb": ".fgb",
    "kml": ".kml",
    "csv": ".csv",
}
#: Formats that hold every layer in one file.
MULTI_LAYER = frozenset({"gpkg", "gdb"})
#: Bytes a Shapefile (dBase) text field holds.
DBF_TEXT_BYTES = 254
DBF_NAME_CHARS = 10
_SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")
_WGS84_FORMATS = frozenset({"geojson", "kml"})


class ExportError(GeoplanError, ValueError):
    """An export that cannot be written as asked."""


class UnencodableTextError(ExportError):
    """A text value cannot be written in the Shapefile encoding asked for."""


@dataclass
class Exported:
    """What an export wrote and what it had to say about it.

    Attributes
    ----------
    files : list of str
        Names written in the folder (sidecars included).
    warnings : list of str
    """

    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def export_names(layers: list[str], fmt: str, stem: str) -> list[str]:
    """The files an export of ``layers`` writes (to refuse or stage them beforehand)."""
    suffix = _suffix(fmt)
    if fmt in MULTI_LAYER:
        return [f"{stem}{suffix}"]
    names = [f"{layer}{suffix}" for layer in layers]
    if fmt == "shp":
        names += [f"{layer}{s}" for layer in layers for s in _SHAPEFILE_SIDECARS]
        names += [f"{layer}.fields.csv" for layer in layers]
        names += [f"{layer}.long_text.csv" for layer in layers]
    if fmt == "csv":
        names += [f"{layer}.prj" for layer in layers]
    return names


def _suffix(fmt: str) -> str:
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ExportError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}") from None


def short_names(columns: list[str], limit: int = DBF_NAME_CHARS) -> dict[str, str]:
    """Unique field names of at most ``limit`` characters, as a map from the full names.

    Names that fit are kept; longer ones are cut, and a cut that collides
    gets a number (``function_1``, ``function_2``).
    """
    out: dict[str, str] = {}
    taken = {c.lower() for c in columns if len(c) <= limit}
    for column in columns:
        if len(column) <= limit:
            out[column] = column
            continue
        candidate = column[:limit]
        number = 0
        while candidate.lower() in taken:
            number += 1
            tail = f"_{number}"
            candidate = column[: limit - len(tail)] + tail
        taken.add(candidate.lower())
        out[column] = candidate
    return out


def _cut(text: str, encoding: str, limit: int) -> str:
    data = text.encode(encoding)
    return data[:limit].decode(encoding, errors="ignore")


def _write_csv(path: Path, header: list[str], rows) -> None:
    """A CSV file of text rows, every cell through :func:`geo.text.csv_text`."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        for row in [header, *rows]:
            writer.writerow([csv_text(v) if isinstance(v, str) else v for v in row])


def _csv_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with its text values and field names through :func:`geo.text.csv_text`."""
    frame = frame.copy()
    for column in frame.columns:
        if column != frame.geometry.name and frame[column].dtype.kind in "OUST":
            frame[column] = frame[column].map(
                lambda v: csv_text(v) if isinstance(v, str) else v, na_action="ignore"
            )
    names = {c: csv_text(c) for c in frame.columns if c != frame.geometry.name}
    return frame.rename(columns=names)


def _shapefile_frame(
    frame: gpd.GeoDataFrame,
    layer: str,
    encoding: str,
    folder: Path,
    exported: Exported,
    aliases: Mapping[str, str],
) -> gpd.GeoDataFrame:
    frame = frame.copy()
    long_rows = []
    ids = frame["id"].astype(str) if "id" in frame else pd.Series(frame.index.astype(str))
    for column in frame.columns:
        if column == frame.geometry.name or frame[column].dtype.kind not in "OUST":
            continue
        values = frame[column]
        text = values.dropna().astype(str)
        try:
            sizes = text.map(lambda v: len(v.encode(encoding)))
        except UnicodeEncodeError as exc:
            raise UnencodableTextError(
                f"layer {layer} field {column}: a value cannot be written in {encoding} ({exc})"
            ) from None
        too_long = sizes[sizes > DBF_TEXT_BYTES].index
        if len(too_long):
            for index in too_long:
                long_rows.append((ids[index], column, values[index]))
            frame.loc[too_long, column] = [
                _cut(values[i], encoding, DBF_TEXT_BYTES) for i in too_long
            ]
            exported.warnings.append(
                f"{layer}.shp field {column}: {len(too_long)} value(s) over {DBF_TEXT_BYTES} "
                f"bytes cut (ids {', '.join(ids[too_long][:5])}"
                f"{' …' if len(too_long) > 5 else ''}); full values in {layer}.long_text.csv"
            )
    names = short_names([c for c in frame.columns if c != frame.geometry.name])
    frame = frame.rename(columns=names)
    _write_csv(
        folder / f"{layer}.fields.csv",
        ["shapefile_field", "field", "alias"],
        ((short, full, aliases.get(full, "")) for full, short in names.items()),
    )
    exported.files.append(f"{layer}.fields.csv")
    renamed = [full for full, short in names.items() if full != short]
    if renamed:
        exported.warnings.append(
            f"{layer}.shp: {len(renamed)} field name(s) shortened to 10 characters "
            f"({', '.join(f'{f}→{names[f]}' for f in renamed[:4])}"
            f"{' …' if len(renamed) > 4 else ''}); see {layer}.fields.csv"
        )
    if long_rows:
        _write_csv(folder / f"{layer}.long_text.csv", ["id", "field", "value"], long_rows)
        exported.files.append(f"{layer}.long_text.csv")
    return frame


def export_layers(
    frames: Mapping[str, gpd.GeoDataFrame],
    folder: str | Path,
    fmt: str,
    *,
    crs: CRS | str | None = None,
    encoding: str = "UTF-8",
    stem: str = "geoplan",
    aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> Exported:
    """Write layers into ``folder`` in one format.

    Parameters
    ----------
    frames : mapping of str to geopandas.GeoDataFrame
        Layer name to features.
    folder : str or pathlib.Path
        Existing folder (the caller stages it; see :func:`geo.outputs.atomic_outputs`).
    fmt : str
        A key of :data:`FORMATS`.
    crs : pyproj.CRS or str, optional
        Reproject to this CRS (GeoJSON and KML are always EPSG:4326).
    encoding : str
        Shapefile text encoding: ``UTF-8`` or ``GBK``.
    stem : str
        File name of the multi-layer formats.
    aliases : mapping of str to mapping of str to str, optional
        Layer name → {field name → display name}: field aliases of the
        GeoPackage and FileGDB, the ``alias`` column of a Shapefile's
        ``<layer>.fields.csv``; the other formats have no place for them.

    Returns
    -------
    Exported

    Raises
    ------
    ExportError
        ``fmt`` is not a key of :data:`FORMATS`.
    UnencodableTextError
        A text value of a Shapefile cannot be written in ``encoding``.
    """
    folder = Path(folder)
    suffix = _suffix(fmt)
    exported = Exported()
    aliases = aliases or {}
    target_crs = CRS.from_user_input(crs) if crs is not None else None
    if target_crs is not None and fmt in _WGS84_FORMATS and target_crs.to_epsg() != 4326:
        exported.warnings.append(f"{fmt} is written in EPSG:4326 as its specification requires")
    ready = {
        name: frame.to_crs(target_crs) if target_crs is not None else frame
        for name, frame in frames.items()
    }
    if fmt in MULTI_LAYER:
        write_layers(ready, folder / f"{stem}{suffix}", aliases=aliases)
        exported.files.append(f"{stem}{suffix}")
        return exported
    for name, frame in ready.items():
        if fmt == "shp":
            frame = _shapefile_frame(frame, name, encoding, folder, exported, aliases.get(name, {}))
            write_vector(frame, folder / f"{name}.shp", layer=name, encoding=encoding)
            exported.files += [f"{name}.shp", *(f"{name}{s}" for s in _SHAPEFILE_SIDECARS)]
            continue
        if fmt == "csv":
            frame = _csv_frame(frame)
        write_vector(frame, folder / f"{name}{suffix}", layer=name)
        exported.files.append(f"{name}{suffix}")
        if fmt == "csv" and frame.crs is not None:
            (folder / f"{name}.prj").write_text(frame.crs.to_wkt(), encoding="utf-8")
            exported.files.append(f"{name}.prj")
    return exported
