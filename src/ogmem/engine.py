"""Engine: the one facade the CLI, the server and Python users talk to."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ogmem import plain
from ogmem.commit.expiry import Expirer
from ogmem.commit.writer import PARALLEL_WORKERS, ContextWriter
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    Message,
    RequestContext,
    SessionState,
    WriteResult,
    as_utc,
    utcnow,
)
from ogmem.core.ports import Embedder, LLMClient
from ogmem.core.storage import Backend
from ogmem.dream import setup as dream_setup
from ogmem.engine_operations import EngineOperations
from ogmem.engine_reads import EngineReads
from ogmem.erase import EraseReport, erase_user
from ogmem.extraction.base import Extractor
from ogmem.extraction.raw import DEFAULT_ROLES, RawExtractor
from ogmem.extraction.with_messages import WithMessages
from ogmem.index.directories import DirectorySummarizer
from ogmem.index.embedders import MiniLMEmbedder
from ogmem.index.sync import IndexSync
from ogmem.index.worker import OutboxWorker
from ogmem.keys import Keys
from ogmem.nodes import Nodes
from ogmem.outbox import OutboxManager
from ogmem.retrieval.compose import DETAILED, ComposeResult, compose_block
from ogmem.retrieval.decay import Decay
from ogmem.retrieval.recall import RecallLog
from ogmem.retrieval.relevance import COMPOSE_MIN_SCORE
from ogmem.retrieval.search import Searcher, SearchResult
from ogmem.schemas.registry import SchemaRegistry
from ogmem.session.archive import SessionArchiver
from ogmem.session.committer import SessionCommitter
from ogmem.session.forget import Forgetter
from ogmem.session.service import AfterTurnResult, SessionService, token_counts
from ogmem.session.sessions import Sessions
from ogmem.store import open_backend

DEFAULT_TOKEN_BUDGET = 2000


def _extractor(
    llm: LLMClient | None, registry: SchemaRegistry, raw_roles: Sequence[str], keep_messages: bool
) -> Extractor:
    """LLM extraction when a model is configured, raw mode (offline, no key) otherwise; with
    ``keep_messages`` LLM extraction keeps the raw memories of the messages beside the model's."""
    if llm is None:
        return RawExtractor(raw_roles)
    from ogmem.extraction import llm_extractor

    extractor: Extractor = llm_extractor.LLMExtractor(llm, registry)
    return WithMessages(extractor, RawExtractor(raw_roles)) if keep_messages else extractor


class Engine(EngineReads, EngineOperations):
    """Wires store, index, schema registry, LLM, embedder, writer, worker and search.

    Example::

        with Engine.open("memory.sqlite") as engine:
            ctx = RequestContext(account_id="acme", user_id="alice", session_id="s1")
            fact = CandidateMemory(category="preference", routing_key="editor",
                                   abstract="Prefers vim", content="Uses vim daily")
            engine.remember([fact], ctx)
            engine.drain()                      # or let the background worker index it
            engine.search("which editor?", ctx)
    """

    def __init__(
        self,
        backend: Backend,
        *,
        registry: SchemaRegistry | None = None,
        llm: LLMClient | None = None,
        embedder: Embedder | None = None,
        worker: bool = True,
        raw_roles: Sequence[str] = DEFAULT_ROLES,
        vector_index: str | None = None,
        decay: Decay | None = None,
        dream_after: Mapping[str, int] | None = None,
        vector_cache_mb: int | None = None,
        keep_messages: bool = True,
    ) -> None:
        self.backend = backend
        self._stop_listening: Callable[[], None] | None = None
        self.registry = registry or SchemaRegistry.load()
        self.llm = llm
        self.embedder = embedder or MiniLMEmbedder()
        self.store = Nodes(backend.uow, backend.nodes, backend.outbox)
        self.index = backend.index
        self.outbox = OutboxManager(backend.outbox, backend.nodes)
        self.keys = Keys(backend.keys)
        self.writer = ContextWriter(self.store, self.registry, llm)
        dimensions, model = self.embedder.dimensions, self.embedder.model_id
        kind = vector_index or backend.default_vector_index  # None: the backend's own default
        self.vectors = backend.vector_index(kind, dimensions, model, cache_mb=vector_cache_mb)
        self.sync = IndexSync(self.store, self.index, self.embedder)
        self._sessions = Sessions(backend.sessions)
        self.committer = SessionCommitter(
            self._sessions, self.writer, _extractor(llm, self.registry, raw_roles, keep_messages),
            SessionArchiver(self.store, llm),
        )  # fmt: skip
        self.expirer = Expirer(self.store)
        self.dreaming = dream_setup.build(
            backend, self.store, self.writer, self.outbox, self.registry, self.embedder, llm,
            dream_after or {}, wake=lambda: self.worker.wake(),
        )  # fmt: skip
        self.worker = OutboxWorker(
            self.outbox, self.sync, DirectorySummarizer(self.store, llm),
            session_committer=self.committer.run, expirer=self.expirer.run,
            dreamer=self.dreaming.dreamer.run_event, on_indexed=self.dreaming.trigger.due,
        )  # fmt: skip
        self.sessions = SessionService(
            self.store, self._sessions, self.outbox, self.committer,
            token_counts(self.embedder), self.worker.wake,
        )  # fmt: skip
        self.forgetter = Forgetter(self.store, self._sessions, self.writer.target_uri)
        self.recall = RecallLog(self.index)
        self.searcher = Searcher(
            self.store, self.index, self.vectors, self.embedder, recall=self.recall, decay=decay,
            overlap=backend.searches_in_server,
        )  # fmt: skip
        if worker:
            self.start_worker()

    @classmethod
    def open(
        cls,
        store: str | Path = ":memory:",
        *,
        llm: LLMClient | None = None,
        embedder: Embedder | None = None,
        schema_dirs: Sequence[str | Path] = (),
        worker: bool = True,
        raw_roles: Sequence[str] = DEFAULT_ROLES,
        vector_index: str | None = None,
        decay: Decay | None = None,
        dream_after: Mapping[str, int] | None = None,
        vector_cache_mb: int | None = None,
        keep_messages: bool = True,
    ) -> Engine:
        """Open (creating and migrating if needed) the store at ``store``: a SQLite path (or
        ``sqlite:///path``, ``:memory:``), or a ``postgresql://`` URL (extra ``postgres``).

        ``dream_after`` (memory type, or "*" for any, to a count): a user's dream is queued
        once they have that many new memories of a type (``ogmem.dream``); none: on request.
        ``worker=True`` runs the outbox worker in a background thread; with ``False`` call
        ``drain()`` (tests, scripts) or run ``ogmem worker`` in another process. Without an
        ``llm``, extraction runs in raw mode: each message of ``raw_roles`` becomes an event.
        ``decay``: weight search scores by age and recall (off by default; retrieval/decay.py).
        ``vector_cache_mb``: the in-process vector cache's budget (None: 512; least recently
        searched users and agents beyond it are dropped). ``keep_messages``: with an ``llm``,
        each message of ``raw_roles`` is also remembered raw, beside the model's memories, so
        a fact the model left out can still be found (``False``: the model's memories only).
        """
        backend = open_backend(store)
        try:
            return cls(
                backend,
                registry=SchemaRegistry.load(schema_dirs),
                llm=llm,
                embedder=embedder,
                worker=worker,
                raw_roles=raw_roles,
                vector_index=vector_index,
                decay=decay,
                dream_after=dream_after,
                vector_cache_mb=vector_cache_mb,
                keep_messages=keep_messages,
            )
        except BaseException:
            backend.close()  # a bad setting must not leave the store open
            raise

    def close(self) -> None:
        self.stop_worker()
        self.flush()
        self.searcher.close()
        self.backend.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------------------

    def remember(
        self,
        candidates: Sequence[CandidateMemory],
        ctx: RequestContext,
        *,
        parallel: bool = False,
        max_workers: int = PARALLEL_WORKERS,
    ) -> list[WriteResult]:
        """Write candidates (no extraction); one result per candidate, in order."""
        if parallel:
            results = self.writer.write_candidates_parallel(candidates, ctx, max_workers)
        else:
            results = self.writer.write_candidates(candidates, ctx)
        self.worker.wake()
        return results

    def add(
        self,
        text: str,
        ctx: RequestContext | None = None,
        *,
        user_id: str | None = None,
        account_id: str = "default",
        agent_id: str | None = None,
        category: str | None = None,
        when: str | date | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> WriteResult:
        """One memory from a plain text, ``add("Prefers vim", user_id="alice")``: abstract,
        routing key and required fields derived, category ``event`` unless given (the rules:
        ``ogmem.plain``), then the normal write pipeline. Give ``ctx`` or ``user_id``."""
        request = plain.request_context(ctx, user_id, account_id, agent_id)
        memory = plain.candidate(self.registry, text, category, when, metadata)
        return self.remember([memory], request)[0]

    def archive(
        self, node_uri: str, ctx: RequestContext, expected_version: int | None = None
    ) -> ContextNode:
        node = self.writer.archive(node_uri, ctx, expected_version)
        self.worker.wake()
        return node

    def delete(
        self, node_uri: str, ctx: RequestContext, expected_version: int | None = None
    ) -> None:
        """Remove a node and its history, and its source messages' text from its sessions
        (messages, archive parts, summary, the next raw memory's context)."""
        node = self.read(node_uri, ctx)
        self.writer.delete(node_uri, ctx, expected_version)
        self.forgetter.redact_sources(node)
        self.worker.wake()

    def forget(self, node_uri: str, ctx: RequestContext) -> ContextNode:
        """Archive a memory that is wrong or no longer true, and redact its source messages'
        text in its sessions as ``delete`` does; the node and its history are kept (undoable,
        never searched)."""
        node = self.writer.archive(node_uri, ctx)
        self.forgetter.redact_sources(node)
        self.worker.wake()
        return node

    def forget_user(self, ctx: RequestContext) -> EraseReport:
        """Erase ``ctx.user_id`` of ``ctx.account_id`` in one transaction: memories and their
        history, sessions, messages, session archives, index and full-text rows, recall
        signals, idempotency records, the user's API keys and the outbox events naming them
        (``ogmem.erase``). Vector caches reload the account before their next search."""
        self.flush()  # buffered recall signals naming the user are written, then erased too
        return erase_user(self.backend, ctx.account_id, ctx.user_id)

    def move(
        self, src: str, dst: str, ctx: RequestContext, expected_version: int | None = None
    ) -> ContextNode:
        node = self.writer.move(src, dst, ctx, expected_version)
        self.worker.wake()
        return node

    def restore(
        self, node_uri: str, ctx: RequestContext, expected_version: int | None = None
    ) -> ContextNode:
        """Make an archived node active again (a new version; search finds it again)."""
        node = self.writer.restore(node_uri, ctx, expected_version)
        self.worker.wake()
        return node

    # -- sessions -----------------------------------------------------------------------------

    def ingest(self, messages: Sequence[Message], ctx: RequestContext) -> SessionState:
        """Buffer messages of ``ctx.session_id`` durably (no extraction until a commit)."""
        return self.sessions.ingest(messages, ctx)

    def after_turn(self, messages: Sequence[Message], ctx: RequestContext) -> AfterTurnResult:
        """Buffer a turn; past the token threshold a commit is scheduled. Never waits for an LLM."""
        return self.sessions.after_turn(messages, ctx)

    def commit(self, session_id: str, ctx: RequestContext, *, wait: bool = False) -> SessionState:
        """Extract and write the session's memories: as a background job, or now (``wait``)."""
        return self.sessions.commit(session_id, ctx, wait=wait)

    def session_owner(self, session_id: str, ctx: RequestContext) -> str | None:
        """The user a session of the request's account belongs to (ids are unique per
        account), or None: lets an operator's tool find a session without naming its user."""
        state = self._sessions.get(ctx.account_id, session_id)
        return None if state is None else state.user_id

    def session(self, session_id: str, ctx: RequestContext) -> SessionState:
        return self.sessions.session(session_id, ctx)

    def list_sessions(self, ctx: RequestContext, *, all_users: bool = False) -> list[SessionState]:
        return self.sessions.list_sessions(ctx, all_users=all_users)

    # -- retrieval ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        ctx: RequestContext,
        *,
        categories: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
        limit: int = 10,
        include_archived: bool = False,
        include_sessions: bool = False,
        as_of: datetime | None = None,
        min_score: float = 0.0,
    ) -> SearchResult:
        """Hybrid search over the memories the request's user (and agent) may read; session
        archives (raw transcripts) compete with memories only with ``include_sessions``.
        Each hit's ``score`` is its relevance in [0, 1]; ``min_score`` leaves out the less
        relevant ones. Facts valid at ``as_of`` (default now) come first; superseded ones are
        marked."""
        when = None if as_of is None else as_utc(as_of, "as_of")
        return self.searcher.search(
            query, ctx, categories=categories, scopes=scopes, limit=limit,
            include_archived=include_archived, include_sessions=include_sessions, as_of=when,
            min_score=min_score,
        )  # fmt: skip

    def expire_due(self) -> int:
        """Archive every memory whose expiry has passed now (the worker does it when idle)."""
        archived = self.expirer.run(utcnow())
        self.worker.wake()
        return archived

    def compose(
        self,
        query: str,
        ctx: RequestContext,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        *,
        detailed: int = DETAILED,
        limit: int = 20,
        include_sessions: bool = False,
        min_score: float = COMPOSE_MIN_SCORE,
    ) -> ComposeResult:
        """The context block for the agent's next turn, within ``token_budget`` tokens
        (session archives only with ``include_sessions``), from memories at least
        ``min_score`` relevant: an unrelated question gets an empty block, not filler."""
        found = self.search(
            query, ctx, limit=limit, include_sessions=include_sessions, min_score=min_score
        )
        return self.compose_from(found, token_budget, detailed)

    def compose_from(
        self,
        found: SearchResult,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        detailed: int = DETAILED,
    ) -> ComposeResult:
        """The block ``compose`` would build from this search (no second search)."""
        return compose_block(
            found.hits,
            found.nodes.get,
            self.embedder.count_tokens,
            token_budget,
            detailed,
        )

    # -- operations -------------------------------------------------------------------------
