"""Expiry: archiving the memories whose ``expires_at`` has passed (a type's ``ttl`` or a
memory's own). Search already leaves them out from that moment (retrieval/validity.py); this
makes it durable, through the normal write path: a new version (action "expire"), the archive
outbox events, one transaction per node. The worker runs it when idle (``OutboxWorker``);
``Engine.expire_due()`` runs it at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ogmem.commit import events
from ogmem.core import errors
from ogmem.nodes import Nodes

logger = logging.getLogger(__name__)

BATCH = 500  # nodes per account per run; a larger backlog goes over the next runs


class Expirer:
    def __init__(self, store: Nodes, batch: int = BATCH) -> None:
        self._store = store
        self._batch = batch

    def run(self, now: datetime) -> int:
        """Archive up to ``batch`` expired nodes of each account; how many were archived."""
        return sum(self.run_account(account, now) for account in self._store.account_ids())

    def run_account(self, account_id: str, now: datetime) -> int:
        archived = 0
        for uri, version in self._store.expired(account_id, now, self._batch):
            try:
                self._store.archive_node(
                    account_id, uri, expected_version=version, archived_at=now,
                    events=events.archive_events(account_id, uri, version + 1), action="expire",
                )  # fmt: skip
            except errors.ConcurrentModificationError:
                continue  # written meanwhile: the next run reads its new expiry
            archived += 1
        if archived:
            logger.info("archived %d expired memories of %s", archived, account_id)
        return archived
