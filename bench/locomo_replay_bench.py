"""Retrieval on the LoCoMo dev conversations in LLM mode, the model's answers replayed from the
file's annotations (observations, event summaries, session summaries; see
ogmem.eval.replay_mapping for how they become typed memories).

Every turn goes in by after_turn, each session is committed (span finding, structuring by tool
calls, validation, dedupe, policies, merges, session archive) and indexed, then each question of
categories 1-4 is searched as in raw mode; a memory counts for the messages of its provenance.

As configured by default, LLM mode also keeps each message as a raw memory beside the model's
(``keep_messages``): the headline figures are that. A second run with the model's memories
alone gives ``locomo_replay_extracted_only_R@10`` / ``_R@50`` and the memories by type
(``locomo_replay_memories_<type>``); ``locomo_replay_messages_kept`` is the difference.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import corpus
from bench.locomo_bench import SHORT
from ogmem.engine import Engine
from ogmem.eval import locomo, locomo_data, locomo_replay
from ogmem.index.embedders import MiniLMEmbedder


def _run(keep_messages: bool) -> locomo.EvalReport:
    conversations = locomo_data.load(corpus.LOCOMO)
    llm = locomo_replay.replay_llm(corpus.LOCOMO)
    embedder = MiniLMEmbedder()
    embedder.embed(locomo.message_texts(conversations)[:64])  # load the model outside the timings
    with (
        tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp,
        Engine.open(
            Path(tmp) / "replay.sqlite", llm=llm, embedder=embedder, worker=False,
            keep_messages=keep_messages,
        ) as engine,
    ):  # fmt: skip
        return locomo.evaluate(engine, conversations, turn_by_turn=True)


def main() -> dict[str, float]:
    report = _run(keep_messages=True)
    extracted = _run(keep_messages=False)
    figures = {f"locomo_replay_R@{k}": report.overall[f"R@{k}"] for k in report.ks}
    figures["locomo_replay_H@10"] = report.overall["H@10"]
    figures.update(
        {
            f"locomo_replay_R@10_{SHORT[name]}": values["R@10"]
            for name, values in report.by_category.items()
        }
    )
    figures["locomo_replay_memories"] = sum(extracted.memories.values())
    figures.update(
        {f"locomo_replay_memories_{t}": n for t, n in sorted(extracted.memories.items())}
    )
    kept = sum(report.memories.values()) - sum(extracted.memories.values())
    figures["locomo_replay_messages_kept"] = kept
    figures["locomo_replay_extracted_only_R@10"] = extracted.overall["R@10"]
    figures["locomo_replay_extracted_only_R@50"] = extracted.overall["R@50"]
    figures["locomo_replay_ingest_s"] = report.ingest_s
    figures["locomo_replay_search_p50_ms"] = report.search_p50_ms
    return figures


if __name__ == "__main__":
    print(main())
