"""Server-rendered SVG bar charts (no JavaScript, no external asset)."""

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    peak: int
    total: int
    first: str
    last: str
    summary: str


def daily_bars(
    values: dict[date, int], *, days: int, end: date, unit: str, width: int = 600, height: int = 120
) -> Chart:
    """One bar per day for the `days` days ending on `end`; missing days count as 0."""
    start = end - timedelta(days=days - 1)
    series = [
        (start + timedelta(days=n), values.get(start + timedelta(days=n), 0)) for n in range(days)
    ]
    peak = max((v for _, v in series), default=0)
    slot = width / days
    bars = []
    for n, (day, value) in enumerate(series):
        bar_height = 0 if peak == 0 else max(1.0, (height - 4) * value / peak) if value else 0
        bars.append(
            Bar(
                x=round(n * slot + 1, 2),
                y=round(height - bar_height, 2),
                width=round(max(slot - 2, 1), 2),
                height=round(bar_height, 2),
                label=f"{day:%Y-%m-%d}: {value:,} {unit}",
                value=value,
            )
        )
    total = sum(v for _, v in series)
    return Chart(
        bars=bars,
        width=width,
        height=height,
        peak=peak,
        total=total,
        first=f"{start:%b %d}",
        last=f"{end:%b %d}",
        summary=f"{total:,} {unit} over {days} days, at most {peak:,} on a day",
    )
