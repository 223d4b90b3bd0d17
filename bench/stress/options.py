"""Settings of a stress run: the full numbers by default (``make stress``), smaller ones from
flags or OGMEM_STRESS_* variables for a quick look; and where each check's store lives."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(f"OGMEM_STRESS_{name}")
    return float(value) if value else default


@dataclass(frozen=True, slots=True)
class Options:
    seconds: float = _env_number("SECONDS", 60)  # load: how long the clients run
    clients: int = int(_env_number("CLIENTS", 32))  # load: concurrent clients
    seed_memories: int = int(_env_number("SEED_MEMORIES", 2000))  # load: memories beforehand
    # load on SQLite: `ogmem serve --processes N` (1, the default, measured no worse than 2 on
    # the 2-core machine, where the load generator takes its share of the cores)
    processes: int = int(_env_number("PROCESSES", 1))
    trials: int = int(_env_number("TRIALS", 10))  # crash: kill -9 trials
    # big_request: the server is killed past this peak (the machine is shared; goal 1,024)
    rss_cap_mb: float = _env_number("RSS_CAP_MB", 4096)
    keep: bool = False  # keep each check's directory (store, logs) for a look afterwards
    store: str = "sqlite"  # or "postgres": a server this run starts (bench/pg.py)


@contextmanager
def workdir(check: str, options: Options) -> Iterator[Path]:
    """A fresh directory for one check's store and logs, removed unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix=f"ogmem-stress-{check}-"))
    try:
        yield path
    finally:
        if options.keep:
            print(f"  kept {path}", flush=True)
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def store_in(tmp: Path, options: Options) -> Iterator[str]:
    """Where a check's store lives (OGMEM_STORE): a SQLite file in its directory, or a fresh
    database on the run's PostgreSQL server, dropped after the check."""
    if options.store == "postgres":
        from bench import pg  # starts PostgreSQL only for a run that asks for it

        with pg.database() as url:
            yield url
    else:
        yield str(tmp / "x.sqlite")
