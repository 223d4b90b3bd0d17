"""Durations as memory type files write them (``ttl: 30d``): a whole number and a unit."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"([1-9][0-9]{0,6})\s*([smhdw])")


def parse_duration(text: str) -> timedelta:
    """``"90d"`` -> 90 days; units s, m, h, d, w.

    Raises:
        ValueError: not a positive whole number followed by one of the units.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 2w (units: s m h d w)")
    number, unit = match.groups()
    return timedelta(**{UNITS[unit]: int(number)})
