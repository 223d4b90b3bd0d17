"""The routes an agent calls on every turn (after_turn, ingest, search, compose) run in a
small pool of threads of their own, in one hop per request.

Why: the Engine is synchronous, and FastAPI runs a plain ``def`` route in anyio's shared
pool of 40 threads with three hops per request (the key's dependency, the handler, the
answer's validation), each a handover between the event loop and a thread. Under the stress
`load` check (32 clients) some thirty threads then took turns at the GIL: every SQLite call
lets go of it, and getting it back meant waiting behind the others, with the store's write
lock held meanwhile. Here the key is checked, the Engine called and the answer serialised on
one thread, and at most ``turn_threads`` (OGMEM_TURN_THREADS) requests run at once; the
rest wait in arrival order (anyio's CapacityLimiter is first come, first served). Routes
that may wait long (a commit that waits, a merge that asks the LLM) keep the shared pool,
where they cannot hold up these.
"""

from __future__ import annotations

from collections.abc import Callable

from anyio import CapacityLimiter, to_thread
from fastapi import Response
from pydantic import BaseModel

from ogmem.server.auth import Presented, Principal

JSON = "application/json"


class TurnPool:
    def __init__(self, threads: int) -> None:
        self._limiter = CapacityLimiter(threads)

    async def answer(self, key: Presented, work: Callable[[Principal], BaseModel]) -> Response:
        """``work`` for the key's principal, its answer as JSON. The key is always verified
        here, before ``work`` runs: a route cannot forget it."""

        def serve() -> str:
            return work(key.verify()).model_dump_json()

        return Response(await to_thread.run_sync(serve, limiter=self._limiter), media_type=JSON)
