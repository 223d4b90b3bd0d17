"""Wake-ups across processes: a dedicated connection LISTENs on the channel that every
transaction writing outbox events notifies (a trigger, migration 0002), in a daemon thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from ogmem.store import queries

DIALECT = "postgres"
POLL_S = 0.5  # how soon a stop is noticed
RETRY_S = 2.0  # after a lost connection; the worker still polls meanwhile

logger = logging.getLogger(__name__)


class Listener:
    """Calls ``callback`` once per notification until ``stop()``."""

    def __init__(self, url: str, callback: Callable[[], None]) -> None:
        self._url = url
        self._callback = callback
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ogmem-listen", daemon=True)
        self._thread.start()
        # LISTEN is in place before the caller goes on (a write right after is not missed),
        # unless the server cannot be reached: then the worker's polling covers it
        self._ready.wait(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except psycopg.Error as exc:
                logger.warning("listening for outbox events failed (%s); retrying", exc)
                self._ready.set()
                self._stopping.wait(RETRY_S)

    def _listen(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            conn.execute(queries.load_queries(DIALECT)["listen_for_events"])
            self._ready.set()
            while not self._stopping.is_set():
                for _ in conn.notifies(timeout=POLL_S):
                    self._callback()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
