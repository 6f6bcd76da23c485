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


def _span(start: date, end: date, *, days: int, total: int, peak: int, unit: str) -> dict:
    """What a daily chart says of its whole span: its ends and one sentence."""
    return {
        "peak": peak,
        "total": total,
        "first": f"{start:%b %d}",
        "last": f"{end:%b %d}",
        "summary": f"{total:,} {unit} over {days} days, at most {peak:,} on a day",
    }


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
        **_span(start, end, days=days, total=total, peak=peak, unit=unit),
    )


@dataclass(frozen=True)
class Series:
    """One stacked quantity: its key in the values, its label, and a CSS class naming its
    colour (`chart-s-<css>`: no inline style, the CSP allows none)."""

    key: str
    label: str
    css: str
    total: int = 0

    @property
    def total_text(self) -> str:
        return f"{self.total:,}"


@dataclass(frozen=True)
class Segment:
    y: float
    height: float
    css: str


@dataclass(frozen=True)
class Column:
    x: float
    width: float
    day: str  # YYYY-MM-DD
    total: int
    values: list[int]  # one per series, in the series' order
    segments: list[Segment]  # bottom up; series with nothing that day have none
    label: str  # "2026-11-30: 120 requests (100 succeeded, ...)"


@dataclass(frozen=True)
class StackedChart:
    columns: list[Column]
    series: list[Series]
    width: int
    height: int
    peak: int
    total: int
    first: str
    last: str
    summary: str


def stacked_daily_bars(
    values: dict[date, dict[str, int]],
    *,
    series: list[tuple[str, str, str]],
    days: int,
    end: date,
    unit: str,
    optional: tuple[str, ...] = (),
    width: int = 600,
    height: int = 140,
) -> StackedChart:
    """One stacked bar per day for the `days` days ending on `end`: `series` lists (key,
    label, css) bottom up; `values` maps a day to its count per key (missing: 0). An
    `optional` series that is 0 on every day is left out, legend and table included."""
    start = end - timedelta(days=days - 1)
    dates = [start + timedelta(days=n) for n in range(days)]
    rows = [[values.get(day, {}).get(key, 0) for key, _, _ in series] for day in dates]
    kept = [
        n
        for n, (key, _, _) in enumerate(series)
        if key not in optional or any(row[n] for row in rows)
    ]
    totals = [sum(row) for row in rows]
    peak = max(totals, default=0)
    slot = width / days
    usable = height - 4
    columns = []
    for n, (day, row, total) in enumerate(zip(dates, rows, totals, strict=True)):
        segments, base = [], float(height)
        for index in kept:
            value = row[index]
            if not value or not peak:
                continue
            part = max(1.0, usable * value / peak)
            base -= part
            segments.append(Segment(y=round(base, 2), height=round(part, 2), css=series[index][2]))
        parts = ", ".join(f"{row[i]:,} {series[i][1].lower()}" for i in kept if row[i])
        columns.append(
            Column(
                x=round(n * slot + 1, 2),
                width=round(max(slot - 2, 1), 2),
                day=f"{day:%Y-%m-%d}",
                total=total,
                values=[row[i] for i in kept],
                segments=segments,
                label=f"{day:%Y-%m-%d}: {total:,} {unit}" + (f" ({parts})" if parts else ""),
            )
        )
    total = sum(totals)
    return StackedChart(
        columns=columns,
        series=[
            Series(
                key=series[i][0],
                label=series[i][1],
                css=series[i][2],
                total=sum(r[i] for r in rows),
            )
            for i in kept
        ],
        width=width,
        height=height,
        **_span(start, end, days=days, total=total, peak=peak, unit=unit),
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
