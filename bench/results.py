"""bench/results.json: a flat {"name": number} object that every benchmark adds to."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

RESULTS_FILE = Path(__file__).with_name("results.json")


def record(figures: dict[str, float], path: Path = RESULTS_FILE) -> dict[str, float]:
    """Merge ``figures`` into the results file, keeping figures other benchmarks wrote."""
    current: dict[str, float] = json.loads(path.read_text()) if path.exists() else {}
    current.update({name: round(value, 3) for name, value in figures.items()})
    path.write_text(json.dumps(dict(sorted(current.items())), indent=2) + "\n")
    return current


def median_rate(run: Callable[[], tuple[int, float]], repeats: int) -> float:
    """Median of ``count / seconds`` over ``repeats`` runs (the machines are shared and noisy)."""
    rates = []
    for _ in range(repeats):
        count, seconds = run()
        rates.append(count / seconds)
    return statistics.median(rates)


def machine() -> str:
    return f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
