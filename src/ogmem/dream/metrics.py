"""Dream runs in /metrics: runs by status, read from the store at scrape time (so the runs
of every process count), summed over accounts (the operator's view names no tenant)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ogmem.core.storage_dreams import DreamStore
from ogmem.dream.models import RunStatus
from ogmem.outbox import OutboxManager


class DreamCollector(Collector):
    def __init__(self, dreams: DreamStore, accounts: OutboxManager) -> None:
        self._dreams = dreams
        self._accounts = accounts

    def collect(self) -> Iterator[Metric]:
        totals = dict.fromkeys((s.value for s in RunStatus), 0)
        for account in self._accounts.account_ids():
            for status, count in self._dreams.run_totals(account).items():
                totals[status] = totals.get(status, 0) + count
        runs = GaugeMetricFamily("ogmem_dream_runs", "Dream runs by status.", labels=["status"])
        for status, count in totals.items():
            runs.add_metric([status], count)
        yield runs
