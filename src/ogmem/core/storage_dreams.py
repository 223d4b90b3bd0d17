"""The storage port of dreaming: the record of every dream run, and the count of new
memories that decides when the next run is due."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class DreamRecord:
    """One dream run as stored. ``steps`` are plain JSON objects (``ogmem.dream.models``
    reads them); ``status`` is running, done or failed."""

    account_id: str
    run_id: str
    user_id: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    steps: Sequence[Mapping[str, Any]] = field(default_factory=list)
    error: str | None = None


class DreamStore(Protocol):
    """Rows of dream runs; every call is scoped by ``account_id``."""

    def save_run(self, record: DreamRecord) -> None:
        """Insert the run, or replace the stored run of the same id."""
        ...

    def find_run(self, account_id: str, run_id: str) -> DreamRecord | None: ...

    def list_runs(self, account_id: str, user_id: str | None, limit: int) -> list[DreamRecord]:
        """The newest runs first; ``user_id`` None lists every user's."""
        ...

    def new_memory_counts(
        self, account_id: str, uri: str, since: datetime | None
    ) -> dict[str, int]:
        """category -> active memories below ``uri`` created after ``since`` (all if None)."""
        ...

    def run_totals(self, account_id: str) -> dict[str, int]:
        """status -> how many runs the account has (metrics)."""
        ...
