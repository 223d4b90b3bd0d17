"""Request and response bodies of the HTTP API (pydantic v2), with their limits.

No ``from __future__ import annotations`` here: FastAPI and pydantic read these annotations at
run time. The limits sit at the edge so that an oversized request is refused before it costs
a token count, a transaction or an embedding.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

from ogmem import plain
from ogmem.core import errors
from ogmem.core.models import CandidateMemory, Message, as_utc, utcnow
from ogmem.retrieval.relevance import COMPOSE_MIN_SCORE
from ogmem.schemas.registry import SchemaRegistry
from ogmem.server.memory_docs import TYPED_EXAMPLES, attributes_description

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
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.0, description="Leave out hits whose relevance (`score`, 0 to 1) is lower."
    )
    as_of: datetime | None = Field(
        default=None,
        description="What held then comes first (ISO time; default now: superseded facts "
        "come after the current ones, marked).",
    )


class ComposeIn(_Who):
    query: Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS)]
    token_budget: Annotated[int, Field(ge=1, le=MAX_TOKEN_BUDGET)] = 2_000
    include_sessions: bool = Field(
        default=False, description="Also draw on session archives (raw transcripts)."
    )
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=COMPOSE_MIN_SCORE,
        description="Draw only on memories at least this relevant (0 to 1): an unrelated "
        "question gets an empty block, not filler.",
    )


class MemoryIn(_In):
    """The typed form of a memory: every field given, as extraction would produce it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": TYPED_EXAMPLES})

    category: Ident = Field(
        description="The memory type: profile, preference, entity, event (a user's); case, "
        "pattern, skill, tool (an agent's: the request needs agent_id)."
    )
    routing_key: Annotated[str, StringConstraints(max_length=128)] = Field(
        default="",
        description="The node's key within its type: the same key merges (preference, entity, "
        "pattern, skill, tool) or groups (event, case) memories; profile has one node. "
        "Empty: the abstract's slug.",
    )
    abstract: Annotated[str, StringConstraints(max_length=4_000)] = Field(
        description="One line that says what the memory is (at most 300 characters)."
    )
    overview: Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)] = Field(
        default="", description="A short paragraph with the key facts."
    )
    content: Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)] = Field(
        description="The full memory, self-contained (at most 20,000 characters)."
    )
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    when: ShortText | None = Field(
        default=None, description="When it happened: YYYY-MM-DD, YYYY-MM or YYYY (event: required)."
    )
    who: ShortText | None = None
    where: ShortText | None = None
    evidence_quote: Annotated[str, StringConstraints(max_length=4_000)] | None = None
    source_message_ids: Annotated[list[ShortText], Field(max_length=MAX_MESSAGES)] = Field(
        default_factory=list
    )
    attributes: dict[str, Any] = Field(default_factory=dict, description=attributes_description())
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Your own keys, kept as given in the node's metadata under `custom`.",
    )
    operation: Literal["write", "archive", "delete"] = Field(
        default="write",
        description="archive (no longer true) or delete (forget) the node this category and "
        "routing key address.",
    )
    valid_from: datetime | None = Field(
        default=None,
        description="Since when the fact holds (ISO time). A later valid_from than the fact "
        "at the same address replaces it; the old one is kept, closed (README).",
    )
    expires_at: datetime | None = Field(
        default=None, description="When to forget it (ISO time); default: its type's ttl."
    )

    def to_candidate(self, registry: SchemaRegistry | None = None) -> CandidateMemory:
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
            metadata=self.metadata,
            valid_from=self.valid_from,
            expires_at=self.expires_at,
        )


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is blank: nothing to remember")
    return text


PlainText = Annotated[
    str,
    StringConstraints(max_length=MAX_CONTENT_CHARS),
    AfterValidator(_not_blank),
    Field(description="What to remember, in plain words: the memory's content; its abstract "
          "is the first sentence."),
]  # fmt: skip
PlainCategory = Annotated[
    Ident | None,
    Field(description="The memory type; default event (dated, never merged). Its required "
          "fields are derived (README: the plain form)."),
]  # fmt: skip
PlainWhen = Annotated[
    ShortText | None,
    Field(description="When: YYYY-MM-DD (or YYYY-MM, YYYY, a full ISO time); default today "
          "for an event."),
]  # fmt: skip
PlainMetadata = Annotated[
    dict[str, Any] | None,
    Field(description="Keys that are fields of the type fill them (entity: {\"kind\": "
          "\"person\"}); the others are kept as given under `custom`."),
]  # fmt: skip


class PlainMemoryIn(_In):
    """The plain form of a memory: a text; abstract, routing key and type fields derived."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "I prefer dark roast coffee"}]}
    )

    text: PlainText
    category: PlainCategory = None
    when: PlainWhen = None
    metadata: PlainMetadata = None

    def to_candidate(self, registry: SchemaRegistry | None = None) -> CandidateMemory:
        assert registry is not None, "a plain memory needs the registry of its types"
        return plain.candidate(registry, self.text, self.category, self.when, self.metadata)


def _memory_form(value: Any) -> str:
    has_text = "text" in value if isinstance(value, dict) else isinstance(value, PlainMemoryIn)
    return "plain" if has_text else "typed"


AnyMemoryIn = Annotated[
    Annotated[PlainMemoryIn, Tag("plain")] | Annotated[MemoryIn, Tag("typed")],
    Discriminator(_memory_form),
]


class MemoriesIn(_Who):
    """A batch: each item plain ({text, ...}) or typed ({category, abstract, content, ...})."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"user_id": "alice", "memories": [
            {"text": "I moved to Lisbon"}, TYPED_EXAMPLES[0]]}]},
    )  # fmt: skip

    session_id: Ident | None = None
    memories: Annotated[list[AnyMemoryIn], Field(min_length=1, max_length=MAX_MESSAGES)]

    def candidates(self, registry: SchemaRegistry) -> list[CandidateMemory]:
        return [item.to_candidate(registry) for item in self.memories]


class PlainAddIn(_Who):
    """One plain memory: ``{"text": ..., "user_id": ...}``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "I prefer dark roast coffee", "user_id": "alice"}]
        },
    )

    session_id: Ident | None = None
    text: PlainText
    category: PlainCategory = None
    when: PlainWhen = None
    metadata: PlainMetadata = None

    def candidates(self, registry: SchemaRegistry) -> list[CandidateMemory]:
        return [plain.candidate(registry, self.text, self.category, self.when, self.metadata)]


def _add_form(value: Any) -> str | None:
    if isinstance(value, dict):
        return "plain" if "text" in value else "batch" if "memories" in value else None
    return "plain" if isinstance(value, PlainAddIn) else "batch"


AddIn = Annotated[
    Annotated[PlainAddIn, Tag("plain")] | Annotated[MemoriesIn, Tag("batch")],
    Discriminator(
        _add_form,
        custom_error_type="text_or_memories",
        custom_error_message="give text (one memory) or memories (a batch), with user_id",
    ),
]


class ArchiveIn(_Who):
    uri: Uri
    expected_version: Annotated[int, Field(ge=0)] | None = None


class MoveIn(_Who):
    src: Uri
    dst: Uri
    expected_version: Annotated[int, Field(ge=0)] | None = None
