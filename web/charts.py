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


@dataclass(frozen=True)
class Sparkline:
    """A row's tiny request chart: one bar per day, the total, and a sentence saying both."""

    bars: list[Bar]
    width: int
    height: int
    total: int
    total_short: str
    summary: str


def compact_number(value: int) -> str:
    """812, 4.1k, 12k, 3.2M: a count in at most four characters or so."""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            scaled = value / size
            text = f"{scaled:.1f}" if scaled < 10 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return str(value)


def sparkline(
    values: dict[date, int], *, days: int, end: date, unit: str, width: int = 70, height: int = 22
) -> Sparkline:
    """`days` bars ending on `end` (missing days count as 0), scaled to the busiest day.

    A day with no requests keeps a 1-unit stub, so an idle week still reads as a week."""
    start = end - timedelta(days=days - 1)
    series = [
        (start + timedelta(days=n), values.get(start + timedelta(days=n), 0)) for n in range(days)
    ]
    peak = max((v for _, v in series), default=0)
    slot = width / days
    bars = []
    for n, (day, value) in enumerate(series):
        bar_height = max(2.0, (height - 2) * value / peak) if value else 1.0
        bars.append(
            Bar(
                x=round(n * slot + 1, 2),
                y=round(height - bar_height, 2),
                width=round(max(slot - 2, 1), 2),
                height=round(bar_height, 2),
                label=f"{day:%a %Y-%m-%d}: {value:,} {unit}",
                value=value,
            )
        )
    total = sum(v for _, v in series)
    noun = unit if total != 1 else unit.removesuffix("s")
    return Sparkline(
        bars=bars,
        width=width,
        height=height,
        total=total,
        total_short=compact_number(total),
        summary=f"{total:,} {noun} in the last {days} days",
    )
