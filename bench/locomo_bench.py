"""Retrieval on the LoCoMo dev conversations in raw mode (no LLM): every turn of both speakers
remembered through ingest + commit + worker, then each question of categories 1-4 searched;
the metric is defined in ../shared/bench/README.md."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import corpus
from ogmem.engine import Engine
from ogmem.eval import locomo, locomo_data

SHORT = {"multi-hop": "multihop", "temporal": "temporal", "open-domain": "opendomain",
         "single-hop": "singlehop"}  # fmt: skip


def main() -> dict[str, float]:
    conversations = locomo_data.load(corpus.LOCOMO)
    with (
        tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp,
        Engine.open(Path(tmp) / "locomo.sqlite", worker=False) as engine,
    ):
        report = locomo.evaluate(engine, conversations)
    figures = {f"locomo_R@{k}": report.overall[f"R@{k}"] for k in report.ks}
    figures["locomo_H@10"] = report.overall["H@10"]
    figures.update(
        {
            f"locomo_R@10_{SHORT[name]}": values["R@10"]
            for name, values in report.by_category.items()
        }
    )
    figures["locomo_search_p50_ms"] = report.search_p50_ms
    figures["locomo_search_p95_ms"] = report.search_p95_ms
    figures["locomo_ingest_s"] = report.ingest_s
    return figures
