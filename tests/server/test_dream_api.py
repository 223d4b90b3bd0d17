"""The dream routes: queue or run, plan without writing, list, show, undo, scoped by key;
and the runs in /metrics."""

from __future__ import annotations

from ogmem.core.models import RequestContext
from ogmem.server.metrics import Metrics
from tests.server.conftest import Api

MOVED = "I moved to Berlin last spring together with my sister Anna"
MOVED_AGAIN = "Last spring I moved to Berlin together with Anna, my sister"
ALICE = {"user_id": "alice"}


def _seed(api: Api) -> None:
    for text in (MOVED, MOVED_AGAIN):
        added = api.client.post("/api/v1/memories", json={"text": text, **ALICE}, headers=api.a)
        assert added.status_code == 200, added.text
    api.engine.drain()


def test_a_dry_run_plans_and_a_waited_run_merges_then_undo(api: Api) -> None:
    _seed(api)
    planned = api.client.post("/api/v1/dream", json={"dry_run": True, **ALICE}, headers=api.a)
    assert planned.status_code == 200
    plan = planned.json()["run"]
    assert plan["dry_run"] and [s["kind"] for s in plan["steps"]] == ["merge"]
    assert api.client.get("/api/v1/dream/runs", params=ALICE, headers=api.a).json() == {"runs": []}

    ran = api.client.post("/api/v1/dream", json={"wait": True, **ALICE}, headers=api.a).json()
    run = ran["run"]
    assert not ran["queued"] and run["counts"] == {"merge": 1}
    [step] = run["steps"]
    absorbed = step["absorbed"][0]
    read = api.client.get("/api/v1/fs/read", params={"uri": absorbed, **ALICE}, headers=api.a)
    assert read.json()["node"]["status"] == "ARCHIVED"

    listed = api.client.get("/api/v1/dream/runs", params=ALICE, headers=api.a).json()["runs"]
    assert [r["run_id"] for r in listed] == [run["run_id"]]
    shown = api.client.get(f"/api/v1/dream/runs/{run['run_id']}", params=ALICE, headers=api.a)
    assert shown.json()["steps"][0]["changes"][0]["after"] == 2

    undo = f"/api/v1/dream/runs/{run['run_id']}/undo"
    undone = api.client.post(undo, json={"steps": [0], **ALICE}, headers=api.a)
    assert undone.status_code == 200 and undone.json()["steps"][0]["status"] == "undone"
    read = api.client.get("/api/v1/fs/read", params={"uri": absorbed, **ALICE}, headers=api.a)
    assert read.json()["node"]["status"] == "ACTIVE"
    again = api.client.post(undo, json={"steps": [0], **ALICE}, headers=api.a)
    assert again.status_code == 422 and "not applied" in again.text
    beyond = api.client.post(undo, json={"steps": [7], **ALICE}, headers=api.a)
    assert beyond.status_code == 422 and "steps 0 to 0" in beyond.text

    registry = Metrics(api.engine).registry
    assert registry.get_sample_value("ogmem_dream_runs", {"status": "done"}) == 1
    assert registry.get_sample_value("ogmem_dream_runs", {"status": "failed"}) == 0


def test_a_dream_is_queued_by_default_and_the_worker_runs_it(api: Api) -> None:
    _seed(api)
    queued = api.client.post("/api/v1/dream", json=ALICE, headers=api.a)
    assert queued.status_code == 202 and queued.json() == {"queued": True, "run": None}
    api.engine.drain()
    runs = api.engine.dreaming.dreamer.history(RequestContext("A", "alice"))
    assert len(runs) == 1 and runs[0].trigger == "api" and runs[0].counts() == {"merge": 1}


def test_runs_are_scoped_by_key(api: Api) -> None:
    _seed(api)
    run = api.client.post("/api/v1/dream", json={"wait": True, **ALICE}, headers=api.a)
    run_id = run.json()["run"]["run_id"]
    other = api.client.get(f"/api/v1/dream/runs/{run_id}", params=ALICE, headers=api.b)
    assert other.status_code == 404
    bob = {"user_id": "bob"}
    as_bob = api.client.get("/api/v1/dream/runs", params=bob, headers=api.auth(api.key_alice))
    assert as_bob.status_code == 403
    undo = api.client.post(f"/api/v1/dream/runs/{run_id}/undo", json=bob, headers=api.a)
    assert undo.status_code == 404
    bad = api.client.post("/api/v1/dream", json={"user_id": "alice", "dry": 1}, headers=api.a)
    assert bad.status_code == 422


def test_a_user_key_may_not_dream_over_its_agents_shared_memories(api: Api) -> None:
    key = api.keys.create("A", "alice", name="alice-coder", agents=("coder",))[1]
    body = {"user_id": "alice", "agent_id": "coder", "wait": True}
    refused = api.client.post("/api/v1/dream", json=body, headers=api.auth(key))
    assert refused.status_code == 403 and "whole account" in refused.text
    planned = api.client.post("/api/v1/dream", json={**body, "dry_run": True},
                              headers=api.auth(key))  # fmt: skip
    assert planned.status_code == 200
    assert api.client.post("/api/v1/dream", json=body, headers=api.a).status_code == 200
