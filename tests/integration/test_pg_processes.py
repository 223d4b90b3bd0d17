"""Several processes on one PostgreSQL database (each runs real ogmem code in a subprocess,
see pg_processes.py): writers merging into one node under optimistic versions, and outbox
workers sharing a backlog, one of them killed with SIGKILL in the middle of its batch."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from bench.stress import merge_writer

from ogmem import Engine, RequestContext
from ogmem.core.models import (
    ContextNode,
    ContextType,
    EventStatus,
    EventType,
    OutboxEvent,
    utcnow,
)
from ogmem.core.storage import Backend
from ogmem.index.embedders import HashEmbedder
from tests.integration import pg_processes
from tests.raw import raw_rows

ROOT = Path(__file__).resolve().parents[2]
WRITERS, MERGES = 4, 100
EVENTS = 5_000
DEADLINE_S = 120


def _spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **(env or {})},
        )  # fmt: skip


def _helper(role: str, *args: str) -> list[str]:
    return ["-m", "tests.integration.pg_processes", role, *args]


def _wait_for(what: str, condition: Callable[[], bool], logs: list[Path]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"{log.name}: {log.read_text()[-800:]}" for log in logs)
            pytest.fail(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.5)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Child processes of a test, killed at its end whatever happened."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_four_processes_merging_into_one_node_reach_version_401(
    pg_url: str, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    ctx = RequestContext(merge_writer.ACCOUNT, merge_writer.USER, session_id="create")
    with Engine.open(pg_url, worker=False, embedder=HashEmbedder()) as engine:
        created = engine.remember([merge_writer.candidate(-1, 0)], ctx)[0]
    assert created.node is not None and created.node.version == 1
    go = tmp_path / "go"
    reports = [tmp_path / f"w{n}.json" for n in range(WRITERS)]
    logs = [tmp_path / f"w{n}.log" for n in range(WRITERS)]
    for n in range(WRITERS):
        args = ["-m", "bench.stress.merge_writer", pg_url, str(n), str(MERGES), str(go)]
        args.append(str(reports[n]))  # the stress suite's writer: resends retryable results
        processes.append(_spawn(args, logs[n]))
    ready = [report.with_suffix(".ready") for report in reports]
    _wait_for("the writers to open the store", lambda: all(r.exists() for r in ready), logs)
    go.touch()
    _wait_for("the writers to finish", lambda: all(p.poll() is not None for p in processes), logs)

    statuses: Counter[str] = Counter()
    resends = 0
    for report, log in zip(reports, logs, strict=True):
        assert report.exists(), log.read_text()[-2000:]
        data = json.loads(report.read_text())
        assert data["errors"] == []
        statuses.update(data["statuses"])
        resends += data["resends"]
    assert statuses == {"written": WRITERS * MERGES}
    print(f"{resends} merges resent after the writer's own attempts lost to other processes")
    with Engine.open(pg_url, worker=False, embedder=HashEmbedder()) as engine:
        node = engine.read(str(created.uri), ctx)
        history = engine.history(str(created.uri), ctx)
    assert node.version == 1 + WRITERS * MERGES == 401
    assert [h.node.version for h in history] == list(range(1, 402))
    assert [h.action for h in history].count("merge") == WRITERS * MERGES
    # the deterministic merge keeps the newest facts when the content outgrows its bound
    for writer in range(WRITERS):
        assert f"Writer {writer} learned fact {MERGES - 1}:" in node.content


def _node(i: int) -> ContextNode:
    return ContextNode(
        account_id="acme", uri=f"ctx://acme/users/alice/memories/events/e{i:05d}",
        context_type=ContextType.MEMORY, category="event", owner_space="user:alice",
        abstract=f"Event {i}", overview=f"What led to event {i}",
        content=f"Alice went to concert number {i} downtown.", version=1,
    )  # fmt: skip


def _seed_events(pg: Backend, count: int) -> list[str]:
    """``count`` nodes of three distinct levels each, and one UPSERT_CONTEXT event per node,
    due in an hour (a running worker leaves them alone until then)."""
    nodes = [_node(i) for i in range(count)]
    later = utcnow() + timedelta(hours=1)
    events = [
        OutboxEvent("acme", EventType.UPSERT_CONTEXT, n.uri, {"version": 1}, available_at=later)
        for n in nodes
    ]
    with pg.uow.transaction():
        pg.nodes.insert(nodes)
        pg.outbox.insert(events)
    return [n.uri for n in nodes]


def _claims(pg: Backend) -> Counter[tuple[str, str]]:
    """(status, claimed_by) of every event."""
    found = raw_rows(
        pg, "SELECT status, claimed_by, count(*) AS n FROM outbox_events GROUP BY 1, 2"
    )
    return Counter({(row["status"], row["claimed_by"] or ""): row["n"] for row in found})


_REPORT = re.compile(r"^(\d+) events: (\d+) done", re.MULTILINE)
_WORKER_ID = re.compile(r"^worker (\S+) on ", re.MULTILINE)


def test_three_worker_processes_drain_5000_events_despite_a_sigkill(
    pg: Backend, pg_url: str, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    uris = _seed_events(pg, EVENTS)
    marker = tmp_path / "stalled"
    logs = [tmp_path / "stalling.log", tmp_path / "worker1.log", tmp_path / "worker2.log"]
    # no search runs here: without a pgvector index to keep up (what the bench's worker
    # figures include) the drain takes half the time on this shared machine
    env = {"OGMEM_STORE": pg_url, "OGMEM_EMBEDDER": "hash", "OGMEM_VECTOR_INDEX": "exact"}
    cli = ["-c", "from ogmem.cli import main; main()", "worker", "--poll", "0.2"]
    stalling = _spawn(_helper("stalling-worker", pg_url, str(marker)), logs[0])
    workers = [_spawn(cli, log, env) for log in logs[1:]]
    processes.extend([stalling, *workers])
    # the first claims a batch eagerly, finishes its first chunk and hangs in the next one,
    # its lease renewed by its heartbeat; the others start meanwhile and wait for due events
    _wait_for("the first worker to be in the middle of its batch", marker.exists, logs)
    _wait_for(
        "the others to start",
        lambda: all(_WORKER_ID.search(log.read_text()) for log in logs[1:]),
        logs,
    )
    mine = pg_processes.STALLING_WORKER_ID
    in_hand = _claims(pg)[("PROCESSING", mine)]
    finished_before_kill = _claims(pg)[("DONE", mine)]
    assert in_hand > 0 and finished_before_kill > 0

    raw_rows(
        pg, "UPDATE outbox_events SET available_at = now() WHERE status = 'PENDING' RETURNING id"
    )
    # the others drain everything but what the stalling worker holds under its live lease
    _wait_for(
        "the other workers to drain the rest",
        lambda: all(status == "DONE" or by == mine for status, by in _claims(pg)),
        logs,
    )
    assert _claims(pg)[("PROCESSING", mine)] == in_hand
    stalling.send_signal(signal.SIGKILL)
    stalling.wait(timeout=30)
    _wait_for("its events to be taken over", lambda: _all_done(pg), logs)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    outputs = [log.read_text() for log in logs[1:]]
    done_by_cli = sum(int(done) for out in outputs for _, done in _REPORT.findall(out))
    assert finished_before_kill + done_by_cli == EVENTS  # no event was finished twice
    taken_over = raw_rows(
        pg, "SELECT attempts, last_error, claimed_by FROM outbox_events WHERE attempts > 0"
    )
    cli_ids = {_WORKER_ID.search(out).group(1) for out in outputs}  # type: ignore[union-attr]
    assert len(taken_over) == in_hand
    assert all(row["attempts"] == 1 and row["claimed_by"] in cli_ids for row in taken_over)

    records = pg.index.records_of_many("acme", uris)
    assert sorted(records) == sorted(uris)
    assert all([r.level for r in records[uri]] == [0, 1, 2] for uri in uris)
    (counts,) = raw_rows(
        pg, "SELECT count(*) AS n, count(DISTINCT (uri, level)) AS keys FROM index_records"
    )
    assert counts == {"n": 3 * EVENTS, "keys": 3 * EVENTS}


def _all_done(pg: Backend) -> bool:
    return pg.outbox.counts("acme")[EventStatus.DONE.value] == EVENTS
