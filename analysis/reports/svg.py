"""Charts as inline SVG for ``report.html`` (no JavaScript, no plotting library)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from geoplan.analysis.reports.format import number

_ROW = 22  # px per bar
_LABEL = 260  # px for the labels
_WIDTH = 760


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    unit: str,
    title: str,
) -> str:
    """Horizontal stacked bars, one per label, with the total at the end.

    Parameters
    ----------
    labels : sequence of str
        One bar each.
    series : sequence of (name, colour, values)
        Stacked left to right; ``values`` aligned with ``labels``.
    unit : str
        Unit written after the totals.
    title : str
        Chart title (also the SVG's accessible name).
    """
    totals = [sum(values[i] for _, _, values in series) for i in range(len(labels))]
    scale = (_WIDTH - _LABEL - 120) / max(max(totals, default=0.0), 1e-9)
    legend_y = 24 + _ROW * len(labels) + 10
    height = legend_y + 24
    out = [
        f'<svg role="img" aria-label="{escape(title)}" '
        f'width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}" class="chart">',
        f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
    ]
    for i, label in enumerate(labels):
        y = 24 + i * _ROW
        out.append(f'<text x="{_LABEL - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        x = float(_LABEL)
        for name, color, values in series:
            width = values[i] * scale
            if width > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{max(width, 1):.1f}" height="{_ROW - 6}"'
                    f' fill="{color}"><title>{escape(name)}：{number(values[i])} {escape(unit)}'
                    "</title></rect>"
                )
                x += width
        out.append(f'<text x="{x + 6:.1f}" y="{y + 14}">{number(totals[i])} {escape(unit)}</text>')
    x = float(_LABEL)
    for name, color, _ in series:
        out.append(f'<rect x="{x:.0f}" y="{legend_y}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{x + 16:.0f}" y="{legend_y + 11}">{escape(name)}</text>')
        x += 30 + 14 * len(name)
    out.append("</svg>")
    return "\n".join(out)
