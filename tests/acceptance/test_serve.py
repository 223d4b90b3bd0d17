"""`ogmem serve` as an operator runs it: a subprocess on a loopback port, driven over HTTP,
stopped with SIGTERM and restarted; nothing it acknowledged is lost."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

import ogmem
from ogmem import cli

# Until `serve` and `keys` are registered in ogmem.cli, the same functions are mounted on a
# throwaway Typer app; once registered, the real `ogmem` entry point is used.
_REGISTERED = "serve" in {
    c.name or c.callback.__name__ for c in cli.app.registered_commands if c.callback
}
_MAIN = (
    "from ogmem.cli import main; main()"
    if _REGISTERED
    else "import typer; from ogmem import cli_server as s; app = typer.Typer(); "
    "app.command()(s.serve); app.add_typer(s.keys_app, name='keys'); app()"
)
TURNS = 6


def _env(store: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OGMEM_")}
    return {**clean, "OGMEM_STORE": str(store), "OGMEM_EMBEDDER": "hash", "COLUMNS": "200"}


def _ogmem(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _MAIN, *args], capture_output=True, text=True,
                          timeout=120, env=_env(store))  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def _server(store: Path, key: str, *options: str) -> Iterator[httpx.Client]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _MAIN, "serve", "--port", str(port), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(store),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            wait_ready(client, process)
            yield client
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert "server stopped" in output, output


def wait_ready(client: httpx.Client, process: subprocess.Popen[str], timeout_s: float = 90) -> None:
    """Until the server answers /readyz with 200 (its process must stay alive meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None, process.communicate()[0]
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.1)


def _wait_indexed(client: httpx.Client) -> None:
    deadline = time.monotonic() + 30
    while True:
        counts = client.get("/api/v1/outbox/stats").json()["counts"]
        if counts["PENDING"] == 0 and counts["PROCESSING"] == 0:
            return
        assert time.monotonic() < deadline, counts
        time.sleep(0.1)


def _turn(session: str, n: int) -> dict[str, Any]:
    content = f"On day {n} Alice planted tomato number {n} in the greenhouse."
    message = {"role": "user", "content": content, "message_id": f"{session}-{n}"}
    return {"session_id": session, "user_id": "alice", "messages": [message]}


def test_serve_survives_sigterm_and_restart(tmp_path: Path) -> None:
    store = tmp_path / "ogmem.sqlite"
    created = _ogmem(store, "keys", "create", "--account", "acme", "--name", "test")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("ogm_")
    listed = _ogmem(store, "keys", "list")
    assert "acme" in listed.stdout and key not in listed.stdout

    metrics_port = _free_port()
    serving = _server(store, key, "--metrics-port", str(metrics_port))
    with serving as client, ogmem.Client(str(client.base_url), key) as api:
        for n in range(TURNS):
            turn = _turn("s1", n)
            assert api.after_turn("s1", "alice", turn["messages"])["added"] == 1
        session = api.commit("s1", "alice", wait=True)["session"]
        assert session["status"] == "committed" and session["written"] >= TURNS, session
        for n in range(TURNS):  # acknowledged but never committed before the SIGTERM
            api.after_turn("s2", "alice", _turn("s2", n)["messages"])
        _wait_indexed(client)
        query = {"query": "tomato greenhouse", "user_id": "alice", "limit": 20}
        hits = api.search("tomato greenhouse", "alice", limit=20)["hits"]
        memories = {h["uri"] for h in hits if "/memories/" in h["uri"]}
        assert len(memories) >= TURNS, hits
        block = api.compose("tomato greenhouse", "alice", token_budget=500)
        assert "tomato" in block["text"] and block["tokens"] <= 500
        some = sorted(memories)[0]
        assert [v["action"] for v in api.history(some, "alice")["versions"]] == ["create"]
        assert api.ls(None, "alice")["entries"]
        with pytest.raises(ogmem.NotFound):
            api.read("ctx://acme/users/alice/memories/none/such", "alice")
        # metrics span every account: not on the tenants' port, on the operator's own
        assert client.get("/metrics").status_code == 404
        operator = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert "ogmem_http_requests_total" in operator.text

    with _server(store, key) as client:
        sessions = client.get("/api/v1/sessions", params={"user_id": "alice"}).json()["sessions"]
        by_id = {s["session_id"]: s for s in sessions}
        assert by_id["s1"]["status"] == "committed" and by_id["s1"]["messages"] == TURNS
        assert by_id["s2"]["messages"] == TURNS and by_id["s2"]["uncommitted_tokens"] > 0
        again = client.post("/api/v1/search", json=query).json()["hits"]
        assert memories <= {h["uri"] for h in again}
        node = client.get("/api/v1/fs/read", params={"uri": some, "user_id": "alice"})
        assert node.status_code == 200 and "tomato" in node.json()["node"]["content"]
        assert client.get("/api/v1/outbox/stats").json()["counts"]["DLQ"] == 0
        # a bad key is refused by the restarted server too
        bad = client.get("/api/v1/sessions", params={"user_id": "alice"},
                         headers={"Authorization": "Bearer ogm_nope"})  # fmt: skip
        assert bad.status_code == 401


def test_without_keys_a_non_loopback_host_is_refused(tmp_path: Path) -> None:
    refused = _ogmem(tmp_path / "empty.sqlite", "serve", "--host", "0.0.0.0", "--port", "1")
    assert refused.returncode == 2
    assert "refusing to listen on 0.0.0.0 without API keys" in refused.stderr
    assert "keys create" in refused.stderr
