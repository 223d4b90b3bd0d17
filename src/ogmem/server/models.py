"""Request and response bodies of the HTTP API (pydantic v2), with their limits.

No ``from __future__ import annotations`` here: FastAPI and pydantic read these annotations at
run time. The limits sit at the edge so that an oversized request is refused before it costs
a token count, a transaction or an embedding.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ogmem.core import errors
from ogmem.core.models import CandidateMemory, Message, as_utc, utcnow

MAX_CONTENT_CHARS = 200_000
MAX_MESSAGES = 1_000
MAX_QUERY_CHARS = 4_000
MAX_URI_CHARS = 1_024
MAX_TOKEN_BUDGET = 200_000

# user, agent and session ids become URI segments: the same alphabet, checked early, and
# never "." or ".." (a segment that would mean a directory); no lookahead in pydantic's regex
IDENT = r"^(?:[A-Za-z0-9_-]|\.[A-Za-z0-9_-]|\.\.[A-Za-z0-9._-])[A-Za-z0-9._-]*$"
Ident = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=IDENT)]
ShortText = Annotated[str, StringConstraints(max_length=256)]
Uri = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URI_CHARS)]


class _In(BaseModel):
    # an unknown field is a client bug (a typo'd "user_Id" would silently mean another user)
    model_config = ConfigDict(extra="forbid")


class MessageIn(_In):
    role: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    content: Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)]
    name: ShortText | None = None
    created_at: datetime | None = None
    message_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None

    @field_validator("created_at")
    @classmethod
    def _representable_in_utc(cls, value: datetime | None) -> datetime | None:
        try:
            return None if value is None else as_utc(value, "created_at")
        except errors.InvalidInput as exc:
            raise ValueError(str(exc)) from exc

    def to_message(self) -> Message:
        return Message(
            role=self.role,
            content=self.content,
            created_at=self.created_at or utcnow(),
            message_id=self.message_id,
            name=self.name,
        )


class _Who(_In):
    user_id: Ident
    agent_id: Ident | None = None


class TurnIn(_Who):
    """The body of after_turn and ingest_batch."""

    session_id: Ident
    messages: Annotated[list[MessageIn], Field(min_length=1, max_length=MAX_MESSAGES)]


class IngestIn(_Who):
    session_id: Ident
    message: MessageIn


class CommitIn(_In):
    user_id: Ident


class SearchIn(_Who):
    query: Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS)]
    categories: Annotated[list[Ident], Field(max_length=50)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    include_sessions: bool = Field(
        default=False, description="Also search session archives (raw transcripts)."
    )


class ComposeIn(_Who):
    query: Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS)]
    token_budget: Annotated[int, Field(ge=1, le=MAX_TOKEN_BUDGET)] = 2_000
    include_sessions: bool = Field(
        default=False, description="Also draw on session archives (raw transcripts)."
    )


class MemoryIn(_In):
    category: Ident
    routing_key: Annotated[str, StringConstraints(max_length=128)] = ""
    abstract: Annotated[str, StringConstraints(max_length=4_000)]
    overview: Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)] = ""
    content: Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)]
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    when: ShortText | None = None
    who: ShortText | None = None
    where: ShortText | None = None
    evidence_quote: Annotated[str, StringConstraints(max_length=4_000)] | None = None
    source_message_ids: Annotated[list[ShortText], Field(max_length=MAX_MESSAGES)] = Field(
        default_factory=list
    )
    attributes: dict[str, Any] = Field(default_factory=dict)
    operation: Literal["write", "archive", "delete"] = "write"

    def to_candidate(self) -> CandidateMemory:
        return CandidateMemory(
            category=self.category,
            routing_key=self.routing_key,
            abstract=self.abstract,
            overview=self.overview,
            content=self.content,
            confidence=self.confidence,
            when=self.when,
            who=self.who,
            where=self.where,
            evidence_quote=self.evidence_quote,
            source_message_ids=tuple(self.source_message_ids),
            attributes=self.attributes,
            operation=self.operation,
        )


class MemoriesIn(_Who):
    session_id: Ident | None = None
    memories: Annotated[list[MemoryIn], Field(min_length=1, max_length=MAX_MESSAGES)]


class ArchiveIn(_Who):
    uri: Uri
    expected_version: Annotated[int, Field(ge=0)] | None = None


class MoveIn(_Who):
    src: Uri
    dst: Uri
    expected_version: Annotated[int, Field(ge=0)] | None = None


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


class SearchOut(_Out):
    hits: list[HitOut]
    took_ms: float


class ComposeOut(_Out):
    text: str
    uris: list[str]
    tokens: int
    budget: int


class WriteResultOut(BaseModel):
    status: str
    uri: str | None
    action: str | None
    version: int | None
    reason: str
    error: str | None


class MemoriesOut(BaseModel):
    results: list[WriteResultOut]


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
