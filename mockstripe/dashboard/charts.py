"""Bar charts as inline SVG, drawn on the server: no script, no network, nothing to load."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Sequence

WIDTH, HEIGHT = 720, 180
LEFT, BOTTOM, TOP = 56, 22, 10  # room for the value axis, the time labels and the top label


@dataclass(frozen=True)
class Bar:
    label: str  # the window, as the tooltip and the axis show it
    value: Decimal | None  # None: no events in the window


def number(value: Decimal | int) -> str:
    """`25`, `2.5`, `1000000`: no exponent, no trailing zeros."""
    return format(Decimal(value).normalize(), "f")


def bar_chart(bars: Sequence[Bar], title: str) -> str:
    """An SVG bar per window, scaled to the largest; each bar's tooltip gives its window and value."""
    plotted = [bar.value or Decimal(0) for bar in bars]
    top = max(plotted, default=Decimal(0))
    scale = Decimal(HEIGHT - BOTTOM - TOP) / top if top > 0 else Decimal(0)
    slot = (WIDTH - LEFT) / max(len(bars), 1)
    width = min(max(slot * 0.8, 1.0), 48.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" class="axis"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 8}" text-anchor="end" class="tick">{escape(number(top))}</text>',
        f'<text x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end" class="tick">0</text>',
    ]
    for index, (bar, value) in enumerate(zip(bars, plotted)):
        height = float(value * scale) if value > 0 else 0.0
        x = LEFT + index * slot + (slot - width) / 2
        y = HEIGHT - BOTTOM - height
        shown = "no events" if bar.value is None else number(bar.value)
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'data-value="{escape(shown)}"><title>{escape(bar.label)}: {escape(shown)}</title></rect>'
        )
    if bars:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}" class="tick">{escape(bars[0].label)}</text>')
        if len(bars) > 1:
            parts.append(
                f'<text x="{WIDTH}" y="{HEIGHT - 6}" text-anchor="end" class="tick">{escape(bars[-1].label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
