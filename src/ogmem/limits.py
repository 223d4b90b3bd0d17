"""The server's limits, with their defaults, and the limiter of failed authentications.

| setting | variable | default |
| --- | --- | --- |
| max_body_bytes | OGMEM_MAX_BODY_BYTES | 16 MiB; a bigger body gets 413 |
| body_timeout_s | OGMEM_BODY_TIMEOUT_S | 10; a body stalled that long between reads: 408 |
| request_timeout_s | OGMEM_REQUEST_TIMEOUT_S | 60; a request still running: 504 |
| auth_failures_per_minute | OGMEM_AUTH_FAILURES_PER_MINUTE | 30 per address, then 429 |
| keep_alive_s | OGMEM_KEEP_ALIVE_S | 5; an idle keep-alive connection is closed |
| max_connections | OGMEM_MAX_CONNECTIONS | 512; beyond it new requests get 503 |
| turn_threads | OGMEM_TURN_THREADS | 4 requests of the turn's routes at once, the rest queue |
| append_head_start_ms | OGMEM_APPEND_HEAD_START_MS | 125 ms of precedence for appends |
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_BODY_BYTES = 16 * 1024 * 1024
BODY_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 60.0
AUTH_FAILURES_PER_MINUTE = 30
KEEP_ALIVE_S = 5
MAX_CONNECTIONS = 512
# threads serving after_turn, ingest, search and compose at once (server/turns.py): the GIL
# runs one at a time, and more threads only lengthen each one's wait to get it back
TURN_THREADS = 4
# In that queue a search or compose lets the turns' appends go first for this long
# (server/turns.py). Less than the 200 ms between the load goals' p99 (after_turn 300 ms,
# search 500 ms), so that each keeps about the same share of its goal (measured: 100-150 ms).
APPEND_HEAD_START_MS = 125
# the limiter remembers this many client addresses at most (least recently failed go first),
# so a flood of spoofed sources cannot grow the server's memory
MAX_TRACKED_CLIENTS = 10_000
WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class ServerLimits:
    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout_s: float = BODY_TIMEOUT_S
    request_timeout_s: float = REQUEST_TIMEOUT_S
    auth_failures_per_minute: int = AUTH_FAILURES_PER_MINUTE
    keep_alive_s: int = KEEP_ALIVE_S
    max_connections: int = MAX_CONNECTIONS
    turn_threads: int = TURN_THREADS
    append_head_start_ms: int = APPEND_HEAD_START_MS


class AuthFailureLimiter:
    """Counts failed authentications per client address over a sliding minute; past the
    limit, that address is refused (429) before its key is even looked up, until its oldest
    failure leaves the window. Thread-safe (handlers run in a thread pool)."""

    def __init__(
        self,
        per_minute: int = AUTH_FAILURES_PER_MINUTE,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_TRACKED_CLIENTS,
    ) -> None:
        self._limit = per_minute
        self._clock = clock
        self._max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None if it may now."""
        with self._lock:
            failures = self._recent(client)
            if failures is None or len(failures) < self._limit:
                return None
            return max(failures[0] + WINDOW_S - self._clock(), 0.001)

    def failed(self, client: str) -> None:
        with self._lock:
            failures = self._recent(client) or deque()
            failures.append(self._clock())
            while len(failures) > self._limit:
                failures.popleft()
            self._failures[client] = failures
            self._failures.move_to_end(client)
            while len(self._failures) > self._max_clients:
                self._failures.popitem(last=False)

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self._clock() - WINDOW_S
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures
