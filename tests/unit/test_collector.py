"""A server process freezes what startup built out of the garbage collector's walks and
collects young objects less often; an application embedding ogmem keeps its own settings."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ogmem import cli_server, collector
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.server import processes
from ogmem.server.app import create_app

SETTLED = (collector.YOUNG_THRESHOLD, *collector.OLDER_THRESHOLDS)


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settled_the_collector_skips_startup_objects_and_still_frees_cycles() -> None:
    assert gc.get_threshold() != SETTLED
    collector.settle_for_serving()
    assert gc.get_threshold() == SETTLED and gc.get_freeze_count() > 0
    cycle = _Cycle()
    gone = weakref.ref(cycle)
    del cycle
    assert gone() is not None  # only a cycle collection frees it
    gc.collect()
    assert gone() is None


def test_serve_settles_the_collector_before_taking_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, ...]] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda *_: seen.append(gc.get_threshold()))
    cli_server._serve_one(FastAPI(), {"host": "127.0.0.1", "port": 0})
    assert seen == [SETTLED]


def test_each_process_of_serve_processes_settles_it_when_it_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OGMEM_STORE", str(tmp_path / "x.sqlite"))
    monkeypatch.setenv("OGMEM_EMBEDDER", "hash")
    app = processes.app_from_environment()
    assert gc.get_threshold() != SETTLED  # built, not yet serving
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold() == SETTLED


def test_an_application_embedding_ogmem_keeps_its_collector() -> None:
    before = gc.get_threshold(), gc.get_freeze_count()
    with (
        Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine,
        TestClient(create_app(engine, require_keys=False)) as client,
    ):
        assert client.get("/healthz").status_code == 200
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
