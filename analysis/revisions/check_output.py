"""A check's output folder read back for comparison: its report, conflicts and layers."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
from pyproj import CRS

from geoplan.geo.errors import GeoplanError
from geoplan.geo.vector_read import list_layers, read_vector

#: Columns a conflicts table must have to be compared.
NEEDED_COLUMNS = (
    "conflict_id",
    "rule_id",
    "rule_title",
    "severity",
    "area_m2",
    "county",
    "township",
)


class CheckOutputError(GeoplanError):
    """A check output cannot be compared: missing, unreadable or not geoplan's."""


@dataclass(frozen=True)
class CheckOutput:
    """What one check wrote, as needed for a diff.

    Attributes
    ----------
    folder : pathlib.Path
        The output folder.
    report : dict
        ``report.json``.
    conflicts : geopandas.GeoDataFrame
        ``conflicts.gpkg`` in ``crs``.
    layers_path : pathlib.Path or None
        ``layers.gpkg`` when it is there.
    crs : pyproj.CRS
        The check's working CRS (projected, metres).
    """

    folder: Path
    report: dict[str, Any]
    conflicts: gpd.GeoDataFrame
    layers_path: Path | None
    crs: CRS

    @property
    def label(self) -> str:
        """The folder, as messages and documents name this output."""
        return str(self.folder)


def _report(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckOutputError(f"{path}: no report.json here (give a check's output folder)")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckOutputError(f"{path}: not readable as JSON ({exc})") from None
    if not isinstance(report, dict) or "conflicts" not in report or "inputs" not in report:
        raise CheckOutputError(f"{path}: not a report.json of geoplan check")
    return report


def read_check_output(path: str | os.PathLike, *, crs: CRS | None = None) -> CheckOutput:
    """Read a check's output folder (or its ``report.json`` with ``conflicts.gpkg`` beside it).

    Parameters
    ----------
    path : str or os.PathLike
        The folder, or its ``report.json``.
    crs : pyproj.CRS, optional
        CRS to return the conflicts in; the report's working CRS by default.

    Raises
    ------
    CheckOutputError
        A file is missing, unreadable, or not what geoplan check writes.
    """
    path = Path(path)
    folder = path.parent if path.name == "report.json" else path
    if not folder.is_dir():
        raise CheckOutputError(f"{folder}: no such folder (give a check's output folder)")
    report = _report(folder / "report.json")
    try:
        working = CRS.from_user_input(report["inputs"]["working_crs"])
    except Exception:  # pyproj raises several types for a bad CRS text
        raise CheckOutputError(
            f"{folder / 'report.json'}: key inputs.working_crs is not a CRS"
        ) from None
    gpkg = folder / "conflicts.gpkg"
    if not gpkg.is_file():
        raise CheckOutputError(f"{gpkg}: missing (the conflicts of the check)")
    source = read_vector(gpkg, "conflicts" if "conflicts" in list_layers(gpkg) else None)
    frame = source.frame
    missing = [c for c in NEEDED_COLUMNS if c not in frame.columns]
    if missing or frame.crs is None:
        what = f"missing columns {', '.join(missing)}" if missing else "no CRS"
        raise CheckOutputError(f"{gpkg} layer {source.layer!r}: not geoplan's conflicts ({what})")
    layers = folder / "layers.gpkg"
    return CheckOutput(
        folder=folder,
        report=report,
        conflicts=frame.to_crs(crs or working),
        layers_path=layers if layers.is_file() else None,
        crs=crs or working,
    )
