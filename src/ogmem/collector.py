"""The cyclic garbage collector of a long-running server process (``ogmem serve``).

CPython collects its youngest generation every 700 net allocations of container objects and
walks every tracked object of the process in a full collection every ~100 young ones. A
server's heap is mostly what startup built and keeps for its whole life (the embedding
model's session, schemas, routes, pydantic's validators), and every walk of it finds nothing
to free. Under the `make stress` load mix (`python -m bench.stress load`, 32 clients, 60 s)
the collector ran ~1,800 times for ~4 s of the server's ~75 s, with 13-14 full collections of
up to 136-189 ms each: every request in flight stops for each, which is where a tail latency
comes from.

So a server freezes what startup built (``gc.freeze``: out of every later collection) and
collects the young generation every YOUNG_THRESHOLD net allocations instead of 700. Cycles
are still collected, in far fewer passes, and full collections walk only what the server
allocated since it started. An application that embeds ``Engine`` or ``create_app`` keeps its
own collector settings: a library must not change a process-wide setting behind its host's
back.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # net container allocations between young collections (CPython: 700)
OLDER_THRESHOLDS = (10, 10)  # CPython's own: a full collection stays ~100 young ones apart


def settle_for_serving() -> None:
    """Collect once, freeze what is left (startup's long-lived objects), and collect the
    young generation less often. Call when the server is built, before it takes requests."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
