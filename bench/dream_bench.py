"""Dreaming: how well consolidation finds planted duplicates, and what a run costs.

The set: MEMORIES distinct LoCoMo turns (at least MIN_WORDS words, both speakers, in
conversation order) remembered in raw mode (no LLM) for one user through ingest, commit and
the worker, then PLANTED of them said again (bench/paraphrase.py) in later sessions. A dream
run (MiniLM, the default embedder) then merges what it finds alike.

dream_dedupe_precision: of the pairs it merged (survivor, absorbed), the share that are a
planted pair (turns that happen to say the same thing count against it); dream_dedupe_recall:
of the planted pairs, the share merged. dream_s_per_1k_memories: the run's seconds (plan:
vectors from the index, pairs, then every merge through the writer) per 1,000 memories.
dream_locomo_R@10_before / _after: LoCoMo's raw-mode R@10 (bench/locomo_bench.py's metric)
on one store, before and after a dream run for each conversation's user.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench import corpus
from bench.paraphrase import paraphrase
from ogmem.core.models import Message, RequestContext
from ogmem.dream.models import StepKind
from ogmem.engine import Engine
from ogmem.eval import locomo, locomo_data
from ogmem.index.embedders import MiniLMEmbedder

MEMORIES = 600
PLANTED = 100
MIN_WORDS = 6
SESSION_MESSAGES = 50
CTX = RequestContext("bench", "alice")


def dataset() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(message id, text) of the originals and of the planted paraphrases; the paraphrase
    of original i is ``p<i>``, spread evenly over the originals."""
    seen: dict[str, None] = {}
    for turn in corpus.locomo_turns():
        if len(turn.split()) >= MIN_WORDS:
            seen.setdefault(turn.strip(), None)
    originals = [(f"o{i}", text) for i, text in enumerate(list(seen)[:MEMORIES])]
    step = MEMORIES // PLANTED
    planted = [(f"p{i}", paraphrase(originals[i][1])) for i in range(0, MEMORIES, step)]
    return originals, planted[:PLANTED]


def _remember(engine: Engine, texts: list[tuple[str, str]], prefix: str) -> None:
    for start in range(0, len(texts), SESSION_MESSAGES):
        session = f"{prefix}{start // SESSION_MESSAGES}"
        ctx = RequestContext(CTX.account_id, CTX.user_id, session_id=session)
        chunk = texts[start : start + SESSION_MESSAGES]
        engine.ingest([Message("user", text, message_id=mid) for mid, text in chunk], ctx)
        engine.commit(session, ctx, wait=True)
    engine.drain()


def _message_of(engine: Engine) -> dict[str, str]:
    """memory URI -> the message it was made from."""
    memories = engine.dreaming.dreamer.planner.memories(CTX)
    return {node.uri: node.metadata["source_message_ids"][0] for node in memories}


def measure(engine: Engine) -> dict[str, float]:
    originals, planted = dataset()
    _remember(engine, originals, "o")
    _remember(engine, planted, "p")
    messages = _message_of(engine)
    started = time.perf_counter()
    run = engine.dreaming.dreamer.run(CTX, trigger="bench")
    seconds = time.perf_counter() - started
    merged = {
        frozenset((messages[s.survivor], messages[a]))
        for s in run.steps if s.kind is StepKind.MERGE and s.status == "applied"
        for a in s.absorbed
    }  # fmt: skip
    truth = {frozenset((f"o{mid[1:]}", mid)) for mid, _ in planted}
    found = len(merged & truth)
    return {
        "dream_dedupe_precision": found / len(merged) if merged else 0.0,
        "dream_dedupe_recall": found / len(truth),
        "dream_s_per_1k_memories": seconds / (len(messages) / 1000),
        "dream_memories": len(messages),
        "dream_merged_pairs": len(merged),
    }


def locomo_before_after(engine: Engine) -> dict[str, float]:
    """LoCoMo in raw mode: R@10 of its questions, a dream run for every conversation's
    user, R@10 again on the same store."""
    conversations = locomo_data.load(corpus.LOCOMO)
    locomo.ingest_all(engine, conversations)
    before = locomo.recall_now(engine, conversations, (10,))["R@10"]
    merged = 0
    for conversation in conversations:
        ctx = RequestContext(locomo.ACCOUNT, conversation.sample_id)
        merged += engine.dreaming.dreamer.run(ctx, trigger="bench").counts().get("merge", 0)
    engine.drain()  # the archived duplicates leave the index
    after = locomo.recall_now(engine, conversations, (10,))["R@10"]
    return {"dream_locomo_R@10_before": before, "dream_locomo_R@10_after": after,
            "dream_locomo_merges": merged}  # fmt: skip


def main() -> dict[str, float]:
    embedder = MiniLMEmbedder()
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        with Engine.open(Path(tmp) / "dream.sqlite", embedder=embedder, worker=False) as engine:
            figures = measure(engine)
        with Engine.open(Path(tmp) / "locomo.sqlite", embedder=embedder, worker=False) as engine:
            figures.update(locomo_before_after(engine))
    return figures


if __name__ == "__main__":
    print(main())
