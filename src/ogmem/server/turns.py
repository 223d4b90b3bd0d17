"""The routes an agent calls on every turn (after_turn, ingest, search, compose) run in a
small pool of threads of their own, in one hop per request, the turn's appends first.

Why a pool: the Engine is synchronous, and FastAPI runs a plain ``def`` route in anyio's
shared pool of 40 threads with three hops per request (the key's dependency, the handler,
the answer's validation), each a handover between the event loop and a thread. Under the
stress `load` check (32 clients) some thirty threads then took turns at the GIL: every
SQLite call lets go of it, and getting it back meant waiting behind the others, with the
store's write lock held meanwhile. Here the key is checked, the Engine called and the answer
serialised on one thread, and at most ``turn_threads`` (OGMEM_TURN_THREADS) requests run at
once. Routes that may wait long (a commit that waits, a merge that asks the LLM) keep the
shared pool, where they cannot hold up these.

Why appends first: appending a turn's messages (after_turn, ingest) is one short statement,
a search or a compose tens of times more work, and the agent's turn waits on the append.
Serving the short job first shortens the queue's mean wait. But strict priority starved the
reads (search p99 700 ms, appends 85 ms, under `load`), and letting a fixed number of
appends pass each waiting read flipped from one extreme to the other with the mix of
requests. So the queue is served earliest deadline first: an append's deadline is its
arrival, a read's its arrival plus ``head_start_s`` (OGMEM_APPEND_HEAD_START_MS). A read
waits behind appends that came at most that long after it, never longer, whatever the mix.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from anyio import CapacityLimiter, to_thread
from fastapi import Response
from pydantic import BaseModel

from ogmem.server.auth import Presented, Principal

JSON = "application/json"


class Slots:
    """At most ``size`` holders at once; a freed slot goes to the waiter with the earliest
    deadline (its arrival, plus ``head_start_s`` for a read), ties to the first come. Used
    from the event loop only, so it needs no lock."""

    def __init__(
        self, size: int, head_start_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._free = size
        self._head_start_s = head_start_s
        self._clock = clock
        self._waiting: list[_Waiter] = []  # a heap, by deadline then arrival
        self._arrivals = itertools.count()

    async def acquire(self, *, append: bool) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        deadline = self._clock() + (0.0 if append else self._head_start_s)
        waiter = _Waiter(deadline, next(self._arrivals), anyio.Event())
        heapq.heappush(self._waiting, waiter)
        try:
            await waiter.granted.wait()
        except BaseException:  # cancelled while waiting (the client went away)
            if waiter.granted.is_set():
                self.release()  # handed a slot in the same moment: pass it on
            else:
                waiter.gone = True  # dropped when it reaches the top of the heap
            raise

    def release(self) -> None:
        while self._waiting:
            waiter = heapq.heappop(self._waiting)
            if not waiter.gone:
                waiter.granted.set()  # the slot passes straight to it
                return
        self._free += 1


@dataclass(order=True)
class _Waiter:
    deadline: float
    arrival: int
    granted: anyio.Event = field(compare=False)
    gone: bool = field(default=False, compare=False)


class TurnPool:
    def __init__(self, threads: int, head_start_s: float) -> None:
        self._slots = Slots(threads, head_start_s)
        # threads of its own: these requests never wait for the shared pool's
        self._threads = CapacityLimiter(threads)

    async def answer(
        self, key: Presented, work: Callable[[Principal], BaseModel], *, append: bool = False
    ) -> Response:
        """``work`` for the key's principal, its answer as JSON; ``append`` for the routes
        that append a turn's messages. The key is always verified here, before ``work``
        runs: a route cannot forget it."""

        def serve() -> str:
            return work(key.verify()).model_dump_json()

        await self._slots.acquire(append=append)
        try:
            answer = await to_thread.run_sync(serve, limiter=self._threads)
        finally:
            self._slots.release()
        return Response(answer, media_type=JSON)
