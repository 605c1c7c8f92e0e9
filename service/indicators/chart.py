"""One indicator across places as a plain server-side SVG bar chart (no library, no script)."""
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


def bar_chart(title: str, bars: list[Bar]) -> str:
    """An SVG document with one <rect class="bar"> per bar, longest = the largest number."""
    height = TOP + max(1, len(bars)) * (BAR_HEIGHT + GAP) + GAP
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max((bar.number for bar in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label={quoteattr(title)} font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    if not bars:
        parts.append(f'<text x="0" y="{TOP + 16}" fill="#555">没有报告写明这一项。</text>')
    for i, bar in enumerate(bars):
        y = TOP + i * (BAR_HEIGHT + GAP)
        width = max(1.0, span * bar.number / top) if bar.number > 0 else 0.0
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
