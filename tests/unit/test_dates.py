from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogmem.extraction import dates
from ogmem.schemas import fields

# Monday, 8 May 2023, mid-afternoon: the session date of the extraction tests.
REFERENCE = dt.datetime(2023, 5, 8, 13, 56, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Days around the reference.
        ("yesterday", "2023-05-07"),
        ("Yesterday", "2023-05-07"),
        (" yesterday. ", "2023-05-07"),
        ("yesterday evening", "2023-05-07"),
        ("last night", "2023-05-07"),
        ("the day before yesterday", "2023-05-06"),
        ("today", "2023-05-08"),
        ("this morning", "2023-05-08"),
        ("tonight", "2023-05-08"),
        ("tomorrow", "2023-05-09"),
        ("the day after tomorrow", "2023-05-10"),
        # Weeks and weekdays (8 May 2023 is a Monday).
        ("last week", "2023-05-01"),
        ("next week", "2023-05-15"),
        ("last Friday", "2023-05-05"),
        ("last Monday", "2023-05-01"),
        ("next Friday", "2023-05-12"),
        ("next Monday", "2023-05-15"),
        ("this Friday", "2023-05-12"),
        ("this weekend", "2023-05-13"),
        ("last weekend", "2023-05-06"),
        ("next weekend", "2023-05-20"),
        # Counted offsets keep their precision.
        ("3 days ago", "2023-05-05"),
        ("two weeks ago", "2023-04-24"),
        ("a couple of days ago", "2023-05-06"),
        ("a week ago", "2023-05-01"),
        ("5 months ago", "2022-12"),
        ("a year ago", "2022"),
        ("in 3 days", "2023-05-11"),
        ("in two weeks", "2023-05-22"),
        ("2 months from now", "2023-07"),
        # Months and years.
        ("last month", "2023-04"),
        ("this month", "2023-05"),
        ("next month", "2023-06"),
        ("last year", "2022"),
        ("this year", "2023"),
        ("next year", "2024"),
        ("in June", "2023-06"),
        ("June", "2023-06"),
        ("mid-June", "2023-06"),
        ("early March", "2023-03"),
        ("last June", "2022-06"),
        ("last April", "2023-04"),
        ("next March", "2024-03"),
        ("next June", "2023-06"),
        ("June 2022", "2022-06"),
        ("in Sept 2021", "2021-09"),
        ("in 2021", "2021"),
        # Absolute dates in common formats.
        ("8 May 2023", "2023-05-08"),
        ("8th May 2023", "2023-05-08"),
        ("8th of May, 2023", "2023-05-08"),
        ("May 8, 2023", "2023-05-08"),
        ("May 8th 2023", "2023-05-08"),
        ("Monday, 8 May 2023", "2023-05-08"),
        ("on 8 May 2023", "2023-05-08"),
        ("1 June", "2023-06-01"),
        ("Dec 25", "2023-12-25"),
        ("2023/5/8", "2023-05-08"),
        ("2023-5-8", "2023-05-08"),
        ("08.05.2023", "2023-05-08"),
        # Already ISO: unchanged (a time and offset are kept).
        ("2023-05-08", "2023-05-08"),
        ("2023-05", "2023-05"),
        ("2023", "2023"),
        ("2023-05-08T10:30:00+02:00", "2023-05-08T10:30:00+02:00"),
        ("  2023-05-08 ", "2023-05-08"),
        # Unresolvable: kept exactly as given, never invented.
        ("sometime", "sometime"),
        ("when we first met", "when we first met"),
        ("early 2023", "early 2023"),
        ("Friday", "Friday"),
        ("this week", "this week"),
        ("a few days ago", "a few days ago"),
        ("5/8/2023", "5/8/2023"),
        ("31 February 2023", "31 February 2023"),
        ("2023-02-31 ", "2023-02-31 "),
        ("9999 years ago", "9999 years ago"),
        ("", ""),
        ("   ", "   "),
    ],
)
def test_resolve_when(text: str, expected: str) -> None:
    assert dates.resolve_when(text, REFERENCE) == expected


@pytest.mark.parametrize(
    ("reference", "text", "expected"),
    [
        (dt.datetime(2024, 3, 1), "yesterday", "2024-02-29"),  # leap year
        (dt.datetime(2023, 1, 1), "yesterday", "2022-12-31"),
        (dt.datetime(2023, 1, 15), "last month", "2022-12"),
        (dt.datetime(2023, 12, 15), "next month", "2024-01"),
        (dt.datetime(2023, 5, 12), "last Friday", "2023-05-05"),  # a Friday: the one before
        (dt.datetime(2023, 5, 14), "this weekend", "2023-05-13"),  # a Sunday: the day before
        (dt.datetime(2023, 5, 13), "last weekend", "2023-05-06"),  # a Saturday
    ],
)
def test_resolve_when_at_edges(reference: dt.datetime, text: str, expected: str) -> None:
    assert dates.resolve_when(text, reference) == expected


def test_the_reference_time_zone_decides_the_day() -> None:
    # 23:30 in New York is already the next day in UTC; the speaker's own day counts.
    late = dt.datetime(2023, 5, 8, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    assert dates.resolve_when("today", late) == "2023-05-08"


@given(st.text(max_size=60))
def test_any_text_is_resolved_or_returned_unchanged(text: str) -> None:
    resolved = dates.resolve_when(text, REFERENCE)
    assert resolved == text or fields.is_absolute_date(resolved)
