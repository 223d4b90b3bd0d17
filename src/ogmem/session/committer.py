"""SessionCommitter: the COMMIT_SESSION job. Uncommitted messages, in windows bounded by a
token budget, go through extraction and the ContextWriter; then the session is archived and
its messages marked committed. Any failure leaves the messages uncommitted (the job is
retried); a rerun after a crash writes nothing twice (the writer's idempotency records)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from ogmem.commit.writer import ContextWriter
from ogmem.core import errors
from ogmem.core.models import (
    RequestContext,
    SessionState,
    StoredMessage,
    WriteResult,
    WriteStatus,
)
from ogmem.extraction.base import ExtractionResult, Extractor
from ogmem.session.archive import SessionArchiver
from ogmem.store.sqlite_sessions import SqliteSessions

logger = logging.getLogger(__name__)

WINDOW_TOKENS = 6_000  # per extraction window: far inside any model's context
CHARS_PER_TOKEN = 4


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
    """Only garbage, even after a repair: fail the commit so the messages stay for a retry
    (perhaps with a better model) instead of being marked committed with nothing written."""
    repaired = [d for d in extracted.dropped if d.after_repair]
    if repaired and not extracted.candidates:
        raise errors.ExtractionError(
            f"the LLM's answers were unusable, even after a repair: {repaired[0].what}: "
            f"{repaired[0].reason}"[:500]
        )


class SessionCommitter:
    def __init__(
        self,
        sessions: SqliteSessions,
        writer: ContextWriter,
        extractor: Extractor,
        archiver: SessionArchiver,
        *,
        window_tokens: int = WINDOW_TOKENS,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._extractor = extractor
        self._archiver = archiver
        self._window_tokens = window_tokens

    def run(self, account_id: str, session_id: str) -> CommitReport:
        session = self._sessions.get(account_id, session_id)
        if session is None:
            raise errors.NotFound(f"no session {session_id}")
        pending = self._sessions.uncommitted(account_id, session_id)
        report = CommitReport(session_id, messages=len(pending))
        if not pending:
            report.reasons["nothing new to commit"] += 1
            self._sessions.record_commit(account_id, session_id, 0, {}, report.summary())
            return report
        try:
            self._extract_and_write(session, pending, report)
            _, tokens = self._archiver.archive(
                session, self._sessions.messages(account_id, session_id)
            )
            report.llm_tokens += tokens
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("commit of session %s failed: %s", session_id, error)
            self._sessions.record_failure(account_id, session_id, error, report.llm_tokens)
            raise
        counts = {
            "proposed": report.proposed, "written": report.written, "skipped": report.skipped,
            "failed": report.failed, "llm_tokens": report.llm_tokens,
        }  # fmt: skip
        self._sessions.record_commit(
            account_id, session_id, pending[-1].id, counts, report.summary()
        )
        return report

    def _extract_and_write(
        self, session: SessionState, pending: list[StoredMessage], report: CommitReport
    ) -> None:
        ctx = RequestContext(
            session.account_id, session.user_id, session.agent_id, session.session_id
        )
        # the message before each window gives its first message context (what it answers)
        earlier = self._sessions.message_before(
            session.account_id, session.session_id, pending[0].id
        )
        before = earlier.message if earlier is not None else None
        for window in windows(pending, self._window_tokens):
            extracted = self._extractor.extract([m.message for m in window], ctx, before=before)
            before = window[-1].message
            report.llm_tokens += extracted.llm_tokens
            _refuse_unusable(extracted)
            self._count_extraction(extracted, report)
            results = self._writer.write_candidates(extracted.candidates, ctx)
            self._count_writes(results, report)
        if report.proposed == 0:
            report.reasons[f"the extractor found nothing durable in {len(pending)} messages"] += 1

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
