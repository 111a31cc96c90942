"""``site.html``: the site memo to read on screen and print, self-contained.

Built from :func:`analysis.site_memo_tables.memo_sections` with an escaping
builder: every value is text passed through :func:`html.escape`; no
template engine sees the data. The map is the memo's PNG as a ``data:`` image.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from typing import Any

from geoplan.analysis.site_memo_tables import MemoTable, memo_sections

_CSS = """
body { font: 14px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "SimSun",
       sans-serif; color: #222; margin: 24px auto; max-width: 1080px; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #444; padding-bottom: 2px; margin-top: 28px; }
.verdict { font-size: 22px; font-weight: bold; padding: 10px 16px; border-left: 10px solid; }
.verdict.fail { border-color: #c62828; background: #fde0dc; }
.verdict.conditional { border-color: #ef6c00; background: #fff3e0; }
.verdict.pass { border-color: #2e7d32; background: #e8f5e9; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fde0dc; } tr.skipped td { color: #666; }
.figure img { width: 100%; max-width: 900px; border: 1px solid #ccc; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; } }
"""
_STATUS_CLASS = {"不符合": "fail", "未检查": "skipped"}


def _table(table: MemoTable, status_column: int | None = None) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    rows = []
    for row in table.rows:
        css = _STATUS_CLASS.get(row[status_column], "") if status_column is not None else ""
        cells = "".join(
            f'<td class="num">{escape(v)}</td>' if num else f"<td>{escape(v)}</td>"
            for v, num in zip(row, table.numeric, strict=True)
        )
        rows.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_site_html(model: Mapping[str, Any], *, map_png: bytes | None) -> str:
    """The memo as one HTML page.

    Parameters
    ----------
    model : mapping
        :func:`analysis.site_review.site_model`.
    map_png : bytes, optional
        The site map (:func:`analysis.site_memo_map.site_map_png`).

    Returns
    -------
    str
    """
    title = f"选址审查意见 — {model['project']}" if model["project"] else "选址审查意见"
    parts = [f"<h1>{escape(title)}</h1>"]
    for section in memo_sections(model):
        parts.append(f'<h2 id="{escape(section.key)}">{escape(section.title)}</h2>')
        for i, paragraph in enumerate(section.paragraphs):
            if section.key == "verdict" and i == 0:
                code = escape(model["verdict"]["status"])
                parts.append(f'<p class="verdict {code}">{escape(paragraph)}</p>')
            else:
                parts.append(f"<p>{escape(paragraph)}</p>")
        for table in section.tables:
            parts.append(_table(table, 3 if section.key == "rules" else None))
        if section.key == "verdict" and map_png:
            data = base64.b64encode(map_png).decode("ascii")
            parts.append(
                '<div class="figure"><img alt="选址及其涉及的图层" '
                f'src="data:image/png;base64,{data}"></div>'
            )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
