"""The LoCoMo retrieval evaluation (../shared/bench/README.md defines the metric).

Per conversation a fresh user; every session's turns go through the normal path (ingest,
commit, worker); each question of categories 1-4 is searched, and a memory counts for the
evidence turns it came from (its provenance: source message ids). Session archives are left
out of the search: their provenance is every turn of the session.
"""

from __future__ import annotations

import functools
import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from string import Template
from typing import Any

from ogmem.core import errors, uri
from ogmem.core.models import EventStatus, NodeStatus, RequestContext
from ogmem.core.ports import Embedder, LLMClient
from ogmem.engine import Engine
from ogmem.eval.locomo_data import CATEGORIES, Conversation, Question
from ogmem.llm import jsonparse

logger = logging.getLogger(__name__)

ACCOUNT = "locomo"
DEFAULT_KS = (5, 10, 20, 50)
SESSION_KS = (5, 10)
INDEXED_POLL_S = 0.01  # how often until_indexed looks whether the background worker is done
Progress = Callable[[str, int, int], None]


@dataclass
class _Tally:
    questions: int = 0
    recall: dict[int, float] = field(default_factory=dict)
    hits: dict[int, int] = field(default_factory=dict)
    correct: int = 0
    judged: int = 0
    judge_errors: int = 0  # the LLM failed to answer or to grade: not counted either way

    sessions_found: dict[int, int] = field(default_factory=dict)

    def add(self, covered_at: dict[int, set[str]], evidence: frozenset[str]) -> None:
        self.questions += 1
        for k, covered in covered_at.items():
            found = len(covered & evidence)
            self.recall[k] = self.recall.get(k, 0.0) + found / len(evidence)
            self.hits[k] = self.hits.get(k, 0) + (found > 0)

    def add_sessions(self, ranked_sessions: list[str], evidence: frozenset[str]) -> None:
        """Session-level recall, as most published LoCoMo retrieval figures are: found when a
        session holding evidence is among the first k distinct sessions of the hits."""
        wanted = {session_of(dia_id) for dia_id in evidence}
        for k in SESSION_KS:
            found = bool(wanted & set(ranked_sessions[:k]))
            self.sessions_found[k] = self.sessions_found.get(k, 0) + found

    def figures(self, ks: Sequence[int]) -> dict[str, float]:
        n = max(self.questions, 1)
        out = {f"R@{k}": self.recall.get(k, 0.0) / n for k in ks}
        out.update({f"H@{k}": self.hits.get(k, 0) / n for k in ks})
        out.update({f"session_R@{k}": self.sessions_found.get(k, 0) / n for k in SESSION_KS})
        if self.judged:
            out["J"] = self.correct / self.judged
        if self.judge_errors:
            out["judge_errors"] = self.judge_errors
        out["questions"] = self.questions
        return out


@dataclass
class EvalReport:
    ks: tuple[int, ...]
    by_category: dict[str, dict[str, float]]
    overall: dict[str, float]
    search_p50_ms: float
    search_p95_ms: float
    ingest_s: float
    messages: int
    unresolvable_evidence: int
    mode: str
    qa: str = ""
    embedder_msgs_per_s: float | None = None  # measured only when asked (it embeds again)
    memories: dict[str, int] = field(default_factory=dict)  # active memories by type

    @property
    def ingest_msgs_per_s(self) -> float:
        return self.messages / self.ingest_s if self.ingest_s else 0.0

    @property
    def ingest_vs_embedder(self) -> float | None:
        if not self.embedder_msgs_per_s:
            return None
        return self.ingest_msgs_per_s / self.embedder_msgs_per_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "ks": list(self.ks), "overall": self.overall, "by_category": self.by_category,
            "search_p50_ms": self.search_p50_ms, "search_p95_ms": self.search_p95_ms,
            "ingest_s": self.ingest_s, "messages": self.messages,
            "ingest_msgs_per_s": self.ingest_msgs_per_s,
            "embedder_msgs_per_s": self.embedder_msgs_per_s,
            "ingest_vs_embedder": self.ingest_vs_embedder,
            "unresolvable_evidence": self.unresolvable_evidence, "mode": self.mode, "qa": self.qa,
            "memories": self.memories,
        }  # fmt: skip


def session_context(conversation: Conversation, key: str) -> RequestContext:
    """Who speaks in one session of a conversation: its speakers' user, its own session."""
    return RequestContext(
        ACCOUNT, conversation.sample_id, session_id=f"{conversation.sample_id}-{key}"
    )


def ingest_conversation(
    engine: Engine, conversation: Conversation, *, turn_by_turn: bool = False
) -> int:
    """All sessions through ingest + commit, then the worker's drain; returns the number of
    messages. ``turn_by_turn`` hands the messages over one after_turn call each, as an agent
    does. With the engine's background worker running, it indexes meanwhile instead (see
    ``until_indexed``)."""
    count = 0
    for key, messages in conversation.sessions:
        ctx = session_context(conversation, key)
        if turn_by_turn:
            for message in messages:
                engine.after_turn([message], ctx)
        else:
            engine.ingest(messages, ctx)
        engine.commit(ctx.session_id or "", ctx, wait=True)
        count += len(messages)
    if not engine.worker.alive:
        engine.drain()
    return count


def ingest_all(
    engine: Engine,
    conversations: Sequence[Conversation],
    progress: Progress | None = None,
    *,
    turn_by_turn: bool = False,
) -> tuple[int, float]:
    """Every conversation through ingest, commit and the worker until the index is current:
    (messages, seconds)."""
    started, messages = time.perf_counter(), 0
    for index, conversation in enumerate(conversations):
        if progress:
            progress(f"ingesting {conversation.sample_id}", index, len(conversations))
        messages += ingest_conversation(engine, conversation, turn_by_turn=turn_by_turn)
    until_indexed(engine)
    return messages, time.perf_counter() - started


def until_indexed(engine: Engine) -> None:
    """Returns once no event of the account is pending or being processed: what is due is
    drained in this thread (deferred directory summaries too, as ``drain`` does), what the
    background worker holds is waited for (an event waiting for a retry: until it succeeds
    or goes to the dead-letter queue)."""
    while True:
        counts = engine.backend.outbox.counts(ACCOUNT)
        if not counts.get(EventStatus.PENDING, 0) + counts.get(EventStatus.PROCESSING, 0):
            return
        # while the worker holds a batch, claims from here would only contend with its writes
        if counts.get(EventStatus.PROCESSING) or not engine.drain().claimed:
            time.sleep(INDEXED_POLL_S)


def message_texts(conversations: Sequence[Conversation]) -> list[str]:
    """Each distinct message text of the conversations once, in order."""
    return list(
        dict.fromkeys(
            m.content for c in conversations for _, messages in c.sessions for m in messages
        )
    )


def memory_counts(engine: Engine, conversations: Sequence[Conversation]) -> dict[str, int]:
    """How many active memories the conversations' users hold, by type."""
    counts: dict[str, int] = {}
    for conversation in conversations:
        ctx = RequestContext(ACCOUNT, conversation.sample_id)
        root = str(uri.user_root(ACCOUNT, conversation.sample_id))
        for category, by_status in engine.tree_counts(root, ctx).items():
            if category in engine.registry.names():
                counts[category] = counts.get(category, 0) + by_status.get(
                    NodeStatus.ACTIVE.value, 0
                )
    return counts


def embedder_msgs_per_s(embedder: Embedder, conversations: Sequence[Conversation]) -> float:
    """The embedder alone on the same messages: each distinct text once, in one batched call.

    What ingest would reach if embedding each message once were its only cost; the ratio of
    the two says what everything else (extraction, writes, the other levels, the worker)
    costs. Compare rates measured in the same run: the machine's load moves both.
    """
    texts = message_texts(conversations)
    started = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - started)


def session_of(dia_id: str) -> str:
    """The session of a LoCoMo message id ("D3:12" -> "D3")."""
    return dia_id.split(":", 1)[0]


def _ranked_sessions(provenance: list[set[str]]) -> list[str]:
    """The distinct sessions of the hits, in the order the hits rank them."""
    ranked: dict[str, None] = {}
    for message_ids in provenance:
        for dia_id in sorted(message_ids):
            ranked.setdefault(session_of(dia_id), None)
    return list(ranked)


def _covered(
    engine: Engine, ctx: RequestContext, question: Question, ks: Sequence[int]
) -> tuple[dict[int, set[str]], float, list[str], list[str]]:
    started = time.perf_counter()
    found = engine.search(question.text, ctx, limit=max(ks), include_sessions=False)
    took = (time.perf_counter() - started) * 1000
    hits, nodes = found.hits, found.nodes
    provenance = [
        set(nodes[h.uri].metadata.get("source_message_ids", [])) if h.uri in nodes else set()
        for h in hits
    ]
    covered = {k: set().union(*provenance[:k]) for k in ks}
    return covered, took, [h.uri for h in hits], _ranked_sessions(provenance)


def recall_now(
    engine: Engine, conversations: Sequence[Conversation], ks: Sequence[int] = DEFAULT_KS
) -> dict[str, float]:
    """The overall figures of every question over what the store holds now, no ingest: the
    same store compared before and after a change to it (a dream run)."""
    ks = tuple(sorted(set(ks)))
    overall = _Tally()
    for conversation in conversations:
        ctx = RequestContext(ACCOUNT, conversation.sample_id)
        for question in conversation.questions:
            if question.category not in CATEGORIES or not question.evidence:
                continue
            covered, _, _, sessions = _covered(engine, ctx, question, ks)
            overall.add(covered, question.evidence)
            overall.add_sessions(sessions, question.evidence)
    return overall.figures(ks)


def evaluate(
    engine: Engine,
    conversations: Sequence[Conversation],
    ks: Sequence[int] = DEFAULT_KS,
    *,
    judge: LLMClient | None = None,
    progress: Progress | None = None,
    measure_embedder: bool = False,
    turn_by_turn: bool = False,
) -> EvalReport:
    """Ingest every conversation, then search each question; ``measure_embedder`` also times
    the engine's embedder alone on the same messages, right after the ingest; ``turn_by_turn``
    hands messages over by after_turn (see ``ingest_conversation``)."""
    ks = tuple(sorted(set(ks)))
    tallies: dict[str, _Tally] = {name: _Tally() for name in CATEGORIES.values()}
    overall, latencies, unresolvable = _Tally(), [], 0
    messages, ingest_s = ingest_all(engine, conversations, progress, turn_by_turn=turn_by_turn)
    embedder_rate = (
        embedder_msgs_per_s(engine.embedder, conversations) if measure_embedder else None
    )
    for index, conversation in enumerate(conversations):
        if progress:
            progress(f"asking {conversation.sample_id}", index, len(conversations))
        ctx = RequestContext(ACCOUNT, conversation.sample_id)
        for question in conversation.questions:
            unresolvable += question.unresolvable
            if question.category not in CATEGORIES or not question.evidence:
                continue
            covered, took, _, sessions = _covered(engine, ctx, question, ks)
            latencies.append(took)
            for tally in (tallies[CATEGORIES[question.category]], overall):
                tally.add(covered, question.evidence)
                tally.add_sessions(sessions, question.evidence)
            if judge is not None:
                _judge_answer(
                    engine, judge, ctx, question, (tallies[CATEGORIES[question.category]], overall)
                )
    qa = "LLM judge (J)" if judge else "no LLM configured: answer accuracy (J) skipped"
    return EvalReport(
        ks=ks,
        by_category={name: tally.figures(ks) for name, tally in tallies.items()},
        overall=overall.figures(ks),
        search_p50_ms=statistics.median(latencies) if latencies else 0.0,
        search_p95_ms=statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else 0.0,
        ingest_s=ingest_s,
        messages=messages,
        unresolvable_evidence=unresolvable,
        mode="llm" if engine.llm else "raw",
        qa=qa,
        embedder_msgs_per_s=embedder_rate,
        memories=memory_counts(engine, conversations),
    )


@functools.cache
def _prompt(name: str) -> Template:
    return Template(resources.files("ogmem.eval").joinpath("prompts", f"{name}.md").read_text())


def _judge_answer(
    engine: Engine,
    llm: LLMClient,
    ctx: RequestContext,
    question: Question,
    tallies: tuple[_Tally, ...],
) -> None:
    """Answer from compose(), then let the LLM judge grade it against the gold answer.

    An LLM that fails (timeout, error) costs this question's grade, never the evaluation: the
    question is counted in ``judge_errors``, not in J. A verdict that is not readable JSON is
    graded WRONG, as a judge that cannot say CORRECT has not confirmed the answer.
    """
    block = engine.compose(question.text, ctx, token_budget=1500).text
    try:
        answer = _ask(llm, "answer", memories=block, question=question.text)
        verdict = _ask(llm, "judge", question=question.text, gold=question.answer, answer=answer)
    except errors.LLMError as exc:
        logger.warning("judging %r failed: %s", question.text[:80], exc)
        for tally in tallies:
            tally.judge_errors += 1
        return
    try:
        correct = str(jsonparse.extract_json_object(verdict).get("verdict", "")).upper()
    except errors.LLMResponseError:
        correct = ""
    for tally in tallies:
        tally.judged += 1
        tally.correct += correct == "CORRECT"


def _ask(llm: LLMClient, prompt: str, **values: str) -> str:
    content = _prompt(prompt).safe_substitute(**values)
    return llm.complete([{"role": "user", "content": content}]).text
