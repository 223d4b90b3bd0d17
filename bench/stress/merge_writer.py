"""One of the merge check's writer processes (the PostgreSQL multi-process test runs it too):
opens the shared store with the Python API and merges COUNT distinct facts into one
preference node, one remember() call each.

``python -m bench.stress.merge_writer STORE WRITER COUNT GO_FILE OUT``
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

from ogmem import CandidateMemory, Engine, RequestContext
from ogmem.index.embedders import HashEmbedder

ACCOUNT, USER, ROUTING_KEY = "stress", "u", "editor"
# a bound, not an expectation: on PostgreSQL under load a fact was resent up to a few dozen times
RESENDS = 1000


def candidate(writer: int, n: int) -> CandidateMemory:
    # distinct content each time: a repeated fact would be skipped as "no new information"
    return CandidateMemory(
        category="preference",
        routing_key=ROUTING_KEY,
        abstract=f"Editor fact {n} from writer {writer}",
        content=f"Writer {writer} learned fact {n}: she switched editor themes again.",
    )


def main(store: str, writer: int, count: int, go: Path, out: Path) -> None:
    ctx = RequestContext(ACCOUNT, USER, session_id=f"w{writer}")
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    resends = 0
    with Engine.open(store, worker=False, embedder=HashEmbedder()) as engine:
        # every writer opens the store first, then all start at once
        out.with_suffix(".ready").touch()
        while not go.exists():
            time.sleep(0.01)
        started = time.monotonic()
        for n in range(count):
            result = engine.remember([candidate(writer, n)], ctx)[0]
            # a result marked retryable (it gave up after concurrent modifications) is sent
            # again, as the API asks of a client; the node's version counts each fact once
            for _ in range(RESENDS):
                if result.status.value != "failed" or not result.retryable:
                    break
                resends += 1
                result = engine.remember([candidate(writer, n)], ctx)[0]
            statuses[result.status.value] += 1
            if result.error and len(errors) < 5:
                errors.append(result.error)
        seconds = time.monotonic() - started
    report = {"statuses": statuses, "errors": errors, "resends": resends, "seconds": seconds}
    out.write_text(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
