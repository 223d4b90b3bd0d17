"""Turning the dates people say ("yesterday", "last Friday", "in June") into ISO 8601 dates.

An LLM often copies a relative expression into a memory's ``when``; stored as is, "yesterday"
becomes wrong the next day. ``resolve_when`` resolves it against the time of the message it was
said in, and returns anything it does not understand unchanged: it never invents a date.

Example::

    >>> resolve_when("yesterday", datetime(2023, 5, 8, 13, 56))
    '2023-05-07'
    >>> resolve_when("in June", datetime(2023, 5, 8))
    '2023-06'
    >>> resolve_when("when we met", datetime(2023, 5, 8))
    'when we met'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from ogmem.schemas import fields

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
_COUNTS = {
    "a": 1, "an": 1, "one": 1, "a couple of": 2, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_DAY_OFFSETS = {
    "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0,
    "yesterday": -1, "last night": -1, "the day before yesterday": -2,
    "day before yesterday": -2, "tomorrow": 1, "the day after tomorrow": 2,
    "day after tomorrow": 2,
}  # fmt: skip

_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_WEEKDAY = "(?P<weekday>" + "|".join(_WEEKDAYS) + ")"
_COUNT = r"(?P<count>\d{1,4}|" + "|".join(sorted(_COUNTS, key=len, reverse=True)) + ")"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_ORDINAL = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
# A leading weekday ("Monday, 8 May 2023") adds nothing to an absolute date.
_WEEKDAY_PREFIX = r"(?:(?:" + "|".join(_WEEKDAYS) + r"),? )?"
_PART_OF_DAY = r"(?: (?:morning|afternoon|evening|night))?"

Handler = Callable[[re.Match[str], dt.date], str | None]


def resolve_when(text: str, reference: dt.datetime) -> str:
    """``text`` as an ISO 8601 date (YYYY-MM-DD, YYYY-MM or YYYY) if it can be resolved.

    Parameters:
        text: what the model wrote for "when".
        reference: the time of the message it was said in (or of the session); relative
            expressions count from its date, in its own time zone.

    Returns:
        The ISO date (with the precision the expression has: "in June" gives a month), an
        already absolute ISO value unchanged, or ``text`` as given when it cannot be resolved.
    """
    stripped = text.strip()
    if fields.is_absolute_date(stripped):
        return stripped
    spoken = _normalise(stripped)
    for pattern, handler in _RULES:
        match = pattern.fullmatch(spoken)
        if match is None:
            continue
        try:
            resolved = handler(match, reference.date())
        except (ValueError, OverflowError):  # 31 February, or 9999 years ago
            return text
        return text if resolved is None else resolved
    return text


def _normalise(text: str) -> str:
    spoken = re.sub(r"\s+", " ", text.lower()).strip(" .,;:!")
    return spoken.removeprefix("on ").removeprefix("around ").removeprefix("about ")


def _iso_day(day: dt.date) -> str:
    return day.isoformat()


def _iso_month(year: int, month: int) -> str:
    # date() rejects years outside 1..9999 with ValueError, like every other overflow here.
    return dt.date(year, month, 1).isoformat()[:7]


def _iso_year(year: int) -> str:
    return dt.date(year, 1, 1).isoformat()[:4]


def _count(match: re.Match[str]) -> int:
    word = match["count"]
    return int(word) if word.isdigit() else _COUNTS[word]


def _shift_months(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _numeric(match: re.Match[str], ref: dt.date) -> str:
    return _iso_day(dt.date(int(match["year"]), int(match["month"]), int(match["day"])))


def _named_day(match: re.Match[str], ref: dt.date) -> str:
    year = int(match["year"]) if match["year"] else ref.year  # "8 May": the reference's year
    return _iso_day(dt.date(year, _MONTHS[match["month"]], int(match["day"])))


def _day_word(match: re.Match[str], ref: dt.date) -> str:
    return _iso_day(ref + dt.timedelta(days=_DAY_OFFSETS[match["word"]]))


def _relative_week(match: re.Match[str], ref: dt.date) -> str:
    # "last week" has no day; we store the date 7 days before (and "next week" 7 days after)
    # so that the memory keeps a day-precise anchor inside the week that was meant.
    return _iso_day(ref + dt.timedelta(days=-7 if match["which"] == "last" else 7))


def _relative_month(match: re.Match[str], ref: dt.date) -> str:
    step = {"last": -1, "this": 0, "next": 1}[match["which"]]
    return _iso_month(*_shift_months(ref, step))


def _relative_year(match: re.Match[str], ref: dt.date) -> str:
    return _iso_year(ref.year + {"last": -1, "this": 0, "next": 1}[match["which"]])


def _weekday(match: re.Match[str], ref: dt.date) -> str:
    target = _WEEKDAYS.index(match["weekday"])
    which = match["which"]
    if which == "last":  # the most recent one strictly before the reference day
        return _iso_day(ref - dt.timedelta(days=(ref.weekday() - target - 1) % 7 + 1))
    if which == "next":  # the first one strictly after (on a Monday, "next Friday" is in 4 days)
        return _iso_day(ref + dt.timedelta(days=(target - ref.weekday() - 1) % 7 + 1))
    # "this Friday": the Friday of the reference's week (weeks start on Monday).
    return _iso_day(ref + dt.timedelta(days=target - ref.weekday()))


def _weekend(match: re.Match[str], ref: dt.date) -> str:
    # A weekend is stored as its Saturday. "This weekend" is the one of the reference's week
    # (on a Sunday, the day before); "last"/"next" are the weekends before and after it.
    saturday = ref + dt.timedelta(days=5 - ref.weekday())
    step = {"last": -7, "this": 0, "next": 7}[match["which"]]
    return _iso_day(saturday + dt.timedelta(days=step))


def _ago(match: re.Match[str], ref: dt.date) -> str:
    return _offset(match, ref, -_count(match))


def _ahead(match: re.Match[str], ref: dt.date) -> str:
    return _offset(match, ref, _count(match))


def _offset(match: re.Match[str], ref: dt.date, count: int) -> str:
    # The result keeps the expression's precision: "3 months ago" names a month, not a day.
    unit = match["unit"]
    if unit == "day":
        return _iso_day(ref + dt.timedelta(days=count))
    if unit == "week":
        return _iso_day(ref + dt.timedelta(weeks=count))
    if unit == "month":
        return _iso_month(*_shift_months(ref, count))
    return _iso_year(ref.year + count)


def _month(match: re.Match[str], ref: dt.date) -> str:
    month = _MONTHS[match["month"]]
    if match["year"]:
        return _iso_month(int(match["year"]), month)
    which = match["which"]
    if which == "last":  # the most recent such month before this one
        return _iso_month(ref.year if month < ref.month else ref.year - 1, month)
    if which == "next":
        return _iso_month(ref.year if month > ref.month else ref.year + 1, month)
    # A bare month ("in June") is read in the reference's year: people say "last December"
    # when they mean the past one, so guessing another year would be inventing.
    return _iso_month(ref.year, month)


def _year(match: re.Match[str], ref: dt.date) -> str:
    return _iso_year(int(match["year"]))


def _rule(pattern: str, handler: Handler) -> tuple[re.Pattern[str], Handler]:
    return re.compile(pattern), handler


_RULES: tuple[tuple[re.Pattern[str], Handler], ...] = (
    _rule(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})", _numeric),
    # Day first with dots is unambiguous (08.05.2023); slashes are not (US vs. Europe): skipped.
    _rule(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})", _numeric),
    _rule(
        _WEEKDAY_PREFIX + _ORDINAL + r" (?:of )?" + _MONTH + r"(?:,? " + _YEAR + ")?", _named_day
    ),
    _rule(_WEEKDAY_PREFIX + _MONTH + r" " + _ORDINAL + r"(?:,? " + _YEAR + ")?", _named_day),
    _rule(
        "(?P<word>" + "|".join(sorted(_DAY_OFFSETS, key=len, reverse=True)) + ")" + _PART_OF_DAY,
        _day_word,
    ),
    _rule(r"(?P<which>last|next) week", _relative_week),
    _rule(r"(?P<which>last|this|next) month", _relative_month),
    _rule(r"(?P<which>last|this|next) year", _relative_year),
    _rule(r"(?P<which>last|this|next) weekend", _weekend),
    _rule(r"(?P<which>last|this|next) " + _WEEKDAY + _PART_OF_DAY, _weekday),
    _rule(_COUNT + " " + _UNIT + r" ago", _ago),
    _rule(r"in " + _COUNT + " " + _UNIT, _ahead),
    _rule(_COUNT + " " + _UNIT + r" from now", _ahead),
    _rule(
        r"(?:in )?(?:(?:early|mid|late|the end of|end of|the beginning of|beginning of)[- ])?"
        r"(?:(?P<which>last|this|next) )?" + _MONTH + r"(?:,? " + _YEAR + ")?",
        _month,
    ),
    _rule(r"(?:in )?" + _YEAR, _year),
)
