"""The report model's conflict rows, held as columns and read as rows.

A province has hundreds of thousands of conflicts. As a list of dicts — the
shape of ``report.json``'s ``conflicts`` — they took some 3 KB each in the
report model, and as much again in each rendering that sorted or copied
them. :class:`ConflictRecords` keeps them as the conflicts' own columns and
makes the rows, plain JSON-ready dicts, a slice at a time, so
``report.json`` and the workbook's 冲突明细 are written a chunk at a time.
Every reader takes ``report["conflicts"]`` as a sequence of mappings, so a
loaded ``report.json``'s list reads the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, overload

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.analysis.conflict_rows import CONFLICT_COLUMNS
from geoplan.layers.vocabulary import SEVERITY_RANK

#: Rows made at a time when the records are read one after the other.
CHUNK = 20_000
#: Decimals of the numbers ``report.json`` holds.
_ROUNDED = {"area_m2": 2, "area_mu": 2, "area_ha": 4, "distance_m": 2}

T = TypeVar("T")


class _Sliced(Sequence[T]):
    """A sequence that makes its items a slice at a time, and is read so."""

    def __iter__(self) -> Iterator[T]:
        for rows in chunked(self):
            yield from rows


class ConflictRecords(_Sliced[dict[str, Any]]):
    """The conflict rows without geometry, JSON-ready (NaN → None, areas rounded).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per conflict, columns :data:`analysis.conflict_rows.CONFLICT_COLUMNS`.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self._table = table.reset_index(drop=True)

    @classmethod
    def of(cls, conflicts: gpd.GeoDataFrame) -> ConflictRecords:
        """The records of a check's conflicts, in their order."""
        # copy-on-write: the columns are the conflicts' own until rounded
        table = pd.DataFrame(conflicts.drop(columns="geometry"))[list(CONFLICT_COLUMNS)]
        return cls(table.round(_ROUNDED))

    def __len__(self) -> int:
        return len(self._table)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return _rows(self._table.iloc[index])
        position = range(len(self))[index]  # IndexError beyond the rows, as a list
        return _rows(self._table.iloc[position : position + 1])[0]

    def in_severity_order(self) -> ConflictRecords:
        """The records most severe first, then by area (largest first), then by id."""
        table = self._table
        rank = table["severity"].astype(str).map(SEVERITY_RANK).to_numpy()
        order = pd.DataFrame(
            {"rank": -rank, "area": -table["area_m2"].to_numpy(), "id": table["conflict_id"]}
        ).sort_values(["rank", "area", "id"], kind="stable")
        return ConflictRecords(table.iloc[order.index.to_numpy()])


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    # column by column: DataFrame.to_dict boxes each cell through pandas
    columns = list(table.columns)
    values = [table[c].to_numpy(dtype=object, na_value=None).tolist() for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def records_of(conflicts: Sequence[dict[str, Any]]) -> ConflictRecords:
    """``report["conflicts"]`` as records: a model's as they are, a loaded report's list read in."""
    if isinstance(conflicts, ConflictRecords):
        return conflicts
    table = pd.DataFrame(list(conflicts), columns=list(CONFLICT_COLUMNS), dtype=object)
    table["area_m2"] = table["area_m2"].astype(np.float64)
    return ConflictRecords(table)


class MappedRows(_Sliced[T]):
    """``function`` of each of ``rows``, made as they are read (a slice at a time).

    Parameters
    ----------
    rows : sequence
    function : callable
        Of one row.
    """

    def __init__(self, rows: Sequence[Any], function: Callable[[Any], T]) -> None:
        self._rows = rows
        self._function = function

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._function(row) for row in self._rows[index]]
        return self._function(self._rows[index])


def chunked(rows: Sequence[T], size: int = CHUNK) -> Iterator[list[T] | Sequence[T]]:
    """``rows`` in consecutive slices of at most ``size``."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
