"""Every rendering of a diff written into an output folder, all at once or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd

from geoplan.analysis.revisions.figure import diff_figure
from geoplan.analysis.revisions.model import Diff
from geoplan.analysis.revisions.render import render_diff_html, render_diff_markdown
from geoplan.geo.outputs import atomic_outputs
from geoplan.geo.vector_write import write_layers

#: The files :func:`write_diff` writes.
DIFF_FILES = ("diff.md", "diff.json", "diff.html", "diff.gpkg")


def _findings_layer(diff: Diff) -> gpd.GeoDataFrame:
    frame = diff.findings.copy()
    frame["change_title"] = frame["change"].map(
        {r["change"]: r["change_title"] for r in diff.model["summary"]["by_change"]}
    )
    frame["grown"] = frame["grown"].astype(int)
    return frame


def write_diff_into(diff: Diff, folder: Path) -> list[str]:
    """Write :data:`DIFF_FILES` into an existing (staging) folder; returns the names written."""
    (folder / "diff.json").write_text(
        json.dumps(diff.model, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (folder / "diff.md").write_text(render_diff_markdown(diff.model), encoding="utf-8")
    figure = diff_figure(diff.findings, diff.counties)
    (folder / "diff.html").write_text(render_diff_html(diff.model, figure), encoding="utf-8")
    layers = {"findings": _findings_layer(diff)}
    if diff.features is not None and len(diff.features):
        layers["features"] = diff.features
    write_layers(layers, folder / "diff.gpkg")
    return list(DIFF_FILES)


def write_diff(
    diff: Diff,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write the diff's outputs into ``out_dir``, all or none (:func:`geo.outputs.atomic_outputs`).

    Parameters
    ----------
    diff : Diff
    out_dir : str or os.PathLike
    overwrite : bool, default False
        Replace existing diff outputs.
    """
    out = Path(out_dir)
    with atomic_outputs(out, list(DIFF_FILES), overwrite=overwrite) as staging:
        names = write_diff_into(diff, staging)
    return [out / n for n in names]
