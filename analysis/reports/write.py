"""Every rendering of the report model written into an output folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geoplan.analysis.reports.docx import render_docx
from geoplan.analysis.reports.html import render_html
from geoplan.analysis.reports.json import write_report_json
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
    issue_maps: Mapping[str, bytes] | None = None,
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
    issue_maps : mapping of str to bytes, optional
        The DOCX report's small map (PNG) of each prohibited issue group, by
        issue id (:func:`analysis.reports.finding_maps.finding_maps`).
    """
    for name in REPORT_FILES:
        write_report(
            name, report, folder, overview_png=overview_png, legend=legend, issue_maps=issue_maps
        )


def write_report(
    name: str,
    report: Mapping[str, Any],
    folder: Path,
    *,
    overview_png: bytes | None,
    legend: list[tuple[str, str]],
    issue_maps: Mapping[str, bytes] | None = None,
) -> None:
    """Write one of :data:`REPORT_FILES` into ``folder`` (parameters as :func:`write_reports`).

    Only ``report.html`` and ``report.docx`` show the overview figure and its
    legend, only ``report.docx`` the issue maps; the others ignore them.
    """
    path = folder / name
    if name == "report.html":
        html = render_html(report, overview_png=overview_png, legend=legend)
        path.write_text(html, encoding="utf-8")
    elif name == "report.xlsx":
        path.write_bytes(render_xlsx(report))
    elif name == "report.docx":
        path.write_bytes(render_docx(report, overview_png=overview_png, issue_maps=issue_maps))
    elif name == "report.md":
        path.write_text(render_markdown(report), encoding="utf-8")
    elif name == "report.json":
        with path.open("w", encoding="utf-8") as file:
            write_report_json(report, file)
    else:
        raise ValueError(f"{name}: not a report file ({', '.join(REPORT_FILES)})")
