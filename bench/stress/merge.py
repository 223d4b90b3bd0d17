"""4 processes x 100 merges into one node on one SQLite file, through the Python API.

One create (version 1), then 400 merges of distinct facts, each a new version: the node must
end at version 401 with 401 history rows. If some merges are reported failed (version
conflicts past the writer's retries), the version must still equal 1 + the merges reported
written: anything else is a lost or phantom update. Hash embedder (no index is read here).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

from bench.stress import procs
from bench.stress.merge_writer import ACCOUNT, ROUTING_KEY, USER, candidate
from bench.stress.options import Options, store_in, workdir
from bench.stress.outcome import Goal, Outcome
from ogmem import Engine, RequestContext
from ogmem.index.embedders import HashEmbedder

NAME = "merge"
WRITERS, MERGES = 4, 100
EXPECTED_VERSION = 1 + WRITERS * MERGES
NODE = f"ctx://{ACCOUNT}/users/{USER}/memories/preferences/{ROUTING_KEY}"
GOALS = (
    Goal("multiprocess_merge_version", "==", EXPECTED_VERSION),
    Goal("multiprocess_merge_unaccounted", "==", 0),
)


def run(options: Options) -> Outcome:
    outcome = Outcome(NAME, goals=GOALS)
    print(f"    embedder: hash; {WRITERS} processes x {MERGES} merges after 1 create", flush=True)
    with workdir(NAME, options) as tmp, store_in(tmp, options) as store:
        ctx = RequestContext(ACCOUNT, USER, session_id="create")
        with Engine.open(store, worker=False, embedder=HashEmbedder()) as engine:
            created = engine.remember([candidate(-1, 0)], ctx)[0]
        if created.node is None or created.node.version != 1:
            outcome.failures.append(f"the create gave {created}")
        started = time.monotonic()
        statuses, errors = _run_writers(store, tmp)
        seconds = time.monotonic() - started
        with Engine.open(store, worker=False, embedder=HashEmbedder()) as engine:
            version = engine.read(NODE, ctx).version
            history = len(engine.history(NODE, ctx))
    written = statuses.get("written", 0)
    outcome.figures.update(
        multiprocess_merge_version=float(version),
        multiprocess_merge_history=float(history),
        multiprocess_merge_written=float(written),
        multiprocess_merge_failed=float(statuses.get("failed", 0)),
        multiprocess_merge_skipped=float(statuses.get("skipped", 0)),
        multiprocess_merge_resent=float(statuses.get("resent", 0)),
        multiprocess_merge_unaccounted=float(abs(version - 1 - written)),
        multiprocess_merge_s=seconds,
    )
    outcome.failures += [f"a writer reported: {error}" for error in errors[:5]]
    print(
        f"    statuses {dict(statuses)}, version {version}, history {history}, {seconds:.1f} s",
        flush=True,
    )
    return outcome


def _run_writers(store: str, tmp: Path) -> tuple[Counter[str], list[str]]:
    go = tmp / "go"
    env = procs.environment(store, embedder="hash")
    writers = [
        procs.spawn(
            f"merge writer {n}",
            [
                sys.executable,
                "-m",
                "bench.stress.merge_writer",
                str(store),
                str(n),
                str(MERGES),
                str(go),
                str(tmp / f"w{n}.json"),
            ],
            env,
            tmp / f"w{n}.log",
        )
        for n in range(WRITERS)
    ]
    with procs.stopped_at_exit(*writers):
        deadline = time.monotonic() + 120
        while len(list(tmp.glob("w*.ready"))) < WRITERS and time.monotonic() < deadline:
            time.sleep(0.05)
        go.touch()
        for writer in writers:
            writer.popen.wait(timeout=600)
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    for n, writer in enumerate(writers):
        report = tmp / f"w{n}.json"
        if not report.exists():
            errors.append(
                f"writer {n} exited {writer.popen.returncode}: {writer.log_text()[-500:]}"
            )
            continue
        data = json.loads(report.read_text())
        statuses.update(data["statuses"])
        statuses["resent"] += data["resends"]
        errors += data["errors"]
    return statuses, errors
