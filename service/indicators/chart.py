"""Plain server-side SVG charts (no library, no script): bars across places or indicators, a line across years."""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 640
LABEL_WIDTH = 150
VALUE_WIDTH = 110
BAR_HEIGHT = 22
GAP = 8
TOP = 34


@dataclass(frozen=True)
class Bar:
    """One place's bar: its label, the number drawn, the value as published, and the quote it links to."""

    label: str
    number: float
    text: str  # e.g. 「43件」 as shown beside the bar
    url: str


def bar_chart(title: str, bars: list[Bar], top: float | None = None, empty: str = "没有报告写明这一项。") -> str:
    """An SVG document with one <rect class="bar"> per bar, full length = `top` (default: the largest number)."""
    height = TOP + max(1, len(bars)) * (BAR_HEIGHT + GAP) + GAP
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = top or max((bar.number for bar in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label={quoteattr(title)} font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    if not bars:
        parts.append(f'<text x="0" y="{TOP + 16}" fill="#555">{escape(empty)}</text>')
    for i, bar in enumerate(bars):
        y = TOP + i * (BAR_HEIGHT + GAP)
        width = max(1.0, span * min(bar.number, top) / top) if bar.number > 0 else 0.0
        parts.append(
            f"<a href={quoteattr(bar.url)}>"
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="#2f6f9f">'
            f"<title>{escape(bar.label)}：{escape(bar.text)}</title></rect>"
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 16}">{escape(bar.text)}</text>'
            "</a>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


LINE_HEIGHT = 260
PLOT_LEFT = 70
PLOT_RIGHT = 40
PLOT_TOP = 44
PLOT_BOTTOM = 56


@dataclass(frozen=True)
class Point:
    """One year's value on a line: the year label, the number drawn, the value as published, its quote."""

    label: str
    number: float
    text: str
    url: str


def line_chart(title: str, points: list[Point], empty: str = "没有报告写明这一项。") -> str:
    """An SVG line over the points in the order given, one <circle class="point"> each, linked to its quote.

    With one point there is no line to draw: the point stands alone and a note says that one year is known.
    """
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{LINE_HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {LINE_HEIGHT}" role="img" aria-label={quoteattr(title)} font-family="sans-serif" '
        'font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    bottom = LINE_HEIGHT - PLOT_BOTTOM
    right = WIDTH - PLOT_RIGHT
    parts.append(f'<line class="axis" x1="{PLOT_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>')
    if not points:
        parts.append(f'<text x="{PLOT_LEFT}" y="{PLOT_TOP + 20}" fill="#555">{escape(empty)}</text>')
        parts.append("</svg>")
        return "\n".join(parts)
    top = max(point.number for point in points) or 1
    span_x = right - PLOT_LEFT
    step = span_x / (len(points) - 1) if len(points) > 1 else 0

    def xy(i: int, point: Point) -> tuple[float, float]:
        x = PLOT_LEFT + (i * step if len(points) > 1 else span_x / 2)
        share = max(point.number, 0) / top if len(points) > 1 else 0.5  # one point: no scale to place it on
        return x, bottom - (bottom - PLOT_TOP) * share

    coords = [xy(i, p) for i, p in enumerate(points)]
    if len(points) > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline class="line" points="{line}" fill="none" stroke="#2f6f9f" stroke-width="2"/>')
    else:
        parts.append(f'<text class="note" x="{PLOT_LEFT}" y="{bottom + 44}" fill="#555">'
                     f"只有 {escape(points[0].label)} 一个年度的数据，还画不出变化趋势。</text>")
    for (x, y), point in zip(coords, points):
        parts.append(
            f"<a href={quoteattr(point.url)}>"
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#2f6f9f">'
            f"<title>{escape(point.label)}：{escape(point.text)}</title></circle>"
            f'<text x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle">{escape(point.text)}</text>'
            "</a>"
            f'<text x="{x:.1f}" y="{bottom + 20}" text-anchor="middle">{escape(point.label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
