"""``make bench``: runs every benchmark, prints the figures, writes bench/results.json."""

from __future__ import annotations

import logging
import sys
from datetime import date

from bench import (
    hnsw_bench,
    http_bench,
    ingest_bench,
    locomo_bench,
    results,
    search_bench,
    ui_bench,
    writer_bench,
)

BENCHES = {
    "writer": writer_bench.main,
    "ingest": ingest_bench.main,
    "search": search_bench.main,
    "hnsw": hnsw_bench.main,
    "locomo": locomo_bench.main,
    "http": http_bench.main,
    "ui": ui_bench.main,
}


def main(selected: list[str]) -> None:
    logging.basicConfig(level=logging.ERROR)
    print(f"ogmem bench, {date.today().isoformat()}, {results.machine()}", flush=True)
    for name in selected or list(BENCHES):
        figures = BENCHES[name]()
        if name == "writer":
            figures["writer_vs_bare_insert_ratio"] = (
                figures["writer_candidates_per_s"] / figures["bare_insert_rows_per_s"]
            )
        for figure, value in figures.items():
            print(f"  {figure:36s} {value:12.3f}", flush=True)
        results.record(figures)
    print(f"written to {results.RESULTS_FILE}")


if __name__ == "__main__":
    main(sys.argv[1:])
