"""The helpers of `make stress` (bench/stress): figures, goals, the hostile-request catalogue
and the raw HTTP reader. The stress run itself is `make stress`, not part of the tests."""

from __future__ import annotations

import math
import os
import random
import socket
from collections import Counter

import h11
import pytest
from bench.stress import catalogue, loadgen, procs
from bench.stress.cases import Case, Target
from bench.stress.outcome import Goal, Outcome, percentile, summary
from bench.stress.rawhttp import Connection

TARGET = Target(port=8765, key="ogm_test", account="acme")


def test_p99_is_an_observed_value_by_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    random.Random(1).shuffle(values)
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([5.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 99))
    with pytest.raises(ValueError):
        percentile([1.0], 0)


def test_goals_and_summary_list_every_miss_and_failure() -> None:
    ok = Outcome("merge", {"version": 401.0}, goals=(Goal("version", "==", 401),))
    bad = Outcome(
        "load",
        {"p99": 900.0, "errors": 0.0, "rps": math.nan},
        goals=(Goal("p99", "<", 300), Goal("errors", "==", 0), Goal("rps", ">", 0)),
        failures=["search after 60000 ms: ReadTimeout"],
    )
    assert ok.ok() and not bad.ok()
    assert [str(g) for g in bad.missed()] == ["p99 < 300", "rps > 0"]  # NaN never meets a goal
    figures, problems = summary([ok, bad])
    assert figures == {"version": 401.0, "p99": 900.0, "errors": 0.0}  # NaN is not recorded
    assert problems == [
        "load: goal p99 < 300 missed (got 900)",
        "load: goal rps > 0 missed (got nan)",
        "load: search after 60000 ms: ReadTimeout",
    ]
    with pytest.raises(ValueError):
        Goal("x", "=>", 1)


def _parse(data: bytes) -> tuple[h11.Request, bytes]:
    """Parse one request as a server would: exactly one, complete, nothing left over."""
    server = h11.Connection(h11.SERVER, max_incomplete_event_size=10 * 2**20)
    server.receive_data(data)
    request = server.next_event()
    assert isinstance(request, h11.Request)
    body = b""
    while not isinstance(event := server.next_event(), h11.EndOfMessage):
        assert isinstance(event, h11.Data), event
        body += event.data
    assert server.trailing_data == (b"", False)  # nothing after the request
    return request, body


def _cases() -> list[Case]:
    return catalogue.catalogue(TARGET, big_body_bytes=4096)


def test_catalogue_requests_are_valid_http_unless_meant_otherwise() -> None:
    cases = _cases()
    assert len({c.name for c in cases}) == len(cases), "case names must be unique"
    assert sum(not c.malformed for c in cases) > 50
    for case in cases:
        assert case.requests and all(isinstance(r, bytes) for r in case.requests)
        if case.malformed:
            continue
        for data in case.requests:
            request, body = _parse(data)
            headers = {k.decode(): v.decode() for k, v in request.headers}
            assert headers["host"] == TARGET.host, case.name
            assert headers.get("authorization") == "Bearer ogm_test", case.name
            if request.method == b"POST":
                assert int(headers["content-length"]) == len(body), case.name


def test_catalogue_covers_the_operators_cases() -> None:
    names = " | ".join(c.name for c in _cases())
    for expected in (
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-10:00",
        "twice on one keep-alive connection",
        "MB body",
        "nested 100,000 deep",
        "invalid UTF-8",
        "NUL byte in the request target",
        "a header of 100 KB",
        "%2e%2e",
        "an unknown role",
        "as text",
    ):
        assert expected in names, expected


def test_the_big_body_has_the_size_asked_for() -> None:
    big = next(c for c in _cases() if c.name.endswith("MB body"))
    _, body = _parse(big.requests[0])
    assert 4096 - 200 <= len(body) <= 4096


def test_connection_reads_an_answer_and_notices_close() -> None:
    ours, theirs = socket.socketpair()
    with Connection(ours) as conn:
        theirs.sendall(b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 5\r\n")
        theirs.sendall(b"Connection: close\r\n\r\nhello")
        answer = conn.read_answer()
        theirs.close()
        assert (answer.status, answer.body, answer.closing) == (413, b"hello", True)
        assert not answer.failed
        silent = conn.read_answer()
    assert silent.status is None and silent.failed and silent.error == "closed without an answer"


def test_load_mix_is_70_25_5() -> None:
    rng = random.Random(3)
    counts = Counter(loadgen.choose(rng) for _ in range(20_000))
    assert abs(counts["after_turn"] / 20_000 - 0.70) < 0.02
    assert abs(counts["search"] / 20_000 - 0.25) < 0.02
    assert abs(counts["compose"] / 20_000 - 0.05) < 0.01


def test_tracebacks_keep_our_frames_and_each_error_once() -> None:
    log = "\n".join(
        [
            "INFO: started",
            *(
                "Traceback (most recent call last):\n"
                '  File "/venv/lib/python3.11/site-packages/starlette/routing.py", line 1, in x\n'
                "    await app()\n"
                '  File "/repo/src/ogmem/store/rows.py", line 27, in dump_time\n'
                "    value = value.astimezone(UTC)\n"
                "OverflowError: date value out of range"
                for _ in range(2)
            ),
        ]
    )
    assert procs.tracebacks(log) == [
        'File "/repo/src/ogmem/store/rows.py", line 27, in dump_time | '
        "value = value.astimezone(UTC)\nOverflowError: date value out of range"
    ]


def test_memory_and_cpu_of_this_process_are_read_from_proc() -> None:
    rss, peak = procs.memory_mb(os.getpid())
    assert 0 < rss <= peak
    before = procs.cpu_seconds(os.getpid())
    sum(n * n for n in range(300_000))  # some CPU, a few tens of milliseconds
    assert 0 < before < procs.cpu_seconds(os.getpid())


def test_environment_drops_the_developers_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGMEM_LLM_MODEL", "gpt")
    env = procs.environment(procs.REPO / "x.sqlite", embedder="hash")
    assert "OGMEM_LLM_MODEL" not in env
    assert env["OGMEM_EMBEDDER"] == "hash" and env["OGMEM_STORE"].endswith("x.sqlite")
    assert str(procs.REPO) in env["PYTHONPATH"].split(os.pathsep)
