"""``make bench``: runs every benchmark, prints the figures, writes bench/results.json."""

from __future__ import annotations

import logging
from datetime import date

from bench import results, writer_bench


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    print(f"ogmem bench, {date.today().isoformat()}, {results.machine()}")
    figures = writer_bench.main()
    for name, value in figures.items():
        print(f"  {name:32s} {value:12.1f}")
    ratio = figures["writer_candidates_per_s"] / figures["bare_insert_rows_per_s"]
    print(f"  writer / bare insert ratio       {ratio:12.3f}")
    results.record(figures)
    print(f"written to {results.RESULTS_FILE}")


if __name__ == "__main__":
    main()
