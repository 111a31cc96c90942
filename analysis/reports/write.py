"""Every rendering of the report model written into an output folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geoplan.analysis.reports.docx import render_docx
from geoplan.analysis.reports.html import render_html
from geoplan.analysis.reports.json import report_json
from geoplan.analysis.reports.md import render_markdown
from geoplan.analysis.reports.xlsx import render_xlsx

#: The files :func:`write_reports` writes.
REPORT_FILES = ("report.html", "report.xlsx", "report.docx", "report.md", "report.json")


def write_reports(
    report: Mapping[str, Any],
    folder: Path,
    *,
    overview_png: bytes | None,
    legend: list[tuple[str, str]],
) -> None:
    """Write :data:`REPORT_FILES` into ``folder``.

    Parameters
    ----------
    report : mapping
        The report model (:func:`analysis.reports.model.report_model`).
    folder : pathlib.Path
        An existing folder (a check's staging folder).
    overview_png : bytes, optional
        The static overview figure of the HTML and DOCX reports.
    legend : list of (str, str)
        Label and colour of what the figure shows.
    """
    html = render_html(report, overview_png=overview_png, legend=legend)
    (folder / "report.html").write_text(html, encoding="utf-8")
    (folder / "report.xlsx").write_bytes(render_xlsx(report))
    (folder / "report.docx").write_bytes(render_docx(report, overview_png=overview_png))
    (folder / "report.md").write_text(render_markdown(report), encoding="utf-8")
    (folder / "report.json").write_text(report_json(report), encoding="utf-8")
