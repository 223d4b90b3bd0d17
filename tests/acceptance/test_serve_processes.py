"""`ogmem serve --processes 2`: two server processes on one port and one store; what one
writes the other finds, the metrics port counts both, SIGTERM stops them all."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from bench.stress.procs import family

from tests.acceptance.test_serve import _MAIN, _env, _free_port, _ogmem, wait_ready

REQUESTS = 24


def test_two_processes_share_the_port_the_store_and_the_metrics(tmp_path: Path) -> None:
    store = tmp_path / "ogmem.sqlite"
    key = _ogmem(store, "keys", "create", "--account", "acme").stdout.strip().splitlines()[-1]
    port, metrics_port = _free_port(), _free_port()
    args = ["serve", "--port", str(port), "--processes", "2", "--metrics-port", str(metrics_port)]
    process = subprocess.Popen(
        [sys.executable, "-c", _MAIN, *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(store),
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {key}"}
    try:
        fresh = httpx.Limits(max_keepalive_connections=0)  # each request may reach either process
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=headers, timeout=30, limits=fresh) as c:
            wait_ready(c, process)
            children = [pid for pid in family(process.pid) if pid != process.pid]
            assert len(children) >= 2, children  # the two servers (and the spawn helper)
            for n in range(REQUESTS // 2):
                text = f"Dana keeps bee hive number {n} behind the barn."
                written = c.post("/api/v1/memories", json={"text": text, "user_id": "dana"})
                assert written.status_code == 200, written.text
            # every search, whichever process answers it, finds what either one wrote
            deadline = time.monotonic() + 30
            for _ in range(REQUESTS // 2):
                while True:
                    body = {"query": "bee hive barn", "user_id": "dana", "limit": 50}
                    hits = c.post("/api/v1/search", json=body).json()["hits"]
                    if len(hits) == REQUESTS // 2 or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
                assert len(hits) == REQUESTS // 2, hits
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in scraped.splitlines()
            if line.startswith("ogmem_http_requests_total{") and "/api/v1/" in line
        )
        assert counted >= REQUESTS, scraped  # both processes' requests, summed
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    assert "server stopped" in output, output
    deadline = time.monotonic() + 10  # none left running (the spawn helper exits last)
    while any(_running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if _running(pid)], output


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not collected it yet
