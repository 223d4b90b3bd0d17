"""SessionCommitter: the COMMIT_SESSION job. Uncommitted messages are taken in bounded steps
(STEP_TOKENS, STEP_MESSAGES); each step goes in windows bounded by a token budget through
extraction and the ContextWriter, is archived, and its messages are marked committed with the
step's counts. So a session of any size commits in bounded memory, and a crash loses at most
one step's work. Any failure leaves the step's messages uncommitted (the job is retried); a
rerun after a crash writes nothing twice (the writer's idempotency records)."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from time import monotonic

from ogmem.commit.writer import ContextWriter
from ogmem.core import errors
from ogmem.core.models import (
    Message,
    RequestContext,
    SessionState,
    StoredMessage,
    WriteResult,
    WriteStatus,
    utcnow,
)
from ogmem.extraction.base import ExtractionResult, Extractor
from ogmem.session.archive import SessionArchiver
from ogmem.session.sessions import Sessions

logger = logging.getLogger(__name__)

WINDOW_TOKENS = 6_000  # per extraction window: far inside any model's context
CHARS_PER_TOKEN = 4
# one step of a commit: ~1 MB of text at most, whatever the backlog holds
STEP_TOKENS = 250_000
STEP_MESSAGES = 2_000
# how long a commit holds its session without renewing (it renews at every window): a crashed
# commit blocks the session this long at most
COMMIT_LEASE = timedelta(minutes=5)
# a renewal within this long of the last take or renewal is skipped (1/30 of the lease)
RENEW_AFTER_S = COMMIT_LEASE.total_seconds() / 30
COUNTS = ("proposed", "written", "skipped", "failed", "llm_tokens")


@dataclass
class CommitReport:
    session_id: str
    messages: int = 0
    proposed: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0
    llm_tokens: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, other: CommitReport) -> None:
        for name in ("messages", *COUNTS):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.reasons.update(other.reasons)

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}

    def summary(self) -> str:
        head = (
            f"{self.messages} messages: {self.proposed} proposed, {self.written} written, "
            f"{self.skipped} skipped, {self.failed} failed"
        )
        if not self.reasons:
            return head
        return head + "; " + "; ".join(f"{r} x{n}" for r, n in self.reasons.most_common(8))


def windows(messages: Sequence[StoredMessage], budget: int) -> Iterator[list[StoredMessage]]:
    """Consecutive messages up to ``budget`` tokens; a longer message is cut into parts, so no
    prompt ever exceeds the budget (a peer's users saw 300k-token prompts extract nothing)."""
    current: list[StoredMessage] = []
    used = 0
    for stored in (part for m in messages for part in _parts(m, budget)):
        if current and used + stored.tokens > budget:
            yield current
            current, used = [], 0
        current.append(stored)
        used += stored.tokens
    if current:
        yield current


def _parts(stored: StoredMessage, budget: int) -> list[StoredMessage]:
    if stored.tokens <= budget:
        return [stored]
    text, size = stored.message.content, budget * CHARS_PER_TOKEN
    return [
        replace(stored, message=replace(stored.message, content=text[i : i + size]), tokens=budget)
        for i in range(0, len(text), size)
    ]


def _refuse_unusable(extracted: ExtractionResult) -> None:
    """Only garbage from the model, even after a repair: fail the commit so the messages stay
    for a retry (perhaps with a better model) instead of being marked committed without the
    model's memories. Messages kept raw beside them (``origin`` "raw") do not count: they
    would mark the window committed and lose what a retry with a working model extracts."""
    repaired = [d for d in extracted.dropped if d.after_repair]
    if repaired and all(c.origin == "raw" for c in extracted.candidates):
        raise errors.ExtractionError(
            f"the LLM's answers were unusable, even after a repair: {repaired[0].what}: "
            f"{repaired[0].reason}"[:500]
        )


NOTHING_NEW = "; then "


def _beside_last(last: str | None, attempt: str) -> str:
    """An attempt that found nothing new, beside the last commit's reasons (which explain the
    session's counts) instead of in their place."""
    if not last:
        return attempt
    return f"{last.split(NOTHING_NEW)[0]}{NOTHING_NEW}{attempt}"


class _Claim:
    """This commit's hold on the session, renewed as it goes, released at the end (or left
    to lapse by a crash: COMMIT_LEASE later, another commit may take over)."""

    def __init__(self, sessions: Sessions, session: SessionState, owner: str) -> None:
        self._sessions = sessions
        self._key = (session.account_id, session.session_id)
        self.owner = owner
        self._held_since: float | None = None  # monotonic time of the last take or renewal

    def renew(self) -> None:
        """Hold the session COMMIT_LEASE longer, unless it was taken or renewed less than
        RENEW_AFTER ago: a window's renewal right after the claim cost a transaction (an
        fsync on PostgreSQL) per commit, and a few seconds are nothing against the lease."""
        if self._held_since is not None and monotonic() - self._held_since < RENEW_AFTER_S:
            return
        now = utcnow()
        held = self._sessions.claim_commit(*self._key, self.owner, now, now + COMMIT_LEASE)
        if held is not None:
            raise errors.Busy(
                f"session {self._key[1]} is being committed by another worker (until "
                f"{held.isoformat(timespec='seconds')})",
                held,
            )
        self._held_since = monotonic()

    def __enter__(self) -> _Claim:
        self.renew()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._sessions.release_commit(*self._key, self.owner)


class SessionCommitter:
    def __init__(
        self,
        sessions: Sessions,
        writer: ContextWriter,
        extractor: Extractor,
        archiver: SessionArchiver,
        *,
        window_tokens: int = WINDOW_TOKENS,
        step_tokens: int = STEP_TOKENS,
        step_messages: int = STEP_MESSAGES,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._extractor = extractor
        self._archiver = archiver
        self._window_tokens = window_tokens
        self._step = (step_tokens, step_messages)

    def run(self, account_id: str, session_id: str, owner: str | None = None) -> CommitReport:
        """Commit the session's uncommitted messages. One commit of a session runs at a time:
        raises errors.Busy (with until when) while another holds it; ``owner`` names this
        commit (a worker's id; a fresh one by default)."""
        session = self._sessions.get(account_id, session_id)
        if session is None:
            raise errors.NotFound(f"no session {session_id}")
        claim = _Claim(self._sessions, session, owner or f"commit-{uuid.uuid4().hex[:12]}")
        with claim:
            return self._commit(session, claim)

    def _commit(self, session: SessionState, claim: _Claim) -> CommitReport:
        account_id, session_id = session.account_id, session.session_id
        pending = self._next_step(session)
        total = CommitReport(session_id)
        if not pending:
            total.reasons["nothing new to commit"] += 1
            reason = _beside_last(session.last_reason, "nothing new to commit")
            self._sessions.record_commit(account_id, session_id, 0, {}, reason)
            return total
        # the message before each window gives its first message context (what it answers)
        earlier = self._sessions.message_before(account_id, session_id, pending[0].id)
        before = earlier.message if earlier is not None else None
        while pending:
            step = CommitReport(session_id, messages=len(pending))
            try:
                self._extract_and_write(session, pending, step, before, claim)
                step.llm_tokens += self._archiver.archive(session, pending)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                logger.warning("commit of session %s failed: %s", session_id, error)
                tokens = total.llm_tokens + step.llm_tokens
                self._sessions.record_failure(account_id, session_id, error, tokens)
                raise
            total.add(step)
            before, last = pending[-1].message, pending[-1].id
            # the next step is read before this one is recorded, so that the last step's record
            # also settles the status: one transaction per step, not one more per commit (a
            # crash in between leaves this step uncommitted; its rerun writes nothing twice)
            pending = self._next_step(session, after_id=last)
            if not pending and total.proposed == 0:
                reason = f"the extractor found nothing durable in {total.messages} messages"
                total.reasons[reason] += 1
            # the final record settles the status (messages may have come in meanwhile)
            self._sessions.record_commit(
                account_id, session_id, last, step.counts(), total.summary(), final=not pending
            )
        return total

    def _next_step(self, session: SessionState, after_id: int = 0) -> list[StoredMessage]:
        return self._sessions.uncommitted(
            session.account_id, session.session_id, *self._step, after_id=after_id
        )

    def _extract_and_write(
        self,
        session: SessionState,
        pending: list[StoredMessage],
        report: CommitReport,
        before: Message | None,
        claim: _Claim,
    ) -> None:
        ctx = RequestContext(
            session.account_id, session.user_id, session.agent_id, session.session_id
        )
        for window in windows(pending, self._window_tokens):
            claim.renew()
            extracted = self._extractor.extract([m.message for m in window], ctx, before=before)
            before = window[-1].message
            report.llm_tokens += extracted.llm_tokens
            _refuse_unusable(extracted)
            self._count_extraction(extracted, report)
            results = self._writer.write_candidates(extracted.candidates, ctx)
            self._count_writes(results, report)

    @staticmethod
    def _count_extraction(extracted: ExtractionResult, report: CommitReport) -> None:
        report.proposed += extracted.proposed
        for dropped in extracted.dropped:
            report.reasons[f"dropped by extraction: {dropped.reason}"[:200]] += 1

    @staticmethod
    def _count_writes(results: list[WriteResult], report: CommitReport) -> None:
        transient = [
            r for r in results if r.status is WriteStatus.FAILED and r.retryable
        ]  # fmt: skip
        if transient:
            # a store failure must not cost the memory: fail the commit, the retry writes it
            # (what was written already is skipped by its idempotency record)
            raise errors.StoreError(
                f"{len(transient)} candidates could not be written: {transient[0].error}"
            )
        for result in results:
            if result.status is WriteStatus.WRITTEN:
                report.written += 1
            elif result.status is WriteStatus.SKIPPED:
                report.skipped += 1
                # the kind of reason, not its particulars, so that the counts add up
                report.reasons[f"skipped: {result.reason.split(' (')[0]}"[:120]] += 1
            else:
                report.failed += 1
                report.reasons[f"invalid: {result.error}"[:200]] += 1
