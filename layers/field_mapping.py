"""A source layer's fields as a kind's standard fields: found, converted, checked; ids unique.

Each standard field is read from the source field the project's field map
names, or else from the first of the field's usual names (any case). Every
source field is kept beside them with its source values, so an analyst can
join back to the delivery (BSM, DLBM, TBMJ …), except one that only differs
in case from the standard field read from it; a field is renamed where
geoplan writes a column of the same name.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from geoplan.geo.vector_read import SOURCE_FIELD_PREFIX, source_field_name
from geoplan.layers.catalog import FieldSpec, LayerKind
from geoplan.layers.deductions import check_deductions
from geoplan.layers.errors import ProjectError
from geoplan.layers.project_types import LayerSpec

logger = logging.getLogger(__name__)

_TRUE = {"true", "1", "t", "y", "yes", "是", "√", "●"}
_FALSE = {"false", "0", "f", "n", "no", "否", "", "none", "nan", "○"}
#: Columns the loader (and the engine, on its selections) writes besides the
#: kind's standard fields; a source field of one of these names is kept as
#: ``src_<name>``.
ADDED_COLUMNS = ("area_m2", "source_fid", "layer_kind", "fid", "geometry")
_INTERNAL_PREFIX = "_geoplan_"


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


def _refuse_first(
    values: pd.Series, bad: pd.Series, spec: LayerSpec, fs: FieldSpec, problem: str
) -> None:
    """Refuse the first feature where ``bad`` holds, naming it, the field and its value."""
    if bad.any():
        fid = values.index[bad][0]
        raise ProjectError(
            f"{spec.source} feature {fid}: {fs.name} ({values.name}) is {values[fid]!r}{problem}"
        )


def convert_field(values: pd.Series, fs: FieldSpec, spec: LayerSpec) -> pd.Series:
    """Convert source values to a standard field's type.

    Parameters
    ----------
    values : pandas.Series
        One source field, named as in the source, indexed by feature id.
    fs : FieldSpec
        The standard field.
    spec : LayerSpec
        The layer, for messages.

    Returns
    -------
    pandas.Series
        Stripped text (``str``; missing values None), float64 (``float``;
        missing values NaN) or booleans (``bool``).

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
        _refuse_first(values, converted.isna() & values.notna(), spec, fs, ", not a number")
        return converted.astype("float64")
    text = values.map(lambda v: "" if pd.isna(v) else str(v).strip().lower())
    unknown = ~text.isin(_TRUE | _FALSE)
    _refuse_first(values, unknown, spec, fs, "; expected yes/no (是/否, true/false, 1/0)")
    return text.isin(_TRUE)


def map_fields(
    frame: gpd.GeoDataFrame, spec: LayerSpec, kind: LayerKind
) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """The kind's standard fields read from a source layer.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer as read.
    spec : LayerSpec
        Its entry in the project (the field map among it).
    kind : LayerKind

    Returns
    -------
    mapped : dict of str to pandas.Series
        Standard field → its values, converted (:func:`convert_field`).
    used : dict of str to str
        Standard field → the source field it was read from.

    Raises
    ------
    ProjectError
        A field map naming a field the layer lacks, a required field not
        found, or a value that cannot be converted or is not allowed (a 扣除系数
        outside [0, 1) among them, :func:`layers.deductions.check_deductions`).
    """
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
            expected = f"; expected one of {', '.join(fs.allowed)} ({int(bad.sum())} features)"
            _refuse_first(values, bad, spec, fs, expected)
        mapped[fs.name] = values
        used[fs.name] = column
    check_deductions(mapped, spec)
    return mapped, used


def source_extras(
    frame: gpd.GeoDataFrame, used: dict[str, str], kind: LayerKind, notes: list[str]
) -> dict[str, str]:
    """The source fields kept beside the standard ones, and the names they are kept under.

    The fields read into standard fields are kept too, with their source
    values (``BSM`` beside ``id``), unless named like that standard field
    in any case (``NAME`` read into ``name``). A field named like a column
    geoplan writes (:data:`ADDED_COLUMNS`, the kind's standard fields,
    anything starting ``_geoplan_``), compared case-insensitively, is kept
    as ``src_<name>`` and a note says so.
    """
    taken = [*ADDED_COLUMNS, *(fs.name for fs in kind.all_fields)]
    same = {source for standard, source in used.items() if source.casefold() == standard}
    kept = {}
    for column in frame.columns:
        if column == frame.geometry.name or column in same:
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


def unique_ids(data: pd.DataFrame, spec: LayerSpec, notes: list[str]) -> pd.Series:
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
