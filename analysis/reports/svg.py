"""Charts as inline SVG for ``report.html`` (no JavaScript, no plotting library).

A chart has one panel per severity, most severe first, each with its own
linear scale: a protected-area overlap of 100,000 亩 would turn every
prohibited bar on a shared axis into a hairline, and a log scale makes
lengths unreadable as amounts. A panel's bars are in descending order and
each is labelled with its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from geoplan.analysis.reports.format import number

_ROW = 22  # px per bar
_LABEL = 260  # px for the labels
_WIDTH = 760
_HEAD = 22  # px for a panel's heading


#: One panel: its heading, colour, and (label, value) bars.
Panel = tuple[str, str, Sequence[tuple[str, float]]]


def _panel(top: float, heading: str, color: str, bars: Sequence[tuple[str, float]], unit: str):
    out = [f'<text x="0" y="{top + 15:.0f}" class="chart-panel">{escape(heading)}</text>']
    scale = (_WIDTH - _LABEL - 130) / max(max((v for _, v in bars), default=0.0), 1e-9)
    for i, (label, value) in enumerate(bars):
        y = top + _HEAD + i * _ROW
        width = max(value * scale, 1.0)
        out += [
            f'<text x="{_LABEL - 6}" y="{y + 14:.0f}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{_LABEL}" y="{y + 3:.0f}" width="{width:.1f}" height="{_ROW - 6}" '
            f'fill="{color}"><title>{escape(label)}：{number(value)} {escape(unit)}</title></rect>',
            f'<text x="{_LABEL + width + 6:.1f}" y="{y + 14:.0f}">'
            f"{number(value)} {escape(unit)}</text>",
        ]
    return out, _HEAD + _ROW * len(bars) + 8


def severity_bars(panels: Sequence[Panel], *, unit: str, title: str) -> str:
    """Horizontal bars in one panel per severity, each panel on its own scale.

    Parameters
    ----------
    panels : sequence of (heading, colour, bars)
        ``bars`` is a sequence of (label, value); a panel without bars is
        left out. Bars are drawn in the order given.
    unit : str
        Unit written after each value.
    title : str
        Chart title (also the SVG's accessible name).
    """
    body, y = [], 24.0
    for heading, color, bars in panels:
        if not bars:
            continue
        drawn, height = _panel(y, heading, color, bars, unit)
        body += drawn
        y += height
    height = int(y) + 4
    return "\n".join(
        [
            f'<svg role="img" aria-label="{escape(title)}" width="{_WIDTH}" height="{height}" '
            f'viewBox="0 0 {_WIDTH} {height}" class="chart">',
            f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
            *body,
            "</svg>",
        ]
    )
