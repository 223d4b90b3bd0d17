"""Prometheus metrics of one app, in a private registry (two apps in one process, as in the
tests, never collide on the global one).

Request counts and latency are counted as requests pass, labelled by route template
(``/api/v1/sessions/{session_id}``, never the raw path: ids would explode the label set).
Outbox depth, sessions and extraction outcomes are read from the store at scrape time: they
are the store's truth, also for the work other processes (``ogmem worker``) did. They are
summed over accounts (Engine.stats): they are the operator's view, served on an address of
its own (``ogmem serve --metrics-port``), and must not name tenants.

With several server processes (``ogmem serve --processes``) each counts its requests in files
(prometheus-client's multiprocess mode, set by the parent for its children) and a scrape sums
them all, wherever it is served.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ogmem.core.models import SessionStatus
from ogmem.dream.metrics import DreamCollector
from ogmem.engine import Engine


class StoreCollector(Collector):
    def __init__(self, engine: Engine, worker_expected: bool) -> None:
        self._engine = engine
        self._worker_expected = worker_expected

    def collect(self) -> Iterator[Metric]:
        stats = self._engine.stats()
        outbox = GaugeMetricFamily("ogmem_outbox_events", "Outbox events by status.",
                                   labels=["status"])  # fmt: skip
        for status, n in stats.outbox.items():
            outbox.add_metric([status], n)
        oldest = GaugeMetricFamily(
            "ogmem_outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox event.",
            stats.oldest_pending_age_s,
        )  # fmt: skip
        sessions = GaugeMetricFamily("ogmem_sessions", "Sessions by status.", labels=["status"])
        for status in SessionStatus:
            sessions.add_metric([status.value], stats.sessions.get(status.value, 0))
        outcomes = CounterMetricFamily(
            "ogmem_extraction_memories", "Memories proposed / written / skipped / failed by "
            "session commits.", labels=["outcome"],
        )  # fmt: skip
        for outcome, n in stats.outcomes.items():
            outcomes.add_metric([outcome], n)
        tokens = CounterMetricFamily(
            "ogmem_llm_tokens", "LLM tokens spent by session commits.", stats.llm_tokens
        )
        yield from (outbox, oldest, sessions, outcomes, tokens)
        if self._worker_expected:
            alive = 1.0 if self._engine.worker_alive else 0.0
            yield GaugeMetricFamily("ogmem_worker_alive", "1 if the worker thread runs.", alive)


def several_processes() -> bool:
    """Whether request figures go to files shared by several server processes."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def scrape_registry(
    engine: Engine, counted: CollectorRegistry | None, *, worker_expected: bool
) -> CollectorRegistry:
    """What a scrape shows: the store's figures, and the request figures of this process
    (``counted``), or with several processes the sum of all of theirs."""
    if several_processes():
        from prometheus_client import multiprocess

        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = counted or CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(engine, worker_expected))
    registry.register(DreamCollector(engine.backend.dreams, engine.outbox))
    return registry


class Metrics:
    def __init__(self, engine: Engine, *, worker_expected: bool = False) -> None:
        counted = CollectorRegistry(auto_describe=False)  # this process's requests
        self.requests = Counter(
            "ogmem_http_requests", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=counted,
        )  # fmt: skip
        self.latency = Histogram(
            "ogmem_http_request_duration_seconds", "HTTP request latency by route template.",
            ["method", "route"], registry=counted,
        )  # fmt: skip
        self.registry = scrape_registry(engine, counted, worker_expected=worker_expected)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class MetricsMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware): it reads the matched route from the scope after
    the app ran, and it does not buffer streaming bodies."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)
