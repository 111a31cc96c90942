"""Writing the site memo: ``site.json``, ``site.html``, ``site.docx``, ``site.png``, ``site.txt``.

All five come from one model (:func:`analysis.site_review.site_model`) and
are written together or not at all through :func:`geo.outputs.atomic_outputs`
(the command opens the folder before the check runs, as ``check`` does).
``site.txt`` is the site as a 界址点坐标 file (:mod:`geo.boundary_points_write`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geoplan.analysis.site import SiteResult
from geoplan.analysis.site_memo_docx import render_site_docx
from geoplan.analysis.site_memo_html import render_site_html
from geoplan.analysis.site_memo_map import site_map_png
from geoplan.analysis.site_review import coordinates_crs
from geoplan.geo.boundary_points_write import write_boundary_points

#: The files of a site memo, in the order they are listed.
SITE_OUTPUTS = ("site.json", "site.html", "site.docx", "site.png", "site.txt")
#: The JSON Schema (draft 2020-12) that ``site.json`` follows.
SITE_SCHEMA_PATH = Path(__file__).parent / "schemas" / "site.schema.json"


def site_json(model: Mapping[str, Any]) -> str:
    """``site.json``'s text: UTF-8, Chinese kept as text, indented, no NaN."""
    return json.dumps(model, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def site_parcels(result: SiteResult) -> tuple[list, Any]:
    """The site's parcels in the zone-prefixed CRS of the working zone, for a 界址点坐标 file."""
    crs = coordinates_crs(result.loaded.crs)
    frame = result.site.to_crs(crs)
    parcels = [
        (row.geometry, {"地块编号": row.parcel_no or row.id, "地块名称": row.name})
        for row in frame.itertuples(index=False)
    ]
    return parcels, crs


def write_site_memo(folder: Path, model: Mapping[str, Any], result: SiteResult) -> list[str]:
    """Write the memo's files into ``folder`` (a staging folder).

    Returns
    -------
    list of str
        The names written (:data:`SITE_OUTPUTS`).
    """
    png = site_map_png(result, model)
    (folder / "site.json").write_text(site_json(model), encoding="utf-8")
    (folder / "site.html").write_text(render_site_html(model, map_png=png), encoding="utf-8")
    (folder / "site.docx").write_bytes(render_site_docx(model, map_png=png))
    (folder / "site.png").write_bytes(png)
    parcels, crs = site_parcels(result)
    write_boundary_points(folder / "site.txt", parcels, crs)
    return list(SITE_OUTPUTS)
