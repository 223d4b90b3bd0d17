"""Decay on LoCoMo (raw mode): R@10 with the decay weight off and on, each on a fresh store.

Decay (ogmem.retrieval.decay) weighs a hit by its age (from the time it speaks of: an event's
date) and the last time a search returned it. LoCoMo's events date from 2023, so with the
default half-life every memory is old; what moves the ranking is the recall signal the
earlier questions of the same run leave. The two runs ingest the same conversations the same
way; only the Engine's ``decay`` differs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import corpus
from ogmem.engine import Engine
from ogmem.eval import locomo, locomo_data
from ogmem.index.embedders import MiniLMEmbedder
from ogmem.retrieval.decay import Decay


def _r_at_10(
    conversations: list[locomo_data.Conversation],
    embedder: MiniLMEmbedder,
    store: Path,
    decay: Decay | None,
) -> dict[str, float]:
    with Engine.open(store, embedder=embedder, worker=False, decay=decay) as engine:
        report = locomo.evaluate(engine, conversations)
    figures = {"R@10": report.overall["R@10"], "R@50": report.overall["R@50"]}
    figures.update({f"R@10_{n}": v["R@10"] for n, v in report.by_category.items()})
    return figures


def main() -> dict[str, float]:
    conversations = locomo_data.load(corpus.LOCOMO)
    embedder = MiniLMEmbedder()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        for name, decay in (("off", None), ("on", Decay())):
            found = _r_at_10(conversations, embedder, Path(tmp) / f"{name}.sqlite", decay)
            figures.update({f"locomo_decay_{name}_{k}": v for k, v in found.items()})
    return figures


if __name__ == "__main__":
    print(main())
