"""``make bench`` / ``python -m bench [NAME ...]``: runs every benchmark (or those named), prints
the figures, writes bench/results.json. The ``pg_*`` ones run on a PostgreSQL server that the
run starts itself (bench/pg.py); their figures start with ``pg_``. ``scale`` and ``pg_scale``
(bench/scale_bench.py: hours at their default size) run only when named, with their sizes as
options: ``python -m bench scale --users 100 --small-accounts 1000``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from datetime import date
from types import FrameType

from bench import (
    decay_bench,
    dream_bench,
    erase_bench,
    hnsw_bench,
    http_bench,
    ingest_bench,
    locomo_bench,
    locomo_replay_bench,
    results,
    scale_bench,
    search_bench,
    ui_bench,
    worker_bench,
    writer_bench,
)
from ogmem import threads

BENCHES = {
    "writer": writer_bench.main,
    "ingest": ingest_bench.main,
    "search": search_bench.main,
    "hnsw": hnsw_bench.main,
    "locomo": locomo_bench.main,
    "locomo_turns": locomo_bench.turns_main,
    "locomo_replay": locomo_replay_bench.main,
    "decay": decay_bench.main,
    "http": http_bench.main,
    "pg_writer": writer_bench.pg_main,
    "pg_ingest": ingest_bench.pg_main,
    "pg_search": search_bench.pg_main,
    "pg_worker": worker_bench.pg_main,
    "pg_http": http_bench.pg_main,
    "ui": ui_bench.main,
    "erase": erase_bench.main,
    "dream": dream_bench.main,
    "scale": scale_bench.main,
    "pg_scale": scale_bench.pg_main,
}
OPT_IN = {"scale", "pg_scale"}  # far longer than the rest: only when named


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # a SystemExit runs the exit handlers: the PostgreSQL server of the run is stopped
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*")
    scale_bench.add_arguments(parser)
    options = parser.parse_args(argv)
    scale_bench.configure(options)
    threads.limit_blas_threads()  # as `ogmem serve` and `ogmem worker` do (ogmem/threads.py)
    selected: list[str] = options.names
    unknown = [name for name in selected if name not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    logging.basicConfig(level=logging.ERROR)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(f"ogmem bench, {date.today().isoformat()}, {results.machine()}", flush=True)
    for name in selected or [name for name in BENCHES if name not in OPT_IN]:
        print(f"{name}:", flush=True)
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
