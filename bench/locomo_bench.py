"""Retrieval and ingest rate on the LoCoMo dev conversations in raw mode (no LLM).

Every turn of both speakers is remembered through ingest + commit, with the engine's
background worker indexing meanwhile (the embedded default; ``locomo.until_indexed`` waits
until the index is current), then each question of categories 1-4 is searched; the metric is
defined in ../shared/bench/README.md. The ingest rate is set against the offline embedder
alone on the same messages (each distinct text once, batched), measured in the same run:
REPEATS fresh ingests, each between two runs of the embedder alone (E I E I E I E), so that
every ingest is set against the embedder's rate just before and just after it (the load of
this shared machine moves both within minutes); the last round's store answers the
questions. Rates are medians, the ratio the median of the rounds' (ingest rate / mean of its
two embedder rates).

``locomo_turns`` hands the first dev conversation over as an agent does, two messages per
after_turn, each followed by a commit and the worker's drain (a worker that keeps up), and
reports its rate beside the embedder alone on the same messages, with the texts the model read
per message (its sanity figure: the model reads a message once, with its stretches and its
speaker; more means texts read again).
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from pathlib import Path

from bench import corpus
from ogmem.engine import Engine
from ogmem.eval import locomo, locomo_data
from ogmem.index.embedders import MiniLMEmbedder

SHORT = {"multi-hop": "multihop", "temporal": "temporal", "open-domain": "opendomain",
         "single-hop": "singlehop"}  # fmt: skip
REPEATS = 3
TURN = 2  # messages per after_turn in locomo_turns: a user's message and the reply


def _rates(
    conversations: list[locomo_data.Conversation], embedder: MiniLMEmbedder, tmp: Path
) -> tuple[list[float], list[float], locomo.EvalReport]:
    embedder_rates = [locomo.embedder_msgs_per_s(embedder, conversations)]
    ingest_rates: list[float] = []
    for round_ in range(REPEATS):
        with Engine.open(tmp / f"locomo-{round_}.sqlite", embedder=embedder, worker=True) as engine:
            if round_ < REPEATS - 1:
                messages, seconds = locomo.ingest_all(engine, conversations)
                ingest_rates.append(messages / seconds)
            else:
                report = locomo.evaluate(engine, conversations)
                ingest_rates.append(report.ingest_msgs_per_s)
        embedder_rates.append(locomo.embedder_msgs_per_s(embedder, conversations))
    return embedder_rates, ingest_rates, report


def main() -> dict[str, float]:
    conversations = locomo_data.load(corpus.LOCOMO)
    embedder = MiniLMEmbedder()
    embedder.embed(locomo.message_texts(conversations)[:64])  # load the model outside the timings
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        embedder_rates, ingest_rates, report = _rates(conversations, embedder, Path(tmp))
    figures = {f"locomo_R@{k}": report.overall[f"R@{k}"] for k in report.ks}
    figures["locomo_H@10"] = report.overall["H@10"]
    for k in locomo.SESSION_KS:
        figures[f"locomo_session_R@{k}"] = report.overall[f"session_R@{k}"]
    figures.update(
        {
            f"locomo_R@10_{SHORT[name]}": values["R@10"]
            for name, values in report.by_category.items()
        }
    )
    figures["locomo_search_p50_ms"] = report.search_p50_ms
    figures["locomo_search_p95_ms"] = report.search_p95_ms
    figures["locomo_ingest_s"] = report.ingest_s
    figures["locomo_ingest_msgs_per_s"] = statistics.median(ingest_rates)
    figures["locomo_embedder_msgs_per_s"] = statistics.median(embedder_rates)
    around = [(before + after) / 2 for before, after in itertools.pairwise(embedder_rates)]
    figures["locomo_ingest_vs_embedder"] = statistics.median(
        ingest / embedder for ingest, embedder in zip(ingest_rates, around, strict=True)
    )
    return figures


def turns_main() -> dict[str, float]:
    conversation = locomo_data.load(corpus.LOCOMO)[0]
    embedder = MiniLMEmbedder()
    embedder.embed(locomo.message_texts([conversation])[:64])  # load the model outside timings
    before = locomo.embedder_msgs_per_s(embedder, [conversation])
    with (
        tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp,
        Engine.open(Path(tmp) / "turns.sqlite", embedder=embedder, worker=False) as engine,
    ):
        messages, texts, seconds = _turn_by_turn(engine, conversation)
    after = locomo.embedder_msgs_per_s(embedder, [conversation])
    rate = messages / seconds
    return {
        "locomo_turns_msgs_per_s": rate,
        "locomo_turns_vs_embedder": rate / ((before + after) / 2),
        "locomo_turns_texts_per_msg": texts / messages,
    }


def _turn_by_turn(engine: Engine, conversation: locomo_data.Conversation) -> tuple[int, int, float]:
    """(messages, texts embedded, seconds) of after_turn + commit + drain, TURN at a time."""
    messages = texts = 0
    started = time.perf_counter()
    for key, session in conversation.sessions:
        ctx = locomo.session_context(conversation, key)
        for start in range(0, len(session), TURN):
            turn = session[start : start + TURN]
            engine.after_turn(turn, ctx)
            engine.commit(ctx.session_id or "", ctx, wait=True)
            texts += engine.drain().embedded_texts
            messages += len(turn)
    return messages, texts, time.perf_counter() - started


if __name__ == "__main__":
    print(main())
