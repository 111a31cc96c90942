"""The site review in the terminal: the verdict first, then areas, distances, terrain, rules.

The same sections as the memo (:func:`analysis.site_memo_tables.memo_sections`)
but the coordinates table, which the memo and ``--export-coords`` carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoplan.analysis.reports.terminal import format_table
from geoplan.analysis.site_memo_tables import memo_sections

#: Sections in the order the terminal shows them.
_ORDER = ("verdict", "taken", "distances", "terrain", "townships", "rules", "parcels")


def site_text(model: Mapping[str, Any]) -> str:
    """The review as text for the terminal.

    Parameters
    ----------
    model : mapping
        :func:`analysis.site_review.site_model`.

    Returns
    -------
    str
    """
    sections = {s.key: s for s in memo_sections(model)}
    blocks = []
    for key in _ORDER:
        section = sections.get(key)
        if section is None:
            continue
        lines = [f"【{section.title}】", *section.paragraphs]
        for table in section.tables:
            lines.append(format_table(table.rows, table.columns))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
