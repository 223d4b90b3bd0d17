"""The vocabulary of dreaming: a planned step, the node changes it made, a run."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ogmem.core.storage_dreams import DreamRecord


class StepKind(enum.StrEnum):
    MERGE = "merge"  # duplicates absorbed into a survivor
    SUPERSEDE = "supersede"  # an older fact replaced by a newer one
    PATTERN = "pattern"  # a pattern memory created from the cases it cites


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Change:
    """One node a step wrote: from ``before`` (0: it did not exist) to ``after``."""

    uri: str
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class Step:
    """A planned (and, once applied, recorded) step. ``survivor`` is the node that stays or
    is created; ``absorbed`` the nodes archived into it (or cited by a pattern)."""

    kind: StepKind
    survivor: str
    absorbed: tuple[str, ...]
    reason: str
    proposal: Mapping[str, Any] = field(default_factory=dict)  # a pattern's fields
    changes: tuple[Change, ...] = ()
    status: str = "planned"  # planned, applied, failed, skipped, undone
    error: str | None = None

    def evolve(self, **changes: Any) -> Step:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value, "survivor": self.survivor, "absorbed": list(self.absorbed),
            "reason": self.reason, "proposal": dict(self.proposal),
            "changes": [{"uri": c.uri, "before": c.before, "after": c.after}
                        for c in self.changes],
            "status": self.status, "error": self.error,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(
            kind=StepKind(data["kind"]), survivor=data["survivor"],
            absorbed=tuple(data.get("absorbed", ())), reason=data.get("reason", ""),
            proposal=data.get("proposal") or {},
            changes=tuple(Change(c["uri"], int(c["before"]), int(c["after"]))
                          for c in data.get("changes", ())),
            status=data.get("status", "planned"), error=data.get("error"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DreamRun:
    """A run: who it was for, why it ran, and its steps in the order they were applied."""

    account_id: str
    run_id: str
    user_id: str
    trigger: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    steps: tuple[Step, ...] = ()
    error: str | None = None
    dry_run: bool = False

    def evolve(self, **changes: Any) -> DreamRun:
        return replace(self, **changes)

    def counts(self) -> dict[str, int]:
        """How many steps of each kind were applied (undone ones excluded)."""
        counted: dict[str, int] = {}
        for step in self.steps:
            if step.status == "applied":
                counted[step.kind.value] = counted.get(step.kind.value, 0) + 1
        return counted

    def record(self) -> DreamRecord:
        return DreamRecord(
            account_id=self.account_id, run_id=self.run_id, user_id=self.user_id,
            trigger=self.trigger, status=self.status.value, started_at=self.started_at,
            finished_at=self.finished_at, steps=[s.as_dict() for s in self.steps],
            error=self.error,
        )  # fmt: skip

    @classmethod
    def from_record(cls, record: DreamRecord) -> DreamRun:
        return cls(
            account_id=record.account_id, run_id=record.run_id, user_id=record.user_id,
            trigger=record.trigger, status=RunStatus(record.status),
            started_at=record.started_at, finished_at=record.finished_at,
            steps=tuple(Step.from_dict(s) for s in record.steps), error=record.error,
        )  # fmt: skip
