"""When a new memory's fact begins to hold and when the memory expires (ArchiveBuilder)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ogmem.core.models import CandidateMemory, as_utc
from ogmem.schemas.registry import MemoryType

_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def date_start(text: str | None) -> datetime | None:
    """The first moment of an ISO date, month or year (``2024``, ``2024-05``, ``2024-05-07``,
    or a date-time's date), None for anything else."""
    match = _DATE.match(text or "")
    if match is None:
        return None
    year, month, day = match.groups()
    try:
        return datetime(int(year), int(month or 1), int(day or 1), tzinfo=UTC)
    except ValueError:
        return None


def valid_from(candidate: CandidateMemory, memory_type: MemoryType) -> datetime | None:
    """The candidate's own ``valid_from``; else, for an add-only type (an event), the start
    of its ``when``: an event's fact holds from when it happened. Otherwise unknown."""
    if candidate.valid_from is not None:
        return as_utc(candidate.valid_from, "valid_from")
    if memory_type.operation_mode == "add_only":
        return date_start(candidate.when)
    return None


def expires_at(
    candidate: CandidateMemory, memory_type: MemoryType, now: datetime
) -> datetime | None:
    """The candidate's own ``expires_at``, else ``now`` plus its type's ttl, else never."""
    if candidate.expires_at is not None:
        return as_utc(candidate.expires_at, "expires_at")
    return now + memory_type.ttl if memory_type.ttl is not None else None
