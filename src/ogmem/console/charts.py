"""Small inline SVG charts for the overview page (no script, no library): a bar per day, or a
line per category."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 600, 160, 24
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#718096", "#b7791f")


def days_back(count: int, today: date | None = None) -> list[date]:
    last = today or datetime.now(UTC).date()
    return [last - timedelta(days=n) for n in range(count - 1, -1, -1)]


def per_day(times: Iterable[datetime | None], days: Sequence[date]) -> list[int]:
    counted = Counter(t.date() for t in times if t is not None)
    return [counted.get(day, 0) for day in days]


def cumulative_per_day(
    times: Iterable[tuple[str, datetime]], days: Sequence[date]
) -> dict[str, list[int]]:
    """Per category, how many existed at the end of each day (created before or on it)."""
    by_category: dict[str, Counter[date]] = {}
    for category, created in times:
        by_category.setdefault(category, Counter())[created.date()] += 1
    series = {}
    for category, counted in sorted(by_category.items()):
        before = sum(n for day, n in counted.items() if day < days[0])
        running, values = before, []
        for day in days:
            running += counted.get(day, 0)
            values.append(running)
        series[category] = values
    return series


def _x(index: int, count: int) -> float:
    return PAD + (WIDTH - 2 * PAD) * (index / max(1, count - 1))


def _y(value: int, top: int) -> float:
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value / max(1, top))


def _frame(title: str, days: Sequence[date], top: int, body: str) -> Markup:
    labels = (
        f'<text x="{PAD}" y="{HEIGHT - 6}">{days[0]:%m-%d}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" text-anchor="end">{days[-1]:%m-%d}</text>'
        f'<text x="{PAD}" y="14">max {top}</text>'
    )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        f'stroke="#999"/>{body}{labels}</svg>'
    )


def bars(title: str, days: Sequence[date], values: Sequence[int]) -> Markup:
    top = max(values, default=0)
    step = (WIDTH - 2 * PAD) / max(1, len(values))
    rects = "".join(
        f'<rect x="{PAD + i * step:.1f}" y="{_y(v, top):.1f}" width="{step * 0.8:.1f}" '
        f'height="{HEIGHT - PAD - _y(v, top):.1f}" fill="{COLOURS[0]}">'
        f"<title>{day}: {v}</title></rect>"
        for i, (day, v) in enumerate(zip(days, values, strict=True))
    )
    return _frame(title, days, top, rects)


def lines(title: str, days: Sequence[date], series: Mapping[str, Sequence[int]]) -> Markup:
    top = max((max(v, default=0) for v in series.values()), default=0)
    body = ""
    for n, (name, values) in enumerate(series.items()):
        count = len(values)
        points = " ".join(f"{_x(i, count):.1f},{_y(v, top):.1f}" for i, v in enumerate(values))
        colour = COLOURS[n % len(COLOURS)]
        body += (
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(name)}: {values[-1] if values else 0}</title></polyline>"
        )
    return _frame(title, days, top, body)


def legend(series: Mapping[str, Sequence[int]]) -> list[tuple[str, str, int]]:
    """(name, colour, latest value) for each line, in the lines' order."""
    return [
        (name, COLOURS[n % len(COLOURS)], values[-1] if values else 0)
        for n, (name, values) in enumerate(series.items())
    ]
