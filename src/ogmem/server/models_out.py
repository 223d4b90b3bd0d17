"""Response bodies of the HTTP API (pydantic v2), built from the domain dataclasses.

No ``from __future__ import annotations`` here: FastAPI and pydantic read these annotations at
run time.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# -- responses: built from the domain dataclasses by attribute ------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SessionOut(_Out):
    session_id: str
    user_id: str
    agent_id: str | None
    status: str
    attempts: int
    last_error: str | None
    messages: int
    uncommitted_tokens: int
    proposed: int
    written: int
    skipped: int
    failed: int
    llm_tokens: int
    last_reason: str | None
    created_at: datetime
    updated_at: datetime
    committed_at: datetime | None


class SessionEnvelope(BaseModel):
    session: SessionOut


class AfterTurnOut(_Out):
    session: SessionOut
    added: int
    commit_scheduled: bool


class SessionsOut(BaseModel):
    sessions: list[SessionOut]


class HitOut(_Out):
    uri: str
    category: str
    abstract: str
    score: float
    level: int
    why: str
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    superseded: bool = False


class SearchOut(_Out):
    hits: list[HitOut]
    took_ms: float


class ComposeOut(_Out):
    text: str
    uris: list[str]
    tokens: int
    budget: int


class WriteResultOut(BaseModel):
    status: Literal["written", "skipped", "failed"]
    uri: str | None
    action: str | None
    version: int | None
    reason: str
    error: str | None


class MemoriesOut(BaseModel):
    """One result per memory, in order; 207 instead of 200 when not all were written."""

    results: list[WriteResultOut]
    written: int
    skipped: int
    failed: int
    complete: bool = Field(
        description="Every memory written: false when one was skipped or failed."
    )


class NodeOut(_Out):
    uri: str
    context_type: str
    category: str
    owner_space: str
    abstract: str
    overview: str
    content: str
    metadata: dict[str, Any]
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    expires_at: datetime | None = None


class NodeEnvelope(BaseModel):
    node: NodeOut


class EntryOut(_Out):
    name: str
    uri: str
    is_dir: bool
    node: NodeOut | None


class LsOut(BaseModel):
    entries: list[EntryOut]


class TreeOut(BaseModel):
    nodes: list[NodeOut]


class VersionOut(_Out):
    action: str
    written_at: datetime
    node: NodeOut


class HistoryOut(BaseModel):
    versions: list[VersionOut]


class OutboxStatsOut(BaseModel):
    counts: dict[str, int]
    oldest_pending_age_s: float | None


class ReadyOut(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str]


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: dict[str, Any] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody
