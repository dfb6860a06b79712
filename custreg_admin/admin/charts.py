"""Server-rendered SVG charts: geometry only, the template draws it (no JavaScript, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .formatting import short_month


@dataclass(frozen=True)
class Bar:
    month: date
    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    gridlines: tuple[tuple[float, Decimal], ...]


def _nice_ceiling(value: Decimal) -> Decimal:
    """1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return Decimal(1)
    exponent = len(str(int(value))) - 1
    base = Decimal(10) ** exponent
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if base * step >= value:
            return base * step
    return base * 10


def month_bars(points: list[tuple[date, Decimal]], width: int = 720, height: int = 220) -> BarChart:
    """A bar per month; labels like "Jan 26", in the request's locale ("tammi 26")."""
    top, bottom, left, right = 10, 24, 64, 8
    plot_height = height - top - bottom
    ceiling = _nice_ceiling(max((value for _, value in points), default=Decimal(0)))
    slot = (width - left - right) / max(len(points), 1)
    bars = []
    for i, (month, value) in enumerate(points):
        bar_height = float(value / ceiling) * plot_height if value > 0 else 0.0
        bars.append(
            Bar(
                month=month,
                label=short_month(month),
                value=value,
                x=left + i * slot + slot * 0.15,
                y=top + plot_height - bar_height,
                width=slot * 0.7,
                height=bar_height,
            )
        )
    gridlines = tuple((top + plot_height - plot_height * k / 4, ceiling * k / 4) for k in range(5))
    return BarChart(width, height, top + plot_height, tuple(bars), gridlines)
