"""Prometheus metrics of one app, in a private registry (two apps in one process, as in the
tests, never collide on the global one).

Request counts and latency are counted as requests pass, labelled by route template
(``/api/v1/sessions/{session_id}``, never the raw path: ids would explode the label set).
Outbox depth, sessions and extraction outcomes are read from the store at scrape time: they
are the store's truth, also for the work other processes (``ogmem worker``) did. They are
summed over accounts, because /metrics is unauthenticated and must not name tenants.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ogmem.core.models import EventStatus, SessionStatus
from ogmem.engine import Engine
from ogmem.store.sqlite_sessions import SqliteSessions

OUTCOMES = ("proposed", "written", "skipped", "failed")


class StoreCollector(Collector):
    def __init__(self, engine: Engine, worker_expected: bool) -> None:
        self._engine = engine
        self._worker_expected = worker_expected

    def collect(self) -> Iterator[Metric]:
        outbox = GaugeMetricFamily("ogmem_outbox_events", "Outbox events by status.",
                                   labels=["status"])  # fmt: skip
        oldest = GaugeMetricFamily(
            "ogmem_outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox event."
        )
        sessions = GaugeMetricFamily("ogmem_sessions", "Sessions by status.", labels=["status"])
        outcomes = CounterMetricFamily(
            "ogmem_extraction_memories", "Memories proposed / written / skipped / failed by "
            "session commits.", labels=["outcome"],
        )  # fmt: skip
        tokens = CounterMetricFamily("ogmem_llm_tokens", "LLM tokens spent by session commits.")
        counts = dict.fromkeys((s.value for s in EventStatus), 0.0)
        by_status = dict.fromkeys((s.value for s in SessionStatus), 0.0)
        totals = dict.fromkeys(OUTCOMES, 0.0)
        spent = 0.0
        ages: list[float] = []
        adapter = SqliteSessions(self._engine.store)
        for account in self._accounts():
            for status, count in self._engine.store.outbox_counts(account).items():
                counts[status] = counts.get(status, 0.0) + count
            age = self._engine.outbox.oldest_pending_age(account)
            if age is not None:
                ages.append(age)
            for status, sums in adapter.totals(account).items():
                by_status[status] = by_status.get(status, 0.0) + sums["sessions"]
                for outcome in OUTCOMES:
                    totals[outcome] += sums[outcome]
                spent += sums["llm_tokens"]
        for status, n in counts.items():
            outbox.add_metric([status], n)
        oldest.add_metric([], max(ages, default=0.0))
        for status, n in by_status.items():
            sessions.add_metric([status], n)
        for outcome, n in totals.items():
            outcomes.add_metric([outcome], n)
        tokens.add_metric([], spent)
        yield from (outbox, oldest, sessions, outcomes, tokens)
        if self._worker_expected:
            alive = 1.0 if self._engine.worker.alive else 0.0
            yield GaugeMetricFamily("ogmem_worker_alive", "1 if the worker thread runs.", alive)

    def _accounts(self) -> Iterable[str]:
        # the accounts that have nodes; a session's commit writes its archive node, so only
        # sessions never committed yet are left out of the session gauges
        return self._engine.outbox.account_ids()


class Metrics:
    def __init__(self, engine: Engine, *, worker_expected: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "ogmem_http_requests", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "ogmem_http_request_duration_seconds", "HTTP request latency by route template.",
            ["method", "route"], registry=self.registry,
        )  # fmt: skip
        self.registry.register(StoreCollector(engine, worker_expected))

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
