"""Sessions as the agent sees them: ingest, after_turn, commit, status.

The agent's call never waits for an LLM: messages are buffered durably and a commit is a
COMMIT_SESSION outbox job for the worker; ``commit(wait=True)`` runs it in the caller's
thread, for scripts and tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ogmem.core import errors, uri
from ogmem.core.models import (
    EventType,
    Message,
    OutboxEvent,
    RequestContext,
    SessionState,
    SessionStatus,
    as_utc,
)
from ogmem.core.ports import BatchTokenCounter, Embedder, Outbox, Store
from ogmem.session.committer import SessionCommitter
from ogmem.session.sessions import Sessions

COMMIT_THRESHOLD_TOKENS = 2_000
WAIT_FOR_RUNNING_S = 45.0  # commit(wait=True) behind another commit of the same session
BUSY_POLL_S = 0.25
MAX_MESSAGE_CHARS = 200_000
MAX_BATCH = 10_000
# the roles of OpenAI-style chat messages; another word ("human") would be stored and then
# never extracted (raw mode keeps user turns), so it is refused at the door
ROLES = ("user", "assistant", "system", "tool")


@dataclass(frozen=True, slots=True)
class AfterTurnResult:
    session: SessionState
    added: int
    commit_scheduled: bool


def _validate(messages: Sequence[Message]) -> None:
    if not messages:
        raise errors.InvalidInput("messages must hold at least one message")
    if len(messages) > MAX_BATCH:
        raise errors.InvalidInput(f"at most {MAX_BATCH} messages per call")
    for index, message in enumerate(messages):
        if not isinstance(message.content, str):
            raise errors.InvalidInput(f"messages[{index}].content must be text")
        if len(message.content) > MAX_MESSAGE_CHARS:
            raise errors.InvalidInput(
                f"messages[{index}].content exceeds {MAX_MESSAGE_CHARS} characters"
            )
        if message.role not in ROLES:
            raise errors.InvalidInput(
                f"messages[{index}].role must be one of {', '.join(ROLES)}, not {message.role!r}"
            )
        if message.message_id is not None and not 0 < len(message.message_id) <= 256:
            raise errors.InvalidInput(f"messages[{index}].message_id must have 1-256 characters")
        as_utc(message.created_at, f"messages[{index}].created_at")


def token_counts(embedder: Embedder) -> Callable[[Sequence[str]], list[int]]:
    """How to count the tokens of a turn's messages with ``embedder``: in one call where it
    can (``BatchTokenCounter``), else text by text."""
    if isinstance(embedder, BatchTokenCounter):
        return embedder.count_tokens_many
    return lambda texts: [embedder.count_tokens(text) for text in texts]


class SessionService:
    def __init__(
        self,
        store: Store,
        sessions: Sessions,
        outbox: Outbox,
        committer: SessionCommitter,
        count_tokens: Callable[[Sequence[str]], list[int]],
        wake_worker: Callable[[], None],
        *,
        commit_threshold: int = COMMIT_THRESHOLD_TOKENS,
        wait_for_running: float = WAIT_FOR_RUNNING_S,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._outbox = outbox
        self._committer = committer
        self._count_tokens = count_tokens
        self._wake = wake_worker
        self._threshold = commit_threshold
        self._wait_for_running = wait_for_running

    def ingest(self, messages: Sequence[Message], ctx: RequestContext) -> SessionState:
        """Buffer messages durably; a message id already buffered is ignored (safe retries)."""
        _validate(messages)
        tokens = self._count_tokens([m.content for m in messages])
        return self._sessions.append(ctx, messages, tokens)[1]

    def after_turn(self, messages: Sequence[Message], ctx: RequestContext) -> AfterTurnResult:
        """Buffer the turn; past the token threshold, schedule a commit. Never waits for an LLM."""
        _validate(messages)
        tokens = self._count_tokens([m.content for m in messages])
        added, state = self._sessions.append(ctx, messages, tokens)
        due = (
            state.uncommitted_tokens >= self._threshold
            and state.status is not SessionStatus.COMMITTING
        )
        if due:
            state = self.commit(state.session_id, ctx)
        return AfterTurnResult(state, added, due)

    def commit(self, session_id: str, ctx: RequestContext, *, wait: bool = False) -> SessionState:
        """Commit the session's buffered messages: as a job (default) or now (``wait``)."""
        state = self.session(session_id, ctx)
        if wait:
            failure = self._commit_now(ctx.account_id, session_id)
            if failure is None:
                # the memories it wrote wait for the worker, asleep until its next poll
                # otherwise (PostgreSQL notifies it; an embedded worker is told here)
                self._wake()
                return self.session(session_id, ctx)
            # as a job's failure would be: retried by the worker with backoff, then the DLQ
            self._schedule(ctx, state)
            raise errors.CommitFailed(
                f"commit of session {session_id} failed: {failure}; a retry is scheduled "
                "(the worker retries with backoff, then moves it to the dead-letter queue)",
                session_id,
            )
        self._schedule(ctx, state)
        self._wake()
        return self.session(session_id, ctx)

    def _schedule(self, ctx: RequestContext, state: SessionState) -> None:
        """A COMMIT_SESSION job for the worker, the session marked committing."""
        session_id = state.session_id
        session_uri = str(uri.session_uri(ctx.account_id, state.user_id, session_id))
        event = OutboxEvent(
            ctx.account_id, EventType.COMMIT_SESSION, session_uri, {"session_id": session_id}
        )
        with self._store.group_commit():
            self._outbox.enqueue([event])
            self._sessions.set_status(ctx.account_id, session_id, SessionStatus.COMMITTING)

    def _commit_now(self, account_id: str, session_id: str) -> str | None:
        """Run the commit in this thread; while another commit of the session runs, wait for
        it (up to WAIT_FOR_RUNNING_S), then commit what it left. Returns the failure (also
        recorded on the session: attempts, last_error), or None."""
        deadline = time.monotonic() + self._wait_for_running
        while True:
            try:
                self._committer.run(account_id, session_id)
            except errors.Busy:
                if time.monotonic() < deadline:
                    time.sleep(BUSY_POLL_S)
                    continue
            except Exception as exc:  # the committer recorded it; the caller must hear it
                return f"{type(exc).__name__}: {exc}"
            return None

    def session(self, session_id: str, ctx: RequestContext) -> SessionState:
        state = self._sessions.get(ctx.account_id, session_id)
        if state is None or state.user_id != ctx.user_id:
            raise errors.NotFound(f"no session {session_id}")
        return self._with_store_failure(state)

    def _with_store_failure(self, state: SessionState) -> SessionState:
        """A commit stuck because the store cannot write cannot record why in the store:
        the session says it as it is read, until writes resume and the job goes on."""
        if state.status is not SessionStatus.COMMITTING:
            return state
        try:
            self._store.check_writable()
        except errors.StoreError as exc:
            return replace(state, last_error=f"the store cannot take writes: {exc}")
        return state

    def list_sessions(
        self, ctx: RequestContext, *, all_users: bool = False, limit: int = 100
    ) -> list[SessionState]:
        return self._sessions.list_sessions(
            ctx.account_id, None if all_users else ctx.user_id, limit
        )
