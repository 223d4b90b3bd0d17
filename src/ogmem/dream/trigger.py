"""When a dream runs: a DREAM outbox event per user, the durable job the worker runs.

It is enqueued by ``ogmem dream --queue``, ``POST /api/v1/dream`` and, when thresholds are
set (``OGMEM_DREAM_AFTER``), once a user has that many new memories of one type since their
last run. The event coalesces: one pending job per user, however often it is asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ogmem.core import errors, uri
from ogmem.core.models import EventType, OutboxEvent, RequestContext
from ogmem.core.storage_dreams import DreamStore
from ogmem.outbox import OutboxManager

logger = logging.getLogger(__name__)

ANY_TYPE = "*"


def parse_thresholds(text: str | None) -> dict[str, int]:
    """``"200"`` (every type) or ``"event=200,preference=50"`` (``*=`` for the others);
    empty or None: no automatic dreams.

    Raises:
        errors.ConfigurationError: a part is not ``type=N`` or ``N`` with N >= 1.
    """
    found: dict[str, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, number = part.rpartition("=")
        try:
            value = int(number)
        except ValueError:
            value = 0
        if value < 1:
            raise errors.ConfigurationError(
                f"OGMEM_DREAM_AFTER: {part.strip()!r} is not 'type=N' or 'N' with N >= 1"
            )
        found[name.strip() or ANY_TYPE] = value
    return found


def dream_event(ctx: RequestContext, trigger: str) -> OutboxEvent:
    root = str(uri.user_root(ctx.account_id, ctx.user_id))
    payload = {"user_id": ctx.user_id, "agent_id": ctx.agent_id, "trigger": trigger}
    return OutboxEvent(ctx.account_id, EventType.DREAM, root, payload, coalesce=True)


def context_of(event: OutboxEvent) -> RequestContext:
    payload = event.payload
    return RequestContext(event.account_id, str(payload["user_id"]), payload.get("agent_id"))


class Trigger:
    """Enqueues dream jobs, on request or when a user's new memories reach a threshold."""

    def __init__(
        self,
        outbox: OutboxManager,
        dreams: DreamStore,
        thresholds: Mapping[str, int],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._outbox, self._dreams, self._wake = outbox, dreams, wake
        self.thresholds = dict(thresholds)

    def request(self, ctx: RequestContext, trigger: str) -> None:
        self._outbox.enqueue([dream_event(ctx, trigger)])
        self._wake()

    def due(self, account_id: str, uris: Iterable[str]) -> list[str]:
        """After the worker indexed ``uris``: enqueue a job for each of their users whose new
        memories of some type reached its threshold; the users enqueued."""
        if not self.thresholds:
            return []
        users = {p.segments[1] for p in map(_parsed, uris) if p and p.segments[0] == "users"}
        enqueued = []
        for user in sorted(users):
            reason = self._reason(account_id, user)
            if reason:
                self.request(RequestContext(account_id, user), reason)
                enqueued.append(user)
        return enqueued

    def _reason(self, account_id: str, user: str) -> str | None:
        last = self._dreams.list_runs(account_id, user, 1)
        since = last[0].started_at if last else None
        root = str(uri.user_root(account_id, user))
        for category, count in self._dreams.new_memory_counts(account_id, root, since).items():
            limit = self.thresholds.get(category, self.thresholds.get(ANY_TYPE))
            if limit is not None and count >= limit:
                return f"threshold: {count} new {category} memories (>= {limit})"
        return None


def _parsed(text: str) -> Any:
    try:
        parsed = uri.parse(text)
    except errors.InvalidURI:
        return None
    return parsed if len(parsed.segments) >= 2 else None
